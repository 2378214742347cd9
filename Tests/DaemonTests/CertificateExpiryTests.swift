import Daemon
import Foundation
import Server
import TestSupport
import Testing
import TLS

/// The expiry report a running daemon repeats once a day (and at start and reload).
@Suite("TLSSetup.reportExpiry: certificates that expire soon or have expired")
struct CertificateExpiryTests {
    static let certificates = TestCertificates.directory

    static func listener(_ name: String, certificate: String) throws -> ListenerSettings {
        let settings = TLSSettings(certificatePath: "\(certificates)/\(certificate).pem",
                                   privateKeyPath: "\(certificates)/\(certificate).key", caPath: "\(certificates)/ca.pem")
        return ListenerSettings(name: name, host: "127.0.0.1", port: 19998, errorPolicy: .close, maxConnections: 32,
                                maxConnectionsPerAddress: 8,
                                tls: ListenerTLS(context: try TLSContext(role: .server, settings: settings)))
    }

    @Test func warnsBeforeAndErrsAfterExpiry() throws {
        let expiring = try Self.listener("soon", certificate: "server-expiring")
        let fine = try Self.listener("fine", certificate: "server")
        let plain = ListenerSettings(name: "plain", host: "127.0.0.1", port: 2404, errorPolicy: .close, maxConnections: 32,
                                     maxConnectionsPerAddress: 8, tls: nil)
        let notAfter = try #require(expiring.tls?.context.certificate?.notAfter)

        let today = LogRecorder()
        TLSSetup.reportExpiry([expiring, fine, plain], logger: today.logger,
                              now: Date(timeIntervalSince1970: TimeInterval(notAfter - 9 * 86_400 - 60)))
        #expect(today.all.map(\.message) == ["the listener's TLS certificate expires in 9 day(s)"])
        #expect(today.all.first?.level == .warning)
        #expect(today.all.first?.metadata["listener"] == "soon")
        #expect(today.all.first?.metadata["certificate"]?.hasSuffix("server-expiring.pem") == true)

        let later = LogRecorder()
        TLSSetup.reportExpiry([expiring, fine, plain], logger: later.logger,
                              now: Date(timeIntervalSince1970: TimeInterval(notAfter + 1)))
        #expect(later.all.map(\.message) == ["the listener's TLS certificate has expired; masters will refuse it"])
        #expect(later.all.first?.level == .error)

        let quiet = LogRecorder()
        TLSSetup.reportExpiry([fine, plain], logger: quiet.logger, now: Date())
        #expect(quiet.all.isEmpty)
    }
}
