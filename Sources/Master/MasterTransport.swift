import TLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a session receives: plaintext of IEC 104, and with TLS the ciphertext before it is decrypted.
/// Shareable between sessions that run one after another (the bench), so that a new connection does not
/// page in megabytes again.
public final class ReceiveBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt8>
    public let capacity: Int
    let ciphertextCapacity: Int
    private var ciphertextStorage: UnsafeMutablePointer<UInt8>?

    public init(capacity: Int) {
        self.capacity = max(capacity, 4096)
        ciphertextCapacity = max(self.capacity / 4, 16_384)
        base = .allocate(capacity: self.capacity)
    }

    var ciphertext: UnsafeMutablePointer<UInt8> {
        if let ciphertextStorage { return ciphertextStorage }
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: ciphertextCapacity)
        ciphertextStorage = storage
        return storage
    }

    deinit {
        base.deallocate()
        ciphertextStorage?.deallocate()
    }
}

/// A connected, non-blocking socket with the TLS session in between when there is one: plaintext in and out.
final class MasterTransport {
    enum Received {
        case bytes(Int)
        case wouldBlock
        /// The TCP connection ended (FIN).
        case endOfStream
        case failed(errno: Int32)
        /// The station sent close_notify.
        case tlsClosed
        case tlsFailed(TLSError)
    }

    let descriptor: Int32
    let tls: TLSSession?
    private let buffer: ReceiveBuffer
    /// How TLS ended, reported after the plaintext that came before it.
    private var tlsEnd: Received?
    private var failed = false
    private var closed = false

    init(descriptor: Int32, tls: TLSSession?, buffer: ReceiveBuffer) {
        self.descriptor = descriptor
        self.tls = tls
        self.buffer = buffer
        let flags = fcntl(descriptor, F_GETFL, 0)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
    }

    deinit { close() }

    /// Whether a receive would report the end without reading the socket (poll would not wake for it).
    var endPending: Bool { tlsEnd != nil }

    /// Reads into `space`, decrypting with TLS.
    func receive(into space: UnsafeMutableRawBufferPointer) -> Received {
        guard let tls else {
            let count = SocketIO.readSome(descriptor, into: space)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .endOfStream }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(errno: errno)
        }
        var total = 0
        while true {
            // Plaintext already decrypted or still buffered in OpenSSL comes first.
            while total < space.count, tlsEnd == nil {
                let result = tls.readPlaintext(into: UnsafeMutableRawBufferPointer(rebasing: space[total...]))
                switch result {
                case .bytes(let count) where count > 0: total += count; continue
                case .closed: tlsEnd = .tlsClosed
                case .failed(let error): tlsEnd = .tlsFailed(error)
                default: break
                }
                break
            }
            // Reading may have produced records to send: alerts, key update replies, a renegotiation's handshake.
            if tls.pendingCiphertext > 0, !SocketIO.writeAll(descriptor, tls.takeCiphertext()), tlsEnd == nil {
                tlsEnd = .failed(errno: errno)
            }
            if total > 0 { return .bytes(total) }
            if let end = tlsEnd {
                failed = true
                return end
            }
            let count = SocketIO.readSome(descriptor, into: UnsafeMutableRawBufferPointer(start: buffer.ciphertext,
                                                                                          count: buffer.ciphertextCapacity))
            if count == 0 { return .endOfStream }
            if count < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(errno: errno) }
            tls.feed(UnsafeRawBufferPointer(start: buffer.ciphertext, count: count))
        }
    }

    /// Writes all of `plaintext` (encrypted first with TLS).
    func send(_ plaintext: UnsafeRawBufferPointer) throws(MasterError) {
        if let tls {
            do throws(TLSError) {
                try tls.write(plaintext)
            } catch {
                failed = true
                throw .tls("TLS: \(error)")
            }
            guard SocketIO.writeAll(descriptor, tls.takeCiphertext()) else { throw sendFailure() }
            return
        }
        guard SocketIO.writeAll(descriptor, plaintext) else { throw sendFailure() }
    }

    private func sendFailure() -> MasterError {
        failed = true
        return errno == EPIPE || errno == ECONNRESET ? .closedByPeer : .io("send: \(SocketIO.lastErrorText)")
    }

    /// Marks the connection as broken: no close_notify on close.
    func markFailed() { failed = true }

    /// Closes the socket; over TLS, sends close_notify first unless the connection already failed.
    func close() {
        guard !closed else { return }
        closed = true
        if let tls, !failed {
            tls.shutdown()
            _ = SocketIO.writeAll(descriptor, tls.takeCiphertext())
        }
        _ = Glibc.close(descriptor)
    }
}
