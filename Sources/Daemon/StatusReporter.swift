public import NIOCore
import Outstation
public import Server
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What the last reload did, for the `STATUS=` line.
public enum ReloadOutcome: Sendable, Hashable {
    case succeeded
    case failed(String)
}

/// The one-line status `systemctl status rtu104d` shows.
public struct ServiceStatus: Sendable {
    public var stations: Int
    public var connectedStations: Int
    public var connections: Int
    /// The last reload's outcome and when it finished (local time, `HH:MM:SS`), if there was one.
    public var lastReload: (outcome: ReloadOutcome, time: String)?

    public init(stations: Int, connectedStations: Int, connections: Int,
                lastReload: (outcome: ReloadOutcome, time: String)? = nil) {
        self.stations = stations
        self.connectedStations = connectedStations
        self.connections = connections
        self.lastReload = lastReload
    }

    /// `2/3 stations connected, 2 connections; last reload 14:02:11 ok`.
    public var text: String {
        var text = "\(connectedStations)/\(stations) stations connected, \(connections) connection"
            + (connections == 1 ? "" : "s")
        switch lastReload {
        case nil: break
        case (.succeeded, let time)?: text += "; last reload \(time) ok"
        case (.failed(let reason), let time)?: text += "; last reload \(time) FAILED: \(reason)"
        }
        return text
    }
}

/// Keeps systemd's `STATUS=` current: refreshed every few seconds from the event loop, and at once
/// with `READY=1` after a reload. A no-op without a service manager.
public final class StatusReporter: Sendable {
    private struct State: ~Copyable {
        var lastReload: (outcome: ReloadOutcome, time: String)?
        var task: RepeatedTask?
    }

    private let notifier: SystemdNotifier
    private let server: OutstationServer
    private let state = Mutex(State())

    public init(notifier: SystemdNotifier, server: OutstationServer) {
        self.notifier = notifier
        self.server = server
    }

    /// Refreshes the status every `period` (connections come and go between refreshes).
    public func start(every period: TimeAmount = .seconds(5)) {
        guard notifier.isActive else { return }
        let task = server.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { [weak self] _ in
            self?.refresh()
        }
        state.withLock { $0.task?.cancel(); $0.task = task }
    }

    public func stop() {
        state.withLock { $0.task?.cancel(); $0.task = nil }
    }

    /// Records the outcome of a reload for the next status.
    public func record(_ outcome: ReloadOutcome) {
        let time = Self.clockTime()
        state.withLock { $0.lastReload = (outcome, time) }
    }

    /// Sends the current status.
    public func refresh() {
        guard notifier.isActive else { return }
        let notifier = self.notifier
        current().whenSuccess { notifier.status($0.text) }
    }

    /// The current status, read on the event loop.
    public func current() -> EventLoopFuture<ServiceStatus> {
        let lastReload = state.withLock { $0.lastReload }
        return server.inspect { outstation in
            ServiceStatus(stations: outstation.stations.count,
                          connectedStations: outstation.stations.filter { $0.connectionCount > 0 }.count,
                          connections: outstation.stations.reduce(0) { $0 + $1.connectionCount },
                          lastReload: lastReload)
        }
    }

    static func clockTime() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}
