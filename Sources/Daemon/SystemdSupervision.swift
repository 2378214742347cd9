public import Logging
public import Server

/// The daemon's side of the systemd contract, in one place: `READY=1` once everything is bound,
/// `STATUS=` kept current, watchdog pings from the event loop, `RELOADING=1`…`READY=1` around a
/// reload and `STOPPING=1` on stop. Without `NOTIFY_SOCKET` every call does nothing.
///
/// The reload code calls:
///
///     systemd.reloading()                       // on SIGHUP, before reading the config
///     await systemd.reloaded(.succeeded)        // or .failed("file:line: message"); sends READY=1
public struct SystemdSupervision: Sendable {
    public let notifier: SystemdNotifier
    public let status: StatusReporter
    private let pinger: WatchdogPinger

    /// Call when every listener and the control socket are bound: sends `READY=1` with the first
    /// status and starts the watchdog pings and the status refresh on the server's event loop.
    public static func started(server: OutstationServer, logger: Logger,
                               notifier: SystemdNotifier = .fromEnvironment()) async -> SystemdSupervision {
        let status = StatusReporter(notifier: notifier, server: server)
        let first = (try? await status.current().get())?.text
        notifier.ready(status: first)
        let pinger = WatchdogPinger.start(on: server.eventLoop, notifier: notifier)
        status.start()
        if notifier.isActive {
            logger.debug("notified systemd: ready", metadata: [
                "watchdog": "\(notifier.watchdogInterval.map { "\($0)" } ?? "off")"])
        }
        return SystemdSupervision(notifier: notifier, status: status, pinger: pinger)
    }

    /// A reload has begun.
    public func reloading() {
        notifier.reloading(status: "reloading the configuration")
    }

    /// A reload has ended, well or not: records the outcome in the status and sends `READY=1`
    /// (the daemon keeps serving the old configuration after a failed reload).
    public func reloaded(_ outcome: ReloadOutcome) async {
        await reloaded(outcome, lifecycle: nil)
    }

    /// As ``reloaded(_:)``, but sends `READY=1` only if `lifecycle` goes back from `reloading` to `running`:
    /// once the stop has begun, systemd has heard `STOPPING=1` and must not hear `READY=1` after it.
    func reloaded(_ outcome: ReloadOutcome, lifecycle: DaemonLifecycle?) async {
        status.record(outcome)
        let text = (try? await status.current().get())?.text
        guard let lifecycle else {
            notifier.ready(status: text)
            return
        }
        lifecycle.advance(from: .reloading, to: .running) { notifier.ready(status: text) }
    }

    /// Shutdown has begun: stops the pings and the refresh, sends `STOPPING=1`.
    public func stopping() {
        pinger.stop()
        status.stop()
        notifier.stopping(status: "stopping")
    }
}
