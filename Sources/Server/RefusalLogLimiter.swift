/// Keeps a flood of refused connections from flooding the log. Within each window, the first `perSource`
/// refusals of one source (listener, address, reason) and the first `total` refusals overall are logged one by
/// one; the rest are counted, and when the window ends one summary per source says how many more there were
/// (at most `summaries` of them, then one line for all remaining sources). Pure: time is passed in, the owner
/// logs and schedules `endWindow` for `windowEnd` when the first refusal is held back.
struct RefusalLogLimiter {
    struct Source: Hashable {
        var listener: String
        var peer: String
        var reason: String
    }

    struct Summary: Equatable {
        var source: Source
        var suppressed: Int
    }

    /// Summaries at the end of a window: per source, and what did not fit (sources, refusals).
    struct WindowReport: Equatable {
        var summaries: [Summary]
        var otherSources: Int
        var otherRefusals: Int
    }

    enum Decision: Equatable {
        case log
        /// Counted for the summary; `firstInWindow` asks the owner to schedule `endWindow` at `windowEnd`.
        case suppress(firstInWindow: Bool)
    }

    let window: Duration
    let perSource: Int
    let total: Int
    let summaries: Int
    /// Sources tracked per window; refusals from sources beyond this are only counted in `otherRefusals`.
    let maximumSources: Int

    private(set) var windowEnd: ContinuousClock.Instant?
    private var logged = 0
    private var seen: [Source: (logged: Int, suppressed: Int)] = [:]
    private var untracked = 0
    private var suppressedAny = false

    init(window: Duration = .seconds(10), perSource: Int = 5, total: Int = 100, summaries: Int = 20,
         maximumSources: Int = 4096) {
        self.window = window
        self.perSource = perSource
        self.total = total
        self.summaries = summaries
        self.maximumSources = maximumSources
    }

    mutating func refusal(_ source: Source, now: ContinuousClock.Instant) -> Decision {
        if let end = windowEnd, now >= end, !suppressedAny { reset() }
        if windowEnd == nil { windowEnd = now + window }
        guard seen[source] != nil || seen.count < maximumSources else {
            untracked += 1
            return hold()
        }
        var counts = seen[source, default: (0, 0)]
        defer { seen[source] = counts }
        if counts.logged < perSource, logged < total {
            counts.logged += 1
            logged += 1
            return .log
        }
        counts.suppressed += 1
        return hold()
    }

    /// Ends the window: what was held back, for the summary lines. A refusal after this starts a new window.
    mutating func endWindow() -> WindowReport {
        let held = seen.filter { $0.value.suppressed > 0 }
            .map { Summary(source: $0.key, suppressed: $0.value.suppressed) }
            .sorted { ($0.suppressed, $1.source.peer) > ($1.suppressed, $0.source.peer) }
        let shown = Array(held.prefix(summaries))
        let rest = held.dropFirst(summaries)
        let report = WindowReport(summaries: shown, otherSources: rest.count + (untracked > 0 ? 1 : 0),
                                  otherRefusals: rest.reduce(0) { $0 + $1.suppressed } + untracked)
        reset()
        return report
    }

    private mutating func hold() -> Decision {
        let first = !suppressedAny
        suppressedAny = true
        return .suppress(firstInWindow: first)
    }

    private mutating func reset() {
        windowEnd = nil
        logged = 0
        seen.removeAll(keepingCapacity: true)
        untracked = 0
        suppressedAny = false
    }
}
