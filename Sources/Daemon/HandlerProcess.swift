public import Config
import Logging
public import Outstation
import Synchronization

/// What a handler made of one command, with what it printed, for the log and for tests.
public struct HandlerOutcome: Sendable {
    public var result: CommandResult
    /// stderr lines (spawn: of this command's process; persistent: none, the coprocess's go to the log).
    public var stderr: [String] = []
    /// stdout lines that were neither free text nor valid updates, with the reason.
    public var rejectedLines: [String] = []

    public var succeeded: Bool { if case .success = result { true } else { false } }
    public var updates: [PointUpdate] { if case .success(let updates) = result { updates } else { [] } }
    public var reason: String? { if case .failure(let reason) = result { reason } else { nil } }
}

/// A `[handler NAME]` with `mode = spawn`: one process per command.
///
/// The command is the process's stdin (one JSON object and a newline) and its RTU104_* environment. Exit
/// status 0 is success; stdout lines that are JSON objects are point updates (`{"point":"47:1001","value":"on"}`
/// or `{"op":"set","points":[…]}`), other lines are ignored. A non-zero exit, a signal, more than `max_output`
/// bytes on stdout or no exit within the timeout (the process group is killed) is a failure.
public final class SpawnHandler: Sendable {
    public let configuration: HandlerConfiguration
    let parser: UpdateParser
    let slots: ProcessSlots

    init(configuration: HandlerConfiguration, parser: UpdateParser, slots: ProcessSlots) {
        self.configuration = configuration
        self.parser = parser
        self.slots = slots
    }

    public func perform(_ request: CommandRequest, timeout: Duration? = nil) async -> HandlerOutcome {
        guard await slots.acquire() else { return HandlerOutcome(result: .failure(reason: "cancelled while waiting for a handler process")) }
        defer { slots.release() }
        if Task.isCancelled { return HandlerOutcome(result: .failure(reason: "cancelled")) }
        let limit = timeout ?? configuration.timeout
        let input = Array((CommandMessage.json(request, handler: configuration.name) + "\n").utf8)
        let outcome = await ChildProcess.spawn(configuration.program,
                                               environment: CommandMessage.environment(request, handler: configuration.name),
                                               input: input, timeout: limit, maxOutput: configuration.maxOutput,
                                               killSwitch: KillSwitch())
        var report = HandlerOutcome(result: .success(updates: []))
        report.stderr = String(decoding: outcome.stderr, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        if outcome.stderrTruncated { report.stderr.append("(stderr cut at \(configuration.maxOutput) bytes)") }
        let name = "handler '\(configuration.name)'"
        switch outcome.killed {
        case .timeout?:
            report.result = .failure(reason: "\(name) gave no answer within \(limit); killed")
            return report
        case .cancelled?:
            report.result = .failure(reason: "\(name) cancelled; killed")
            return report
        case .outputLimit?:
            report.result = .failure(reason: "\(name) wrote more than \(configuration.maxOutput) bytes on stdout; killed")
            return report
        case nil:
            break
        }
        guard outcome.termination == .exited(0) else {
            report.result = .failure(reason: "\(name) failed: \(outcome.termination)")
            return report
        }
        var updates: [PointUpdate] = []
        for line in String(decoding: outcome.stdout, as: UTF8.self).split(whereSeparator: \.isNewline) {
            switch parser.parseLine(String(line)) {
            case nil: continue
            case .success(let parsed)?: updates += parsed
            case .failure(let problem)?: report.rejectedLines.append("\(line): \(problem.message)")
            }
        }
        report.result = .success(updates: updates)
        return report
    }
}

/// A `[handler NAME]` with `mode = persistent`: one long-running coprocess for all its commands.
///
/// Requests are JSON lines on its stdin, the command's members plus `"id"`, the command's own id (unique in the
/// daemon, the one the log and the outstation know it by); replies are lines on stdout:
/// `{"id":7,"ok":true,"updates":[{"point":"47:1001","value":"on"}]}` or `{"id":7,"ok":false,"error":"…"}`.
/// Many commands may be in flight; replies may come in any order. A command that is deactivated or gets no
/// reply within its timeout fails and the coprocess is told `{"cancel":true,"id":7}`. A stdout line without
/// `"id"` is a point update at any time. The coprocess is restarted with back-off when it exits; the commands
/// it had not answered fail.
public final class PersistentHandler: Sendable {
    public let configuration: HandlerConfiguration
    let parser: UpdateParser
    let logger: Logger
    let unsolicited: UpdateSink
    let mailbox = LineMailbox()
    /// SIGTERM first, SIGKILL after this, at shutdown.
    static let terminationGrace = Duration.seconds(2)

    private struct Pending {
        var line: String
        var continuation: CheckedContinuation<CommandResult, Never>
    }
    private struct State {
        /// The commands sent and not yet answered, by command id: what a reply, a timeout or a cancellation
        /// resolves. This is what running a coprocess needs; which command runs where is the outstation's.
        var pending: [UInt64: Pending] = [:]
        var starts = 0
        var running = false
        /// `run()` has returned (daemon stop, or a reload retired this handler): commands fail at once.
        var stopped = false
    }
    private let state = Mutex(State())
    private let started = OneShot()

    init(configuration: HandlerConfiguration, parser: UpdateParser, logger: Logger,
         unsolicited: @escaping UpdateSink) {
        self.configuration = configuration
        self.parser = parser
        self.unsolicited = unsolicited
        var logger = logger
        logger[metadataKey: "handler"] = "\(configuration.name)"
        self.logger = logger
    }

    /// How often the coprocess has been started.
    public var starts: Int { state.withLock { $0.starts } }

    /// Waits until the coprocess has been started once (tests).
    func waitUntilStarted() async { await started.wait() }

    /// Keeps the coprocess running until the task is cancelled; then SIGTERM, SIGKILL after a grace period.
    public func run() async {
        await ChildProcess.keepRunning("persistent handler", program: configuration.program,
                                       restartDelay: configuration.restartDelay, logger: logger) {
            await ChildProcess.runLongLived(
                configuration.program, input: mailbox, maxLine: configuration.maxOutput, grace: Self.terminationGrace,
                started: { [self] in
                    state.withLock { $0.starts += 1; $0.running = true }
                    started.fire()
                },
                stdout: { [self] events in for event in events { await received(event) } },
                stderr: ChildProcess.logStandardError(to: logger))
        } exited: { termination in
            let orphans = state.withLock { state -> [Pending] in
                state.running = false
                defer { state.pending.removeAll() }
                return Array(state.pending.values)
            }
            // A coprocess stopped on purpose (a reload retired it, or the daemon stops) says so, whether the
            // command reached it just before or just after it exited.
            let reason = Task.isCancelled ? "handler '\(configuration.name)' was stopped"
                : "handler '\(configuration.name)' exited (\(termination)) before answering"
            for orphan in orphans { orphan.continuation.resume(returning: .failure(reason: reason)) }
            return ["unanswered": "\(orphans.count)"]
        }
        mailbox.close()
        let left = state.withLock { state -> [Pending] in
            state.stopped = true
            defer { state.pending.removeAll() }
            return Array(state.pending.values)
        }
        for pending in left { pending.continuation.resume(returning: .failure(reason: "handler '\(configuration.name)' was stopped")) }
    }

    public func perform(_ request: CommandRequest, timeout: Duration? = nil) async -> HandlerOutcome {
        let limit = timeout ?? configuration.timeout
        let id = request.id
        let line = CommandMessage.json(request, handler: configuration.name, id: id)
        let result = await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                if (try? await Task.sleep(for: limit)) != nil {
                    resolve(id, .failure(reason: "handler '\(configuration.name)' gave no answer within \(limit)"), tellHandler: true)
                }
            }
            let result = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<CommandResult, Never>) in
                    // A command that finds the handler stopped (a reload retired it a moment ago) fails now, not at its timeout.
                    let refusal = state.withLock { state -> String? in
                        if Task.isCancelled { return "cancelled" }
                        if state.stopped { return "handler '\(configuration.name)' was stopped" }
                        // Ids are unique in the daemon; a second command under one id would take the first's reply.
                        if state.pending[id] != nil { return "command id \(id) is already with handler '\(configuration.name)'" }
                        state.pending[id] = Pending(line: line, continuation: continuation)
                        return nil
                    }
                    if let refusal {
                        continuation.resume(returning: .failure(reason: refusal))
                    } else {
                        mailbox.post(line)
                    }
                }
            } onCancel: { [self] in
                resolve(id, .failure(reason: "handler '\(configuration.name)' cancelled"), tellHandler: true)
            }
            group.cancelAll()
            return result
        }
        return HandlerOutcome(result: result)
    }

    /// Answers command `id` once; a command given up on is withdrawn from the coprocess.
    private func resolve(_ id: UInt64, _ result: CommandResult, tellHandler: Bool) {
        guard let pending = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
        pending.continuation.resume(returning: result)
        if tellHandler {
            mailbox.removeAll { $0 == pending.line }
            mailbox.post(#"{"cancel":true,"id":\#(id)}"#)
        }
    }

    private func received(_ event: LineSplitter.Event) async {
        guard case .line(let line) = event else {
            if case .overlong(let length) = event { logger.warning("skipped a stdout line of \(length) bytes (max_output)") }
            return
        }
        guard line.contains(where: { $0 != " " && $0 != "\t" }) else { return }
        switch parser.readReplyLine(line) {
        case .text:
            logger.notice("stdout: \(line)")
        case .updates(let updates):
            // Not a reply: point updates at the handler's initiative.
            await unsolicited(updates)
        case .rejected(let message):
            logger.warning("ignored stdout line: \(message)", metadata: ["line": "\(line)"])
        case .replyWithoutCommandID:
            logger.warning("ignored a reply whose id is not a command id", metadata: ["line": "\(line)"])
        case .reply(let id, .accepted(let updates, let ignoredUpdates)):
            if let ignoredUpdates { logger.warning("reply \(id): \(ignoredUpdates)") }
            resolve(id, .success(updates: updates), tellHandler: false)
        case .reply(let id, .refused(let reason)):
            resolve(id, .failure(reason: "handler '\(configuration.name)' refused: \(reason)"), tellHandler: false)
        }
    }
}
