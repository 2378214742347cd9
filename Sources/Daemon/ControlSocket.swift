import Foundation
public import Logging
import NIOCore
import NIOExtras
import NIOPosix
public import Server

/// The local control socket: a Unix stream socket taking newline-delimited JSON requests.
public final class ControlSocket: Sendable {
    private let channel: Channel
    public let path: String

    /// Binds `path` (replacing a stale socket file) with file mode `mode`.
    public static func bind(path: String, mode: UInt32, group: String?, server: OutstationServer, reloader: Reloader,
                            logger: Logger) async throws -> ControlSocket {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let channel = try await ServerBootstrap(group: server.eventLoop)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: ControlSocketLimits.maximumLine))
                    try channel.pipeline.syncOperations.addHandler(ControlConnectionHandler(server: server, reloader: reloader, logger: logger))
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

public struct ControlSocketError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

enum ControlSocketLimits {
    /// Matches the request parser's limit; a longer line closes the connection.
    static let maximumLine = 1 << 20
}

/// One client of the control socket: every line in gets one line out, in order.
final class ControlConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: OutstationServer
    let reloader: Reloader
    private let logger: Logger
    private var watchToken: UInt64?

    init(server: OutstationServer, reloader: Reloader, logger: Logger) {
        self.server = server
        self.reloader = reloader
        self.logger = logger
    }

    /// Lines of the current read, answered together in one task on the outstation's event loop.
    private var pending: [String] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending.append(buffer.readString(length: buffer.readableBytes) ?? "")
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard !pending.isEmpty else { return }
        let lines = pending
        pending.removeAll(keepingCapacity: true)
        let channel = context.channel
        let server = self.server
        let answers = server.listenersInForce().and(server.tlsConnections()).flatMap { listeners, tls in
            server.perform { outstation in
                let wallTime = SystemClock.wallMilliseconds()
                return lines.map {
                    ControlService.answer($0, outstation: outstation, wallTime: wallTime, listeners: listeners, tls: tls)
                }
            }
        }
        let handler = NIOLoopBound(self, eventLoop: channel.eventLoop)
        // The answers come back on this channel's event loop, which is the outstation's.
        answers.whenSuccess { answers in
            var replies = ""
            for answer in answers {
                switch answer {
                case .reply(let text):
                    replies += text + "\n"
                case .watch(let confirmation):
                    if handler.value.watchToken == nil { handler.value.subscribe(channel: channel) }
                    replies += confirmation + "\n"
                case .reload:
                    // A reload's reply follows the replies already due; later requests do not wait for it.
                    Self.send(replies, on: channel)
                    replies = ""
                    let reloader = handler.value.reloader
                    channel.eventLoop.makeFutureWithTask { await reloader.reload() }.whenSuccess { outcome in
                        Self.send(ControlService.render(outcome.succeeded ? ["ok": true, "message": outcome.message]
                                                                          : ["ok": false, "error": outcome.message]) + "\n",
                                  on: channel)
                    }
                }
            }
            Self.send(replies, on: channel)
        }
    }

    /// Streams every event to this client; a client that does not keep up loses lines, and is told how many.
    private func subscribe(channel: Channel) {
        let dropped = NIOLoopBoundBox(0, eventLoop: channel.eventLoop)
        let token = server.perform { outstation in
            let token = outstation.observe { event in
                guard channel.isWritable else {
                    dropped.value += 1
                    return
                }
                if dropped.value > 0 {
                    Self.send(#"{"dropped":\#(dropped.value)}"# + "\n", on: channel)
                    dropped.value = 0
                }
                Self.send(ControlService.watchLine(event, outstation: outstation) + "\n", on: channel)
            }
            return token
        }
        let handler = NIOLoopBound(self, eventLoop: channel.eventLoop)
        token.whenSuccess { handler.value.watchToken = $0 }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let token = watchToken {
            _ = server.perform { $0.removeObserver(token) }
            watchToken = nil
        }
        context.fireChannelInactive()
    }

    /// Writes whole lines (each already ends in a newline); nothing for an empty text.
    private static func send(_ text: String, on channel: Channel) {
        guard !text.isEmpty else { return }
        channel.writeAndFlush(channel.allocator.buffer(string: text), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.warning("control socket client closed: \(error)")
        context.close(promise: nil)
    }
}
