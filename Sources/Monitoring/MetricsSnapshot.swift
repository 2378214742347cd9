public import Server

/// What the daemon knows beyond the server's counters: its build, its reloads, its processes, its certificates.
public struct DaemonFigures: Sendable {
    public var version: String
    public var commit: String
    /// Unix time, seconds.
    public var startTime: Double
    public var reloadsSucceeded: UInt64 = 0
    public var reloadsFailed: UInt64 = 0
    /// Unix time of the last successful load (the start counts), seconds.
    public var lastReloadSuccess: Double
    /// Restarts of each persistent handler and feeder in force, by name.
    public var handlerRestarts: [String: UInt64] = [:]
    public var feederRestarts: [String: UInt64] = [:]
    /// notAfter of each TLS listener's certificate, Unix time in seconds, by listener.
    public var certificateExpiry: [String: Double] = [:]
    /// The event journal, when one is open: events it holds, commits by result.
    public var journalEvents: Int?
    public var journalCommits: UInt64 = 0
    public var journalFailedCommits: UInt64 = 0

    public init(version: String, commit: String, startTime: Double) {
        self.version = version
        self.commit = commit
        self.startTime = startTime
        lastReloadSuccess = startTime
    }
}

/// Everything one scrape exports, read at one instant.
public struct MetricsSnapshot: Sendable {
    public var server: ServerCounters
    public var daemon: DaemonFigures

    public init(server: ServerCounters, daemon: DaemonFigures) {
        self.server = server
        self.daemon = daemon
    }
}
