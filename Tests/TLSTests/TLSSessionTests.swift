import Testing
import TLS
import TestSupport

@Suite("TLSSession: two OpenSSL endpoints over memory BIOs")
struct TLSSessionTests {
    @Test("mutual authentication handshake, then data both ways", arguments: [TLSVersion.v1_2, .v1_3])
    func handshakeAndData(version: TLSVersion) throws {
        let server = try TLSSession(context: TestCertificates.server { $0.minimumVersion = version })
        let client = try TLSSession(context: TestCertificates.client { $0.maximumVersion = version }, serverName: "localhost")
        let (clientResult, serverResult) = pump(client, server)
        #expect(clientResult == .complete)
        #expect(serverResult == .complete)
        let peer = try #require(server.peer)
        #expect(peer.subject == "O=rtu104d,CN=master1")
        #expect(peer.certificate?.subjectAltNames == ["DNS:master1.example"])
        #expect(peer.certificate?.fingerprint == TestCertificates.fingerprint("client.pem"))
        #expect(peer.protocolVersion == (version == .v1_2 ? "TLSv1.2" : "TLSv1.3"))
        #expect(peer.cipher.contains("GCM"))
        #expect(client.peer?.subject == "O=rtu104d,CN=rtu104d")

        let startDT: [UInt8] = [0x68, 0x04, 0x07, 0x00, 0x00, 0x00]
        try client.write(startDT)
        server.feed(client.takeCiphertext())
        #expect(server.readAvailablePlaintext().bytes == startDT)
        try server.write([0x68, 0x04, 0x0B, 0x00, 0x00, 0x00])
        client.feed(server.takeCiphertext())
        #expect(client.readAvailablePlaintext().bytes == [0x68, 0x04, 0x0B, 0x00, 0x00, 0x00])
    }

    @Test("the handshake and records survive byte-at-a-time delivery")
    func byteAtATime() throws {
        let server = try TLSSession(context: TestCertificates.server())
        let client = try TLSSession(context: TestCertificates.client())
        let (clientResult, serverResult) = pump(client, server, chunk: 1, rounds: 50)
        #expect(clientResult == .complete && serverResult == .complete)
        let message = (0..<1000).map { UInt8($0 & 0xFF) }
        try client.write(message)
        var received: [UInt8] = []
        for byte in client.takeCiphertext() {
            server.feed([byte])
            received += server.readAvailablePlaintext().bytes
        }
        #expect(received == message)
    }

    @Test("many records in one delivery")
    func manyRecordsPerRead() throws {
        let server = try TLSSession(context: TestCertificates.server())
        let client = try TLSSession(context: TestCertificates.client())
        pump(client, server)
        var sent: [UInt8] = []
        for index in 0..<200 {
            let apdu = [UInt8](repeating: UInt8(index), count: 100)
            sent += apdu
            try client.write(apdu)  // one record each
        }
        server.feed(client.takeCiphertext())
        let (bytes, end) = server.readAvailablePlaintext()
        #expect(bytes == sent)
        #expect(end == .wantMore)
    }

    @Test("close_notify reads as an orderly close")
    func closeNotify() throws {
        let server = try TLSSession(context: TestCertificates.server())
        let client = try TLSSession(context: TestCertificates.client())
        pump(client, server)
        try client.write([1, 2, 3])
        client.shutdown()
        server.feed(client.takeCiphertext())
        let (bytes, end) = server.readAvailablePlaintext()
        #expect(bytes == [1, 2, 3])
        #expect(end == .closed)
    }

    @Test("refusals name the reason and the certificate subject", arguments: [
        ("client-other-ca", "unknown certificate: issued by an untrusted CA", "CN=rogue-master"),
        ("client-expired", "certificate expired", "CN=expired-master"),
        ("client-revoked", "certificate revoked", "CN=revoked-master"),
    ])
    func refusals(name: String, reason: String, subject: String) throws {
        let server = try TLSSession(context: TestCertificates.server())
        let client = try TLSSession(context: TestCertificates.client(name))
        let (_, serverResult) = pump(client, server)
        guard case .failed(.handshakeFailed(let why, let who)) = serverResult else {
            Issue.record("expected a refusal, got \(serverResult)")
            return
        }
        #expect(why.hasPrefix(reason))
        #expect(who?.contains(subject) == true)
    }

    @Test("a certificate that verifies but is not on the allow-list is refused")
    func notPinned() throws {
        let server = try TLSSession(context: TestCertificates.server {
            $0.allowedFingerprints = [TestCertificates.fingerprint("client2.pem")]
        })
        let client = try TLSSession(context: TestCertificates.client())
        let (_, serverResult) = pump(client, server)
        guard case .failed(.handshakeFailed(let why, let who)) = serverResult else {
            Issue.record("expected a refusal, got \(serverResult)")
            return
        }
        #expect(why.contains("allow-list"))
        #expect(who == "O=rtu104d,CN=master1")

        let pinned = try TLSSession(context: TestCertificates.server {
            $0.allowedFingerprints = [TestCertificates.fingerprint("client.pem")]
        })
        let allowed = try TLSSession(context: TestCertificates.client())
        #expect(pump(allowed, pinned).b == .complete)
    }

    @Test("pinning without a CA bundle trusts the pinned certificate only")
    func pinsOnly() throws {
        let context = try TestCertificates.server {
            $0.caPath = nil
            $0.crlPath = nil
            $0.allowedFingerprints = [TestCertificates.fingerprint("client-other-ca.pem")]
        }
        #expect(pump(try TLSSession(context: TestCertificates.client("client-other-ca")), try TLSSession(context: context)).b == .complete)
        guard case .failed = pump(try TLSSession(context: TestCertificates.client()), try TLSSession(context: context)).b else {
            Issue.record("an unpinned certificate got through")
            return
        }
    }

    @Test("a client without a certificate is refused under mutual authentication")
    func noClientCertificate() throws {
        let server = try TLSSession(context: TestCertificates.server())
        let client = try TLSSession(context: TestCertificates.client(""))
        guard case .failed = pump(client, server).b else {
            Issue.record("a client without a certificate got through")
            return
        }
    }

    @Test("plaintext IEC 104 on a TLS session fails the handshake at once")
    func plaintextPeer() throws {
        let server = try TLSSession(context: TestCertificates.server())
        server.feed([0x68, 0x04, 0x07, 0x00, 0x00, 0x00])
        guard case .failed(.handshakeFailed) = server.handshake() else {
            Issue.record("plaintext was not refused")
            return
        }
    }

    @Test("the context reports its certificate and rejects broken files")
    func contextErrors() throws {
        let context = try TestCertificates.server()
        #expect(context.certificate?.subject == "O=rtu104d,CN=rtu104d")
        #expect(context.certificate.map { $0.notAfter > $0.notBefore } == true)
        #expect(context.warnings.isEmpty)
        #expect(throws: TLSError.file(path: TestCertificates.path("client.key"), what: "private key",
                                      reason: "it does not belong to the certificate '\(TestCertificates.path("server.pem"))'")) {
            try TestCertificates.server { $0.privateKeyPath = TestCertificates.path("client.key") }
        }
        #expect {
            try TestCertificates.server { $0.privateKeyPath = TestCertificates.path("ca.pem") }
        } throws: { error in
            guard case TLSError.file(_, "private key", let reason) = error else { return false }
            return reason.hasPrefix("not a PEM private key")
        }
        #expect(throws: TLSError.self) {
            try TestCertificates.server { $0.certificatePath = TestCertificates.path("nonexistent.pem") }
        }
        #expect(throws: TLSError.self) {
            try TestCertificates.server { $0.crlPath = TestCertificates.path("ca.key") }
        }
        #expect(throws: TLSError.self) {
            try TestCertificates.server { $0.ciphers = "NO-SUCH-CIPHER" }
        }
        let expiring = try TestCertificates.server {
            $0.certificatePath = TestCertificates.path("server-expiring.pem")
            $0.privateKeyPath = TestCertificates.path("server-expiring.key")
        }
        let now = Int64(expiring.certificate!.notBefore)
        #expect(expiring.certificate!.daysLeft(now: now) <= 10)
    }
}
