#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Name resolution and TCP connection set-up within t0, with an optional local source address.
public enum TCPConnector {
    public struct ResolvedAddress {
        var family: Int32
        var storage: sockaddr_storage
        var length: socklen_t
    }

    public static func resolve(_ endpoint: Endpoint, passive: Bool = false) throws(MasterError) -> [ResolvedAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE | AI_NUMERICHOST : 0
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard status == 0, let list else {
            throw .resolve(endpoint, String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var result: [ResolvedAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor {
            var storage = sockaddr_storage()
            let length = entry.pointee.ai_addrlen
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: entry.pointee.ai_addr, count: Int(length)))
            }
            result.append(ResolvedAddress(family: entry.pointee.ai_family, storage: storage, length: length))
            cursor = entry.pointee.ai_next
        }
        return result
    }

    /// A connected, blocking TCP socket with TCP_NODELAY, or the error of connecting within `t0`.
    public static func connect(_ address: ResolvedAddress, endpoint: Endpoint, source: Endpoint?,
                               t0: Duration) throws(MasterError) -> Int32 {
        let descriptor = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw .connect(endpoint, SocketIO.lastErrorText) }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let source {
            do throws(MasterError) {
                try bindSource(descriptor, source: source, family: address.family)
            } catch {
                _ = Glibc.close(descriptor)
                throw error
            }
        }
        // Non-blocking only while connecting, so that t0 bounds the wait.
        let flags = fcntl(descriptor, F_GETFL, 0)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        var storage = address.storage
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, address.length) }
        }
        if result != 0 {
            guard errno == EINPROGRESS else {
                let error = errno
                _ = Glibc.close(descriptor)
                throw error == ECONNREFUSED ? .refused(endpoint) : .connect(endpoint, String(cString: strerror(error)))
            }
            let milliseconds = Int32(clamping: Int64(t0.secondsDouble * 1000))
            guard SocketIO.poll(descriptor, events: Int16(POLLOUT), milliseconds: milliseconds) > 0 else {
                _ = Glibc.close(descriptor)
                throw .connectTimeout(endpoint, t0)
            }
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &socketError, &length)
            if socketError != 0 {
                _ = Glibc.close(descriptor)
                throw socketError == ECONNREFUSED ? .refused(endpoint)
                    : .connect(endpoint, String(cString: strerror(socketError)))
            }
        }
        _ = fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK)
        return descriptor
    }

    static func bindSource(_ descriptor: Int32, source: Endpoint, family: Int32) throws(MasterError) {
        let candidates = try resolve(source, passive: true)
        guard var address = candidates.first(where: { $0.family == family }) else {
            throw .bind(source, "not an address of the station's family (IPv4 vs IPv6)")
        }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = withUnsafePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, address.length) }
        }
        guard result == 0 else { throw .bind(source, SocketIO.lastErrorText) }
    }
}
