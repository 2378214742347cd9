/// Who the peer turned out to be after a successful handshake.
public struct TLSPeerIdentity: Hashable, Sendable {
    /// The peer's certificate; nil when it sent none (only possible without mutual authentication).
    public var certificate: CertificateInfo?
    /// "TLSv1.2", "TLSv1.3".
    public var protocolVersion: String
    public var cipher: String
    /// The session was resumed from an earlier one.
    public var resumed: Bool

    public var subject: String? { certificate?.subject }
}
