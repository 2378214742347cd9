import IEC104
import Server

extension ListenerSettings {
    /// Test fixture: a plain-TCP listener with the limits the server tests run with when a test does not set its own.
    /// `ListenerSettings` itself has no defaults; the daemon's live in Config (`ListenerConfiguration`).
    static func test(name: String, host: String, port: Int, errorPolicy: FrameErrorPolicy = .close,
                     maxConnections: Int = 32, maxConnectionsPerAddress: Int = 8) -> ListenerSettings {
        ListenerSettings(name: name, host: host, port: port, errorPolicy: errorPolicy, maxConnections: maxConnections,
                         maxConnectionsPerAddress: maxConnectionsPerAddress, tls: nil)
    }
}
