import IEC104
import Logging
import NIOCore
import Outstation

/// Quality that follows its source, on the event loop: the clock for the outstation's ``StalenessWatch``, and the
/// invalidation of the points of a source that went away. The decisions are the outstation's; here only time is
/// read and the events sent.
extension OutstationRuntime {
    /// How often the watch is asked for points whose time ran out: a point is marked at most this much late.
    static let stalenessCheckPeriod = TimeAmount.milliseconds(250)
    /// At most this many points are named in a log line; the rest are counted.
    static let lapsedPointsNamed = 10
    /// Deadlines looked at per turn of the event loop. A million points updated in one go come due together; their
    /// rescheduling is spread over turns so that the links keep theirs (100,000 heap operations took about 0.2 s
    /// in a debug build).
    static let stalenessBudget = 20_000

    /// Starts (or stops) the periodic check to fit the outstation: it runs only while some point has a
    /// `stale_after`. Called at start and after every reload.
    func updateStalenessChecks() {
        guard outstation.staleness != nil else {
            stalenessTask?.cancel()
            stalenessTask = nil
            return
        }
        guard stalenessTask == nil else { return }
        let runtime = NIOLoopBound(self, eventLoop: eventLoop)
        stalenessTask = eventLoop.scheduleRepeatedTask(initialDelay: Self.stalenessCheckPeriod,
                                                       delay: Self.stalenessCheckPeriod) { _ in
            runtime.value.checkStaleness()
        }
    }

    func checkStaleness() {
        guard !ingestStopped else { return }
        let now = SystemClock.monotonicNow()
        let marked = outstation.expireStale(now: now, wallTime: SystemClock.wallMilliseconds(), budget: Self.stalenessBudget)
        if outstation.staleness?.isDue(now: now) == true {
            let runtime = NIOLoopBound(self, eventLoop: eventLoop)
            eventLoop.execute { runtime.value.checkStaleness() }
        }
        guard !marked.isEmpty else { return }
        let counters = marked.count { outstation.image.kind(at: $0) == .counter }
        let flag = counters == 0 ? "not topical" : counters == marked.count ? "invalid (counters have no NT bit)"
            : "not topical (\(counters) counter\(counters == 1 ? "" : "s") invalid)"
        let what = "\(marked.count) point\(marked.count == 1 ? "" : "s") not updated within stale_after, marked \(flag): "
            + PointRanges.compact(marked, limit: Self.lapsedPointsNamed)
        logger.notice("\(what)", metadata: ["points": "\(marked.count)"])
        for station in outstation.takeStationsWithNewEvents() { service(station) }
    }

    /// Marks `points` invalid and sends the events; returns those newly marked.
    func invalidate(_ points: [PointAddress]) -> [PointAddress] {
        let marked = outstation.invalidate(points, wallTime: SystemClock.wallMilliseconds())
        for station in outstation.takeStationsWithNewEvents() { service(station) }
        return marked
    }
}
