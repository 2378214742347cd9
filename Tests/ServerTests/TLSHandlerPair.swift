import NIOCore
import NIOEmbedded
import Testing
import Server
import TLS
import TestSupport

/// Records what reaches the application above the TLS handler.
final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var active = false
    var inactive = false
    var received: [UInt8] = []
    var readCompletes = 0
    func channelActive(context: ChannelHandlerContext) { active = true }
    func channelInactive(context: ChannelHandlerContext) { inactive = true }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += Array(buffer: unwrapInboundIn(data))
    }
    func channelReadComplete(context: ChannelHandlerContext) { readCompletes += 1 }
}

final class EventLog: @unchecked Sendable {
    var events: [TLSHandlerEvent] = []
    var refusals: [TLSError] {
        events.compactMap { if case .refused(let error) = $0 { error } else { nil } }
    }
    var established: [TLSPeerIdentity] {
        events.compactMap { if case .established(let peer) = $0 { peer } else { nil } }
    }
}

struct Pair {
    let server: EmbeddedChannel
    let client: EmbeddedChannel
    let serverApp = Collector()
    let clientApp = Collector()
    let serverEvents = EventLog()

    init(server serverContext: TLSContext, client clientContext: TLSContext, timeout: TimeAmount = .seconds(10),
         rekeyInterval: TimeAmount? = nil, authorize: @escaping (TLSPeerIdentity) -> String? = { _ in nil }) throws {
        server = EmbeddedChannel()
        client = EmbeddedChannel()
        let events = serverEvents
        try server.pipeline.syncOperations.addHandler(TLSHandler(
            session: try TLSSession(context: serverContext), handshakeTimeout: timeout, rekeyInterval: rekeyInterval,
            authorize: authorize,
            onEvent: { events.events.append($0) }))
        try server.pipeline.syncOperations.addHandler(serverApp)
        try client.pipeline.syncOperations.addHandler(TLSHandler(session: try TLSSession(context: clientContext, serverName: "localhost")))
        try client.pipeline.syncOperations.addHandler(clientApp)
        try server.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try client.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 2404)).wait()
    }

    /// Moves ciphertext both ways until both are quiet, `chunk` octets per channelRead.
    func pump(chunk: Int = .max) throws {
        for _ in 0..<100 {
            var moved = false
            for (from, to) in [(client, server), (server, client)] {
                while let buffer = try from.readOutbound(as: ByteBuffer.self) {
                    moved = true
                    var buffer = buffer
                    while buffer.readableBytes > 0, to.isActive {
                        let piece = buffer.readSlice(length: min(chunk, buffer.readableBytes))!
                        try to.writeInbound(piece)
                    }
                }
            }
            if !moved { return }
        }
    }
}
