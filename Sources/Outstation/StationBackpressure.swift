public import IEC104

/// Back-pressure: how many more updates producers may apply before this station's queue is full for a
/// master that keeps up.
///
/// An event is lost only when its station's master is away or has stopped acknowledging; while the master
/// keeps up, producers wait for it instead. A master keeps up while it is in data transfer and acknowledges
/// within its station's ``StationConfiguration/stallLimit``; one that lets its oldest frame wait longer is left behind (its buffer fills and
/// overflows as `event_overflow` says) so that it cannot hold back the producers and the other masters.
extension Station {
    /// Events queued for a master that keeps up before producers wait (or the whole buffer, if smaller).
    /// Enough to keep a k window of full ASDUs busy many times over, small enough to bound queueing delay.
    public static let producerHoldLimit = 4096
    /// How long a master may leave its oldest frame unacknowledged and still count as keeping up, unless the
    /// station's configuration says otherwise.
    public static let defaultStallLimit = Duration.seconds(1)

    /// Updates that may still be applied without this station's queue passing its hold limit, or nil when
    /// the station holds nobody back (no master in data transfer, a stalled master, or `backpressure = off`).
    /// Each update adds at most one event per station.
    public func producerRoom(now: LinkInstant) -> Int? {
        guard configuration.backpressure, let link = activeLinkProgress, link.started else { return nil }
        if let oldest = link.oldestUnacknowledgedSentAt, oldest + configuration.stallLimit <= now { return nil }
        return queueRoom
    }

    /// What the event queue takes before its hold limit: ``producerRoom(now:)`` when the station holds producers
    /// back. Cheap, so that the outstation looks at a station's link only when its queue could limit the room.
    var queueRoom: Int { max(0, min(eventBuffer.capacity, Self.producerHoldLimit) - eventBuffer.count) }

    /// When this station, holding producers back now, would stop doing so if its master does not acknowledge;
    /// nil when it holds nobody back (a master that has stalled already has no deadline left).
    public func stallDeadline(now: LinkInstant) -> LinkInstant? {
        guard configuration.backpressure, let link = activeLinkProgress, link.started,
              let deadline = link.oldestUnacknowledgedSentAt.map({ $0 + configuration.stallLimit }), now < deadline else { return nil }
        return deadline
    }
}
