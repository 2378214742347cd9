/// Why a TLS context could not be built or a connection failed, in words for the log.
public enum TLSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A certificate, key, CA bundle or CRL file could not be used.
    case file(path: String, what: String, reason: String)
    /// A setting OpenSSL rejected (cipher list, groups, version).
    case setting(name: String, reason: String)
    /// The handshake failed; `reason` names the cause (unknown CA, expired, revoked, not allowed, protocol error).
    case handshakeFailed(reason: String, subject: String?)
    case handshakeTimedOut
    /// The peer's certificate verified but the listener's station refuses it (subject or SAN requirement).
    case peerRefused(reason: String, subject: String?)
    /// TLS failed after the handshake (bad record, unexpected message).
    case protocolError(String)
    /// The peer answered our renegotiation request with a no_renegotiation alert (OpenSSL ends the connection then).
    case renegotiationRefused
    /// A renegotiation this endpoint asked for failed: the certificate no longer verifies (expired or revoked since
    /// the connection began), the peer presented a different one, or the handshake did not finish in time.
    case renegotiationFailed(reason: String, subject: String?)

    public var description: String {
        switch self {
        case .file(let path, let what, let reason): "cannot use the \(what) '\(path)': \(reason)"
        case .setting(let name, let reason): "\(name): \(reason)"
        case .handshakeFailed(let reason, let subject): "TLS handshake failed: \(reason)" + (subject.map { " (certificate \($0))" } ?? "")
        case .handshakeTimedOut: "TLS handshake timed out"
        case .peerRefused(let reason, let subject): "TLS peer refused: \(reason)" + (subject.map { " (certificate \($0))" } ?? "")
        case .protocolError(let reason): "TLS error: \(reason)"
        case .renegotiationRefused: "the peer refused to renegotiate (no_renegotiation alert)"
        case .renegotiationFailed(let reason, let subject):
            "TLS renegotiation failed: \(reason)" + (subject.map { " (certificate \($0))" } ?? "")
        }
    }
}
