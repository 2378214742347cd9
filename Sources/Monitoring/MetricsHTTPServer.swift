public import NIOCore
import NIOHTTP1
import NIOPosix

/// The metrics endpoint: HTTP/1.1 `GET /metrics` on an event loop of its own, so that parsing requests, slow or
/// hostile clients and rendering never run on the protocol event loop. Bounded: request head size, connections,
/// time to send a request, idle keep-alive.
public final class MetricsHTTPServer: Sendable {
    public struct Limits: Sendable {
        /// Bytes a request may take before it is answered (GET has no body, so this bounds the head).
        public var maximumRequestBytes = 8192
        public var maximumConnections = 16
        /// From a request's first byte to its end.
        public var requestTimeout = TimeAmount.seconds(10)
        /// A kept-alive connection with no request is closed after this.
        public var idleTimeout = TimeAmount.seconds(30)

        public init() {}
    }

    /// Renders the exposition in the format asked for; runs on the endpoint's event loop.
    public typealias Renderer = @Sendable (MetricsExposition.Format, EventLoop) -> EventLoopFuture<String>

    private let channel: Channel
    private let group: MultiThreadedEventLoopGroup

    /// The address the endpoint is bound to (with port 0, the port the system chose).
    public var localAddress: SocketAddress? { channel.localAddress }

    private init(channel: Channel, group: MultiThreadedEventLoopGroup) {
        self.channel = channel
        self.group = group
    }

    /// Binds `host:port` on a thread of its own; throws what the bind threw (the address is in use, say).
    public static func start(host: String, port: Int, limits: Limits = Limits(),
                             render: @escaping Renderer) async throws -> MetricsHTTPServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connections = ConnectionCount()
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 16)
                .childChannelInitializer { channel in
                    guard connections.admit(limit: limits.maximumConnections) else { return channel.close() }
                    channel.closeFuture.whenComplete { _ in connections.release() }
                    do {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(RequestBounds(limits: limits))
                        try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                        try sync.addHandler(MetricsRequestHandler(render: render))
                        return channel.eventLoop.makeSucceededVoidFuture()
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                }
                .bind(host: host, port: port)
                .get()
            return MetricsHTTPServer(channel: channel, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    public func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// Connections open now, on the endpoint's one event loop.
private final class ConnectionCount: @unchecked Sendable {
    // Touched only from the endpoint's single event loop (accepts and closes both run there).
    private var open = 0

    func admit(limit: Int) -> Bool {
        guard open < limit else { return false }
        open += 1
        return true
    }

    func release() { open -= 1 }
}

/// Raw bytes in front of the HTTP decoder: a request may take `maximumRequestBytes` and `requestTimeout` from its
/// first byte; an answered connection may wait `idleTimeout` for the next request. A response going out ends the
/// request being counted.
private final class RequestBounds: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limits: MetricsHTTPServer.Limits
    private var received = 0
    private var deadline: Scheduled<Void>?
    private var refused = false

    init(limits: MetricsHTTPServer.Limits) { self.limits = limits }

    func channelActive(context: ChannelHandlerContext) {
        arm(limits.idleTimeout, context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let bytes = unwrapInboundIn(data)
        if received == 0 { arm(limits.requestTimeout, context: context) }
        received += bytes.readableBytes
        guard received <= limits.maximumRequestBytes else {
            refused = true
            deadline?.cancel()
            let answer = "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: answer)))
                .whenComplete { _ in loopBound.value.close(promise: nil) }
            return
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if received > 0 {
            received = 0
            arm(limits.idleTimeout, context: context)
        }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    private func arm(_ timeout: TimeAmount, context: ChannelHandlerContext) {
        deadline?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) { loopBound.value.close(promise: nil) }
    }
}

/// Answers `GET /metrics` (and `HEAD`); 404 for any other path, 405 for other methods.
private final class MetricsRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let render: MetricsHTTPServer.Renderer
    private var head: HTTPRequestHead?

    init(render: @escaping MetricsHTTPServer.Renderer) { self.render = render }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            answer(head, context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path == "/metrics" else {
            return respond(head, status: .notFound, body: "not found; metrics are at /metrics\n", context: context)
        }
        guard head.method == .GET || head.method == .HEAD else {
            return respond(head, status: .methodNotAllowed, body: "only GET and HEAD\n", extra: [("allow", "GET, HEAD")],
                           context: context)
        }
        let format = MetricsExposition.Format(accept: head.headers.first(name: "accept"))
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        render(format, context.eventLoop).hop(to: context.eventLoop).whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .success(let text):
                handler.respond(head, status: .ok, body: text, contentType: format.contentType, context: context)
            case .failure:
                handler.respond(head, status: .serviceUnavailable, body: "the daemon is stopping\n", context: context)
            }
        }
    }

    private func respond(_ request: HTTPRequestHead, status: HTTPResponseStatus, body: String,
                         contentType: String = "text/plain; charset=utf-8", extra: [(String, String)] = [],
                         context: ChannelHandlerContext) {
        let buffer = context.channel.allocator.buffer(string: body)
        var headers = HTTPHeaders([("content-type", contentType), ("content-length", String(buffer.readableBytes))])
        headers.add(contentsOf: extra)
        let keepAlive = request.isKeepAlive
        headers.add(name: "connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
                      promise: nil)
        if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }
}
