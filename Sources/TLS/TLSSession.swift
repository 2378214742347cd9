import COpenSSL

/// One TLS connection as bytes in, bytes out: ciphertext from the network goes in with `feed`, plaintext for the
/// application comes out of `readPlaintext`, plaintext to send goes in with `write` and ciphertext for the network
/// comes out of `takeCiphertext`. OpenSSL runs over two memory BIOs, so nothing here blocks or does I/O; the
/// caller (the NIO handler, or a test) moves the bytes. Not thread-safe: one owner at a time.
public final class TLSSession {
    public enum HandshakeResult: Equatable {
        case complete
        /// Needs more ciphertext from the peer (and may have ciphertext to send).
        case wantMore
        case failed(TLSError)
    }

    public enum ReadResult: Equatable {
        /// That many plaintext octets were written into the buffer.
        case bytes(Int)
        /// No complete record yet.
        case wantMore
        /// The peer sent close_notify.
        case closed
        case failed(TLSError)
    }

    public let context: TLSContext
    let ssl: OpaquePointer
    private let networkIn: OpaquePointer
    private let networkOut: OpaquePointer
    private let verifyState: UnsafeMutablePointer<rtu104d_verify_state>
    public private(set) var isHandshakeComplete = false
    /// Plaintext accepted by `write` while a renegotiation handshake holds application data back; it is encrypted
    /// as soon as the handshake lets it (`write`, `readPlaintext` and `resumeHeldWrites` retry).
    private var heldPlaintext: [UInt8] = []
    /// The peer certificate of the first handshake; a renegotiation must not change it.
    var establishedFingerprint: [UInt8]?
    var renegotiationRequested = false
    /// From our HelloRequest until the renegotiation is done, application data waits: some peers (GnuTLS) fail a
    /// handshake that application records interleave.
    var holdingForRenegotiation = false
    /// Renegotiations this endpoint asked for and completed (TLS 1.2), key updates it sent (TLS 1.3).
    public internal(set) var renegotiations = 0
    public internal(set) var keyUpdates = 0

    /// `serverName` is sent as SNI (client role). `expectedIdentity`, for a client, is the host name or IP address the
    /// peer's certificate must name (its SAN, RFC 6125); without it any certificate from the trusted CAs is accepted.
    public init(context: TLSContext, serverName: String? = nil, expectedIdentity: String? = nil) throws(TLSError) {
        self.context = context
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else {
            throw .setting(name: "TLS", reason: "OpenSSL cannot create a connection: \(TLSContext.lastError())")
        }
        guard let networkIn = BIO_new(BIO_s_mem()), let networkOut = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw .setting(name: "TLS", reason: "OpenSSL cannot create memory BIOs")
        }
        rtu104d_BIO_set_mem_eof_return(networkIn, -1)
        rtu104d_BIO_set_mem_eof_return(networkOut, -1)
        SSL_set_bio(ssl, networkIn, networkOut)  // the SSL owns both BIOs from here
        self.ssl = ssl
        self.networkIn = networkIn
        self.networkOut = networkOut
        verifyState = .allocate(capacity: 1)
        verifyState.initialize(to: rtu104d_verify_state())
        verifyState.pointee.pins = UnsafePointer(context.pins.baseAddress)
        verifyState.pointee.pin_count = Int32(context.settings.allowedFingerprints.count)
        verifyState.pointee.pins_only = context.settings.caPath == nil ? 1 : 0
        rtu104d_SSL_set_verify_state(ssl, verifyState)
        switch context.role {
        case .server: SSL_set_accept_state(ssl)
        case .client:
            SSL_set_connect_state(ssl)
            if let serverName { _ = rtu104d_SSL_set_tlsext_host_name(ssl, serverName) }
            if let identity = expectedIdentity {
                let isAddress = identity.contains(":")
                    || identity.split(separator: ".").allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
                let accepted = isAddress ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), identity)
                                         : SSL_set1_host(ssl, identity)
                guard accepted == 1 else {
                    SSL_free(ssl)
                    verifyState.deinitialize(count: 1)
                    verifyState.deallocate()
                    throw .setting(name: "TLS", reason: "'\(identity)' is not a host name or address to check the certificate against")
                }
            }
        }
    }

    deinit {
        SSL_free(ssl)
        verifyState.deinitialize(count: 1)
        verifyState.deallocate()
    }

    /// Ciphertext received from the peer.
    public func feed(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let written = BIO_write(networkIn, bytes.baseAddress! + offset, Int32(min(bytes.count - offset, Int(Int32.max))))
            guard written > 0 else { return }  // memory BIOs only fail when out of memory
            offset += Int(written)
        }
    }

    public func feed(_ bytes: [UInt8]) { bytes.withUnsafeBytes { feed($0) } }

    /// Advances the handshake with what has been fed so far.
    public func handshake() -> HandshakeResult {
        if isHandshakeComplete { return .complete }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            isHandshakeComplete = true
            establishedFingerprint = peerFingerprint()
            return .complete
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .wantMore
        default: return .failed(handshakeFailure())
        }
    }

    /// Decrypts into `buffer`: as many octets as one call of OpenSSL gives (at most one record's worth).
    /// Handshake records of a renegotiation are consumed on the way, and held writes go out once it is done.
    public func readPlaintext(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return .bytes(0) }
        ERR_clear_error()
        var read = 0
        if SSL_read_ex(ssl, base, buffer.count, &read) == 1 {
            if !heldPlaintext.isEmpty, case .failed(let error) = resumeHeldWrites() { return .failed(error) }
            return .bytes(read)
        }
        let error = SSL_get_error(ssl, 0)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            if !heldPlaintext.isEmpty, case .failed(let error) = resumeHeldWrites() { return .failed(error) }
            return .wantMore
        case SSL_ERROR_ZERO_RETURN: return .closed
        default:
            if !isHandshakeComplete { return .failed(handshakeFailure()) }
            if renegotiationRequested { return .failed(renegotiationFailure()) }
            return .failed(.protocolError(TLSContext.lastError()))
        }
    }

    /// All plaintext available now (test convenience).
    public func readAvailablePlaintext() -> (bytes: [UInt8], end: ReadResult) {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let outcome = chunk.withUnsafeMutableBytes { readPlaintext(into: $0) }
            guard case .bytes(let count) = outcome else { return (result, outcome) }
            result += chunk[0..<count]
        }
    }

    /// Encrypts all of `plaintext` into records waiting in `takeCiphertext`. While a renegotiation handshake
    /// runs, OpenSSL cannot encrypt application data: the rest is held and sent in order once it is done.
    public func write(_ plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        guard let base = plaintext.baseAddress, !plaintext.isEmpty else { return }
        guard heldPlaintext.isEmpty else {
            heldPlaintext.append(contentsOf: plaintext)
            if case .failed(let error) = resumeHeldWrites() { throw error }
            return
        }
        let written = try encrypt(base, count: plaintext.count)
        if written < plaintext.count { heldPlaintext.append(contentsOf: plaintext[written...]) }
    }

    /// Octets accepted by `write` but not yet encrypted (a renegotiation is running).
    public var heldPlaintextCount: Int { heldPlaintext.count }

    /// Encrypts held plaintext if the handshake allows it now; `.wantMore` while it still does not.
    @discardableResult
    public func resumeHeldWrites() -> ReadResult {
        guard !heldPlaintext.isEmpty else { return .bytes(0) }
        let outcome = heldPlaintext.withUnsafeBytes { bytes -> Result<Int, TLSError> in
            do throws(TLSError) { return .success(try encrypt(bytes.baseAddress!, count: bytes.count)) } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let written):
            heldPlaintext.removeFirst(written)
            return heldPlaintext.isEmpty ? .bytes(written) : .wantMore
        case .failure(let error):
            return .failed(error)
        }
    }

    /// SSL_write until done or until a handshake in progress makes OpenSSL ask for the peer's records first.
    private func encrypt(_ base: UnsafeRawPointer, count: Int) throws(TLSError) -> Int {
        if holdingForRenegotiation { return 0 }
        var offset = 0
        while offset < count {
            ERR_clear_error()
            var written = 0
            guard SSL_write_ex(ssl, base + offset, count - offset, &written) == 1 else {
                switch SSL_get_error(ssl, 0) {
                case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return offset
                default:
                    if renegotiationRequested { throw renegotiationFailure() }
                    throw .protocolError("cannot encrypt: \(TLSContext.lastError())")
                }
            }
            offset += written
        }
        return offset
    }

    public func write(_ plaintext: [UInt8]) throws(TLSError) {
        var failure: TLSError?
        plaintext.withUnsafeBytes { bytes in
            do throws(TLSError) { try write(bytes) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Ciphertext waiting to be sent to the peer.
    public var pendingCiphertext: Int { rtu104d_BIO_pending(networkOut) }

    /// Moves up to `buffer.count` octets of ciphertext out; returns how many.
    public func takeCiphertext(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
        let read = BIO_read(networkOut, base, Int32(min(buffer.count, Int(Int32.max))))
        return read > 0 ? Int(read) : 0
    }

    public func takeCiphertext() -> [UInt8] {
        let count = pendingCiphertext
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let taken = bytes.withUnsafeMutableBytes { takeCiphertext(into: $0) }
        return Array(bytes.prefix(taken))
    }

    /// Queues close_notify (the orderly end of the connection) for `takeCiphertext`.
    public func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// The peer after a complete handshake.
    public var peer: TLSPeerIdentity? {
        guard isHandshakeComplete else { return nil }
        let certificate = SSL_get1_peer_certificate(ssl)
        defer { if let certificate { X509_free(certificate) } }
        let cipher = SSL_get_current_cipher(ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? "?"
        return TLSPeerIdentity(certificate: certificate.map(TLSContext.info),
                               protocolVersion: String(cString: SSL_get_version(ssl)), cipher: cipher,
                               resumed: rtu104d_SSL_session_reused(ssl) == 1)
    }

    /// The leaf subject the verify callback saw, even when verification failed.
    public var attemptedSubject: String? {
        let subject = withUnsafeBytes(of: verifyState.pointee.subject) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return subject.isEmpty ? nil : subject
    }

    func handshakeFailure(openSSL: String? = nil) -> TLSError {
        let state = verifyState.pointee
        let openSSL = openSSL ?? TLSContext.lastError()
        if state.not_pinned != 0 {
            return .handshakeFailed(reason: "unknown certificate: not on the allow-list (tls_allowed_fingerprints)", subject: attemptedSubject)
        }
        if state.error != 0 {
            let detail = String(cString: X509_verify_cert_error_string(Int(state.error)))
            let reason: String
            switch state.error {
            case X509_V_ERR_CERT_HAS_EXPIRED: reason = "certificate expired"
            case X509_V_ERR_CERT_NOT_YET_VALID: reason = "certificate not yet valid"
            case X509_V_ERR_CERT_REVOKED: reason = "certificate revoked"
            case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
                 X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
                 X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_CERT_UNTRUSTED:
                reason = "unknown certificate: issued by an untrusted CA"
            case X509_V_ERR_UNABLE_TO_GET_CRL: reason = "no CRL for the certificate's issuer"
            default: reason = "certificate rejected"
            }
            return .handshakeFailed(reason: "\(reason) (\(detail))", subject: attemptedSubject)
        }
        return .handshakeFailed(reason: openSSL, subject: attemptedSubject)
    }
}
