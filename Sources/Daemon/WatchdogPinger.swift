public import NIOCore

/// Sends `WATCHDOG=1` at half the `WatchdogSec=` interval from a task scheduled on the outstation's
/// event loop: when that loop is blocked the pings stop, and systemd restarts the daemon
/// (`Restart=on-failure`) after the interval.
public struct WatchdogPinger: Sendable {
    private let task: RepeatedTask?

    /// The ping period for a watchdog interval: half of it, as sd_watchdog_enabled(3) recommends.
    public static func period(for interval: Duration) -> TimeAmount {
        let (seconds, attoseconds) = interval.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        return .nanoseconds(max(nanoseconds / 2, 1_000_000))
    }

    /// Starts pinging when the notifier's watchdog is enabled; otherwise does nothing.
    public static func start(on eventLoop: any EventLoop, notifier: SystemdNotifier) -> WatchdogPinger {
        guard notifier.isActive, let interval = notifier.watchdogInterval else { return WatchdogPinger(task: nil) }
        let task = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: period(for: interval)) { _ in
            notifier.watchdog()
        }
        return WatchdogPinger(task: task)
    }

    /// Whether pings are being sent.
    public var isRunning: Bool { task != nil }

    public func stop() {
        task?.cancel()
    }
}
