import IEC104
public import TLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// TLS for the master subcommands (IEC 62351-3): the station's certificate is verified against `caPath`;
/// `certificatePath`/`keyPath` are the master's certificate for mutual authentication.
public struct TLSClientOptions: Hashable, Sendable {
    public var caPath: String
    public var certificatePath: String?
    public var keyPath: String?
    /// SNI; nil sends the station's host name when it is not an IP address.
    public var serverName: String?
    /// nil: the newest OpenSSL offers (TLS 1.3).
    public var maximumVersion: TLSVersion? = nil

    public init(caPath: String, certificatePath: String?, keyPath: String?, serverName: String?,
                maximumVersion: TLSVersion? = nil) {
        self.caPath = caPath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.serverName = serverName
        self.maximumVersion = maximumVersion
    }

    /// The name sent as SNI for `endpoint`: the explicit one, else a host name (never an address literal).
    public func serverName(for endpoint: Endpoint) -> String? {
        if let serverName { return serverName }
        let host = endpoint.host
        if host.contains(":") { return nil }
        if host.split(separator: ".").allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) { return nil }
        return host
    }

    /// The name or address the station's certificate must carry: the explicit server name, else the host as given.
    public func expectedIdentity(for endpoint: Endpoint) -> String { serverName ?? endpoint.host }

    /// A client context; file problems become usage errors naming the option.
    public func makeContext() throws(MasterError) -> TLSContext {
        var settings = TLSSettings(certificatePath: certificatePath ?? "", privateKeyPath: keyPath ?? "", caPath: caPath,
                                   requirePeerCertificate: true)
        settings.maximumVersion = maximumVersion
        do throws(TLSError) {
            return try TLSContext(role: .client, settings: settings)
        } catch {
            switch error {
            case .file(let path, let what, let reason):
                let option = path == caPath && what == "CA bundle" ? "--tls-ca"
                    : what == "private key" ? "--tls-key" : "--tls-cert"
                throw .usage("\(option): cannot use the \(what) '\(path)': \(reason)")
            default:
                throw .tls("cannot set up TLS: \(error)")
            }
        }
    }
}

/// OpenSSL's error text without the "error:0A000086:SSL routines::" prefix.
public func openSSLReason(_ text: String) -> String {
    if text.hasPrefix("error:"), let range = text.ranges(of: "::").last {
        return String(text[range.upperBound...])
    }
    if text.hasPrefix("error:") {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count >= 5 { return parts[4...].joined(separator: ":") }
    }
    return text
}

/// What an alert from the station most likely means for the operator, as " (…)"; "" when nothing useful.
public func alertHint(_ alert: String) -> String {
    if alert.contains("certificate required") {
        return " (the station requires a client certificate: give --tls-cert and --tls-key)"
    }
    if alert.contains("unknown ca") {
        return " (the station does not trust the CA that issued our certificate --tls-cert)"
    }
    if alert.contains("certificate expired") { return " (our certificate --tls-cert has expired, or is not yet valid)" }
    if alert.contains("certificate revoked") { return " (our certificate --tls-cert is revoked)" }
    if alert.contains("bad certificate") || alert.contains("certificate unknown") || alert.contains("access denied")
        || alert.contains("unsupported certificate") {
        return " (the station refused our certificate --tls-cert)"
    }
    if alert.contains("protocol version") { return " (no TLS version in common with the station)" }
    if alert.contains("handshake failure") || alert.contains("insufficient security") {
        return " (no cipher suite or group in common with the station, or it refused our certificate)"
    }
    return ""
}

/// A handshake failure in words: who refused what, with OpenSSL's reason.
public func describeHandshakeFailure(_ error: TLSError, endpoint: String) -> String {
    switch error {
    case .handshakeFailed(let reason, let subject):
        let cleaned = openSSLReason(reason)
        let certificate = subject.map { " (station certificate \($0))" } ?? ""
        if cleaned.contains("alert") {
            return "TLS handshake with \(endpoint) failed: the station sent \(cleaned)\(alertHint(cleaned))"
        }
        if cleaned.hasPrefix("certificate") || cleaned.hasPrefix("unknown certificate") || cleaned.contains("no CRL") {
            return "TLS handshake with \(endpoint) failed: certificate verify failed: the station's certificate is not "
                + "trusted: \(cleaned)\(certificate); check --tls-ca"
        }
        return "TLS handshake with \(endpoint) failed: \(cleaned)\(certificate)"
    case .handshakeTimedOut:
        return "TLS handshake with \(endpoint) timed out"
    default:
        return "TLS with \(endpoint): \(error)"
    }
}

/// The TLS client's I/O on a connected socket: the handshake, and a summary of what it agreed.
public enum TLSClientIO {
    /// Runs the client handshake on a connected socket until it completes, fails or `timeout` passes.
    public static func handshake(_ session: TLSSession, descriptor: Int32, endpoint: String,
                          timeout: Duration) throws(MasterError) {
        let deadline = monotonicNow() + timeout
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let result = session.handshake()
            let sent = SocketIO.writeAll(descriptor, session.takeCiphertext())
            if case .failed(let error) = result { throw .tls(describeHandshakeFailure(error, endpoint: endpoint)) }
            guard sent else {
                throw .tls("the station closed the connection during the TLS handshake (\(SocketIO.lastErrorText))")
            }
            if result == .complete { return }
            let now = monotonicNow()
            guard now < deadline else { throw .tlsTimeout(timeout) }
            let milliseconds = Int32(clamping: (deadline.nanoseconds - now.nanoseconds + 999_999) / 1_000_000)
            let ready = SocketIO.poll(descriptor, events: Int16(POLLIN), milliseconds: milliseconds)
            if ready < 0 { throw .io("poll: \(SocketIO.lastErrorText)") }
            if ready == 0 { throw .tlsTimeout(timeout) }
            let count = buffer.withUnsafeMutableBytes { SocketIO.readSome(descriptor, into: $0) }
            if count < 0 {
                if errno == EAGAIN { continue }
                throw .tls("the station reset the connection during the TLS handshake (is TLS on at that port? "
                           + "does the station accept this master?)")
            }
            if count == 0 {
                throw .tls("the station closed the connection during the TLS handshake (is TLS on at that port? "
                           + "does the station accept this master?)")
            }
            session.feed(Array(buffer[..<count]))
        }
    }

    /// Connects the TLS session on a connected socket: a session for `endpoint`, the handshake within `timeout`.
    public static func open(descriptor: Int32, endpoint: Endpoint, options: TLSClientOptions, context: TLSContext,
                     timeout: Duration) throws(MasterError) -> TLSSession {
        let session: TLSSession
        do throws(TLSError) {
            session = try TLSSession(context: context, serverName: options.serverName(for: endpoint),
                                     expectedIdentity: options.expectedIdentity(for: endpoint))
        } catch {
            throw .tls("cannot set up TLS: \(error)")
        }
        try handshake(session, descriptor: descriptor, endpoint: endpoint.description, timeout: timeout)
        return session
    }

    /// "TLSv1.3 TLS_AES_256_GCM_SHA384, station certificate CN=rtu104d (expires 2027-11-22)".
    public static func summary(_ session: TLSSession) -> String {
        guard let peer = session.peer else { return "TLS" }
        var text = "\(peer.protocolVersion) \(peer.cipher)"
        if let certificate = peer.certificate {
            text += ", station certificate \(certificate.subject) (expires \(civilDate(certificate.notAfter)))"
        }
        if peer.resumed { text += ", resumed" }
        return text
    }
}

/// "2027-11-22" for seconds since 1970 (UTC).
public func civilDate(_ seconds: Int64) -> String { CivilDate(secondsSinceEpoch: seconds).text }
