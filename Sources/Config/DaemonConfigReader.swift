import IEC104
import Outstation
import TLS

/// Interprets the daemon config's INI sections; cross-section checks are the loader's.
struct DaemonConfigReader {
    static let daemonKeys = ["point_tables", "state_directory", "runtime_directory", "log_level", "command_max_age",
                             "max_handler_processes", "select_timeout", "control_socket", "control_socket_mode",
                             "control_socket_group", "control_error_limit", "event_journal_sync", "start_quality"]
    static let listenerKeys = ["bind", "link_errors", "max_connections", "max_connections_per_address"] + tlsKeys
    static let tlsKeys = ["tls", "tls_certificate", "tls_private_key", "tls_ca", "tls_crl", "tls_require_client_cert",
                          "tls_allowed_fingerprints", "tls_min_version", "tls_ciphers", "tls_ciphersuites", "tls_groups",
                          "tls_session_resumption", "tls_handshake_timeout", "tls_renegotiation_interval"]
    static let stationKeys = ["listener", "allow", "common_addresses", "k", "w", "t0", "t1", "t2", "t3",
                              "event_buffer", "event_overflow", "backpressure", "time_tags", "redundancy", "accept_c_ts_na",
                              "start_timeout", "invalid_time_until_sync", "select_timeout", "require_subject", "require_san",
                              "event_journal", "stale_after"]
    static let metricsKeys = ["listen"]
    static let sectionKinds = ["daemon", "listener", "station", "handler", "feeder", "files", "metrics"]
    /// Sections that stand once and take no name.
    static let singleSections: Set<String> = ["daemon", "metrics"]

    /// A point table file named in `point_tables`.
    struct PointTableReference {
        var path: String
        var location: SourceLocation
    }

    /// A station as written, before the loader fills in defaults that depend on other sections.
    struct StationDraft {
        var configuration: StationConfiguration
        var location: SourceLocation
        var listenerGiven: Bool
        var commonAddressesGiven: Bool
        var selectTimeoutGiven = false
        /// The station's default `stale_after` for the points it serves (see `ConfigurationLoader`).
        var staleAfter: Duration?
        var certificateRequirement: CertificateRequirement?
        var keyLocations: [String: SourceLocation]
        var subject: String { "station '\(configuration.name)'" }
        func place(_ key: String) -> SourceLocation { keyLocations[key] ?? location }
    }

    var daemon: DaemonSettings?
    var pointTables: [PointTableReference] = []
    var listeners: [ListenerConfiguration] = []
    var stations: [StationDraft] = []
    var handlers: [HandlerConfiguration] = []
    var feeders: [FeederConfiguration] = []
    /// Per feeder, where each item of its `points` is written.
    var feederPointLocations: [[SourceLocation]] = []
    var metrics: MetricsSettings?
    /// `[files NAME]` sections in file order.
    var fileAreas: [FileAreaDraft] = []
    let configDirectory: String

    init(document: INIDocument, configDirectory: String, diagnostics: Diagnostics) {
        self.configDirectory = configDirectory
        var firstSection: [String: SourceLocation] = [:]
        for section in document.sections {
            guard Self.sectionKinds.contains(section.kind) else {
                diagnostics.error(section.location, "unknown section [\(section.kind)\(section.name.map { " \($0)" } ?? "")]"
                                  + Suggestions.hint(for: section.kind, in: Self.sectionKinds)
                                  + "; sections are [daemon], [listener NAME], [station NAME], [handler NAME], [feeder NAME], [files NAME] and [metrics]")
                continue
            }
            if Self.singleSections.contains(section.kind), let name = section.name {
                diagnostics.error(section.location, "[\(section.kind)] takes no name; remove '\(name)'")
            }
            if !Self.singleSections.contains(section.kind) {
                guard let name = section.name, !name.isEmpty else {
                    diagnostics.error(section.location, "[\(section.kind)] needs a name, e.g. [\(section.kind) main]")
                    continue
                }
                if !name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
                    diagnostics.error(section.location, subject: section.subject,
                                      "names are letters, digits, '-', '_' and '.'")
                }
            }
            let identity = section.kind + " " + (section.name ?? "")
            if let first = firstSection[identity] {
                diagnostics.error(section.location, subject: section.subject, "duplicate section; it is already defined at \(first)")
                continue
            }
            firstSection[identity] = section.location
            let fields = FieldReader(subject: section.subject, location: section.location, members: section.members,
                                     diagnostics: diagnostics)
            switch section.kind {
            case "daemon": readDaemon(fields, configDirectory: configDirectory)
            case "listener": readListener(fields, name: section.name!)
            case "handler": readHandler(fields, name: section.name!)
            case "feeder": readFeeder(fields, name: section.name!)
            case "files": readFiles(fields, name: section.name!)
            case "metrics": readMetrics(fields)
            default: readStation(fields, name: section.name!)
            }
        }
        if daemon == nil {
            diagnostics.error(SourceLocation(file: document.file, line: 0),
                              "no [daemon] section; it names the point tables (point_tables = points.json)")
        }
        if listeners.isEmpty {
            diagnostics.error(SourceLocation(file: document.file, line: 0),
                              "no [listener NAME] section; define at least one, e.g. [listener main] with bind = 0.0.0.0:2404")
        }
        if stations.isEmpty {
            diagnostics.error(SourceLocation(file: document.file, line: 0),
                              "no [station NAME] section; define at least one station with allow = and common_addresses =")
        }
    }

    private mutating func readDaemon(_ fields: FieldReader, configDirectory: String) {
        if let items = fields.list("point_tables") {
            for item in items {
                guard let path = item.scalarText, !path.isEmpty else { continue }
                pointTables.append(PointTableReference(path: Paths.resolve(path, relativeTo: configDirectory),
                                                       location: item.location))
            }
            if items.isEmpty { fields.error("point_tables", "no point table given; list one or more files, e.g. points.json") }
        } else {
            fields.missing("point_tables", " (the point table files, e.g. point_tables = points.json)")
        }
        let state = fields.string("state_directory").map { Paths.resolve($0, relativeTo: configDirectory) }
        let runtime = fields.string("runtime_directory").map { Paths.resolve($0, relativeTo: configDirectory) }
        let level = fields.keyword("log_level", LogLevel.allCases.map { ($0.rawValue, $0) })
        let maxAge = fields.duration("command_max_age", allowZero: true, max: .seconds(86_400))
        let processes = fields.int("max_handler_processes", in: 1...1024)
        let selectTimeout = fields.duration("select_timeout", max: .seconds(3600))
        let controlSocket = fields.string("control_socket").map { Paths.resolve($0, relativeTo: configDirectory) }
        let controlSocketMode = fields.read("control_socket_mode") { value -> Result<UInt32, ValueError> in
            guard let text = value.scalarText, let mode = UInt32(text, radix: 8), mode <= 0o777 else {
                return .failure(ValueError("\(value.display) is not a file mode; write it in octal, e.g. 0660"))
            }
            guard mode & 0o007 == 0 else {
                return .failure(ValueError("mode \(text) lets every local user command the RTU; clear the last digit (e.g. 0660)"))
            }
            return .success(mode)
        }
        let controlSocketGroup = fields.string("control_socket_group")
        let controlErrorLimit = fields.int("control_error_limit", in: 0...1_000_000_000)
        let journalSync = fields.keyword("event_journal_sync", EventJournalSync.allCases.map { ($0.rawValue, $0) })
        let startQuality = fields.keyword("start_quality", StartQuality.allCases.map { ($0.rawValue, $0) })
        fields.reportUnknownKeys(known: Self.daemonKeys, elsewhere: Self.misplaced(for: "daemon"))
        daemon = DaemonSettings(pointTables: pointTables.map(\.path),
                                stateDirectory: state ?? DaemonSettings.defaultStateDirectory,
                                runtimeDirectory: runtime ?? DaemonSettings.defaultRuntimeDirectory,
                                logLevel: level ?? .info,
                                commandMaxAge: maxAge.map { $0 == .zero ? nil : $0 } ?? DaemonSettings.defaultCommandMaxAge,
                                maxHandlerProcesses: processes ?? DaemonSettings.defaultMaxHandlerProcesses,
                                selectTimeout: selectTimeout ?? DaemonSettings.defaultSelectTimeout,
                                controlSocket: controlSocket,
                                controlSocketMode: controlSocketMode ?? DaemonSettings.defaultControlSocketMode,
                                controlSocketGroup: controlSocketGroup,
                                controlErrorLimit: controlErrorLimit ?? DaemonSettings.defaultControlErrorLimit,
                                location: fields.location)
        daemon?.eventJournalSync = journalSync ?? .full
        daemon?.startQuality = startQuality ?? .good
    }

    private mutating func readMetrics(_ fields: FieldReader) {
        let listen = fields.read("listen") { Self.parseBind($0, defaultPort: MetricsSettings.defaultPort,
                                                          example: "127.0.0.1:9104 or [::1]:9104") }
        fields.reportUnknownKeys(known: Self.metricsKeys, elsewhere: Self.misplaced(for: "metrics"))
        guard let listen else {
            // A listen that did not parse has its own message.
            if !fields.has("listen") {
                fields.missing("listen", " (the metrics endpoint's address:port, e.g. listen = 127.0.0.1:9104)")
            }
            return
        }
        metrics = MetricsSettings(host: listen.0, port: listen.1, location: fields.location)
    }

    private mutating func readListener(_ fields: FieldReader, name: String) {
        var host = ListenerConfiguration.defaultHost
        var port = ListenerConfiguration.defaultPort
        if let bind = fields.read("bind", { Self.parseBind($0) }) { (host, port) = bind }
        let policy = fields.keyword("link_errors", [("close", FrameErrorPolicy.close), ("discard", .discard)])
        let maxConnections = fields.int("max_connections", in: 1...65535)
        let maxPerAddress = fields.int("max_connections_per_address", in: 1...65535)
        let tls = readListenerTLS(fields)
        fields.reportUnknownKeys(known: Self.listenerKeys, elsewhere: Self.misplaced(for: "listener"))
        listeners.append(ListenerConfiguration(name: name, host: host, port: port,
                                               errorPolicy: policy ?? ListenerConfiguration.defaultErrorPolicy,
                                               maxConnections: maxConnections ?? ListenerConfiguration.defaultMaxConnections,
                                               maxConnectionsPerAddress: maxPerAddress
                                                   ?? ListenerConfiguration.defaultMaxConnectionsPerAddress,
                                               tls: tls, location: fields.location))
    }

    /// The longest `tls_renegotiation_interval`.
    static let maximumRenegotiationInterval = Duration.seconds(30 * 86_400)

    /// The `tls_*` keys; only with `tls = on`. Keys not given keep TLSSettings' defaults. The files themselves are
    /// read when the daemon builds the context.
    private func readListenerTLS(_ fields: FieldReader) -> TLSSettings? {
        let enabled = fields.bool("tls") ?? false
        let given = Self.tlsKeys.dropFirst().filter { fields.has($0) }
        guard enabled else {
            for key in given {
                _ = fields.value(key)
                fields.error(key, "TLS is off on this listener; add tls = on or remove \(key)")
            }
            return nil
        }
        let path = { (key: String) in fields.string(key).map { Paths.resolve($0, relativeTo: configDirectory) } }
        let certificate = path("tls_certificate")
        let privateKey = path("tls_private_key")
        if certificate == nil { fields.missing("tls_certificate", " (the listener's PEM certificate chain, for tls = on)") }
        if privateKey == nil { fields.missing("tls_private_key", " (the PEM private key of tls_certificate, for tls = on)") }
        var settings = TLSSettings(certificatePath: certificate ?? "", privateKeyPath: privateKey ?? "")
        settings.caPath = path("tls_ca")
        settings.crlPath = path("tls_crl")
        if let require = fields.bool("tls_require_client_cert") { settings.requirePeerCertificate = require }
        if let fingerprints = fields.read("tls_allowed_fingerprints", { value -> Result<[[UInt8]], ValueError> in
            var result: [[UInt8]] = []
            for item in ValueParsers.list(value) {
                guard let text = item.scalarText, let digest = Self.parseFingerprint(text) else {
                    return .failure(ValueError("\(item.display) is not a SHA-256 fingerprint; write 32 hex octets, e.g. "
                                               + "AB:CD:…, as `openssl x509 -noout -fingerprint -sha256` prints them",
                                               at: item.location))
                }
                result.append(digest)
            }
            return .success(result)
        }) {
            settings.allowedFingerprints = fingerprints
        }
        if let version = fields.keyword("tls_min_version", TLSVersion.allCases.map { ($0.rawValue, $0) }) {
            settings.minimumVersion = version
        }
        if let ciphers = fields.string("tls_ciphers") { settings.ciphers = ciphers }
        if let suites = fields.string("tls_ciphersuites") { settings.cipherSuites = suites }
        if let groups = fields.string("tls_groups") { settings.groups = groups }
        if let resumption = fields.bool("tls_session_resumption") { settings.sessionResumption = resumption }
        if let timeout = fields.duration("tls_handshake_timeout", max: .seconds(300)) { settings.handshakeTimeout = timeout }
        if let renegotiation = fields.read("tls_renegotiation_interval", { value -> Result<Duration?, ValueError> in
            if value.scalarText?.lowercased() == "off" { return .success(nil) }
            return ValueParsers.duration(value, allowZero: true, max: Self.maximumRenegotiationInterval)
                .map { $0 == .zero ? nil : $0 }
        }) {
            settings.renegotiationInterval = renegotiation
        }
        if settings.requirePeerCertificate, settings.caPath == nil, settings.allowedFingerprints.isEmpty {
            fields.error(fields.has("tls_require_client_cert") ? "tls_require_client_cert" : "tls",
                         "mutual authentication (tls_require_client_cert, on by default) needs tls_ca (a CA bundle to verify "
                         + "masters' certificates) or tls_allowed_fingerprints")
        }
        if settings.crlPath != nil, settings.caPath == nil { fields.error("tls_crl", "a CRL needs tls_ca (the CA bundle whose revocations it lists)") }
        return certificate != nil && privateKey != nil ? settings : nil
    }

    /// "AB:CD:…" or 64 hex digits, optionally after `sha256:` → 32 octets.
    static func parseFingerprint(_ text: String) -> [UInt8]? {
        var lowercased = Substring(text.lowercased())
        // Before the colons go, or the prefix would no longer be found.
        if lowercased.hasPrefix("sha256:") { lowercased.removeFirst(7) }
        let hex = Array(lowercased.filter { $0 != ":" && !$0.isWhitespace })
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(hex[index...index + 1]), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// `host:port`, `[v6]:port`, or an address alone (port 2404).
    static func parseBind(_ value: ConfigValue, defaultPort: Int = ListenerConfiguration.defaultPort,
                          example: String = "0.0.0.0:2404 or [::]:2404") -> Result<(String, Int), ValueError> {
        let text = String((value.scalarText ?? "").trimmed)
        let usage = "write address:port, e.g. \(example)"
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return .failure(ValueError("'\(text)' lacks the closing ']'; \(usage)")) }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { return .failure(ValueError("unexpected '\(rest)' after ']'; \(usage)")) }
                portText = rest.dropFirst()
            }
            guard let address = IPAddress(host), !address.isIPv4 || host.contains(":") else {
                return .failure(ValueError("'\(host)' in brackets is not an IPv6 address; \(usage)"))
            }
        } else {
            let colons = text.filter { $0 == ":" }.count
            if colons == 1, let colon = text.firstIndex(of: ":") {
                host = String(text[..<colon])
                portText = text[text.index(after: colon)...]
            } else if colons > 1 {
                guard IPAddress(text) != nil else { return .failure(ValueError("'\(text)' is not a valid address; \(usage)")) }
            }
        }
        guard !host.isEmpty else { return .failure(ValueError("'\(text)' has no address; \(usage)")) }
        if IPAddress(host) == nil {
            let looksNumeric = host.allSatisfy { $0.isNumber || $0 == "." }
            let validName = host.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
            if looksNumeric || !validName { return .failure(ValueError("'\(host)' is neither an IP address nor a host name; \(usage)")) }
        }
        var port = defaultPort
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                return .failure(ValueError("port '\(portText)' is not a number in 1…65535"))
            }
            port = number
        }
        return .success((host, port))
    }

    private mutating func readStation(_ fields: FieldReader, name: String) {
        var locations: [String: SourceLocation] = [:]
        for key in Self.stationKeys { locations[key] = fields.keyLocation(key) }
        let listener = fields.string("listener")
        var filter = AddressFilter.any
        if fields.has("allow") {
            filter = fields.read("allow") { value in
                do throws(AddressFilterError) {
                    return .success(try AddressFilter(parsing: value.scalarText ?? ""))
                } catch {
                    return .failure(ValueError(error.description))
                }
            } ?? .any
        } else {
            fields.missing("allow", " (who may connect: any, others, or addresses like 192.168.0.10, 10.0.0.*, 10.1.0.0/16)")
        }
        let commonAddresses = fields.read("common_addresses") { ValueParsers.intList($0, in: 1...65534) }
        if let commonAddresses, commonAddresses.isEmpty { fields.error("common_addresses", "no common address given") }
        let k = fields.int("k", in: 1...32767)
        let w = fields.int("w", in: 1...32767)
        let limit = Duration.seconds(255)
        let t0 = fields.duration("t0", max: limit), t1 = fields.duration("t1", max: limit)
        let t2 = fields.duration("t2", max: limit), t3 = fields.duration("t3", max: limit)
        var parameters = APCIParameters.standard
        do throws(APCIParameterError) {
            parameters = try APCIParameters(k: k ?? 12, w: w ?? 8, t0: t0 ?? .seconds(30), t1: t1 ?? .seconds(15),
                                            t2: t2 ?? .seconds(10), t3: t3 ?? .seconds(20))
        } catch {
            // Report at the line of the key the engineer most likely has to change.
            let key: String
            switch error {
            case .outOfRange(let name, _, _): key = name
            case .windowTooLarge: key = fields.has("w") ? "w" : "k"
            case .t2NotBelowT1: key = fields.has("t2") ? "t2" : "t1"
            }
            fields.error(fields.has(key) ? key : nil, error.description)
        }
        let buffer = fields.int("event_buffer", in: 1...10_000_000)
        let overflow = fields.keyword("event_overflow", EventOverflowPolicy.allCases.map { ($0.rawValue, $0) })
        let backpressure = fields.bool("backpressure")
        let journal = fields.bool("event_journal")
        let timeTags = fields.keyword("time_tags", TimeTagPolicy.allCases.map { ($0.rawValue, $0) })
        let redundancy = fields.int("redundancy", in: 1...64)
        let acceptTest = fields.bool("accept_c_ts_na")
        let startTimeout = fields.duration("start_timeout", allowZero: true)
        let invalidTime = fields.bool("invalid_time_until_sync")
        let selectTimeout = fields.duration("select_timeout", max: .seconds(3600))
        let requireSubject = fields.read("require_subject") { value -> Result<[String], ValueError> in
            let components = CertificateRequirement.components(value.scalarText ?? "")
            guard !components.isEmpty, components.allSatisfy({ $0.contains("=") && !$0.hasSuffix("=") }) else {
                return .failure(ValueError("\(value.display) is not a certificate subject; write attribute=value pairs "
                                           + "separated by commas, e.g. CN=master1 or CN=master1,O=Utility"))
            }
            return .success(components)
        }
        let requireSAN = fields.string("require_san")
        let staleAfter = fields.duration("stale_after", max: .seconds(30 * 86_400))
        fields.reportUnknownKeys(known: Self.stationKeys, elsewhere: Self.misplaced(for: "station"))
        let configuration = StationConfiguration(
            name: name, listener: listener ?? "", filter: filter, commonAddresses: (commonAddresses ?? []).map { UInt16($0) },
            parameters: parameters, eventBufferSize: buffer ?? 10_000, overflowPolicy: overflow ?? .dropOldest,
            timeTags: timeTags ?? .perPoint, redundancy: redundancy ?? 1, acceptTestCommandWithoutTime: acceptTest ?? false,
            startTimeout: startTimeout.flatMap { $0 == .zero ? nil : $0 }, invalidTimeUntilSynchronized: invalidTime ?? false,
            selectTimeout: selectTimeout ?? DaemonSettings.defaultSelectTimeout, backpressure: backpressure ?? true,
            eventJournal: journal ?? false)
        stations.append(StationDraft(configuration: configuration, location: fields.location, listenerGiven: listener != nil,
                                     commonAddressesGiven: commonAddresses != nil, selectTimeoutGiven: selectTimeout != nil,
                                     certificateRequirement: requireSubject == nil && requireSAN == nil ? nil
                                        : CertificateRequirement(subject: requireSubject ?? [], subjectAltName: requireSAN),
                                     keyLocations: locations))
        stations[stations.count - 1].staleAfter = staleAfter
    }

    /// Keys that belong to the other section kinds, with a hint where they go.
    static func misplaced(for kind: String) -> [String: String] {
        var result: [String: String] = [:]
        let sections = [("daemon", daemonKeys), ("listener", listenerKeys), ("station", stationKeys),
                        ("handler", handlerKeys), ("feeder", feederKeys), ("files", filesKeys), ("metrics", metricsKeys)]
        let own = Set(sections.first { $0.0 == kind }?.1 ?? [])
        for (other, keys) in sections where other != kind {
            for key in keys where result[key] == nil && !own.contains(key) {
                // A singular or plural slip of an own key (common_address for common_addresses) gets a did-you-mean instead.
                if own.contains(where: { $0 == key + "s" || $0 == key + "es" || key == $0 + "s" || key == $0 + "es" }) { continue }
                result[key] = "'\(key)' belongs in a [\(other)\(singleSections.contains(other) ? "" : " NAME")] section, not in a [\(kind)] section"
            }
        }
        return result
    }
}

