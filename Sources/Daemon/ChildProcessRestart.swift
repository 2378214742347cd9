import Config
import Logging

/// Restart delays: `initial`, doubling up to 32 × `initial`; back to `initial` after a run that lasted a minute.
struct BackOff {
    let initial: Duration
    private(set) var current: Duration

    init(initial: Duration) {
        self.initial = initial
        current = initial
    }

    mutating func next(afterRunning uptime: Duration) -> Duration {
        if uptime >= .seconds(60) { current = initial }
        defer { current = min(current * 2, initial * 32) }
        return current
    }
}

extension ChildProcess {
    /// Keeps a long-lived program (a persistent handler or a feeder) running until the task is cancelled:
    /// `runOnce` runs it to its end; after an end that is not a cancellation, `exited` hears how it ended (and
    /// may add fields to the log line) and the next start waits with ``BackOff``.
    static func keepRunning(_ role: String, program: ProgramConfiguration, restartDelay: Duration, logger: Logger,
                            runOnce: () async -> ChildTermination,
                            exited: (ChildTermination) -> Logger.Metadata = { _ in [:] },
                            lost: (ChildTermination) async -> String? = { _ in nil }) async {
        var backOff = BackOff(initial: restartDelay)
        while !Task.isCancelled {
            let start = ContinuousClock.now
            logger.info("starting \(role)", metadata: ["exec": "\(program.executable)"])
            let termination = await runOnce()
            let metadata = exited(termination)
            if Task.isCancelled { break }
            // Only an end the daemon did not ask for: a stop for shutdown or reload cancels the task first.
            let consequence = await lost(termination).map { "; \($0)" } ?? ""
            let delay = backOff.next(afterRunning: ContinuousClock.now - start)
            logger.warning("\(role) stopped (\(termination))\(consequence); restarting in \(delay)",
                           metadata: metadata)
            try? await Task.sleep(for: delay)
        }
    }

    /// A long-lived program's standard error, line by line into the log.
    static func logStandardError(to logger: Logger) -> @Sendable (LineSplitter.Event) -> Void {
        { event in
            switch event {
            case .line(let line): logger.notice("stderr: \(line)")
            case .overlong(let length): logger.warning("stderr: skipped a line of \(length) bytes")
            }
        }
    }
}
