#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A listening socket on 127.0.0.1 with a kernel-chosen port, for a test that plays the station itself. The kernel
/// completes a connection before accept(), so one thread can connect, then accept, then answer.
public final class LoopbackListener {
    public let descriptor: Int32
    public let port: UInt16

    public init() {
        let held = heldLoopbackPort(listening: true)
        descriptor = held.descriptor
        port = UInt16(held.port)
    }

    /// The accepted connection's descriptor, or nil when nothing connected within `milliseconds`.
    public func accept(milliseconds: Int32 = 1000) -> Int32? {
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, milliseconds) > 0 else { return nil }
        let connection = Glibc.accept(descriptor, nil, nil)
        return connection >= 0 ? connection : nil
    }

    deinit { close(descriptor) }
}
