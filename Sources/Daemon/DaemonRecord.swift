public import EventJournal
import Foundation
import Synchronization

/// The daemon's own facts for `rtu104ctl status`: who it is, since when, on which configuration, and how the
/// last reload went. Read on the event loop by the control socket, written by the reloader; so that a failed
/// SIGHUP reload is visible without systemd.
public final class DaemonRecord: Sendable {
    /// How a reload ended.
    public struct Reload: Sendable, Equatable {
        /// When it finished, in milliseconds since 1970 (UTC).
        public var time: Int64
        public var succeeded: Bool
        public var message: String

        public init(time: Int64, succeeded: Bool, message: String) {
            self.time = time
            self.succeeded = succeeded
            self.message = message
        }
    }

    public let pid: Int32
    /// When the daemon started, in milliseconds since 1970 (UTC).
    public let started: Int64
    public let configPath: String
    private struct Reloads {
        var last: Reload?
        var succeeded: UInt64 = 0
        var failed: UInt64 = 0
        /// The last successful load; the start counts.
        var lastSuccess: Int64
    }

    private let reloads: Mutex<Reloads>
    /// The event journal's writer once the daemon opened one (stations with `event_journal`).
    private let journal = Mutex<EventJournalWriter?>(nil)

    public func attach(journal writer: EventJournalWriter) { journal.withLock { $0 = writer } }

    /// The journal's writer, nil while no journal is open.
    public var journalWriter: EventJournalWriter? { journal.withLock { $0 } }

    /// The journal's figures, nil while no journal is open.
    public var journalFigures: (path: String, sync: String, statistics: EventJournalStatistics)? {
        guard let writer = journal.withLock({ $0 }) else { return nil }
        return (writer.store.path, writer.store.synchronous.rawValue, writer.statistics)
    }

    /// The `event_journal` object of the status reply, nil while no journal is open.
    public var journalStatusObject: [String: Any]? {
        guard let figures = journalFigures else { return nil }
        var object: [String: Any] = ["path": figures.path, "sync": figures.sync,
                                     "events_kept": figures.statistics.kept,
                                     "commits": Int(figures.statistics.commits),
                                     "failed_commits": Int(figures.statistics.failedCommits)]
        if let failure = figures.statistics.lastFailure { object["last_failure"] = failure }
        return object
    }

    /// `pid` defaults to this process's.
    public init(pid: Int32? = nil, started: Int64, configPath: String) {
        self.pid = pid ?? getpid()
        self.started = started
        reloads = Mutex(Reloads(lastSuccess: started))
        // Relative to the directory the daemon started in, which an operator reading the status may not know.
        self.configPath = configPath.hasPrefix("/") ? configPath
            : URL(fileURLWithPath: configPath, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                .standardizedFileURL.path
    }

    /// The last reload since the start, nil before the first.
    public var lastReload: Reload? { reloads.withLock { $0.last } }

    /// Reloads since the start by outcome, and when the configuration was last loaded successfully (ms since 1970).
    public var reloadCounts: (succeeded: UInt64, failed: UInt64, lastSuccess: Int64) {
        reloads.withLock { ($0.succeeded, $0.failed, $0.lastSuccess) }
    }

    public func record(_ outcome: Reload) {
        reloads.withLock { reloads in
            reloads.last = outcome
            if outcome.succeeded {
                reloads.succeeded += 1
                reloads.lastSuccess = outcome.time
            } else {
                reloads.failed += 1
            }
        }
    }

    /// The `daemon` object of the status reply: `pid`, `started` and `last_reload.time` as ISO 8601 UTC,
    /// `config` as given on the command line (made absolute), `last_reload` null before the first reload.
    public var statusObject: [String: Any] {
        let counts = reloadCounts
        var object: [String: Any] = ["pid": Int(pid), "started": Self.isoTime(started), "config": configPath,
                                     "reloads": ["ok": Int(counts.succeeded), "failed": Int(counts.failed)]]
        if let last = lastReload {
            object["last_reload"] = ["time": Self.isoTime(last.time), "ok": last.succeeded, "message": last.message]
        } else {
            object["last_reload"] = NSNull()
        }
        return object
    }

    /// `2026-12-04T18:02:11.250Z`.
    public static func isoTime(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds % 1000), 3))Z"
    }
}
