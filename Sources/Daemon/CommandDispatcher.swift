public import Config
import IEC104
public import Logging
public import Outstation
import Server
import Synchronization

/// The daemon's command handler: refuses time-tagged commands older than `command_max_age`, sends the
/// commands of points that name a `[handler NAME]` to it and the others to the built-in feedback handler.
///
/// It keeps no table of the commands it runs: the outstation's `CommandLedger` knows them, and a deactivation
/// cancels the task that runs the command, which the handlers take as "stop" (a spawn handler's process group
/// is killed, a persistent handler's command is withdrawn, a command waiting for a process slot leaves the queue).
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
        let start = ContinuousClock.now
        let (result, handler) = await decide(request)
        logger.notice("\(CommandAudit.line(request, handler: handler, result: result, duration: start.duration(to: .now)))",
                      metadata: CommandAudit.metadata(request, handler: handler, result: result,
                                                      duration: start.duration(to: .now)))
        return result
    }

    /// The result, and the name of the handler that decided it (for the audit line).
    private func decide(_ request: CommandRequest) async -> (CommandResult, String) {
        let (maxAge, binding, runner) = routes.withLock { routes in
            let binding = routes.bindings[request.point.address]
            return (routes.maxAge, binding, binding.flatMap { routes.runners[$0.handler] })
        }
        let named = binding?.handler ?? CommandAudit.builtinHandler
        if let refusal = ageRefusal(request, maxAge: maxAge) { return (.failure(reason: refusal), named) }
        guard let binding, let runner else {
            return (await FeedbackCommandHandler().execute(request), CommandAudit.builtinHandler)
        }
        // A deactivation cancels this task: the handler kills or withdraws the command and answers at once.
        let outcome = switch runner {
        case .spawn(let handler): await handler.perform(request, timeout: binding.timeout)
        case .persistent(let handler): await handler.perform(request, timeout: binding.timeout)
        }
        log(outcome, of: request, handler: binding.handler)
        return (outcome.result, binding.handler)
    }

    /// Why a time-tagged command is too old to run, or nil.
    func ageRefusal(_ request: CommandRequest) -> String? { ageRefusal(request, maxAge: maxAge) }

    private func ageRefusal(_ request: CommandRequest, maxAge: Duration?) -> String? {
        guard let maxAge, let time = request.time else { return nil }
        guard let sent = time.unixMilliseconds() else { return "command time tag \(time.iso8601) is not a valid date" }
        let age = wallClock() - sent
        let limit = maxAge.components.seconds * 1000 + maxAge.components.attoseconds / 1_000_000_000_000_000
        guard age > limit else { return nil }
        return "command time tag \(time.iso8601) is \(Double(age) / 1000) s old, more than command_max_age = "
            + CommandAudit.seconds(maxAge)
    }

    private func log(_ outcome: HandlerOutcome, of request: CommandRequest, handler: String) {
        var metadata: Logger.Metadata = [
            "station": "\(request.station)", "peer": "\(request.peer)", "ca": "\(request.point.address.commonAddress)",
            "ioa": "\(request.point.address.objectAddress)", "type": "\(request.element.typeID.mnemonic)",
            "handler": "\(handler)",
        ]
        if !request.listener.isEmpty { metadata["listener"] = "\(request.listener)" }
        for line in outcome.stderr {
            if outcome.succeeded { logger.info("handler stderr: \(line)", metadata: metadata) }
            else { logger.warning("handler stderr: \(line)", metadata: metadata) }
        }
        for line in outcome.rejectedLines {
            logger.warning("handler stdout line ignored: \(line)", metadata: metadata)
        }
    }
}

/// The command audit trail: one `notice` line per command when its confirmation is decided, and the same
/// facts as log metadata (journal fields `EVENT=command`, `RESULT`, `HANDLER`, `DURATION_MS`, …) so that
/// `journalctl -u rtu104d EVENT=command` lists every command. See docs/operations.md, "Logs".
public enum CommandAudit {
    /// The handler name of command points without a `handler =`: the built-in feedback handler.
    public static let builtinHandler = "builtin"

    /// `command C_DC_NA_1 select on, QU=0 on 48:200 by 127.0.0.1 (station 'scada'): positive, handler tap (12 ms)`
    public static func line(_ request: CommandRequest, handler: String, result: CommandResult, duration: Duration) -> String {
        var text = "command \(request.element.operatorText) on \(request.point.address) from \(request.peer) "
            + "(station '\(request.station)'): "
        switch result {
        case .success: text += "positive"
        case .failure(let reason): text += "negative, \(reason)"
        }
        return text + ", handler \(handler) (\(milliseconds(duration)) ms)"
    }

    public static func metadata(_ request: CommandRequest, handler: String, result: CommandResult,
                                duration: Duration) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "event": "command",
            "station": "\(request.station)", "peer": "\(request.peer)",
            "ca": "\(request.point.address.commonAddress)", "ioa": "\(request.point.address.objectAddress)",
            "type": "\(request.element.typeID.mnemonic)", "value": "\(request.element.operatorValue)",
            "phase": "\(request.isSelect ? "select" : "execute")",
            "handler": "\(handler)", "duration_ms": "\(milliseconds(duration))",
        ]
        if !request.listener.isEmpty { metadata["listener"] = "\(request.listener)" }
        if let time = request.time { metadata["command_time"] = "\(time.iso8601)" }
        switch result {
        case .success: metadata["result"] = "positive"
        case .failure(let reason):
            metadata["result"] = "negative"
            metadata["reason"] = "\(reason)"
        }
        return metadata
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// `30 s`, `1.5 s`: a config duration as the configuration file writes it.
    static func seconds(_ duration: Duration) -> String {
        let ms = milliseconds(duration)
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
    }
}
