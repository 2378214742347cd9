public import TLS

/// What a `TLSHandler` reports to its owner (who logs it): security events with the peer's certificate subject.
public enum TLSHandlerEvent: Sendable {
    /// Handshake done and the peer admitted; the application sees the connection from now on.
    case established(TLSPeerIdentity)
    /// Handshake failed (unknown CA, expired, revoked, not on the allow-list, protocol error) or timed out,
    /// or the owner's `authorize` refused the peer.
    case refused(TLSError)
    /// TLS failed on an established connection (including a renegotiation that failed or was refused).
    case failed(TLSError)
    /// New session keys: a completed renegotiation (TLS 1.2) or a KeyUpdate sent (TLS 1.3).
    case rekeyed(TLSPeerIdentity, TLSRekeyKind)
    /// Session keys are not renewed on this connection, and why (the peer cannot or will not renegotiate).
    case rekeyUnavailable(reason: String, subject: String?)
}

public enum TLSRekeyKind: String, Sendable {
    case renegotiation
    case keyUpdate = "key update"
}
