public import IEC104
public import Outstation
public import TLS

/// Log levels, the same names as swift-log's `Logger.Level`.
public enum LogLevel: String, CaseIterable, Hashable, Sendable {
    case trace, debug, info, notice, warning, error, critical
}

/// The `[metrics]` section: where the Prometheus endpoint listens.
public struct MetricsSettings: Hashable, Sendable {
    public static let defaultPort = 9104
    public var host: String
    public var port: Int
    public var location: SourceLocation

    public init(host: String, port: Int, location: SourceLocation = SourceLocation(file: "", line: 0)) {
        self.host = host
        self.port = port
        self.location = location
    }

    /// `127.0.0.1:9104`, `[::1]:9104`.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The `[daemon]` section.
public struct DaemonSettings: Hashable, Sendable {
    /// The point table files, resolved against the config file's directory, in the order given.
    public var pointTables: [String]
    /// Where the daemon keeps state across restarts (counter values, last command states).
    public var stateDirectory: String
    /// Where the daemon puts its control socket and other run-time files.
    public var runtimeDirectory: String
    public var logLevel: LogLevel
    /// Time-tagged commands (types 58–64) older than this are refused; nil: no check.
    public var commandMaxAge: Duration?
    /// How many handler processes (spawned commands) run at once; more commands wait.
    public var maxHandlerProcesses: Int
    /// How long a select waits for its execute, for stations without their own `select_timeout`.
    public var selectTimeout: Duration
    /// The control socket's path as configured; nil: `control.sock` in the runtime directory.
    public var controlSocketPath: String?
    /// The control socket's file mode and group (nil: the daemon's own group).
    public var controlSocketMode: UInt32
    public var controlSocketGroup: String?
    /// A control socket client whose requests fail this many times in a row is disconnected (0: never).
    public var controlErrorLimit: Int
    /// How the event journal syncs its commits (`event_journal_sync`), for the stations with `event_journal`.
    public var eventJournalSync: EventJournalSync = .full
    /// The quality of points without a saved value until their first update (`start_quality`).
    public var startQuality: StartQuality = .good
    public var location: SourceLocation

    public static let defaultControlSocketMode: UInt32 = 0o660

    /// Where the control socket is: as configured, else in the runtime directory (systemd's RuntimeDirectory).
    public var controlSocket: String { controlSocketPath ?? runtimeDirectory + "/control.sock" }
    public static let defaultStateDirectory = "/var/lib/rtu104d"
    public static let defaultRuntimeDirectory = "/run/rtu104d"
    public static let defaultCommandMaxAge = Duration.seconds(30)
    public static let defaultMaxHandlerProcesses = 16
    public static let defaultSelectTimeout = Duration.seconds(10)
    public static let defaultControlErrorLimit = 1000

    public init(pointTables: [String], stateDirectory: String = Self.defaultStateDirectory,
                runtimeDirectory: String = Self.defaultRuntimeDirectory, logLevel: LogLevel = .info,
                commandMaxAge: Duration? = Self.defaultCommandMaxAge,
                maxHandlerProcesses: Int = Self.defaultMaxHandlerProcesses,
                selectTimeout: Duration = Self.defaultSelectTimeout, controlSocket: String? = nil,
                controlSocketMode: UInt32 = Self.defaultControlSocketMode, controlSocketGroup: String? = nil,
                controlErrorLimit: Int = Self.defaultControlErrorLimit, location: SourceLocation) {
        self.pointTables = pointTables
        self.stateDirectory = stateDirectory
        self.runtimeDirectory = runtimeDirectory
        self.logLevel = logLevel
        self.commandMaxAge = commandMaxAge
        self.maxHandlerProcesses = maxHandlerProcesses
        self.selectTimeout = selectTimeout
        self.controlSocketPath = controlSocket
        self.controlSocketMode = controlSocketMode
        self.controlSocketGroup = controlSocketGroup
        self.controlErrorLimit = controlErrorLimit
        self.location = location
    }
}

/// `start_quality`: what points without a value saved in the state file report until their first update.
public enum StartQuality: String, CaseIterable, Hashable, Sendable {
    /// Their configured quality (usually none): for compatibility.
    case good
    /// NT, not topical (IV for integrated totals, which have no NT bit).
    case notTopical = "not_topical"
}

/// One `[listener NAME]`: a TCP port the daemon accepts masters on.
public struct ListenerConfiguration: Hashable, Sendable {
    public var name: String
    /// An IPv4 or IPv6 address (without brackets) or a host name.
    public var host: String
    public var port: Int
    /// What a malformed APDU does to the connection.
    public var errorPolicy: FrameErrorPolicy
    public var maxConnections: Int
    /// Connections one source address may hold on the listener at once.
    public var maxConnectionsPerAddress: Int
    /// TLS (IEC 62351-3) on this listener, nil for plain TCP: the `tls_*` keys of `tls = on`, with paths made
    /// absolute (against the config file's directory) and TLSSettings' defaults for keys not given. The files are
    /// read when the daemon builds the TLS context, at start and at every reload.
    public var tls: TLSSettings?
    public var location: SourceLocation

    public static let defaultHost = "0.0.0.0"
    public static let defaultPort = 2404
    public static let defaultErrorPolicy = FrameErrorPolicy.close
    public static let defaultMaxConnections = 32
    public static let defaultMaxConnectionsPerAddress = 8

    public init(name: String, host: String, port: Int = Self.defaultPort, errorPolicy: FrameErrorPolicy = Self.defaultErrorPolicy,
                maxConnections: Int = Self.defaultMaxConnections,
                maxConnectionsPerAddress: Int = Self.defaultMaxConnectionsPerAddress,
                tls: TLSSettings? = nil, location: SourceLocation) {
        self.name = name
        self.host = host
        self.port = port
        self.errorPolicy = errorPolicy
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.tls = tls
        self.location = location
    }

    /// `0.0.0.0:2404`, `[::]:2404`.
    public var bindDescription: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A station's demand on the master's TLS certificate, on top of its address filter.
public struct CertificateRequirement: Hashable, Sendable {
    /// RDNs that must all appear in the certificate's subject, e.g. ["CN=master1", "O=Utility"].
    public var subject: [String]
    /// A subject alternative name the certificate must carry, e.g. "DNS:master1.example"
    /// (a value without a type prefix matches a SAN of any type).
    public var subjectAltName: String?

    public init(subject: [String] = [], subjectAltName: String? = nil) {
        self.subject = subject
        self.subjectAltName = subjectAltName
    }

    /// Why a certificate with `certificateSubject` (RFC 2253) and `altNames` ("DNS:…") does not do, or nil when it does.
    public func refusal(certificateSubject: String?, altNames: [String]) -> String? {
        guard let certificateSubject else { return "the station requires a client certificate" }
        let have = Set(Self.components(certificateSubject))
        for wanted in subject where !have.contains(Self.normalized(wanted)) {
            return "certificate subject '\(certificateSubject)' lacks \(wanted) (require_subject)"
        }
        if let san = subjectAltName {
            let wanted = san.lowercased()
            let typed = ["dns:", "ip:", "uri:", "email:"].contains { wanted.hasPrefix($0) }
            let matches = altNames.contains { name in
                let lower = name.lowercased()
                if typed { return lower == wanted }
                return lower.split(separator: ":", maxSplits: 1).last.map(String.init) == wanted
            }
            if !matches {
                return "certificate has no subject alternative name \(san) (require_san; it has \(altNames.isEmpty ? "none" : altNames.joined(separator: ", ")))"
            }
        }
        return nil
    }

    static func components(_ subject: String) -> [String] {
        subject.split(separator: ",").map { normalized(String($0)) }
    }

    static func normalized(_ component: String) -> String {
        let parts = component.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { return String(component.trimmed) }
        return String(parts[0].trimmed).uppercased() + "=" + String(parts[1].trimmed)
    }
}

/// A validated configuration: everything `rtu104d` needs to start.
public struct DaemonConfiguration: Sendable {
    /// The daemon config file as given on the command line.
    public var configPath: String
    public var daemon: DaemonSettings
    public var listeners: [ListenerConfiguration]
    public var stations: [StationConfiguration]
    /// Where each station's section starts, by station name.
    public var stationSources: [String: SourceLocation]
    public var points: PointTable
    /// Where each monitor and command point is defined.
    public var pointSources: PointSources
    /// Problems worth a look that do not stop the daemon.
    public var warnings: [ConfigError]
    /// `[handler NAME]` sections in file order.
    public var handlers: [HandlerConfiguration]
    /// `[feeder NAME]` sections in file order.
    public var feeders: [FeederConfiguration]
    /// The command points that name a handler; the others use the built-in feedback handler.
    public var commandBindings: [PointAddress: CommandBinding]
    /// Stations that also require something of the master's TLS certificate, by station name.
    public var certificateRequirements: [String: CertificateRequirement] = [:]
    /// The `[metrics]` section; nil (no endpoint) when it is absent.
    public var metrics: MetricsSettings?
    /// `[files NAME]` sections in file order: directories served by file transfer.
    public var fileAreas: [FileArea] = []
    /// Where each `[files NAME]` section starts, by area name.
    public var fileAreaSources: [String: SourceLocation] = [:]

    public init(configPath: String, daemon: DaemonSettings, listeners: [ListenerConfiguration],
                stations: [StationConfiguration], stationSources: [String: SourceLocation] = [:],
                points: PointTable, pointSources: PointSources = PointSources(), warnings: [ConfigError] = [],
                handlers: [HandlerConfiguration] = [], feeders: [FeederConfiguration] = [],
                commandBindings: [PointAddress: CommandBinding] = [:]) {
        self.configPath = configPath
        self.daemon = daemon
        self.listeners = listeners
        self.stations = stations
        self.stationSources = stationSources
        self.points = points
        self.pointSources = pointSources
        self.warnings = warnings
        self.handlers = handlers
        self.feeders = feeders
        self.commandBindings = commandBindings
    }

    /// The stations that take connections from `listener`, in file order.
    public func stations(on listener: String) -> [StationConfiguration] {
        stations.filter { $0.listener == listener }
    }

    public func listener(named name: String) -> ListenerConfiguration? {
        listeners.first { $0.name == name }
    }

    public func handler(named name: String) -> HandlerConfiguration? {
        handlers.first { $0.name == name }
    }
}

/// Command-line settings that win over the `[daemon]` section (e.g. `--state-directory`).
public struct DaemonOverrides: Hashable, Sendable {
    public var stateDirectory: String?
    public var runtimeDirectory: String?
    public var logLevel: LogLevel?

    public init(stateDirectory: String? = nil, runtimeDirectory: String? = nil, logLevel: LogLevel? = nil) {
        self.stateDirectory = stateDirectory
        self.runtimeDirectory = runtimeDirectory
        self.logLevel = logLevel
    }
}
