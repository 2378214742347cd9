import Foundation
public import Logging
import NIOCore
import NIOExtras
import NIOPosix
import Synchronization
public import Server

/// The local control socket: a Unix stream socket taking newline-delimited JSON requests.
public final class ControlSocket: Sendable {
    private let channel: Channel
    public let path: String

    /// Binds `path` (replacing a stale socket file) with file mode `mode`.
    /// A client whose requests fail `settings.errorLimit` times in a row is disconnected (0: never).
    public static func bind(path: String, mode: UInt32, group: String?, settings: ControlSocketSettings, server: OutstationServer,
                            reloader: Reloader, logger: Logger) async throws -> ControlSocket {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let channel = try await ServerBootstrap(group: server.eventLoop)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: ControlSocketLimits.maximumLine))
                    try channel.pipeline.syncOperations.addHandler(ControlConnectionHandler(server: server, reloader: reloader, errorLimit: settings.errorLimit,
                                                                                  logger: logger))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        // Who may command the RTU is decided by the socket file's group and mode.
        if let group {
            guard let entry = getgrnam(group) else {
                try? await channel.close()
                throw ControlSocketError(message: "control_socket_group '\(group)' is not a group on this machine")
            }
            guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0 else {
                try? await channel.close()
                throw ControlSocketError(message: "cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
            }
        }
        guard chmod(path, mode_t(mode)) == 0 else {
            try? await channel.close()
            throw ControlSocketError(message: "cannot set mode \(String(mode, radix: 8)) on \(path): \(String(cString: strerror(errno)))")
        }
        return ControlSocket(channel: channel, path: path)
    }

    private init(channel: Channel, path: String) {
        self.channel = channel
        self.path = path
    }

    public func close() async {
        try? await channel.close()
        unlink(path)
    }
}

/// The control socket's settings that a reload may change; a client gets those in force when it connects.
public final class ControlSocketSettings: Sendable {
    private let limit: Mutex<Int>

    public init(errorLimit: Int) { limit = Mutex(errorLimit) }

    /// Refused requests in a row after which a client is disconnected (0: never).
    public var errorLimit: Int {
        get { limit.withLock { $0 } }
        set { limit.withLock { $0 = newValue } }
    }
}

public struct ControlSocketError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

enum ControlSocketLimits {
    /// Matches the request parser's limit; a longer line closes the connection.
    static let maximumLine = 1 << 20
}
