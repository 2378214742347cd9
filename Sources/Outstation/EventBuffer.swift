/// A station's bounded queue of events awaiting transmission, kept while no master is connected.
///
/// One first-in first-out queue per ``EventPriority`` class, sharing the capacity: the oldest event of the
/// highest non-empty class goes out first, so a status change overtakes a backlog of measured values
/// while each point's events keep their order (a point always has one class).
public struct EventBuffer: Sendable {
    public let capacity: Int
    public let overflowPolicy: EventOverflowPolicy
    /// Indexed by ``EventPriority/queueIndex``, highest class first.
    private var queues: [RingBuffer<PointEvent>] = EventPriority.allCases.map { _ in RingBuffer(initialCapacity: 16) }
    /// Events given up because the buffer was full, since the station was made.
    public private(set) var droppedCount: UInt64 = 0

    public init(capacity: Int, overflowPolicy: EventOverflowPolicy) {
        self.capacity = max(capacity, 1)
        self.overflowPolicy = overflowPolicy
    }

    public var count: Int { queues.reduce(0) { $0 + $1.count } }
    public var isEmpty: Bool { queues.allSatisfy(\.isEmpty) }

    /// The events of one class waiting.
    public func count(of priority: EventPriority) -> Int { queues[priority.queueIndex].count }

    /// The next event to send: the oldest of the highest class that has any.
    var first: PointEvent? {
        for index in queues.indices where !queues[index].isEmpty { return queues[index].first }
        return nil
    }

    /// Adds an event; returns false when the overflow policy dropped one (a queued one or this one).
    ///
    /// A full buffer never gives up an event for one of a lower class. `drop-oldest` drops the oldest
    /// event of the lowest queued class unless that class is above the new event's, in which case the
    /// new event is dropped. `drop-newest` drops the new event unless a class below its own is queued;
    /// then the newest event of the lowest class goes and the new one is kept.
    @discardableResult
    public mutating func append(_ event: PointEvent) -> Bool {
        appendReportingDrop(event) == nil
    }

    /// As ``append(_:)``, returning the event the overflow policy gave up (a queued one or `event` itself).
    mutating func appendReportingDrop(_ event: PointEvent) -> PointEvent? {
        let incoming = event.priority.queueIndex
        guard count >= capacity else {
            queues[incoming].append(event)
            return nil
        }
        droppedCount += 1
        // The buffer is full and capacity is at least 1, so some class is queued.
        let lowest = queues.lastIndex { !$0.isEmpty } ?? incoming
        let dropped: PointEvent?
        switch overflowPolicy {
        case .dropOldest:
            guard lowest >= incoming else { return event }
            dropped = queues[lowest].removeFirst()
        case .dropNewest:
            guard lowest > incoming else { return event }
            dropped = queues[lowest].removeLast()
        }
        queues[incoming].append(event)
        return dropped
    }

    @discardableResult
    mutating func removeFirst() -> PointEvent? {
        for index in queues.indices where !queues[index].isEmpty { return queues[index].removeFirst() }
        return nil
    }

    /// Empties the buffer; `removed` hears each event, oldest of the highest class first.
    mutating func removeAll(_ removed: (PointEvent) -> Void = { _ in }) {
        for index in queues.indices {
            while let event = queues[index].removeFirst() { removed(event) }
        }
    }

    /// Rewrites every buffered event, keeping the order within each class; nil drops it (without counting
    /// it as overflow). An event may change class (its point's priority changed on reload): a point's
    /// events all move together, so they stay in order.
    mutating func remap(_ transform: (PointEvent) -> PointEvent?, dropped: (PointEvent) -> Void = { _ in }) {
        var kept = queues.map { RingBuffer<PointEvent>(initialCapacity: max($0.count, 1)) }
        for index in queues.indices {
            while let event = queues[index].removeFirst() {
                if let moved = transform(event) { kept[moved.priority.queueIndex].append(moved) } else { dropped(event) }
            }
        }
        queues = kept
    }
}
