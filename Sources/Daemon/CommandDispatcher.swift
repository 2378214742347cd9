public import Config
import IEC104
public import Logging
public import Outstation
import Server
import Synchronization

/// The daemon's command handler: refuses time-tagged commands older than `command_max_age`, sends the
/// commands of points that name a `[handler NAME]` to it and the others to the built-in feedback handler,
/// and cancels a running command on deactivation.
public final class CommandDispatcher: CommandHandler {
    enum Runner: Sendable {
        case spawn(SpawnHandler)
        case persistent(PersistentHandler)

        init(_ handler: HandlerConfiguration, parser: UpdateParser, slots: ProcessSlots, logger: Logger,
             apply: @escaping UpdateSink) {
            switch handler.mode {
            case .spawn: self = .spawn(SpawnHandler(configuration: handler, parser: parser, slots: slots))
            case .persistent:
                self = .persistent(PersistentHandler(configuration: handler, parser: parser, logger: logger, unsolicited: apply))
            }
        }

        var configuration: HandlerConfiguration {
            switch self {
            case .spawn(let handler): handler.configuration
            case .persistent(let handler): handler.configuration
            }
        }
    }

    private struct CommandKey: Hashable {
        let station: String
        let id: UInt64
    }

    /// Where commands go: rebuilt by a reload (``route(_:)``). A command runs to its end on the runner it
    /// found when it started; the next command on the point finds the new one.
    struct Routes: Sendable {
        var runners: [String: Runner]
        var bindings: [PointAddress: CommandBinding]
        var maxAge: Duration?
        var slots: ProcessSlots
    }

    private let routes: Mutex<Routes>
    let logger: Logger
    let wallClock: @Sendable () -> Int64
    private let running = Mutex<[CommandKey: OneShot]>([:])

    var runners: [String: Runner] { routes.withLock { $0.runners } }
    var bindings: [PointAddress: CommandBinding] { routes.withLock { $0.bindings } }
    var maxAge: Duration? { routes.withLock { $0.maxAge } }
    var slots: ProcessSlots { routes.withLock { $0.slots } }

    /// `apply` takes the point updates a persistent handler prints at its own initiative.
    public convenience init(configuration: DaemonConfiguration, logger: Logger,
                            apply: @escaping UpdateSink = { _ in },
                            wallClock: (@Sendable () -> Int64)? = nil) {
        let parser = UpdateParser(points: configuration.points)
        let slots = ProcessSlots(limit: configuration.daemon.maxHandlerProcesses)
        var runners: [String: Runner] = [:]
        for handler in configuration.handlers {
            runners[handler.name] = Runner(handler, parser: parser, slots: slots, logger: logger, apply: apply)
        }
        self.init(routes: Routes(runners: runners, bindings: configuration.commandBindings,
                                 maxAge: configuration.daemon.commandMaxAge, slots: slots),
                  logger: logger, wallClock: wallClock)
    }

    init(routes: Routes, logger: Logger, wallClock: (@Sendable () -> Int64)? = nil) {
        self.routes = Mutex(routes)
        self.logger = logger
        self.wallClock = wallClock ?? { SystemClock.wallMilliseconds() }
    }

    /// Sends the commands from now on along `routes`; the commands running finish where they are.
    func route(_ routes: Routes) {
        self.routes.withLock { $0 = routes }
    }

    /// Runs the persistent handlers' coprocesses until the task is cancelled.
    public func run() async {
        let runners = self.runners
        await withDiscardingTaskGroup { group in
            for case .persistent(let handler) in runners.values {
                group.addTask { await handler.run() }
            }
        }
    }

    public func persistentHandler(named name: String) -> PersistentHandler? {
        if case .persistent(let handler)? = runners[name] { handler } else { nil }
    }

    public func execute(_ request: CommandRequest) async -> CommandResult {
        let (maxAge, binding, runner) = routes.withLock { routes in
            let binding = routes.bindings[request.point.address]
            return (routes.maxAge, binding, binding.flatMap { routes.runners[$0.handler] })
        }
        if let refusal = ageRefusal(request, maxAge: maxAge) { return .failure(reason: refusal) }
        guard let binding, let runner else {
            return await FeedbackCommandHandler().execute(request)
        }
        let key = CommandKey(station: request.station, id: request.id)
        let cancel = OneShot()
        running.withLock { $0[key] = cancel }
        defer { running.withLock { _ = $0.removeValue(forKey: key) } }
        // A deactivation fires `cancel`, which cancels the handler's task: it kills or withdraws the command.
        let outcome = await withTaskGroup(of: HandlerOutcome?.self) { group in
            group.addTask {
                switch runner {
                case .spawn(let handler): await handler.perform(request, timeout: binding.timeout)
                case .persistent(let handler): await handler.perform(request, timeout: binding.timeout)
                }
            }
            group.addTask {
                await cancel.wait()
                return nil
            }
            var outcome = HandlerOutcome(result: .failure(reason: "cancelled"))
            for await finished in group {
                if let finished { outcome = finished }
                group.cancelAll()
            }
            return outcome
        }
        log(outcome, of: request, handler: binding.handler)
        return outcome.result
    }

    public func cancel(station: String, commandID: UInt64) {
        running.withLock { $0[CommandKey(station: station, id: commandID)] }?.fire()
    }

    /// Why a time-tagged command is too old to run, or nil.
    func ageRefusal(_ request: CommandRequest) -> String? { ageRefusal(request, maxAge: maxAge) }

    private func ageRefusal(_ request: CommandRequest, maxAge: Duration?) -> String? {
        guard let maxAge, let time = request.time else { return nil }
        guard let sent = time.unixMilliseconds() else { return "command time tag \(time) is not a valid date" }
        let age = wallClock() - sent
        let limit = maxAge.components.seconds * 1000 + maxAge.components.attoseconds / 1_000_000_000_000_000
        guard age > limit else { return nil }
        return "command time tag \(time) is \(Double(age) / 1000) s old, more than command_max_age = \(maxAge)"
    }

    private func log(_ outcome: HandlerOutcome, of request: CommandRequest, handler: String) {
        let metadata: Logger.Metadata = [
            "station": "\(request.station)", "peer": "\(request.peer)", "ca": "\(request.point.address.commonAddress)",
            "ioa": "\(request.point.address.objectAddress)", "handler": "\(handler)",
        ]
        for line in outcome.stderr {
            if outcome.succeeded { logger.info("handler stderr: \(line)", metadata: metadata) }
            else { logger.warning("handler stderr: \(line)", metadata: metadata) }
        }
        for line in outcome.rejectedLines {
            logger.warning("handler stdout line ignored: \(line)", metadata: metadata)
        }
    }
}
