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
    public var location: SourceLocation

    public static let defaultStateDirectory = "/var/lib/rtu104d"
    public static let defaultRuntimeDirectory = "/run/rtu104d"

    public init(pointTables: [String], stateDirectory: String = Self.defaultStateDirectory,
                runtimeDirectory: String = Self.defaultRuntimeDirectory, logLevel: LogLevel = .info,
                location: SourceLocation) {
        self.pointTables = pointTables
        self.stateDirectory = stateDirectory
        self.runtimeDirectory = runtimeDirectory
        self.logLevel = logLevel
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
    public var location: SourceLocation

    public static let defaultPort = 2404
    public static let defaultMaxConnections = 32

    public init(name: String, host: String, port: Int = Self.defaultPort, errorPolicy: FrameErrorPolicy = .close,
                maxConnections: Int = Self.defaultMaxConnections, location: SourceLocation) {
        self.name = name
        self.host = host
        self.port = port
        self.errorPolicy = errorPolicy
        self.maxConnections = maxConnections
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

    public init(configPath: String, daemon: DaemonSettings, listeners: [ListenerConfiguration],
                stations: [StationConfiguration], stationSources: [String: SourceLocation] = [:],
                points: PointTable, pointSources: [PointAddress: SourceLocation] = [:], warnings: [ConfigError] = []) {
        self.configPath = configPath
        self.daemon = daemon
        self.listeners = listeners
        self.stations = stations
        self.stationSources = stationSources
        self.points = points
        self.pointSources = pointSources
        self.warnings = warnings
    }

    /// The stations that take connections from `listener`, in file order.
    public func stations(on listener: String) -> [StationConfiguration] {
        stations.filter { $0.listener == listener }
    }

    public func listener(named name: String) -> ListenerConfiguration? {
        listeners.first { $0.name == name }
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
