/// What a TLS endpoint is built from: file paths and policy, as the configuration gives them.
/// The defaults follow IEC 62351-3 (TLS 1.2 or later, ECDHE key exchange, AES-GCM, mutual authentication).
public struct TLSSettings: Hashable, Sendable {
    /// PEM certificate chain (leaf first) this endpoint presents.
    public var certificatePath: String
    /// PEM private key of the certificate.
    public var privateKeyPath: String
    /// PEM bundle of CAs whose certificates the peer's certificate must chain to; nil trusts only pinned certificates.
    public var caPath: String?
    /// PEM certificate revocation lists (every CRL in the file); nil checks no revocation.
    public var crlPath: String?
    /// Mutual authentication: a peer without a valid certificate is refused (server side).
    public var requirePeerCertificate: Bool
    /// SHA-256 digests (32 octets each) of the only peer certificates accepted; empty accepts any that verifies.
    public var allowedFingerprints: [[UInt8]]
    public var minimumVersion: TLSVersion
    /// nil: the newest OpenSSL offers (TLS 1.3).
    public var maximumVersion: TLSVersion? = nil
    /// OpenSSL cipher list for TLS 1.2.
    public var ciphers: String
    /// TLS 1.3 cipher suites.
    public var cipherSuites: String
    /// Key exchange groups (curves), e.g. "P-256:P-384".
    public var groups: String
    public var sessionResumption: Bool
    /// A handshake that has not finished by then is abandoned and the connection closed.
    public var handshakeTimeout: Duration
    /// How often an established connection renews its session keys (server side: TLS 1.2 renegotiation if the
    /// peer supports it, TLS 1.3 key update); nil never.
    public var renegotiationInterval: Duration?

    public static let defaultCiphers = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
    public static let defaultCipherSuites = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"
    public static let defaultGroups = "P-256:P-384:P-521:X25519"
    public static let defaultHandshakeTimeout = Duration.seconds(10)

    public init(certificatePath: String, privateKeyPath: String, caPath: String? = nil, crlPath: String? = nil,
                requirePeerCertificate: Bool = true, allowedFingerprints: [[UInt8]] = [], minimumVersion: TLSVersion = .v1_2,
                ciphers: String = Self.defaultCiphers, cipherSuites: String = Self.defaultCipherSuites,
                groups: String = Self.defaultGroups, sessionResumption: Bool = true,
                handshakeTimeout: Duration = Self.defaultHandshakeTimeout, renegotiationInterval: Duration? = nil) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.caPath = caPath
        self.crlPath = crlPath
        self.requirePeerCertificate = requirePeerCertificate
        self.allowedFingerprints = allowedFingerprints
        self.minimumVersion = minimumVersion
        self.ciphers = ciphers
        self.cipherSuites = cipherSuites
        self.groups = groups
        self.sessionResumption = sessionResumption
        self.handshakeTimeout = handshakeTimeout
        self.renegotiationInterval = renegotiationInterval
    }
}

public enum TLSVersion: String, Hashable, Sendable, CaseIterable {
    case v1_2 = "1.2"
    case v1_3 = "1.3"
}
