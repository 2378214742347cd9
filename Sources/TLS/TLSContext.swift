import COpenSSL
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Which end of the handshake a context serves.
public enum TLSRole: Hashable, Sendable {
    case server
    case client
}

/// The certificate an endpoint presents, for logs and expiry warnings.
public struct CertificateInfo: Hashable, Sendable {
    /// RFC 2253 subject, e.g. "CN=rtu1,O=Utility".
    public var subject: String
    /// "DNS:rtu1.example" etc.
    public var subjectAltNames: [String]
    /// Seconds since 1970 (UTC).
    public var notBefore: Int64
    public var notAfter: Int64
    /// SHA-256 of the DER certificate.
    public var fingerprint: [UInt8]

    /// Days left until `notAfter` at `now` (seconds since 1970); negative once expired.
    public func daysLeft(now: Int64) -> Int64 { (notAfter - now) / 86_400 }
}

/// An OpenSSL SSL_CTX built from `TLSSettings`: certificates, key, CA bundle and CRLs are read once,
/// here, so a connection never touches the file system. Immutable once built, shared by the connections
/// of a listener; a reload builds a new one.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    public let role: TLSRole
    public let settings: TLSSettings
    /// The certificate this endpoint presents, if any.
    public let certificate: CertificateInfo?
    /// Problems that do not stop the endpoint (e.g. a private key readable by others).
    public let warnings: [String]
    /// The pinned fingerprints as one buffer for the C verify callback; lives as long as the context.
    let pins: UnsafeMutableBufferPointer<UInt8>
    /// SHA-256 of peer certificates that answered a renegotiation request with a refusal; shared by the
    /// connections of this context, so forgotten when a reload builds a new one.
    private let renegotiationRefusals = Mutex<Set<[UInt8]>>([])

    public init(role: TLSRole, settings: TLSSettings) throws(TLSError) {
        self.role = role
        self.settings = settings
        ERR_clear_error()
        guard let context = SSL_CTX_new(role == .server ? TLS_server_method() : TLS_client_method()) else {
            throw .setting(name: "TLS", reason: "OpenSSL cannot create a context: \(Self.lastError())")
        }
        self.context = context
        pins = .allocate(capacity: max(1, 32 * settings.allowedFingerprints.count))
        var pinOffset = 0
        for fingerprint in settings.allowedFingerprints where fingerprint.count == 32 {
            for byte in fingerprint { pins[pinOffset] = byte; pinOffset += 1 }
        }
        var warnings: [String] = []
        do throws(TLSError) {
            try Self.configure(context, role: role, settings: settings, warnings: &warnings)
        } catch {
            SSL_CTX_free(context)
            pins.deallocate()
            throw error
        }
        self.warnings = warnings
        certificate = rtu104d_SSL_CTX_certificate(context).map(Self.info)
    }

    func renegotiationRefused(by fingerprint: [UInt8]) -> Bool {
        renegotiationRefusals.withLock { $0.contains(fingerprint) }
    }

    func noteRenegotiationRefused(by fingerprint: [UInt8]) {
        _ = renegotiationRefusals.withLock { $0.insert(fingerprint) }
    }

    deinit {
        SSL_CTX_free(context)
        pins.deallocate()
    }

    private static func configure(_ context: OpaquePointer, role: TLSRole, settings: TLSSettings,
                                  warnings: inout [String]) throws(TLSError) {
        rtu104d_SSL_CTX_harden(context)
        let minimum = settings.minimumVersion == .v1_3 ? rtu104d_tls1_3_version() : rtu104d_tls1_2_version()
        guard rtu104d_SSL_CTX_set_min_proto_version(context, minimum) == 1 else {
            throw .setting(name: "tls_min_version", reason: lastError())
        }
        if let maximum = settings.maximumVersion {
            let version = maximum == .v1_3 ? rtu104d_tls1_3_version() : rtu104d_tls1_2_version()
            guard rtu104d_SSL_CTX_set_max_proto_version(context, version) == 1 else {
                throw .setting(name: "tls_max_version", reason: lastError())
            }
        }
        guard SSL_CTX_set_cipher_list(context, settings.ciphers) == 1 else {
            throw .setting(name: "tls_ciphers", reason: "OpenSSL accepts none of '\(settings.ciphers)' (\(lastError()))")
        }
        guard SSL_CTX_set_ciphersuites(context, settings.cipherSuites) == 1 else {
            throw .setting(name: "tls_ciphersuites", reason: "OpenSSL accepts none of '\(settings.cipherSuites)' (\(lastError()))")
        }
        guard rtu104d_SSL_CTX_set1_groups_list(context, settings.groups) == 1 else {
            throw .setting(name: "tls_groups", reason: "OpenSSL accepts none of '\(settings.groups)' (\(lastError()))")
        }
        rtu104d_SSL_CTX_set_resumption(context, settings.sessionResumption ? 1 : 0)
        let sessionContext = Array("rtu104d".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))

        if !settings.certificatePath.isEmpty {
            try checkReadable(settings.certificatePath, what: "certificate")
            guard SSL_CTX_use_certificate_chain_file(context, settings.certificatePath) == 1 else {
                throw .file(path: settings.certificatePath, what: "certificate", reason: "not a PEM certificate chain (\(lastError()))")
            }
            try checkReadable(settings.privateKeyPath, what: "private key")
            guard SSL_CTX_use_PrivateKey_file(context, settings.privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
                let reason = lastError()
                if reason.contains("values mismatch") {  // OpenSSL checks the pair while loading the key
                    throw .file(path: settings.privateKeyPath, what: "private key",
                                reason: "it does not belong to the certificate '\(settings.certificatePath)'")
                }
                throw .file(path: settings.privateKeyPath, what: "private key", reason: "not a PEM private key (\(reason))")
            }
            var status = stat()
            if stat(settings.privateKeyPath, &status) == 0, status.st_mode & 0o077 != 0 {
                warnings.append("the private key '\(settings.privateKeyPath)' can be read by group or others "
                                + "(mode \(String(status.st_mode & 0o777, radix: 8))); chmod 600 it")
            }
        } else if role == .server {
            throw .setting(name: "tls_certificate", reason: "a TLS server needs a certificate and its private key")
        }
        if let ca = settings.caPath {
            try checkReadable(ca, what: "CA bundle")
            guard rtu104d_SSL_CTX_load_ca_file(context, ca) == 1 else {
                throw .file(path: ca, what: "CA bundle", reason: "no PEM certificate could be read (\(lastError()))")
            }
            if role == .server { rtu104d_SSL_CTX_set_client_ca_file(context, ca) }
        }
        if let crl = settings.crlPath {
            try checkReadable(crl, what: "CRL")
            guard rtu104d_SSL_CTX_load_crl_file(context, crl) > 0 else {
                throw .file(path: crl, what: "CRL", reason: "no PEM certificate revocation list could be read (\(lastError()))")
            }
        }
        let verify: Bool
        switch role {
        case .server: verify = settings.requirePeerCertificate || settings.caPath != nil || !settings.allowedFingerprints.isEmpty
        case .client: verify = settings.caPath != nil || !settings.allowedFingerprints.isEmpty
        }
        if role == .server, settings.requirePeerCertificate, settings.caPath == nil, settings.allowedFingerprints.isEmpty {
            throw .setting(name: "tls_ca", reason: "mutual authentication needs a CA bundle (tls_ca) or pinned certificates "
                           + "(tls_allowed_fingerprints) to verify masters against")
        }
        rtu104d_SSL_CTX_set_verify(context, verify ? 1 : 0, (role == .client || settings.requirePeerCertificate) ? 1 : 0)
        ERR_clear_error()
    }

    private static func checkReadable(_ path: String, what: String) throws(TLSError) {
        guard access(path, R_OK) == 0 else {
            throw .file(path: path, what: what, reason: String(cString: strerror(errno)))
        }
    }

    static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        rtu104d_drain_errors(&buffer, buffer.count)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? "unknown OpenSSL error" : text
    }

    static func info(_ certificate: OpaquePointer) -> CertificateInfo {
        var subject = [CChar](repeating: 0, count: 1024)
        rtu104d_X509_subject(certificate, &subject, subject.count)
        var names = [CChar](repeating: 0, count: 4096)
        rtu104d_X509_subject_alt_names(certificate, &names, names.count)
        var digest = [UInt8](repeating: 0, count: 32)
        if rtu104d_X509_sha256(certificate, &digest) != 1 { digest = [] }
        let nameText = string(names)
        return CertificateInfo(subject: string(subject),
                               subjectAltNames: nameText.isEmpty ? [] : nameText.split(separator: "\n").map(String.init),
                               notBefore: rtu104d_X509_not_before(certificate), notAfter: rtu104d_X509_not_after(certificate),
                               fingerprint: digest)
    }

    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Contexts compare by identity: a reload that re-reads the same files builds a new one.
extension TLSContext: Hashable {
    public static func == (lhs: TLSContext, rhs: TLSContext) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
