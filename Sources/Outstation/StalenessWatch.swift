public import IEC104

/// Which points went without an update for longer than their `stale_after`, as a pure value: time is passed in.
///
/// Each watched point has its limit and the instant of its last update; a min-heap holds at most one deadline per
/// point. An update only stores its instant (no heap work on the hot path); when a deadline comes due the point's
/// real deadline is worked out again from its last update, and the entry is pushed back if the point was updated
/// meanwhile (lazy reschedule). A point found stale leaves the heap until its next update.
/// IEC 60870-5-101 7.2.6.3: NT, "not topical", a value not updated successfully within a specified time.
public struct StalenessWatch: Sendable {
    private struct Entry: Sendable {
        var deadline: UInt64
        var index: Int32
    }

    /// Per point index: the limit in nanoseconds, 0 for a point that is not watched.
    private var limits: [UInt64]
    /// Per point index: the instant of the last update (or of the start of watching), in nanoseconds.
    private var lastUpdate: [UInt64]
    /// Per point index: whether the heap holds an entry for the point.
    private var scheduled: [Bool]
    private var heap: [Entry] = []
    /// How many points are watched.
    public let watchedCount: Int
    /// The latest instant passed in, for updates that come without one.
    public private(set) var latest: LinkInstant

    /// A watch over points whose limits are `limits` (by point index, nil: not watched), all counted as updated at
    /// `now`; nil when no point is watched. `carriedUpdate` gives a point's last update from a watch this one
    /// replaces (a reload), so that a reload does not restart the points' time.
    public init?(limits: [Duration?], now: LinkInstant, carriedUpdate: (Int32) -> LinkInstant? = { _ in nil }) {
        var count = 0
        var nanoseconds = [UInt64](repeating: 0, count: limits.count)
        for (index, limit) in limits.enumerated() {
            guard let limit, limit > .zero else { continue }
            nanoseconds[index] = max(1, Self.nanoseconds(of: limit))
            count += 1
        }
        guard count > 0 else { return nil }
        self.limits = nanoseconds
        watchedCount = count
        latest = now
        lastUpdate = [UInt64](repeating: now.nanoseconds, count: limits.count)
        scheduled = [Bool](repeating: false, count: limits.count)
        heap.reserveCapacity(count)
        for index in nanoseconds.indices where nanoseconds[index] > 0 {
            if let carried = carriedUpdate(Int32(index)) { lastUpdate[index] = min(carried.nanoseconds, now.nanoseconds) }
            push(Entry(deadline: lastUpdate[index] &+ nanoseconds[index], index: Int32(index)))
            scheduled[index] = true
        }
    }

    /// Whether the point at `index` is watched.
    public func watches(_ index: Int32) -> Bool { Int(index) < limits.count && limits[Int(index)] > 0 }

    /// The point's limit, nil when it is not watched.
    public func limit(of index: Int32) -> Duration? {
        watches(index) ? .nanoseconds(Int64(limits[Int(index)])) : nil
    }

    /// The last update of a watched point.
    public func lastUpdate(of index: Int32) -> LinkInstant? {
        watches(index) ? LinkInstant(nanoseconds: lastUpdate[Int(index)]) : nil
    }

    /// An update reached the point at `now` (whether or not it caused an event); `now` nil: at the latest instant
    /// the watch knows.
    public mutating func touch(_ index: Int32, now: LinkInstant?) {
        let slot = Int(index)
        guard slot < limits.count, limits[slot] > 0 else { return }
        let instant = now ?? latest
        if instant > latest { latest = instant }
        lastUpdate[slot] = max(lastUpdate[slot], instant.nanoseconds)
        if !scheduled[slot] {
            scheduled[slot] = true
            push(Entry(deadline: lastUpdate[slot] &+ limits[slot], index: index))
        }
    }

    /// The points whose time ran out by `now`, each reported once until its next update, in deadline order.
    /// At most `budget` due entries are looked at (each a heap operation), so that one call stays short when many
    /// points were updated at once; ``isDue(now:)`` says whether more are left for another call.
    public mutating func expire(now: LinkInstant, budget: Int = .max) -> [Int32] {
        if now > latest { latest = now }
        var expired: [Int32] = []
        var budget = budget
        while budget > 0, let first = heap.first, first.deadline <= now.nanoseconds {
            budget -= 1
            popFirst()
            let slot = Int(first.index)
            let due = lastUpdate[slot] &+ limits[slot]
            if due > now.nanoseconds {
                push(Entry(deadline: due, index: first.index))
            } else {
                scheduled[slot] = false
                expired.append(first.index)
            }
        }
        return expired
    }

    /// Whether entries are due at `now` (left by a budget, or come due since).
    public func isDue(now: LinkInstant) -> Bool { heap.first.map { $0.deadline <= now.nanoseconds } ?? false }

    /// The earliest instant at which a point may expire (possibly early: an update since does not move it).
    public var nextDeadline: LinkInstant? { heap.first.map { LinkInstant(nanoseconds: $0.deadline) } }

    private static func nanoseconds(of duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    // MARK: Heap

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popFirst() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
