import COpenSSL

/// Session key renewal (IEC 62351-3): a TLS 1.3 key update, or a TLS 1.2 renegotiation this endpoint asks for and
/// polls until the peer's new handshake is done.
extension TLSSession {
    /// What `requestRekey` did.
    public enum RekeyRequest: Equatable {
        /// TLS 1.3: a KeyUpdate that asks the peer to update its keys too is queued; nothing to wait for.
        case keyUpdate
        /// TLS 1.2: a HelloRequest is queued; `renegotiationProgress` tells when the peer's handshake is done.
        case renegotiation
        /// TLS 1.2 peer that did not announce RFC 5746 secure renegotiation: it is not asked.
        case unsupported
        /// The peer's certificate refused a renegotiation before (on this context): it is not asked again.
        case refusedEarlier
        /// The previous request has not been answered yet.
        case pending
        case failed(TLSError)
    }

    /// Where a renegotiation this endpoint asked for stands.
    public enum RenegotiationProgress: Equatable {
        /// None asked for, or the last one already reported.
        case none
        /// HelloRequest sent, the peer has not started its handshake (it may ignore the request, RFC 5246 7.4.1.1).
        case waitingForPeer
        /// The new handshake is running; application data waits in `heldPlaintext` meanwhile.
        case inHandshake
        /// Done: new keys, and the peer's certificate the same as before (reported once).
        case completed
    }

    /// Asks for new session keys: TLS 1.3 sends a KeyUpdate (and asks the peer for one); TLS 1.2 sends a HelloRequest
    /// if the peer supports secure renegotiation, and from then on holds application data back until the new
    /// handshake is done (a full one, verifying the peer's certificate again, unless the peer resumes its session).
    /// Queued ciphertext goes out through `takeCiphertext`.
    public func requestRekey() -> RekeyRequest {
        guard isHandshakeComplete else { return .pending }
        ERR_clear_error()
        if SSL_version(ssl) >= rtu104d_tls1_3_version() {
            guard SSL_key_update(ssl, rtu104d_SSL_key_update_requested()) == 1 else {
                return .failed(.protocolError("cannot update the keys: \(TLSContext.lastError())"))
            }
            _ = SSL_do_handshake(ssl)  // sends the KeyUpdate now rather than with the next write
            keyUpdates += 1
            return .keyUpdate
        }
        if renegotiationRequested { return .pending }
        guard rtu104d_SSL_secure_renegotiation_support(ssl) == 1 else { return .unsupported }
        if let establishedFingerprint, context.renegotiationRefused(by: establishedFingerprint) { return .refusedEarlier }
        guard SSL_renegotiate(ssl) == 1 else {
            return .failed(.protocolError("cannot renegotiate: \(TLSContext.lastError())"))
        }
        renegotiationRequested = true
        holdingForRenegotiation = true
        let result = SSL_do_handshake(ssl)
        if result != 1 {
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: break
            default: return .failed(renegotiationFailure())
            }
        }
        return .renegotiation
    }

    /// Polled after reading: reports `.completed` once when the requested renegotiation has finished, and lets the
    /// held application data go. A peer that presented a different certificate this time is an error.
    public func renegotiationProgress() throws(TLSError) -> RenegotiationProgress {
        guard renegotiationRequested else { return .none }
        if SSL_renegotiate_pending(ssl) == 1 { return SSL_in_init(ssl) == 1 ? .inHandshake : .waitingForPeer }
        renegotiationRequested = false
        guard peerFingerprint() == establishedFingerprint else {
            throw .renegotiationFailed(reason: "the peer presented a different certificate than at the start of the connection",
                                       subject: peer?.subject)
        }
        renegotiations += 1
        try stopWaitingForRenegotiation()
        return .completed
    }

    /// Lets held application data go: the renegotiation is done, or the peer has not answered our HelloRequest (it
    /// may ignore one). Should it start the handshake later after all, OpenSSL holds writes back only while it runs,
    /// and `renegotiationProgress` still reports it.
    public func stopWaitingForRenegotiation() throws(TLSError) {
        holdingForRenegotiation = false
        if case .failed(let error) = resumeHeldWrites() { throw error }
    }

    /// Presents another certificate from the next handshake on (a client's in a renegotiation). Only the tests
    /// use it, to play a master that changes its certificate mid-connection.
    func presentCertificate(certificatePath: String, privateKeyPath: String) -> Bool {
        SSL_use_certificate_chain_file(ssl, certificatePath) == 1
            && SSL_use_PrivateKey_file(ssl, privateKeyPath, SSL_FILETYPE_PEM) == 1
    }

    func peerFingerprint() -> [UInt8]? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        return TLSContext.info(certificate).fingerprint
    }

    func renegotiationFailure() -> TLSError {
        let openSSL = TLSContext.lastError()
        if openSSL.contains("no renegotiation") {
            // OpenSSL ends the connection on a refusal; asking this peer again would only repeat that.
            if let establishedFingerprint { context.noteRenegotiationRefused(by: establishedFingerprint) }
            return .renegotiationRefused
        }
        if case .handshakeFailed(let reason, let subject) = handshakeFailure(openSSL: openSSL) {
            return .renegotiationFailed(reason: reason, subject: subject)
        }
        return .renegotiationFailed(reason: openSSL, subject: attemptedSubject)
    }
}
