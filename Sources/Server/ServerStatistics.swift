public import Outstation

/// Why a connection was refused before any station had it, as counted for the metrics.
public enum ConnectionRefusal: String, Hashable, Sendable, CaseIterable {
    /// No station's `allow` matches the master's address.
    case notAdmitted = "not_admitted"
    /// The listener's `max_connections_per_address` was reached.
    case addressLimit = "address_limit"
    /// The listener's `max_connections` was reached.
    case listenerLimit = "listener_limit"
    /// The TLS handshake failed or the certificate was refused.
    case tls
}

/// Where point updates come from: the control socket's `set`, a feeder, or a handler's unsolicited lines.
public enum UpdateSource: String, Hashable, Sendable, CaseIterable {
    case control
    case feeder
    case handler
    /// The built-in generators of simulated points (`simulate`).
    case simulation
}

/// What the server counts outside the stations: refusals at accept, TLS handshakes, updates by producer. Kept on
/// the event loop beside the stations' own counters, and read with them in one ``ServerCounters`` snapshot.
public struct ServerStatistics: Hashable, Sendable {
    public struct ListenerKey<Detail: Hashable & Sendable>: Hashable, Sendable {
        public let listener: String
        public let detail: Detail
    }

    public var refusals: [ListenerKey<ConnectionRefusal>: UInt64] = [:]
    /// TLS handshakes by listener and outcome (true: succeeded).
    public var tlsHandshakes: [ListenerKey<Bool>: UInt64] = [:]
    public var updatesApplied: [UpdateSource: UInt64] = [:]

    public init() {}

    public mutating func countRefusal(_ reason: ConnectionRefusal, listener: String) {
        refusals[ListenerKey(listener: listener, detail: reason), default: 0] += 1
    }

    public mutating func countHandshake(succeeded: Bool, listener: String) {
        tlsHandshakes[ListenerKey(listener: listener, detail: succeeded), default: 0] += 1
    }
}

/// One station's counters and state at one instant, as `rtu104ctl status` and the metrics endpoint read them.
public struct StationCounters: Sendable {
    public let name: String
    public let listener: String
    public let connections: Int
    public let dataTransfer: Bool
    public let eventsQueued: Int
    public let eventsDropped: UInt64
    public let statistics: StationStatistics

    public init(name: String, listener: String, connections: Int, dataTransfer: Bool, eventsQueued: Int,
                eventsDropped: UInt64, statistics: StationStatistics) {
        self.name = name
        self.listener = listener
        self.connections = connections
        self.dataTransfer = dataTransfer
        self.eventsQueued = eventsQueued
        self.eventsDropped = eventsDropped
        self.statistics = statistics
    }
}

/// Every counter of the server at one instant: read on the event loop in one step, so that the figures agree
/// with each other.
public struct ServerCounters: Sendable {
    public let stations: [StationCounters]
    public let server: ServerStatistics
    public let ingest: IngestStatistics

    public init(stations: [StationCounters], server: ServerStatistics, ingest: IngestStatistics) {
        self.stations = stations
        self.server = server
        self.ingest = ingest
    }
}

extension OutstationRuntime {
    func counters() -> ServerCounters {
        let stations = outstation.stations.map { station in
            StationCounters(name: station.name, listener: station.configuration.listener,
                            connections: station.connectionCount, dataTransfer: station.activeConnection != nil,
                            eventsQueued: station.eventBuffer.count, eventsDropped: station.eventBuffer.droppedCount,
                            statistics: station.statistics)
        }
        return ServerCounters(stations: stations, server: serverStatistics, ingest: currentIngestStatistics())
    }
}
