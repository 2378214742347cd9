import Dispatch
import Foundation
public import Outstation
import Synchronization

/// Writes the stations' journal operations on a thread of its own, in group commits: a commit takes whatever
/// arrived within `commitWindow` of the first operation waiting (or `maximumBatch` operations, if sooner), and
/// whatever arrives while it is on its way goes into the next one. So the number of commits (and syncs) per
/// second stays bounded — by the window and by the disk — not by the event rate, and the event loop never
/// waits for the disk. (Without the window, an event loop that hands over a few events per turn makes a
/// transaction of a few rows each time: measured at 20,000 events/s, 50 % of a core for SQLite's per-commit work.)
public final class EventJournalWriter: EventJournalWriting {
    public let store: EventJournalStore
    public let commitWindow: Duration
    public let maximumBatch: Int
    private let queue = DispatchQueue(label: "rtu104d.event-journal")
    private let pending = Mutex(Pending())

    private struct Pending {
        var operations: [JournalOperation] = []
        var completions: [@Sendable (JournalWriteFailure?) -> Void] = []
        var drainScheduled = false
        var firstWaitingSince: ContinuousClock.Instant?
        var statistics = EventJournalStatistics()
    }

    /// `keptAtStart`: the events the journal held when it was opened (for the count of events kept).
    public init(store: EventJournalStore, keptAtStart: Int = 0, commitWindow: Duration = .milliseconds(2),
                maximumBatch: Int = 8192) {
        self.store = store
        self.commitWindow = commitWindow
        self.maximumBatch = maximumBatch
        pending.withLock { $0.statistics.kept = keptAtStart }
    }

    public func submit(_ operations: [JournalOperation], completion: @escaping @Sendable (JournalWriteFailure?) -> Void) {
        let schedule = pending.withLock { state -> Bool in
            if state.firstWaitingSince == nil { state.firstWaitingSince = .now }
            state.operations.append(contentsOf: operations)
            state.completions.append(completion)
            defer { state.drainScheduled = true }
            return !state.drainScheduled
        }
        if schedule { queue.async { self.drain() } }
    }

    /// Commits batches until nothing waits.
    private func drain() {
        while true {
            let (since, waiting) = pending.withLock { ($0.firstWaitingSince, $0.operations.count) }
            if let since, waiting < maximumBatch, since + commitWindow > .now {
                let (seconds, attoseconds) = (since + commitWindow - .now).components
                Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
            }
            let batch = pending.withLock { state -> (operations: [JournalOperation], completions: [@Sendable (JournalWriteFailure?) -> Void])? in
                guard !state.completions.isEmpty else {
                    state.drainScheduled = false
                    return nil
                }
                defer {
                    state.operations = []
                    state.completions = []
                    state.firstWaitingSince = nil
                }
                return (state.operations, state.completions)
            }
            guard let batch else { return }
            var failure: JournalWriteFailure?
            do {
                if !batch.operations.isEmpty { try store.write(batch.operations) }
            } catch {
                failure = JournalWriteFailure("\(error)")
            }
            pending.withLock { state in
                if let failure {
                    state.statistics.failedCommits += 1
                    state.statistics.lastFailure = failure.description
                } else if !batch.operations.isEmpty {
                    state.statistics.commits += 1
                    for operation in batch.operations {
                        switch operation {
                        case .append: state.statistics.appended += 1; state.statistics.kept += 1
                        case .remove: state.statistics.removed += 1; state.statistics.kept -= 1
                        case .removeStation: break
                        }
                    }
                }
            }
            for completion in batch.completions { completion(failure) }
        }
    }

    /// Waits until everything submitted so far is written (at shutdown, before the database is closed).
    public func finish() {
        queue.sync {}
        // A drain scheduled by a submit racing with the first sync runs before this one returns.
        queue.sync {}
    }

    public var statistics: EventJournalStatistics { pending.withLock { $0.statistics } }
}

/// The journal's figures since start, for status and the metrics.
public struct EventJournalStatistics: Sendable, Equatable {
    /// Transactions committed.
    public var commits: UInt64 = 0
    public var failedCommits: UInt64 = 0
    public var lastFailure: String?
    /// Events written and removed (acknowledged or given up).
    public var appended: UInt64 = 0
    public var removed: UInt64 = 0
    /// Events in the journal now (a station removed as a whole is counted when the daemon starts again).
    public var kept = 0

    public init() {}
}
