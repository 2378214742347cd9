import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// Tells the service manager about the daemon's state through sd_notify(3).
///
/// Every call is a no-op when `NOTIFY_SOCKET` is unset (the daemon was not started by systemd
/// with `Type=notify`), so the daemon calls it unconditionally. The unit is `Type=notify` with
/// `ExecReload=/bin/kill -HUP $MAINPID` (systemd 252 has no `Type=notify-reload`): a reload is
/// announced with ``reloading(status:)`` and finished with ``ready(status:)``.
public struct SystemdNotifier: Sendable {
    /// Whether `NOTIFY_SOCKET` was set when the notifier was made.
    public let isActive: Bool
    /// The keep-alive interval systemd expects (`WatchdogSec=`), when the watchdog is enabled for this process.
    public let watchdogInterval: Duration?
    private let transport: @Sendable (String) -> Int32

    /// The notifier for this process, from `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`.
    public static func fromEnvironment() -> SystemdNotifier {
        let usec = rtu104d_sd_watchdog_usec()
        return SystemdNotifier(isActive: getenv("NOTIFY_SOCKET") != nil,
                               watchdogInterval: usec > 0 ? .microseconds(Int64(clamping: usec)) : nil) { state in
            rtu104d_sd_notify(state)
        }
    }

    /// A notifier that hands every message to `transport` (tests); `transport` returns what sd_notify would.
    public init(isActive: Bool = true, watchdogInterval: Duration? = nil,
                transport: @escaping @Sendable (String) -> Int32) {
        self.isActive = isActive
        self.watchdogInterval = watchdogInterval
        self.transport = transport
    }

    /// A notifier that never sends anything.
    public static let disabled = SystemdNotifier(isActive: false, watchdogInterval: nil) { _ in 0 }

    /// Startup (or a reload) is complete: every listener and the control socket are bound.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        send(Self.message(["READY=1"], status: status))
    }

    /// A reload has begun (`SIGHUP`); follow it with ``ready(status:)`` whether it succeeded or not.
    @discardableResult
    public func reloading(status: String? = nil) -> Bool {
        send(Self.message(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"], status: status))
    }

    /// Shutdown has begun.
    @discardableResult
    public func stopping(status: String? = nil) -> Bool {
        send(Self.message(["STOPPING=1"], status: status))
    }

    /// A one-line status shown by `systemctl status rtu104d`.
    @discardableResult
    public func status(_ text: String) -> Bool {
        send(Self.message([], status: text))
    }

    /// The watchdog keep-alive. Send it from the event loop, so that a stuck loop stops the pings.
    @discardableResult
    public func watchdog() -> Bool {
        send("WATCHDOG=1")
    }

    /// Sends `state` as it is; false when it was not delivered (or there is no service manager).
    @discardableResult
    public func send(_ state: String) -> Bool {
        guard isActive else { return false }
        return transport(state) > 0
    }

    /// Newline-separated assignments; a status is made single-line, as sd_notify requires.
    static func message(_ assignments: [String], status: String?) -> String {
        var lines = assignments
        if let status { lines.append("STATUS=" + Self.singleLine(status)) }
        return lines.joined(separator: "\n")
    }

    static func singleLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }

    /// CLOCK_MONOTONIC in microseconds, as systemd expects in `MONOTONIC_USEC=`.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
