public import IEC104

/// What the server needs to know of one listener.
public struct ListenerSettings: Hashable, Sendable {
    public var name: String
    public var host: String
    public var port: Int
    public var errorPolicy: FrameErrorPolicy
    /// Connections the listener holds at once; more are refused at accept.
    public var maxConnections: Int

    public init(name: String, host: String, port: Int, errorPolicy: FrameErrorPolicy = .close, maxConnections: Int = 32) {
        self.name = name
        self.host = host
        self.port = port
        self.errorPolicy = errorPolicy
        self.maxConnections = maxConnections
    }
}
