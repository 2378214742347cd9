public import Config
public import Logging
public import Outstation
import Synchronization

/// The command handlers and feeders of the configuration in force, each coprocess and feeder in a task of its own.
///
/// A reload compares every `[handler NAME]` and `[feeder NAME]` section with the one running (apart from where in
/// the file it stands): an unchanged one keeps its process, and with it whatever state the process holds; a changed
/// one is stopped and started anew; a removed one is stopped (SIGTERM, then SIGKILL); a new one is started. The
/// point table and command bindings are handed to the processes kept, so a reload that only adds points or
/// stations restarts nothing.
///
/// Commands during a reload: the routes are swapped first, so every command from then on goes to the new handlers.
/// A command in flight on a persistent handler that is replaced or removed fails at once with a negative
/// confirmation (its coprocess is stopped under it and its pending commands are answered as failed); the new
/// coprocess starts only once the old one has exited, so two coprocesses of one handler never run side by side
/// (they may hold the same device). A command in flight on a spawn handler finishes with the settings it began with.
public final class HostProcesses: CommandHandler {
    private struct HandlerEntry {
        var runner: CommandDispatcher.Runner
        /// The coprocess's task (persistent handlers only).
        var process: ProcessTask?
    }

    private struct FeederEntry {
        var feeder: Feeder
        var process: ProcessTask
    }

    private struct State {
        var handlers: [String: HandlerEntry] = [:]
        var feeders: [String: FeederEntry] = [:]
        var slots: ProcessSlots
        var slotLimit: Int
    }

    private let state: Mutex<State>
    private let dispatcher: CommandDispatcher
    /// Shared by every handler, so that a reload hands the kept ones the new point table.
    private let parser: UpdateParser
    private let launches: AsyncStream<@Sendable () async -> Void>.Continuation
    private let launched: AsyncStream<@Sendable () async -> Void>
    private let logger: Logger
    /// Where feeders' updates go, and handlers' (unsolicited and spawn handlers' lines).
    private let feederUpdates: UpdateSink
    private let handlerUpdates: UpdateSink
    /// Where a feeder that exits on its own sends the points it declared.
    private let invalidate: InvalidationSink

    /// `apply` takes every producer's updates.
    public convenience init(configuration: DaemonConfiguration, logger: Logger, apply: @escaping UpdateSink) {
        self.init(configuration: configuration, logger: logger, feederUpdates: apply, handlerUpdates: apply)
    }

    public init(configuration: DaemonConfiguration, logger: Logger, feederUpdates: @escaping UpdateSink,
                handlerUpdates: @escaping UpdateSink, invalidate: @escaping InvalidationSink = { _ in [] }) {
        self.logger = logger
        self.invalidate = invalidate
        self.feederUpdates = feederUpdates
        self.handlerUpdates = handlerUpdates
        let kinds = PointKindIndex(configuration.points)
        parser = UpdateParser(kinds: kinds)
        (launched, launches) = AsyncStream.makeStream()
        let limit = configuration.daemon.maxHandlerProcesses
        let slots = ProcessSlots(limit: limit)
        dispatcher = CommandDispatcher(routes: .init(runners: [:], bindings: [:], maxAge: nil, slots: slots), logger: logger)
        state = Mutex(State(slots: slots, slotLimit: limit))
        reconfigure(configuration, kinds: kinds)
    }

    /// Runs every handler's and feeder's task until cancelled (which stops them all); call once, as a child of
    /// the daemon's task group.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await launch in launched {
                group.addTask { await launch() }
            }
        }
    }

    /// Brings handlers and feeders to `configuration`, restarting only those whose own section changed.
    @discardableResult
    public func reconfigure(_ configuration: DaemonConfiguration) -> ProcessChanges {
        reconfigure(configuration, kinds: PointKindIndex(configuration.points))
    }

    /// `kinds`: the index of `configuration.points`, built once for the parser and every feeder.
    @discardableResult
    private func reconfigure(_ configuration: DaemonConfiguration, kinds: PointKindIndex) -> ProcessChanges {
        parser.use(kinds)
        let (changes, routes, retired) = state.withLock { state -> (ProcessChanges, CommandDispatcher.Routes, [ProcessTask]) in
            var changes = ProcessChanges()
            var retired: [ProcessTask] = []
            if configuration.daemon.maxHandlerProcesses != state.slotLimit {
                // Commands running keep their slot in the old pool; only new ones count against the new limit.
                state.slotLimit = configuration.daemon.maxHandlerProcesses
                state.slots = ProcessSlots(limit: state.slotLimit)
            }

            var handlers: [String: HandlerEntry] = [:]
            for handler in configuration.handlers {
                let old = state.handlers[handler.name]
                if let old, Self.sameSection(old.runner.configuration, handler) {
                    changes.handlers[handler.name] = .kept
                    if case .persistent = old.runner {
                        handlers[handler.name] = old
                    } else {
                        // A spawn handler is no process, only settings: rebuilt so that it uses the slots in force.
                        handlers[handler.name] = HandlerEntry(runner: makeRunner(handler, slots: state.slots), process: nil)
                    }
                    continue
                }
                let runner = makeRunner(handler, slots: state.slots)
                var process: ProcessTask?
                if case .persistent(let coprocess) = runner {
                    process = launch(after: old?.process) { await coprocess.run() }
                }
                if let previous = old?.process { retired.append(previous) }
                let persistent = process != nil
                changes.handlers[handler.name] = switch (old != nil, persistent) {
                case (false, false): .added
                case (false, true): .started
                case (true, false): .changed
                case (true, true): .restarted
                }
                handlers[handler.name] = HandlerEntry(runner: runner, process: process)
            }
            for (name, old) in state.handlers where handlers[name] == nil {
                if let process = old.process { retired.append(process) }
                changes.handlers[name] = old.process == nil ? .removed : .stopped
            }

            var feeders: [String: FeederEntry] = [:]
            for configured in configuration.feeders {
                let old = state.feeders[configured.name]
                if let old, Self.sameSection(old.feeder.configuration, configured) {
                    old.feeder.parser.use(kinds)
                    feeders[configured.name] = old
                    changes.feeders[configured.name] = .kept
                    continue
                }
                let feeder = Feeder(configuration: configured, kinds: kinds, logger: logger, apply: feederUpdates,
                                    invalidate: invalidate)
                let process = launch(after: old?.process) { await feeder.run() }
                if let previous = old?.process { retired.append(previous) }
                feeders[configured.name] = FeederEntry(feeder: feeder, process: process)
                changes.feeders[configured.name] = old == nil ? .started : .restarted
            }
            for (name, old) in state.feeders where feeders[name] == nil {
                retired.append(old.process)
                changes.feeders[name] = .stopped
            }

            state.handlers = handlers
            state.feeders = feeders
            let routes = CommandDispatcher.Routes(runners: handlers.mapValues(\.runner), bindings: configuration.commandBindings,
                                                  maxAge: configuration.daemon.commandMaxAge, slots: state.slots)
            return (changes, routes, retired)
        }
        // New commands take the new routes before the processes they replace are stopped.
        dispatcher.route(routes)
        for process in retired { process.stop() }
        return changes
    }

    public func execute(_ request: CommandRequest) async -> CommandResult {
        await dispatcher.execute(request)
    }

    /// The persistent handler in force under `name` (tests and status).
    public func persistentHandler(named name: String) -> PersistentHandler? {
        state.withLock { state in
            if case .persistent(let handler)? = state.handlers[name]?.runner { handler } else { nil }
        }
    }

    /// The feeder in force under `name` (tests and status).
    public func feeder(named name: String) -> Feeder? {
        state.withLock { $0.feeders[name]?.feeder }
    }

    private func makeRunner(_ handler: HandlerConfiguration, slots: ProcessSlots) -> CommandDispatcher.Runner {
        CommandDispatcher.Runner(handler, parser: parser, slots: slots, logger: logger, apply: handlerUpdates)
    }

    /// Restarts of each persistent handler and feeder in force: its starts after the first. A process a reload
    /// replaced starts from zero again.
    public func restartCounts() -> (handlers: [String: UInt64], feeders: [String: UInt64]) {
        state.withLock { state in
            var handlers: [String: UInt64] = [:]
            for (name, entry) in state.handlers {
                if case .persistent(let handler) = entry.runner { handlers[name] = UInt64(max(handler.starts - 1, 0)) }
            }
            let feeders = state.feeders.mapValues { UInt64(max($0.feeder.starts - 1, 0)) }
            return (handlers, feeders)
        }
    }

    /// Starts `body` in a task of its own once `previous` (the process it replaces) has exited.
    private func launch(after previous: ProcessTask?, _ body: @escaping @Sendable () async -> Void) -> ProcessTask {
        let process = ProcessTask()
        launches.yield {
            if let previous { await previous.finished.wait() }
            await withDiscardingTaskGroup { group in
                group.addTask { await body() }
                await process.stopRequested.wait()
                group.cancelAll()
            }
            process.finished.fire()
        }
        return process
    }

    /// Whether two sections configure the same process; where they stand in the file does not count.
    static func sameSection(_ running: HandlerConfiguration, _ reloaded: HandlerConfiguration) -> Bool {
        var running = running
        running.location = reloaded.location
        return running == reloaded
    }

    static func sameSection(_ running: FeederConfiguration, _ reloaded: FeederConfiguration) -> Bool {
        var running = running
        running.location = reloaded.location
        return running == reloaded
    }
}

/// The task of one coprocess or feeder: stopping it cancels the task (SIGTERM, then SIGKILL to the process).
final class ProcessTask: Sendable {
    let stopRequested = OneShot()
    let finished = OneShot()

    func stop() { stopRequested.fire() }
}

/// What a reload did to the handlers and feeders, by name, for the reload report.
public struct ProcessChanges: Sendable, Equatable {
    public enum Change: String, Sendable {
        /// The section is unchanged: the same process runs on.
        case kept
        /// A persistent handler's or feeder's section changed: the old process was stopped and a new one started.
        case restarted
        /// A new persistent handler or feeder.
        case started
        /// A persistent handler or feeder that is gone from the configuration: its process was stopped.
        case stopped
        /// A spawn handler's section changed (or a persistent handler became a spawn handler): the next command uses it.
        case changed
        /// A new spawn handler.
        case added
        /// A spawn handler that is gone from the configuration.
        case removed
    }

    public var handlers: [String: Change] = [:]
    public var feeders: [String: Change] = [:]

    public init(handlers: [String: Change] = [:], feeders: [String: Change] = [:]) {
        self.handlers = handlers
        self.feeders = feeders
    }

    /// `handlers: breaker changed, tap-changer kept; feeders: sine restarted` (`none` when there are none).
    public var summary: String {
        "handlers: \(Self.list(handlers)); feeders: \(Self.list(feeders))"
    }

    private static func list(_ changes: [String: Change]) -> String {
        guard !changes.isEmpty else { return "none" }
        return changes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.rawValue)" }.joined(separator: ", ")
    }
}
