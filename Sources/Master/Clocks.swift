public import IEC104

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The monotonic clock the link layer runs on; read only at the I/O boundary, never inside the core.
public func monotonicNow() -> LinkInstant {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return LinkInstant(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
}

/// Wall-clock milliseconds since 1970 (UTC), for time tags.
public func wallMilliseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}
