import IEC104

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The two loops every descriptor user needs, written once: writing all octets and polling with a timeout,
/// both surviving EINTR (a signal such as SIGWINCH or SIGCHLD must not end a transfer).
public enum SocketIO {
    /// Writes all of `bytes`; false (errno set) when the descriptor failed. Sockets are written with
    /// MSG_NOSIGNAL so that a peer gone away is an EPIPE here, not a SIGPIPE that kills the tool; other
    /// descriptors (standard output, pipes) fall back to write(); say `isSocket: false` to skip the failed
    /// send() per call. EAGAIN waits for POLLOUT.
    @discardableResult
    public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, isSocket: Bool = true) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var offset = 0
        var isSocket = isSocket
        while offset < bytes.count {
            let written = isSocket
                ? send(descriptor, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                : write(descriptor, base + offset, bytes.count - offset)
            if written >= 0 {
                offset += written
                continue
            }
            switch errno {
            case EINTR: continue
            case ENOTSOCK where isSocket: isSocket = false
            case EAGAIN, EWOULDBLOCK: _ = poll(descriptor, events: Int16(POLLOUT), milliseconds: 100)
            default: return false
            }
        }
        return true
    }

    @discardableResult
    public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { writeAll(descriptor, $0) }
    }

    /// poll() on one descriptor: > 0 ready, 0 timed out, < 0 failed (errno set). An interrupted wait is
    /// resumed with what is left of the timeout; a negative timeout waits without limit.
    public static func poll(_ descriptor: Int32, events: Int16, milliseconds: Int32) -> Int32 {
        var poller = pollfd(fd: descriptor, events: events, revents: 0)
        var timeout = milliseconds
        // Plain nanoseconds: Duration arithmetic (128-bit) would cost more than the poll on a busy path.
        var started: UInt64?
        while true {
            let ready = Glibc.poll(&poller, 1, timeout)
            guard ready < 0, errno == EINTR else { return ready }
            guard milliseconds >= 0 else { continue }
            let now = monotonicNow().nanoseconds
            let start = started ?? now
            started = start
            let elapsed = Int64((now - start) / 1_000_000)
            guard elapsed < Int64(milliseconds) else { return 0 }
            timeout = milliseconds - Int32(elapsed)
        }
    }

    /// read() into `buffer`: octets read, 0 at the end, -1 with errno set (EAGAIN on a non-blocking
    /// descriptor with nothing there); an interrupted read is retried.
    public static func readSome(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 || errno != EINTR { return count }
        }
    }

    /// The text of the last OS error (errno), as the OS says it.
    public static var lastErrorText: String { String(cString: strerror(errno)) }
}
