import Logging
import NIOCore

/// Log lines a master can cause at will — refused requests and connection churn — go through a
/// `RefusalLogLimiter` per kind: a few lines per source and window, then one summary per source, so that a
/// flood cannot push the lines that matter past journald's rate limit.
enum LimitedLogKind {
    /// Negative confirmations (COT 44–47, negative ACTCON/DEACTCON).
    case refusedRequest
    /// Connects, replacements, closes a master caused (frame or link errors) and disconnects.
    case connectionChurn

    /// Limits per window (see docs/robustness.md): per source (listener, peer, reason) and overall.
    static func limiter(_ kind: LimitedLogKind) -> RefusalLogLimiter {
        switch kind {
        case .refusedRequest: RefusalLogLimiter(window: .seconds(10), perSource: 5, total: 50, summaries: 20)
        case .connectionChurn: RefusalLogLimiter(window: .seconds(10), perSource: 20, total: 50, summaries: 20)
        }
    }

    /// The summary line for what a window held back from one source.
    static func summary(_ kind: LimitedLogKind, suppressed: Int, peer: String, reason: String, seconds: Int64) -> String {
        switch kind {
        case .refusedRequest:
            "refused \(suppressed) more request\(suppressed == 1 ? "" : "s") from \(peer) in \(seconds) s, "
                + "not logged one by one: \(reason)"
        case .connectionChurn:
            "\(suppressed) more connection event\(suppressed == 1 ? "" : "s") (connect, replace, close, disconnect) "
                + "from \(peer) in \(seconds) s, not logged one by one"
        }
    }

    /// The summary line for sources beyond the per-window summary count.
    static func otherSummary(_ kind: LimitedLogKind, suppressed: Int, sources: Int, seconds: Int64) -> String {
        let plural = sources == 1 ? "" : "s"
        return switch kind {
        case .refusedRequest:
            "refused \(suppressed) more requests from \(sources) other source\(plural) in \(seconds) s, not logged one by one"
        case .connectionChurn:
            "\(suppressed) more connection events from \(sources) other source\(plural) in \(seconds) s, not logged one by one"
        }
    }
}

extension OutstationRuntime {
    /// Logs `message` unless its source has had its share of lines in this window; then it is counted for a summary.
    /// `message` and `metadata` are built only for a line that is written: a flood of connects costs no strings.
    func limitedLog(_ kind: LimitedLogKind, _ level: Logger.Level, _ message: @autoclosure () -> String, listener: String,
                    peer: String, reason: String, metadata: @autoclosure () -> Logger.Metadata) {
        let source = RefusalLogLimiter.Source(listener: listener, peer: peer, reason: reason)
        let decision: RefusalLogLimiter.Decision
        let end: ContinuousClock.Instant?
        switch kind {
        case .refusedRequest:
            decision = requestLog.refusal(source, now: .now)
            end = requestLog.windowEnd
        case .connectionChurn:
            decision = churnLog.refusal(source, now: .now)
            end = churnLog.windowEnd
        }
        switch decision {
        case .log:
            logger.log(level: level, "\(message())", metadata: metadata())
        case .suppress(let firstInWindow):
            guard firstInWindow, let end else { return }
            let bound = NIOLoopBound(self, eventLoop: eventLoop)
            let delay = max(ContinuousClock.now.duration(to: end), .zero)
            let (seconds, attoseconds) = delay.components
            eventLoop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) {
                bound.value.logSummary(kind, level: level)
            }
        }
    }

    private func logSummary(_ kind: LimitedLogKind, level: Logger.Level) {
        let report: RefusalLogLimiter.WindowReport
        let seconds: Int64
        switch kind {
        case .refusedRequest:
            seconds = requestLog.window.components.seconds
            report = requestLog.endWindow()
        case .connectionChurn:
            seconds = churnLog.window.components.seconds
            report = churnLog.endWindow()
        }
        for summary in report.summaries {
            let text = LimitedLogKind.summary(kind, suppressed: summary.suppressed, peer: summary.source.peer,
                                              reason: summary.source.reason, seconds: seconds)
            logger.log(level: level, "\(text)", metadata: ["listener": "\(summary.source.listener)",
                                                           "peer": "\(summary.source.peer)",
                                                           "suppressed": "\(summary.suppressed)"])
        }
        if report.otherRefusals > 0 {
            let text = LimitedLogKind.otherSummary(kind, suppressed: report.otherRefusals, sources: report.otherSources,
                                                   seconds: seconds)
            logger.log(level: level, "\(text)", metadata: ["suppressed": "\(report.otherRefusals)"])
        }
    }
}
