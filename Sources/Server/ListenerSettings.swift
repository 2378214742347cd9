public import IEC104
public import TLS

/// What the server needs to know of one listener. No defaults here: the daemon builds it from the validated
/// configuration (`Config.ListenerConfiguration`, whose reader holds the defaults).
public struct ListenerSettings: Hashable, Sendable {
    public var name: String
    public var host: String
    public var port: Int
    public var errorPolicy: FrameErrorPolicy
    /// Connections the listener holds at once; more are refused at accept.
    public var maxConnections: Int
    /// Connections one address may hold on the listener at once; more are refused at accept.
    public var maxConnectionsPerAddress: Int
    /// TLS on this listener (handshake before any IEC 104 octet), nil for plain TCP.
    public var tls: ListenerTLS?

    /// Octets a connection may have received but not yet framed; a peer beyond it is closed.
    public static let maximumBufferedInput = 64 * 1024
    /// Octets queued for a peer that does not read before its connection stops being read from.
    public static let outputHighWatermark = 64 * 1024
    public static let outputLowWatermark = 16 * 1024

    public init(name: String, host: String, port: Int, errorPolicy: FrameErrorPolicy, maxConnections: Int,
                maxConnectionsPerAddress: Int, tls: ListenerTLS?) {
        self.tls = tls
        self.name = name
        self.host = host
        self.port = port
        self.errorPolicy = errorPolicy
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
    }
}

/// A listener's TLS: the context its connections are made from, and the per-station certificate check.
public struct ListenerTLS: Hashable, Sendable {
    public var context: TLSContext
    /// Called after a successful handshake with the station the master's address selected; a non-nil reason
    /// refuses the master (e.g. the station's require_subject does not match).
    public var authorize: @Sendable (_ station: String, _ peer: TLSPeerIdentity) -> String?

    public init(context: TLSContext,
                authorize: @escaping @Sendable (_ station: String, _ peer: TLSPeerIdentity) -> String? = { _, _ in nil }) {
        self.context = context
        self.authorize = authorize
    }

    public static func == (lhs: ListenerTLS, rhs: ListenerTLS) -> Bool { lhs.context == rhs.context }
    public func hash(into hasher: inout Hasher) { hasher.combine(context) }
}
