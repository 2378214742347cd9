import NIOCore
import NIOEmbedded
import Server
import Testing
import TLS
import TestSupport

@Suite("TLSHandler: the NIO handler around a TLS session")
struct TLSHandlerTests {
    @Test("the application sees channelActive after the handshake; writes made before it are buffered")
    func deferredActiveAndBufferedWrites() throws {
        let pair = try Pair(server: try TestCertificates.server(), client: try TestCertificates.client())
        #expect(!pair.serverApp.active)
        // The client application writes before its handshake is done.
        pair.client.writeAndFlush(ByteBuffer(bytes: [0x68, 0x04, 0x07, 0x00, 0x00, 0x00]), promise: nil)
        try pair.pump()
        #expect(pair.serverApp.active)
        #expect(pair.clientApp.active)
        #expect(pair.serverApp.received == [0x68, 0x04, 0x07, 0x00, 0x00, 0x00])
        #expect(pair.serverEvents.established.first?.subject == "O=rtu104d,CN=master1")
        _ = try pair.server.finish(acceptAlreadyClosed: true)
        _ = try pair.client.finish(acceptAlreadyClosed: true)
    }

    @Test("byte-at-a-time delivery, both ways")
    func byteAtATime() throws {
        let pair = try Pair(server: try TestCertificates.server(), client: try TestCertificates.client())
        try pair.pump(chunk: 1)
        #expect(pair.serverApp.active)
        let payload = (0..<3000).map { UInt8($0 % 251) }
        pair.server.writeAndFlush(ByteBuffer(bytes: payload), promise: nil)
        try pair.pump(chunk: 1)
        #expect(pair.clientApp.received == payload)
    }

    @Test("many records per read arrive as one plaintext read")
    func manyRecordsPerRead() throws {
        let pair = try Pair(server: try TestCertificates.server(), client: try TestCertificates.client())
        try pair.pump()
        var ciphertext = ByteBuffer()
        var expected: [UInt8] = []
        for index in 0..<100 {
            let apdu = [UInt8](repeating: UInt8(index), count: 200)
            expected += apdu
            pair.client.writeAndFlush(ByteBuffer(bytes: apdu), promise: nil)
            while var piece = try pair.client.readOutbound(as: ByteBuffer.self) { ciphertext.writeBuffer(&piece) }
        }
        let readsBefore = pair.serverApp.readCompletes
        try pair.server.writeInbound(ciphertext)
        pair.server.pipeline.fireChannelReadComplete()
        #expect(pair.serverApp.received == expected)
        #expect(pair.serverApp.readCompletes == readsBefore + 1)
    }

    @Test("an orderly close sends close_notify, and the peer closes in answer")
    func closeNotify() throws {
        let pair = try Pair(server: try TestCertificates.server(), client: try TestCertificates.client())
        try pair.pump()
        let closed = pair.server.close()
        try pair.pump()
        try closed.wait()
        #expect(!pair.server.isActive)
        #expect(!pair.client.isActive)
        #expect(pair.clientApp.inactive)
    }

    @Test("a handshake that does not finish in time is abandoned")
    func handshakeTimeout() throws {
        let server = EmbeddedChannel()
        let events = EventLog()
        try server.pipeline.syncOperations.addHandler(TLSHandler(
            session: try TLSSession(context: try TestCertificates.server()), handshakeTimeout: .seconds(5),
            onEvent: { events.events.append($0) }))
        try server.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        server.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(server.isActive)
        server.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!server.isActive)
        #expect(events.refusals == [.handshakeTimedOut])
    }

    @Test("a refused certificate never reaches the application")
    func refusedPeer() throws {
        let pair = try Pair(server: try TestCertificates.server(), client: try TestCertificates.client("client-revoked"))
        try pair.pump()
        #expect(!pair.serverApp.active)
        #expect(!pair.server.isActive)
        guard case .handshakeFailed(let reason, let subject)? = pair.serverEvents.refusals.first else {
            Issue.record("no refusal event")
            return
        }
        #expect(reason.hasPrefix("certificate revoked"))
        #expect(subject == "O=rtu104d,CN=revoked-master")
    }

    @Test("authorize refuses a verified peer whose subject the station does not accept")
    func authorize() throws {
        let pair = try Pair(server: try TestCertificates.server(), client: try TestCertificates.client(),
                            authorize: { peer in peer.subject?.contains("CN=master2") == true ? nil : "subject is not CN=master2" })
        try pair.pump()
        #expect(!pair.serverApp.active)
        #expect(!pair.server.isActive)
        #expect(pair.serverEvents.refusals == [.peerRefused(reason: "subject is not CN=master2", subject: "O=rtu104d,CN=master1")])
    }

    @Test("plaintext on the TLS port closes the connection at once")
    func plaintext() throws {
        let server = EmbeddedChannel()
        let events = EventLog()
        try server.pipeline.syncOperations.addHandler(TLSHandler(
            session: try TLSSession(context: try TestCertificates.server()), onEvent: { events.events.append($0) }))
        try server.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try server.writeInbound(ByteBuffer(bytes: [0x68, 0x04, 0x07, 0x00, 0x00, 0x00]))
        #expect(!server.isActive)
        #expect(events.refusals.count == 1)
    }
}
