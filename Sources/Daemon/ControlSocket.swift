import Foundation
public import Logging
import NIOCore
import NIOExtras
import NIOPosix
import Synchronization
public import Server
public import ServiceLifecycle

/// The local control socket: a Unix stream socket taking newline-delimited JSON requests.
///
/// As a service it runs the requests that take long (a reload, an `exec`) as its child tasks; at stop it closes
/// the socket (no new clients), lets a reload in progress finish, cancels the commands still running, and refuses
/// what comes later with "rtu104d is stopping".
public final class ControlSocket: Service, Sendable {
    private let channel: Channel
    private let jobs: ControlJobs
    public let path: String

    /// Binds `path` (replacing a stale socket file) with file mode `mode`.
    /// A client whose requests fail `settings.errorLimit` times in a row is disconnected (0: never).
    public static func bind(path: String, mode: UInt32, group: String?, settings: ControlSocketSettings, server: OutstationServer,
                            reloader: Reloader, logger: Logger) async throws -> ControlSocket {
        let jobs = ControlJobs()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let channel = try await ServerBootstrap(group: server.eventLoop)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: ControlSocketLimits.maximumLine))
                    try channel.pipeline.syncOperations.addHandler(ControlConnectionHandler(
                        server: server, reloader: reloader, jobs: jobs, errorLimit: settings.errorLimit, logger: logger))
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
        return ControlSocket(channel: channel, jobs: jobs, path: path)
    }

    private init(channel: Channel, jobs: ControlJobs, path: String) {
        self.channel = channel
        self.jobs = jobs
        self.path = path
    }

    /// Runs the clients' reloads and `exec`s until graceful shutdown or cancellation, then closes the socket.
    public func run() async {
        await withDiscardingTaskGroup { running in
            await withTaskCancellationOrGracefulShutdownHandler {
                // Ends once `finish` is called and the jobs already queued are taken.
                for await job in jobs.queued { running.addTask { await job() } }
            } onCancelOrGracefulShutdown: { [jobs] in
                jobs.finish()
            }
            await close()
            running.cancelAll()
        }
    }

    /// Stops accepting clients and removes the socket file; clients already connected are closed with the event loop.
    public func close() async {
        jobs.finish()
        try? await channel.close()
        unlink(path)
    }
}

/// Work a control client asked for that runs off the event loop, queued for the socket's service to run as its
/// child task (so the stop waits for it or cancels it, and none outlives the daemon unseen).
final class ControlJobs: Sendable {
    typealias Job = @Sendable () async -> Void

    let queued: AsyncStream<Job>
    private let queue: AsyncStream<Job>.Continuation

    init() {
        (queued, queue) = AsyncStream.makeStream()
    }

    /// Queues `job`; false once the socket is closing, when the caller answers that rtu104d is stopping.
    func submit(_ job: @escaping Job) -> Bool {
        if case .enqueued = queue.yield(job) { return true }
        return false
    }

    func finish() { queue.finish() }
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
