import Testing
@testable import TLS
import TestSupport

/// Moves ciphertext both ways and reads plaintext on both sides until neither has anything to say.
/// Returns the plaintext each side received and how its last read ended.
@discardableResult
func exchange(_ a: TLSSession, _ b: TLSSession, chunk: Int = .max)
    -> (toA: [UInt8], toB: [UInt8], endA: TLSSession.ReadResult, endB: TLSSession.ReadResult) {
    var toA: [UInt8] = [], toB: [UInt8] = []
    var endA = TLSSession.ReadResult.wantMore, endB = TLSSession.ReadResult.wantMore
    for _ in 0..<100 {
        let fromA = a.takeCiphertext(), fromB = b.takeCiphertext()
        if fromA.isEmpty && fromB.isEmpty { break }
        for start in stride(from: 0, to: fromA.count, by: min(chunk, max(fromA.count, 1))) {
            b.feed(Array(fromA[start..<min(start + chunk, fromA.count)]))
            let (bytes, end) = b.readAvailablePlaintext()
            toB += bytes
            endB = end
        }
        for start in stride(from: 0, to: fromB.count, by: min(chunk, max(fromB.count, 1))) {
            a.feed(Array(fromB[start..<min(start + chunk, fromB.count)]))
            let (bytes, end) = a.readAvailablePlaintext()
            toA += bytes
            endA = end
        }
    }
    return (toA, toB, endA, endB)
}

@Suite("Session key renewal: TLS 1.2 renegotiation and TLS 1.3 key update (IEC 62351-3)")
struct TLSRekeyTests {
    static func connected(_ version: TLSVersion, resumption: Bool = true) throws -> (server: TLSSession, client: TLSSession) {
        let server = try TLSSession(context: TestCertificates.server {
            $0.minimumVersion = version
            $0.sessionResumption = resumption
        })
        let client = try TLSSession(context: TestCertificates.client { $0.maximumVersion = version }, serverName: "localhost")
        let (clientResult, serverResult) = pump(client, server)
        #expect(clientResult == .complete && serverResult == .complete)
        return (server, client)
    }

    @Test("TLS 1.2: the server renegotiates; its data written meanwhile is held and arrives in order afterwards",
          arguments: [Int.max, 7, 1])
    func renegotiation(chunk: Int) throws {
        let (server, client) = try Self.connected(.v1_2)
        try server.write([0])
        #expect(server.requestRekey() == .renegotiation)
        #expect(try server.renegotiationProgress() == .waitingForPeer)
        #expect(server.requestRekey() == .pending)
        // From the HelloRequest on, the server's application data waits for the new keys.
        try server.write([1, 2, 3])
        #expect(server.heldPlaintextCount == 3)
        client.feed(server.takeCiphertext())
        #expect(client.readAvailablePlaintext().bytes == [0])
        // The client answered the HelloRequest with a ClientHello.
        server.feed(client.takeCiphertext())
        #expect(server.readAvailablePlaintext().end == .wantMore)
        #expect(try server.renegotiationProgress() == .inHandshake)
        try server.write([4, 5, 6])
        #expect(server.heldPlaintextCount == 6)
        try client.write([9, 8, 7])
        let (toClient, toServer, endClient, endServer) = exchange(client, server, chunk: chunk)
        #expect(toClient == [])
        #expect(toServer == [9, 8, 7])
        #expect(endClient == .wantMore && endServer == .wantMore)
        #expect(try server.renegotiationProgress() == .completed)
        #expect(server.heldPlaintextCount == 0)
        #expect(exchange(client, server, chunk: chunk).toA == [1, 2, 3, 4, 5, 6])
        #expect(try server.renegotiationProgress() == .none)
        #expect(server.renegotiations == 1)
        #expect(server.peer?.subject == "O=rtu104d,CN=master1")

        // A second one works the same way.
        #expect(server.requestRekey() == .renegotiation)
        exchange(client, server)
        #expect(try server.renegotiationProgress() == .completed)
        #expect(server.renegotiations == 2)
        try client.write([0x68, 0x04, 0x43, 0x00, 0x00, 0x00])
        #expect(exchange(client, server).toB == [0x68, 0x04, 0x43, 0x00, 0x00, 0x00])
    }

    @Test("TLS 1.2 without session resumption: every renegotiation is a full handshake")
    func fullRenegotiation() throws {
        let (server, client) = try Self.connected(.v1_2, resumption: false)
        for round in 1...2 {
            #expect(server.requestRekey() == .renegotiation)
            exchange(client, server)
            #expect(try server.renegotiationProgress() == .completed)
            #expect(server.renegotiations == round)
            #expect(server.peer?.resumed == false)
            #expect(server.peer?.certificate?.fingerprint == TestCertificates.fingerprint("client.pem"))
        }
    }

    @Test("TLS 1.3: a key update on both sides, data continues")
    func keyUpdate() throws {
        let (server, client) = try Self.connected(.v1_3)
        exchange(client, server)  // session tickets
        for round in 1...3 {
            #expect(server.requestRekey() == .keyUpdate)
            try server.write([UInt8(round)])
            try client.write([UInt8(round + 100)])
            let (toClient, toServer, _, _) = exchange(client, server)
            #expect(toClient == [UInt8(round)])
            #expect(toServer == [UInt8(round + 100)])
        }
        #expect(server.keyUpdates == 3)
        #expect(server.renegotiations == 0)
    }

    @Test("a client-initiated renegotiation is refused with a no_renegotiation alert")
    func clientInitiatedRefused() throws {
        let (server, client) = try Self.connected(.v1_2)
        #expect(client.requestRekey() == .renegotiation)
        let (_, _, endClient, endServer) = exchange(client, server)
        #expect(endClient == .failed(.renegotiationRefused))
        // An OpenSSL client answers the refusal with a fatal alert of its own; the server never renegotiated.
        guard case .failed(.protocolError(let reason)) = endServer else {
            Issue.record("the server did not see the client give up: \(endServer)")
            return
        }
        #expect(reason.contains("alert handshake failure"))
        #expect(server.renegotiations == 0)
    }
}

@Suite("Session key renewal: the master must stay who it was")
struct TLSRekeyIdentityTests {
    @Test("a master that presents another certificate in the renegotiation is an error")
    func differentCertificate() throws {
        let server = try TLSSession(context: TestCertificates.server { $0.sessionResumption = false })
        let client = try TLSSession(context: TestCertificates.client { $0.maximumVersion = .v1_2 }, serverName: "localhost")
        let (clientResult, serverResult) = pump(client, server)
        #expect(clientResult == .complete && serverResult == .complete)
        #expect(server.peer?.subject == "O=rtu104d,CN=master1")
        // master2's certificate is from the same CA and valid: only the change itself is wrong.
        #expect(client.presentCertificate(certificatePath: TestCertificates.path("client2.pem"),
                                          privateKeyPath: TestCertificates.path("client2.key")))
        #expect(server.requestRekey() == .renegotiation)
        exchange(client, server)
        #expect(throws: TLSError.renegotiationFailed(
            reason: "the peer presented a different certificate than at the start of the connection",
            subject: "O=rtu104d,CN=master2")) {
            try server.renegotiationProgress()
        }
        #expect(server.renegotiations == 0)
    }

    @Test("without resumption the renegotiation verifies the certificate again: a revoked one fails it")
    func verifiedAgain() throws {
        let server = try TLSSession(context: TestCertificates.server { $0.sessionResumption = false })
        let client = try TLSSession(context: TestCertificates.client { $0.maximumVersion = .v1_2 }, serverName: "localhost")
        pump(client, server)
        #expect(client.presentCertificate(certificatePath: TestCertificates.path("client-revoked.pem"),
                                          privateKeyPath: TestCertificates.path("client-revoked.key")))
        #expect(server.requestRekey() == .renegotiation)
        let (_, _, _, endServer) = exchange(client, server)
        guard case .failed(.renegotiationFailed(let reason, let subject)) = endServer else {
            Issue.record("the renegotiation did not fail on the server: \(endServer)")
            return
        }
        #expect(reason.hasPrefix("certificate revoked"))
        #expect(subject == "O=rtu104d,CN=revoked-master")
    }
}
