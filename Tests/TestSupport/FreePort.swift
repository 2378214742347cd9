#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP port the kernel just handed out on 127.0.0.1, closed again so that a daemon under test can bind it
/// (configurations take ports 1…65535, so port 0 cannot stand in).
public func freeLoopbackPort() -> Int {
    let held = heldLoopbackPort(listening: false)
    close(held.descriptor)
    return held.port
}

/// A socket bound to a port the kernel hands out on 127.0.0.1 and kept (listening, unless told otherwise), for a
/// test that needs a port nobody else can bind; close the descriptor when done.
public func heldLoopbackPort(listening: Bool = true) -> (descriptor: Int32, port: Int) {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    if listening { listen(descriptor, 1) }
    return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
}
