/// Which of a station's buffered events go out first when the queue is backed up.
///
/// Events of a higher class overtake queued events of a lower class; within a class they keep their
/// order. A point always has one class, so its own events never overtake each other.
public enum EventPriority: String, CaseIterable, Comparable, Hashable, Sendable {
    case high
    case normal
    case low

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.queueIndex > rhs.queueIndex }

    /// The position of the class's queue in ``EventBuffer``, highest class first.
    var queueIndex: Int {
        switch self {
        case .high: 0
        case .normal: 1
        case .low: 2
        }
    }
}

extension PointKind {
    /// The class of a point without a `priority` key: a change of state (a breaker opening, a tap
    /// position) must not wait behind a flood of measured values, which the next change supersedes anyway.
    public var defaultEventPriority: EventPriority {
        switch self {
        case .single, .double, .step, .bitstring: .high
        case .normalized, .scaled, .float, .counter: .normal
        }
    }
}
