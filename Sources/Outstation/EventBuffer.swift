/// A station's bounded queue of events awaiting transmission, kept while no master is connected.
public struct EventBuffer: Sendable {
    public let capacity: Int
    public let overflowPolicy: EventOverflowPolicy
    private var events = RingBuffer<PointEvent>(initialCapacity: 64)
    /// Events given up because the buffer was full, since the station was made.
    public private(set) var droppedCount: UInt64 = 0

    public init(capacity: Int, overflowPolicy: EventOverflowPolicy) {
        self.capacity = max(capacity, 1)
        self.overflowPolicy = overflowPolicy
    }

    public var count: Int { events.count }
    public var isEmpty: Bool { events.isEmpty }
    var first: PointEvent? { events.first }

    /// Adds an event; returns false when the overflow policy dropped one (the oldest or this one).
    @discardableResult
    public mutating func append(_ event: PointEvent) -> Bool {
        guard events.count >= capacity else {
            events.append(event)
            return true
        }
        droppedCount += 1
        switch overflowPolicy {
        case .dropOldest:
            events.removeFirst()
            events.append(event)
        case .dropNewest:
            break
        }
        return false
    }

    @discardableResult
    mutating func removeFirst() -> PointEvent? { events.removeFirst() }

    mutating func removeAll() { events.removeAll() }

    /// Rewrites every buffered event in order; nil drops it (without counting it as overflow).
    mutating func remap(_ transform: (PointEvent) -> PointEvent?) {
        var kept = RingBuffer<PointEvent>(initialCapacity: max(events.count, 1))
        while let event = events.removeFirst() {
            if let moved = transform(event) { kept.append(moved) }
        }
        events = kept
    }
}
