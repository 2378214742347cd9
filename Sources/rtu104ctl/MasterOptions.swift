import ArgumentParser
import IEC104
import Master
import TLS

/// The options every master subcommand shares: where the station is, how to address it, the link
/// parameters of IEC 60870-5-104 clause 5.5, TLS (IEC 62351-3) and timeouts.
struct MasterOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The station: HOST, HOST:PORT or [IPv6]:PORT (port 2404 unless given).",
                                 valueName: "host[:port]"))
    var station: String

    @Option(help: ArgumentHelp("Port of the station (default 2404); the same as giving HOST:PORT.", valueName: "n"))
    var port: UInt16?

    @Option(name: [.customLong("ca"), .customLong("common-address")],
            help: ArgumentHelp("Common address of ASDU (default: 65535, the broadcast address, where the request allows it).",
                               valueName: "n"))
    var commonAddress: UInt16?

    @Option(name: [.customLong("originator"), .customLong("oa")],
            help: ArgumentHelp("Originator address sent in every request.", valueName: "n"))
    var originator: UInt8 = 0

    @Option(help: "k: I-frames sent before waiting for an acknowledgement.")
    var k: Int = 12
    @Option(help: "w: acknowledge after this many received I-frames.")
    var w: Int = 8
    @Option(help: ArgumentHelp("t0: connection establishment timeout.", valueName: "seconds"))
    var t0: Double = 30
    @Option(help: ArgumentHelp("t1: timeout for a confirmation of a sent frame.", valueName: "seconds"))
    var t1: Double = 15
    @Option(help: ArgumentHelp("t2: acknowledge received I-frames after this long at the latest.", valueName: "seconds"))
    var t2: Double = 10
    @Option(help: ArgumentHelp("t3: send TESTFR act after this long without traffic.", valueName: "seconds"))
    var t3: Double = 20

    @Flag(help: "Connect over TLS (IEC 62351-3); implied by any --tls-* option. Needs --tls-ca.")
    var tls = false
    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("CA certificates to verify the station's certificate against (PEM).",
                                                            valueName: "path"))
    var tlsCA: String?
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Client certificate chain (PEM), for stations that require mutual authentication; needs --tls-key.",
                                                              valueName: "path"))
    var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp("Private key of --tls-cert (PEM).", valueName: "path"))
    var tlsKey: String?
    @Option(name: .customLong("tls-server-name"),
            help: ArgumentHelp("Server name sent in the handshake (SNI), and the name the station's certificate must carry; default: the station's host (no SNI for an address).",
                               valueName: "name"))
    var tlsServerName: String?
    @Option(name: .customLong("tls-max-version"),
            help: ArgumentHelp("Newest TLS version to offer: 1.2 or 1.3 (default: 1.3), e.g. to try a station's TLS 1.2 renegotiation.",
                               valueName: "version"))
    var tlsMaximumVersion: TLSVersion?

    @Option(name: [.customLong("bind"), .customLong("source")],
            help: ArgumentHelp("Local source address (ADDRESS or ADDRESS:PORT) to connect from.", valueName: "address"))
    var bind: String?

    @Option(help: ArgumentHelp("How long to wait for a reply, and for the next frame of a long reply.",
                               valueName: "seconds"))
    var timeout: Double = 10

    @Flag(name: .shortAndLong, help: "No progress messages on standard error.")
    var quiet = false

    func validate() throws {
        _ = try tlsOptions()
        _ = try linkParameters()
        _ = try endpoint()
        if let bind { _ = try Endpoint.parse(bind, defaultPort: 0) }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be more than 0 seconds") }
    }

    func linkParameters() throws -> APCIParameters {
        func duration(_ seconds: Double) -> Duration { .milliseconds(Int64((seconds * 1000).rounded())) }
        do throws(APCIParameterError) {
            return try APCIParameters(k: k, w: w, t0: duration(t0), t1: duration(t1), t2: duration(t2), t3: duration(t3))
        } catch {
            throw ValidationError("link parameters: \(error)")
        }
    }

    func endpoint() throws -> Endpoint {
        guard let port else { return try Endpoint.parse(station, defaultPort: 2404) }
        guard port > 0 else { throw ValidationError("--port 0 is not a port number (1...65535)") }
        let endpoint = try Endpoint.parse(station, defaultPort: 0)
        guard endpoint.port == 0 || endpoint.port == port else {
            throw ValidationError("'\(station)' already names port \(endpoint.port); give the port once (HOST:PORT or --port)")
        }
        return Endpoint(host: endpoint.host, port: port)
    }

    /// Whether the connection is to use TLS: --tls or any --tls-* option.
    var tlsRequested: Bool {
        tls || tlsCA != nil || tlsCertificate != nil || tlsKey != nil || tlsServerName != nil || tlsMaximumVersion != nil
    }

    /// The TLS settings, nil without TLS; a usage error when they are incomplete.
    func tlsOptions() throws -> TLSClientOptions? {
        guard tlsRequested else { return nil }
        guard let tlsCA, !tlsCA.isEmpty else {
            throw ValidationError("TLS needs --tls-ca PATH: the CA certificates (PEM) to verify the station's certificate against")
        }
        switch (tlsCertificate, tlsKey) {
        case (.some, nil): throw ValidationError("--tls-cert needs --tls-key: the private key of the client certificate")
        case (nil, .some): throw ValidationError("--tls-key needs --tls-cert: the client certificate the key belongs to")
        default: break
        }
        if tlsCertificate?.isEmpty == true || tlsKey?.isEmpty == true {
            throw ValidationError("--tls-cert and --tls-key need a path")
        }
        if let tlsServerName, tlsServerName.isEmpty || tlsServerName.contains(where: { $0 == " " || $0 == "/" }) {
            throw ValidationError("--tls-server-name: '\(tlsServerName)' is not a host name")
        }
        return TLSClientOptions(caPath: tlsCA, certificatePath: tlsCertificate, keyPath: tlsKey, serverName: tlsServerName,
                                maximumVersion: tlsMaximumVersion)
    }

    /// The common address for requests that may be broadcast.
    var commonAddressOrBroadcast: UInt16 { commonAddress ?? ASDU.broadcastAddress }

    /// A progress line on standard error, unless `--quiet`.
    func progress(_ message: String) {
        if !quiet { reportProgress(message) }
    }

    /// Opens the connection and starts data transfer, reporting both.
    func openSession() throws(MasterError) -> MasterSession {
        let endpoint: Endpoint
        let parameters: APCIParameters
        let source: Endpoint?
        let tlsOptions: TLSClientOptions?
        do {
            endpoint = try self.endpoint()
            parameters = try linkParameters()
            source = try bind.map { try Endpoint.parse($0, defaultPort: 0) }
            tlsOptions = try self.tlsOptions()
        } catch {
            throw .usage("\(error)")
        }
        let session = try MasterSession.connect(to: endpoint, from: source, parameters: parameters, tls: tlsOptions,
                                                handshakeTimeout: timeoutDuration)
        if let tls = session.tls {
            progress("connected to \(endpoint) over TLS in \(session.connectMilliseconds.formatted2) ms: \(TLSClientIO.summary(tls))")
        } else {
            progress("connected to \(endpoint) in \(session.connectMilliseconds.formatted2) ms")
        }
        try session.startDataTransfer(timeout: parameters.t1)
        progress("data transfer started (STARTDT con)")
        return session
    }
}

extension Endpoint {
    /// `host`, `host:port`, `[v6]`, `[v6]:port`; a bare IPv6 address (more than one colon) takes the default port.
    static func parse(_ text: String, defaultPort: UInt16) throws -> Endpoint {
        guard !text.isEmpty else { throw ValidationError("empty address") }
        func port(_ digits: Substring) throws -> UInt16 {
            guard let number = UInt16(digits), defaultPort == 0 || number > 0 else {
                throw ValidationError("'\(digits)' in '\(text)' is not a port number (1...65535)")
            }
            return number
        }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ValidationError("'\(text)': missing ']'") }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return Endpoint(host: host, port: defaultPort) }
            guard rest.hasPrefix(":") else { throw ValidationError("'\(text)': expected ':port' after ']'") }
            return Endpoint(host: host, port: try port(rest.dropFirst()))
        }
        let colons = text.filter { $0 == ":" }.count
        if colons == 1, let colon = text.firstIndex(of: ":") {
            let host = String(text[..<colon])
            guard !host.isEmpty else { throw ValidationError("'\(text)': missing host before ':'") }
            return Endpoint(host: host, port: try port(text[text.index(after: colon)...]))
        }
        return Endpoint(host: text, port: defaultPort)
    }
}

extension TLSVersion: ExpressibleByArgument {}
