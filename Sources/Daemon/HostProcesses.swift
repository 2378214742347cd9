public import Config
public import Logging
public import Outstation
import Synchronization

/// The command handlers and feeders of the configuration in force, as one generation of child
/// tasks. A reload that changes them starts the next generation and stops the previous one
/// (its coprocesses and feeders get SIGTERM, then SIGKILL), so no process outlives its configuration.
public final class HostProcesses: CommandHandler {
    private struct State {
        var current: Generation
        var previous: Generation?
    }

    private let state: Mutex<State>
    private let launches: AsyncStream<Generation>.Continuation
    private let launched: AsyncStream<Generation>
    private let logger: Logger
    private let apply: UpdateSink

    public init(configuration: DaemonConfiguration, logger: Logger, apply: @escaping UpdateSink) {
        self.logger = logger
        self.apply = apply
        let first = Generation(configuration: configuration, logger: logger, apply: apply)
        state = Mutex(State(current: first, previous: nil))
        (launched, launches) = AsyncStream<Generation>.makeStream()
        launches.yield(first)
    }

    /// Runs every generation's tasks until cancelled; call once, as a child of the daemon's task group.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await generation in launched {
                group.addTask { await generation.run() }
            }
        }
    }

    /// Replaces handlers and feeders if the reloaded configuration changed them; true if it did.
    @discardableResult
    public func reconfigure(_ configuration: DaemonConfiguration) -> Bool {
        let next = Generation(configuration: configuration, logger: logger, apply: apply)
        let replaced: Generation? = state.withLock { state in
            guard state.current.signature != next.signature else { return nil }
            let old = state.current
            state.previous = old
            state.current = next
            return old
        }
        guard let replaced else { return false }
        launches.yield(next)
        replaced.stop()
        logger.notice("handlers and feeders restarted for the new configuration",
                      metadata: ["handlers": "\(configuration.handlers.count)", "feeders": "\(configuration.feeders.count)"])
        return true
    }

    public func execute(_ request: CommandRequest) async -> CommandResult {
        await state.withLock { $0.current }.dispatcher.execute(request)
    }

    public func cancel(station: String, commandID: UInt64) {
        let (current, previous) = state.withLock { ($0.current, $0.previous) }
        current.dispatcher.cancel(station: station, commandID: commandID)
        previous?.dispatcher.cancel(station: station, commandID: commandID)
    }
}

/// One configuration's dispatcher and feeders, running until stopped.
final class Generation: Sendable {
    let dispatcher: CommandDispatcher
    let feeders: [Feeder]
    /// What the generation was built from: a reload that leaves it equal keeps the processes running.
    let signature: Signature
    private let stopped: AsyncStream<Void>.Continuation
    private let stopSignal: AsyncStream<Void>

    struct Signature: Hashable {
        let handlers: [HandlerConfiguration]
        let feeders: [FeederConfiguration]
        let bindings: [PointAddress: CommandBinding]
        let commandMaxAge: Duration?
        let maxHandlerProcesses: Int
        let points: PointTable
    }

    init(configuration: DaemonConfiguration, logger: Logger, apply: @escaping UpdateSink) {
        dispatcher = CommandDispatcher(configuration: configuration, logger: logger, apply: apply)
        feeders = configuration.feeders.map {
            Feeder(configuration: $0, points: configuration.points, logger: logger, apply: apply)
        }
        signature = Signature(handlers: configuration.handlers, feeders: configuration.feeders,
                              bindings: configuration.commandBindings, commandMaxAge: configuration.daemon.commandMaxAge,
                              maxHandlerProcesses: configuration.daemon.maxHandlerProcesses, points: configuration.points)
        (stopSignal, stopped) = AsyncStream<Void>.makeStream()
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.dispatcher.run() }
            for feeder in feeders { group.addTask { await feeder.run() } }
            for await _ in stopSignal {}
            group.cancelAll()
        }
    }

    func stop() { stopped.finish() }
}
