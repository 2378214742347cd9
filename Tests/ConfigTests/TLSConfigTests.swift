@testable import Config
import Testing
import TLS

/// The listener `tls_*` keys and the station certificate requirements.
@Suite struct TLSConfigTests {
    static func config(listener: String, station: String = "") -> String {
        """
        [daemon]
        point_tables = points.json

        [listener main]
        bind = 0.0.0.0:19998
        \(listener)

        [station scada]
        listener = main
        allow = any
        common_addresses = 47
        \(station)
        """
    }

    static let fingerprint = "5C:80:DF:BA:F5:49:A6:F2:92:71:0E:5B:57:24:5D:B8:52:3B:7F:48:7D:86:4B:27:CC:1C:61:8C:CF:40:A1:B2"

    @Test func everyTLSKey() throws {
        let files = Files(config: Self.config(listener: """
            tls = on
            tls_certificate = tls/server.pem
            tls_private_key = /etc/keys/server.key
            tls_ca = tls/ca.pem
            tls_crl = tls/crl.pem
            tls_require_client_cert = yes
            tls_allowed_fingerprints = \(Self.fingerprint), \(Self.fingerprint.replacingOccurrences(of: ":", with: ""))
            tls_min_version = 1.3
            tls_ciphers = ECDHE-ECDSA-AES128-GCM-SHA256
            tls_ciphersuites = TLS_AES_128_GCM_SHA256
            tls_groups = P-256
            tls_session_resumption = off
            tls_handshake_timeout = 3s
            tls_renegotiation_interval = 1h
            """, station: "require_subject = CN=master1, o=Utility\nrequire_san = DNS:master1.example"))
        #expect(files.errors == [])
        let config = try #require(files.configuration)
        let tls = try #require(config.listeners.first?.tls)
        #expect(tls.certificatePath == "tls/server.pem")
        #expect(tls.privateKeyPath == "/etc/keys/server.key")
        #expect(tls.caPath == "tls/ca.pem")
        #expect(tls.crlPath == "tls/crl.pem")
        #expect(tls.requirePeerCertificate)
        #expect(tls.allowedFingerprints.count == 2)
        #expect(tls.allowedFingerprints[0] == tls.allowedFingerprints[1])
        #expect(tls.allowedFingerprints[0].first == 0x5C)
        #expect(tls.minimumVersion == .v1_3)
        #expect(tls.ciphers == "ECDHE-ECDSA-AES128-GCM-SHA256")
        #expect(tls.cipherSuites == "TLS_AES_128_GCM_SHA256")
        #expect(tls.groups == "P-256")
        #expect(!tls.sessionResumption)
        #expect(tls.handshakeTimeout == .seconds(3))
        #expect(tls.renegotiationInterval == .seconds(3600))
        let requirement = try #require(config.certificateRequirements["scada"])
        #expect(requirement.subject == ["CN=master1", "O=Utility"])
        #expect(requirement.subjectAltName == "DNS:master1.example")
    }

    @Test func defaults() throws {
        let config = try #require(Files(config: Self.config(listener: """
            tls = on
            tls_certificate = server.pem
            tls_private_key = server.key
            tls_ca = ca.pem
            """)).configuration)
        let tls = try #require(config.listeners.first?.tls)
        #expect(tls.requirePeerCertificate)
        #expect(tls.minimumVersion == .v1_2)
        #expect(tls.sessionResumption)
        #expect(tls.ciphers == TLSSettings.defaultCiphers)
        #expect(tls.cipherSuites == TLSSettings.defaultCipherSuites)
        #expect(tls.groups == TLSSettings.defaultGroups)
        #expect(tls.handshakeTimeout == .seconds(10))
        #expect(tls.renegotiationInterval == nil)
        #expect(config.certificateRequirements.isEmpty)
        #expect(try #require(Files().configuration).listeners.first?.tls == nil)
    }

    @Test func errorsNameTheLine() {
        #expect(Files(config: Self.config(listener: "tls = on\ntls_ca = ca.pem")).errors == [
            "rtu.conf:4: listener 'main': missing required key 'tls_certificate' (the listener's PEM certificate chain, for tls = on)",
            "rtu.conf:4: listener 'main': missing required key 'tls_private_key' (the PEM private key of tls_certificate, for tls = on)",
        ])
        #expect(Files(config: Self.config(listener: "tls_certificate = a.pem")).errors == [
            "rtu.conf:6: listener 'main' key 'tls_certificate': TLS is off on this listener; add tls = on or remove tls_certificate",
        ])
        let base = "tls = on\ntls_certificate = s.pem\ntls_private_key = s.key\n"
        #expect(Files(config: Self.config(listener: base)).errors == [
            "rtu.conf:6: listener 'main' key 'tls': mutual authentication (tls_require_client_cert, on by default) needs tls_ca "
            + "(a CA bundle to verify masters' certificates) or tls_allowed_fingerprints",
        ])
        #expect(Files(config: Self.config(listener: base + "tls_require_client_cert = off")).errors == [])
        #expect(Files(config: Self.config(listener: base + "tls_ca = ca.pem\ntls_min_version = 1.1")).errors.first?
            .hasPrefix("rtu.conf:10: listener 'main' key 'tls_min_version': ") == true)
        #expect(Files(config: Self.config(listener: base + "tls_allowed_fingerprints = AB:CD")).errors.first?
            .hasPrefix("rtu.conf:9: listener 'main' key 'tls_allowed_fingerprints': AB:CD is not a SHA-256 fingerprint") == true)
    }

    @Test("tls_renegotiation_interval: a duration up to 30 days; 0 and off turn it off", arguments: [
        ("90s", Duration?.some(.seconds(90))), ("2h", .some(.seconds(7200))), ("7d", .some(.seconds(604_800))), ("0", nil), ("off", nil), ("OFF", nil),
    ])
    func renegotiationInterval(text: String, expected: Duration?) throws {
        let base = "tls = on\ntls_certificate = s.pem\ntls_private_key = s.key\ntls_ca = ca.pem\n"
        let files = Files(config: Self.config(listener: base + "tls_renegotiation_interval = \(text)"))
        #expect(files.errors == [])
        #expect(try #require(files.configuration).listeners.first?.tls?.renegotiationInterval == expected)
    }

    @Test func renegotiationIntervalErrors() {
        let base = "tls = on\ntls_certificate = s.pem\ntls_private_key = s.key\ntls_ca = ca.pem\n"
        #expect(Files(config: Self.config(listener: base + "tls_renegotiation_interval = hourly")).errors == [
            "rtu.conf:10: listener 'main' key 'tls_renegotiation_interval': hourly is not a duration; write seconds (15, 0.5) "
            + "or use ms, s, min, h or d (500ms)",
        ])
        #expect(Files(config: Self.config(listener: base + "tls_renegotiation_interval = 31d")).errors == [
            "rtu.conf:10: listener 'main' key 'tls_renegotiation_interval': 31d is longer than the allowed 30d",
        ])
        #expect(Files(config: Self.config(listener: base + "tls_renegotiation_interval = -5")).errors == [
            "rtu.conf:10: listener 'main' key 'tls_renegotiation_interval': -5 must be 0 or more seconds",
        ])
        #expect(Files(config: Self.config(listener: "tls_renegotiation_interval = 1h")).errors == [
            "rtu.conf:6: listener 'main' key 'tls_renegotiation_interval': TLS is off on this listener; add tls = on or "
            + "remove tls_renegotiation_interval",
        ])
    }

    @Test func certificateRequirementNeedsATLSListener() {
        #expect(Files(config: Self.config(listener: "", station: "require_subject = CN=master1")).errors == [
            "rtu.conf:12: station 'scada' key 'require_subject': listener 'main' does not use TLS, so there is no certificate "
            + "to check; set tls = on there or remove require_subject",
        ])
        #expect(Files(config: Self.config(listener: "tls = on\ntls_certificate = s.pem\ntls_private_key = s.key\ntls_ca = c.pem",
                                          station: "require_subject = master1")).errors.first?
            .contains("is not a certificate subject") == true)
    }

    @Test(arguments: [
        (["CN=master1"], nil as String?, "O=Utility,CN=master1", ["DNS:m1"], true),
        (["CN=master1", "O=Utility"], nil, "O=Utility,CN=master1", [], true),
        (["CN=master2"], nil, "O=Utility,CN=master1", [], false),
        ([], "DNS:m1", "CN=x", ["DNS:m1", "IP:10.0.0.1"], true),
        ([], "m1", "CN=x", ["DNS:m1"], true),
        ([], "10.0.0.1", "CN=x", ["DNS:m1", "IP:10.0.0.1"], true),
        ([], "DNS:m2", "CN=x", ["DNS:m1"], false),
        (["CN=x"], "DNS:m1", "CN=x", ["DNS:m2"], false),
    ])
    func requirementMatching(subject: [String], san: String?, certificate: String, names: [String], admitted: Bool) {
        let requirement = CertificateRequirement(subject: subject, subjectAltName: san)
        #expect((requirement.refusal(certificateSubject: certificate, altNames: names) == nil) == admitted)
    }
}

@Suite("SHA-256 fingerprints as operators write them")
struct FingerprintTests {
    static let bytes = [UInt8](0..<32).map { $0 &* 37 &+ 5 }
    static let colons = bytes.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true) }
        .joined(separator: ":")

    @Test(arguments: [colons, colons.lowercased(), colons.replacingOccurrences(of: ":", with: ""), "sha256:" + colons,
                      "SHA256:" + colons.replacingOccurrences(of: ":", with: "").lowercased(), " " + colons + " "])
    func readsAsTheSameOctets(_ text: String) {
        #expect(DaemonConfigReader.parseFingerprint(text) == Self.bytes)
    }

    @Test(arguments: ["AB:CD", String(colons.dropLast()), colons + ":00", "sha1:" + colons,
                      colons.replacingOccurrences(of: "0", with: "G")])
    func anythingElseIsNoFingerprint(_ text: String) {
        #expect(DaemonConfigReader.parseFingerprint(text) == nil)
    }
}
