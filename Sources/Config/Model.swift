public import IEC104
public import Outstation

/// Log levels, the same names as swift-log's `Logger.Level`.
public enum LogLevel: String, CaseIterable, Hashable, Sendable {
    case trace, debug, info, notice, warning, error, critical
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
    public var location: SourceLocation

    public static let defaultControlSocketMode: UInt32 = 0o660

    /// Where the control socket is: as configured, else in the runtime directory (systemd's RuntimeDirectory).
    public var controlSocket: String { controlSocketPath ?? runtimeDirectory + "/control.sock" }
    public static let defaultStateDirectory = "/var/lib/rtu104d"
    public static let defaultRuntimeDirectory = "/run/rtu104d"
    public static let defaultCommandMaxAge = Duration.seconds(30)
    public static let defaultMaxHandlerProcesses = 16
    public static let defaultSelectTimeout = Duration.seconds(10)

    public init(pointTables: [String], stateDirectory: String = Self.defaultStateDirectory,
                runtimeDirectory: String = Self.defaultRuntimeDirectory, logLevel: LogLevel = .info,
                commandMaxAge: Duration? = Self.defaultCommandMaxAge,
                maxHandlerProcesses: Int = Self.defaultMaxHandlerProcesses,
                selectTimeout: Duration = Self.defaultSelectTimeout, controlSocket: String? = nil,
                controlSocketMode: UInt32 = Self.defaultControlSocketMode, controlSocketGroup: String? = nil,
                location: SourceLocation) {
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
        self.location = location
    }
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
    public var location: SourceLocation

    public static let defaultPort = 2404
    public static let defaultMaxConnections = 32
    public static let defaultMaxConnectionsPerAddress = 8

    public init(name: String, host: String, port: Int = Self.defaultPort, errorPolicy: FrameErrorPolicy = .close,
                maxConnections: Int = Self.defaultMaxConnections,
                maxConnectionsPerAddress: Int = Self.defaultMaxConnectionsPerAddress, location: SourceLocation) {
        self.name = name
        self.host = host
        self.port = port
        self.errorPolicy = errorPolicy
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.location = location
    }

    /// `0.0.0.0:2404`, `[::]:2404`.
    public var bindDescription: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
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
    public var pointSources: [PointAddress: SourceLocation]
    /// Problems worth a look that do not stop the daemon.
    public var warnings: [ConfigError]
    /// `[handler NAME]` sections in file order.
    public var handlers: [HandlerConfiguration]
    /// `[feeder NAME]` sections in file order.
    public var feeders: [FeederConfiguration]
    /// The command points that name a handler; the others use the built-in feedback handler.
    public var commandBindings: [PointAddress: CommandBinding]

    public init(configPath: String, daemon: DaemonSettings, listeners: [ListenerConfiguration],
                stations: [StationConfiguration], stationSources: [String: SourceLocation] = [:],
                points: PointTable, pointSources: [PointAddress: SourceLocation] = [:], warnings: [ConfigError] = [],
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
