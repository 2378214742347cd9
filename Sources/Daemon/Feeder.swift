public import Config
import Foundation
public import Logging
public import Outstation
import Synchronization

/// A `[feeder NAME]`: a long-lived program whose stdout lines set monitor points, with the control socket's
/// `set` syntax (`{"point":"47:3201","value":231.5}` or `{"op":"set","points":[…]}`). Restarted with back-off
/// when it exits; stderr goes to the log; bad lines are skipped and logged once per burst.
public final class Feeder: Sendable {
    public let configuration: FeederConfiguration
    let parser: UpdateParser
    let logger: Logger
    let apply: UpdateSink
    let invalidate: InvalidationSink
    private let badLines = Mutex(BurstLimiter())
    private let startCount = Mutex(0)

    public convenience init(configuration: FeederConfiguration, points: PointTable, logger: Logger,
                            apply: @escaping UpdateSink, invalidate: @escaping InvalidationSink = { _ in [] }) {
        self.init(configuration: configuration, kinds: PointKindIndex(points), logger: logger, apply: apply,
                  invalidate: invalidate)
    }

    init(configuration: FeederConfiguration, kinds: PointKindIndex, logger: Logger, apply: @escaping UpdateSink,
         invalidate: @escaping InvalidationSink = { _ in [] }) {
        self.configuration = configuration
        self.parser = UpdateParser(kinds: kinds)
        self.apply = apply
        self.invalidate = invalidate
        var logger = logger
        logger[metadataKey: "feeder"] = "\(configuration.name)"
        self.logger = logger
    }

    public var starts: Int { startCount.withLock { $0 } }

    /// Keeps the program running until the task is cancelled; then SIGTERM, SIGKILL after a grace period.
    public func run() async {
        await ChildProcess.keepRunning("feeder \(configuration.name)", program: configuration.program, restartDelay: configuration.restartDelay,
                                       logger: logger, runOnce: {
            await ChildProcess.runLongLived(
                configuration.program, input: nil, maxLine: configuration.maxLine, grace: PersistentHandler.terminationGrace,
                started: { [self] in startCount.withLock { $0 += 1 } },
                stdout: { [self] events in for event in events { await received(event) } },
                stderr: ChildProcess.logStandardError(to: logger))
        }, lost: { [self] _ in await invalidateDeclaredPoints() })
    }

    /// The feeder stopped on its own (not stopped by the daemon): the points it declared (`points`) are invalid
    /// until it writes them again. Returns the words for the log line, nil when it declared none.
    func invalidateDeclaredPoints() async -> String? {
        guard !configuration.points.isEmpty else { return nil }
        let marked = await invalidate(configuration.points.flatMap(\.addresses))
        guard !marked.isEmpty else { return "its points were invalid already" }
        return "invalidated \(marked.count) point\(marked.count == 1 ? "" : "s"): " + PointRanges.compact(marked)
    }

    func received(_ event: LineSplitter.Event) async {
        switch event {
        case .overlong(let length):
            reject("a line of \(length) bytes, longer than max_line = \(configuration.maxLine)", line: nil)
        case .line(let line):
            guard !line.allSatisfy(\.isWhitespace) else { return }
            switch parser.parseLine(line) {
            case .success(let updates)?: await apply(updates)
            case .failure(let problem)?: reject(problem.message, line: line)
            case nil: reject("not a JSON object", line: line)
            }
        }
    }

    private func reject(_ problem: String, line: String?) {
        let (log, suppressed) = badLines.withLock { $0.admit() }
        guard log else { return }
        var metadata: Logger.Metadata = [:]
        if let line { metadata["line"] = "\(line.prefix(200))" }
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        let more = suppressed > 0 ? " (and \(suppressed) more bad lines since the last message)" : ""
        logger.warning("skipped a bad line: \(problem)\(more)", metadata: metadata)
    }
}

/// Where feeders and handlers put the point updates they read: returns once the updates are applied, which
/// waits while the masters' queues are full (so a program that writes faster than the masters take is slowed).
public typealias UpdateSink = @Sendable ([PointUpdate]) async -> Void

/// Where a feeder that stopped on its own sends the points it declared: marked invalid at once; returns those newly
/// marked.
public typealias InvalidationSink = @Sendable ([PointAddress]) async -> [PointAddress]
