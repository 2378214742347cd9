public import IEC104

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension MasterSession {
    /// The bench's receive path: one recv() per batch into the (large) receive buffer, every ASDU shown to
    /// `visit` in place with the instant its batch arrived, one S-frame for the whole batch once the w rule
    /// asks for one, and an S-frame after `idleAcknowledgement` without data while I-frames are unacknowledged.
    ///
    /// Returns true as soon as `done` is; false when `deadline` passes, when the station is silent for
    /// `stall`, or when the connection ends or must close (``closed`` then set).
    public func receiveBatched(until deadline: LinkInstant, stall: Duration? = nil, idleAcknowledgement: Duration,
                               visit: (UnsafeRawBufferPointer, LinkInstant) -> Void, done: () -> Bool) -> Bool {
        let idleMilliseconds = Int32(clamping: max(1, Int64(idleAcknowledgement.secondsDouble * 1000)))
        // Duration arithmetic runs through 128-bit integers: done once here, not per batch.
        let stallNanoseconds = stall.map { LinkInstant(nanoseconds: 0) + $0 }?.nanoseconds
        let idleNanoseconds = UInt64(idleMilliseconds) * 1_000_000
        var nextTimerCheck = monotonicNow()
        var tryRead = true
        while true {
            if done() { return true }
            if closed { return false }
            if tryRead {
                let received: Int
                do {
                    received = try receiveOnce(acknowledgingWholeBatch: true) { frame in
                        if frame.isInformation { visit(frame.asdu, lastReception) }
                    }
                    try flush()
                } catch {
                    failure = error
                    return false
                }
                if received > 0 {
                    tryRead = readAgain || transport.endPending
                    if lastReception >= deadline { return done() }
                    continue
                }
            }
            let now = monotonicNow()
            if now >= deadline { return false }
            if let stallNanoseconds, now.nanoseconds &- lastReception.nanoseconds > stallNanoseconds { return false }
            // The link's timers are looked at once per idle period, not per batch (their deadline is
            // Duration arithmetic): they run at most `idleAcknowledgement` late, against t1–t3 of seconds.
            if now >= nextTimerCheck {
                if let due = core.nextDeadline, due <= now {
                    do { try core.handleTimeout(now: now) } catch { fail(); failure = error; return false }
                }
                nextTimerCheck = LinkInstant(nanoseconds: now.nanoseconds &+ idleNanoseconds)
            }
            var timeout = idleMilliseconds
            let wake = deadline
            let left = Int64((wake.nanoseconds &- now.nanoseconds) / 1_000_000)
            if wake > now, left < Int64(timeout) { timeout = Int32(left) + 1 }
            let ready = SocketIO.poll(transport.descriptor, events: Int16(POLLIN), milliseconds: timeout)
            if ready == 0 { core.acknowledgeReceived() }
            do { try flush() } catch { failure = error; return false }
            tryRead = ready != 0
        }
    }
}
