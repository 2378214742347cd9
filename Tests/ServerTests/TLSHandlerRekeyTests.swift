import NIOCore
import NIOEmbedded
import Server
import Testing
import TLS
import TestSupport

@Suite("TLSHandler: periodic session key renewal")
struct TLSHandlerRekeyTests {
    static func rekeys(_ events: EventLog) -> [TLSRekeyKind] {
        events.events.compactMap { if case .rekeyed(_, let kind) = $0 { kind } else { nil } }
    }

    static func unavailable(_ events: EventLog) -> [String] {
        events.events.compactMap { if case .rekeyUnavailable(let reason, _) = $0 { reason } else { nil } }
    }

    @Test("every interval: renegotiation under TLS 1.2, key update under TLS 1.3; the application sees nothing",
          arguments: [TLSVersion.v1_2, .v1_3])
    func periodic(version: TLSVersion) throws {
        let pair = try Pair(server: try TestCertificates.server { $0.minimumVersion = version },
                            client: try TestCertificates.client { $0.maximumVersion = version },
                            rekeyInterval: .seconds(60))
        try pair.pump()
        #expect(pair.serverApp.active)
        var expectedAtClient: [UInt8] = [], expectedAtServer: [UInt8] = []
        for round in 1...3 {
            pair.server.embeddedEventLoop.advanceTime(by: .seconds(59))
            #expect(Self.rekeys(pair.serverEvents).count == round - 1)
            pair.server.embeddedEventLoop.advanceTime(by: .seconds(1))
            // Data in flight while the keys change.
            let down = [UInt8](repeating: UInt8(round), count: 500)
            let up = [UInt8](repeating: UInt8(round + 50), count: 300)
            pair.server.writeAndFlush(ByteBuffer(bytes: down), promise: nil)
            pair.client.writeAndFlush(ByteBuffer(bytes: up), promise: nil)
            expectedAtClient += down
            expectedAtServer += up
            try pair.pump()
            #expect(Self.rekeys(pair.serverEvents) == Array(repeating: version == .v1_2 ? .renegotiation : .keyUpdate, count: round))
        }
        #expect(pair.clientApp.received == expectedAtClient)
        #expect(pair.serverApp.received == expectedAtServer)
        #expect(pair.server.isActive && pair.client.isActive)
        #expect(!pair.serverApp.inactive)
        _ = try pair.server.finish(acceptAlreadyClosed: true)
        _ = try pair.client.finish(acceptAlreadyClosed: true)
    }

    @Test("a peer that does not answer within 5 s keeps its connection and gets the held frames; a late answer counts")
    func unanswered() throws {
        let pair = try Pair(server: try TestCertificates.server(), client: try TestCertificates.client { $0.maximumVersion = .v1_2 },
                            timeout: .seconds(30), rekeyInterval: .seconds(60))
        try pair.pump()
        pair.server.embeddedEventLoop.advanceTime(by: .seconds(60))
        // The HelloRequest stays unread (not pumped): to the server, the peer does not answer.
        let helloRequest = try #require(try pair.server.readOutbound(as: ByteBuffer.self))
        pair.server.writeAndFlush(ByteBuffer(bytes: [7, 7]), promise: nil)
        #expect(try pair.server.readOutbound(as: ByteBuffer.self) == nil)
        pair.server.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(Self.unavailable(pair.serverEvents).isEmpty)
        pair.server.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(Self.unavailable(pair.serverEvents) == ["the peer ignored the renegotiation request"])
        #expect(pair.server.isActive)
        // No new request while the first is open.
        pair.server.embeddedEventLoop.advanceTime(by: .seconds(600))
        let heldFrame = try #require(try pair.server.readOutbound(as: ByteBuffer.self))
        #expect(try pair.server.readOutbound(as: ByteBuffer.self) == nil)
        #expect(Self.rekeys(pair.serverEvents).isEmpty)
        // The client reads the HelloRequest at last and renegotiates: checked and reported, and renewals go on.
        try pair.client.writeInbound(helloRequest)
        try pair.client.writeInbound(heldFrame)
        try pair.pump()
        #expect(pair.clientApp.received == [7, 7])
        #expect(Self.rekeys(pair.serverEvents) == [.renegotiation])
        pair.server.embeddedEventLoop.advanceTime(by: .seconds(60))
        try pair.pump()
        #expect(Self.rekeys(pair.serverEvents) == [.renegotiation, .renegotiation])
        pair.client.writeAndFlush(ByteBuffer(bytes: [1, 2]), promise: nil)
        try pair.pump()
        #expect(pair.serverApp.received == [1, 2])
    }

    @Test("a renegotiation handshake that stalls closes the connection after the handshake timeout")
    func stalled() throws {
        let pair = try Pair(server: try TestCertificates.server(), client: try TestCertificates.client { $0.maximumVersion = .v1_2 },
                            timeout: .seconds(8), rekeyInterval: .seconds(60))
        try pair.pump()
        pair.server.embeddedEventLoop.advanceTime(by: .seconds(60))
        // HelloRequest to the client, its ClientHello to the server; the server's answer is lost.
        while let buffer = try pair.server.readOutbound(as: ByteBuffer.self) { try pair.client.writeInbound(buffer) }
        while let buffer = try pair.client.readOutbound(as: ByteBuffer.self) { try pair.server.writeInbound(buffer) }
        _ = try pair.server.readOutbound(as: ByteBuffer.self)
        pair.server.embeddedEventLoop.advanceTime(by: .seconds(7))
        #expect(pair.server.isActive)
        pair.server.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!pair.server.isActive)
        let failures = pair.serverEvents.events.compactMap { if case .failed(let error) = $0 { error } else { nil } }
        #expect(failures == [.renegotiationFailed(reason: "the peer did not finish the handshake within 8.0 s",
                                                  subject: "O=rtu104d,CN=master1")])
    }

    @Test("without an interval nothing is renegotiated")
    func off() throws {
        let pair = try Pair(server: try TestCertificates.server(), client: try TestCertificates.client())
        try pair.pump()
        pair.server.embeddedEventLoop.advanceTime(by: .hours(25))
        #expect(try pair.server.readOutbound(as: ByteBuffer.self) == nil)
        #expect(Self.rekeys(pair.serverEvents).isEmpty)
    }
}
