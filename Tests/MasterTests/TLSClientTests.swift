import TLS
import Testing
@testable import Master

/// The TLS client's operator messages (moved from rtu104ctlTests with TLSClient.swift).
@Suite struct TLSClientTests {
    @Test func tlsFilesCheckedBeforeConnecting() {
        let options = TLSClientOptions(caPath: "/nonexistent/ca.pem", certificatePath: nil, keyPath: nil, serverName: nil)
        #expect {
            _ = try options.makeContext()
        } throws: { error in
            guard case MasterError.usage(let message) = error else { return false }
            return message.contains("--tls-ca") && message.contains("/nonexistent/ca.pem")
        }
    }

    @Test("OpenSSL reasons without the error code prefix", arguments: [
        ("error:0A000418:SSL routines::tlsv1 alert unknown ca", "tlsv1 alert unknown ca"),
        ("error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed", "certificate verify failed"),
        ("unknown certificate: issued by an untrusted CA", "unknown certificate: issued by an untrusted CA"),
    ])
    func openSSLReasons(text: String, reason: String) {
        #expect(openSSLReason(text) == reason)
    }

    @Test func handshakeFailureMessages() {
        let alert = describeHandshakeFailure(.handshakeFailed(reason: "error:0A000418:SSL routines::tlsv1 alert unknown ca",
                                                              subject: nil), endpoint: "127.0.0.1:19998")
        #expect(alert.contains("tlsv1 alert unknown ca") && alert.contains("does not trust the CA"))
        #expect(alertHint("tlsv13 alert certificate required").contains("--tls-cert and --tls-key"))
        let verify = describeHandshakeFailure(.handshakeFailed(reason: "unknown certificate: issued by an untrusted CA "
                                                               + "(unable to get local issuer certificate)",
                                                               subject: "CN=rtu104d"), endpoint: "rtu:19998")
        #expect(verify.contains("certificate verify failed") && verify.contains("--tls-ca") && verify.contains("CN=rtu104d"))
    }
}
