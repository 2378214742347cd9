public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon logs (`rtu104d --log-target`).
public enum LogTarget: String, CaseIterable, Sendable {
    /// The journal when stderr is connected to it (`JOURNAL_STREAM` names stderr), else stderr.
    case auto
    /// The journal, with structured fields.
    case journal
    /// Readable lines on stderr.
    case stderr
}

/// Chooses and makes the log handler.
public enum LogHandlerFactory {
    /// journald's native socket. sd_journal_sendv(3) succeeds silently when it is missing, so the
    /// daemon checks for it rather than lose every line in a container without journald.
    public static let journalSocket = "/run/systemd/journal/socket"

    public static var journalAvailable: Bool { access(journalSocket, F_OK) == 0 }

    /// The target in use: `.journal` or `.stderr`. `auto` is the journal when stderr is the stream systemd
    /// connected to it; `journal` falls back to stderr when journald is not running.
    public static func resolve(_ target: LogTarget, journalStream: String? = LogHandlerFactory.environment("JOURNAL_STREAM"),
                               standardError: (device: UInt64, inode: UInt64)? = LogHandlerFactory.standardErrorIdentity(),
                               journalAvailable: Bool = LogHandlerFactory.journalAvailable) -> LogTarget {
        switch target {
        case .stderr: return .stderr
        case .journal: return journalAvailable ? .journal : .stderr
        case .auto:
            guard let stream = journalStream.flatMap(parseJournalStream), let standardError,
                  stream == standardError, journalAvailable else { return .stderr }
            return .journal
        }
    }

    /// `JOURNAL_STREAM` is `DEVICE:INODE` of the stream systemd connected stdout/stderr to (systemd.exec(5)).
    public static func parseJournalStream(_ text: String) -> (device: UInt64, inode: UInt64)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        return (device, inode)
    }

    public static func standardErrorIdentity() -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// A handler for `label` at `level` for a resolved target (`.journal` or `.stderr`).
    public static func makeHandler(label: String, level: Logger.Level, target: LogTarget) -> any LogHandler {
        switch target {
        case .journal:
            var handler = JournalLogHandler(label: label)
            handler.logLevel = level
            return handler
        case .stderr, .auto:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Bootstraps swift-log once for the process; returns the target in use.
    @discardableResult
    public static func bootstrap(level: Logger.Level, target: LogTarget) -> LogTarget {
        let resolved = resolve(target)
        LoggingSystem.bootstrap { label in makeHandler(label: label, level: level, target: resolved) }
        return resolved
    }
}
