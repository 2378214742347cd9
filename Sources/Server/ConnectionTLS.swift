/// The TLS side of one master connection, for status reports.
public struct ConnectionTLS: Hashable, Sendable {
    /// The master's certificate subject (nil when it sent none, without mutual authentication).
    public var subject: String?
    /// "TLSv1.2", "TLSv1.3".
    public var protocolVersion: String
    public var cipher: String
    /// Session key renewals so far (renegotiations, key updates).
    public var renewals: Int
}
