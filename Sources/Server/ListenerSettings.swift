public import IEC104

/// What the server needs to know of one listener.
public struct ListenerSettings: Hashable, Sendable {
    public var name: String
    public var host: String
    public var port: Int
    public var errorPolicy: FrameErrorPolicy
    /// Connections the listener holds at once; more are refused at accept.
    public var maxConnections: Int
    /// Connections one address may hold on the listener at once; more are refused at accept.
    public var maxConnectionsPerAddress: Int

    /// Octets a connection may have received but not yet framed; a peer beyond it is closed.
    public static let maximumBufferedInput = 64 * 1024
    /// Octets queued for a peer that does not read before its connection stops being read from.
    public static let outputHighWatermark = 64 * 1024
    public static let outputLowWatermark = 16 * 1024

    public init(name: String, host: String, port: Int, errorPolicy: FrameErrorPolicy = .close, maxConnections: Int = 32,
                maxConnectionsPerAddress: Int = 8) {
        self.name = name
        self.host = host
        self.port = port
        self.errorPolicy = errorPolicy
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
    }
}
