#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import IEC104
import NIOCore

/// The clocks the pure core is fed with: monotonic for link timers, real time for time tags.
public enum SystemClock {
    public static func monotonicNow() -> LinkInstant {
        LinkInstant(nanoseconds: NIODeadline.now().uptimeNanoseconds)
    }

    /// Milliseconds since the Unix epoch (UTC).
    public static func wallMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    static func deadline(_ instant: LinkInstant) -> NIODeadline {
        NIODeadline.uptimeNanoseconds(instant.nanoseconds)
    }
}
