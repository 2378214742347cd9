import Logging
import Server
import ServiceLifecycle
import UnixSignals

// The daemon's services. `RunningDaemon` lists them in one ServiceGroup; a graceful shutdown stops them one at a
// time in the reverse of that order, each finishing before the next is told, which gives the stop its order.
// Every service also does its stop step when it is cancelled instead (a service that failed cancels the group),
// so that state is saved and systemd hears STOPPING=1 on every way out.

/// Waits for SIGTERM or SIGINT and names it in the log; its return starts the graceful shutdown of the group
/// (it runs with `successTerminationBehavior: .gracefullyShutdownGroup`).
struct StopSignalService: Service {
    let signals: DaemonSignals.Signals
    let logger: Logger

    func run() async {
        guard let signal = await Self.first(of: signals) else { return }  // the stop was triggered otherwise
        logger.notice("stopping on \(signalName(signal.rawValue))")
        DaemonSignals.restoreDefaultStopActions()
    }

    private static func first<Signals: AsyncSequence<UnixSignal, Never> & Sendable>(of signals: Signals) async -> UnixSignal? {
        for await signal in signals.cancelOnGracefulShutdown() { return signal }
        return nil
    }
}

/// Holds the systemd supervision started with `READY=1` (watchdog pings and the status refresh run on the event
/// loop); the first to stop: the daemon is `stopping` and systemd hears `STOPPING=1` before anything closes.
struct SupervisionService: Service {
    let supervision: SystemdSupervision
    let lifecycle: DaemonLifecycle

    func run() async {
        try? await gracefulShutdown()  // throws on cancellation: stop all the same
        // Under the lifecycle's lock, so that a reload ending now cannot slip its READY=1 in after this.
        if !lifecycle.advance(to: .stopping, announce: supervision.stopping) { supervision.stopping() }
    }
}

/// Reloads the configuration on every SIGHUP. Stops before the control socket and the server, after a reload in
/// progress has finished (the reloader does not send `READY=1` once the daemon is stopping).
struct ReloadService: Service {
    let signals: DaemonSignals.Signals
    let reloader: Reloader

    func run() async {
        await Self.reload(on: signals, reloader)
    }

    private static func reload<Signals: AsyncSequence<UnixSignal, Never> & Sendable>(on signals: Signals,
                                                                                     _ reloader: Reloader) async {
        for await _ in signals.cancelOnGracefulShutdown() { _ = await reloader.reload() }
    }
}

/// Logs a warning when a listener's certificate nears its expiry, once a day.
struct CertificateExpiryService: Service {
    let server: OutstationServer
    let logger: Logger

    func run() async {
        await repeatUntilShutdown(every: TLSSetup.expiryCheckInterval) {
            guard let listeners = try? await server.listenersInForce().get() else { return }
            TLSSetup.reportExpiry(listeners, logger: logger)
        }
    }
}

/// Writes the counters and retained values every `interval`, and once more at stop: after the control socket
/// has closed, while the masters are still connected (their last values are the ones to keep).
struct StateSaveService: Service {
    let store: StateStore
    let server: OutstationServer
    let logger: Logger
    var interval: Duration = stateSaveInterval

    func run() async {
        await repeatUntilShutdown(every: interval) { await saveState(to: store, from: server, logger: logger) }
        await saveState(to: store, from: server, logger: logger)
    }
}

/// The IEC 104 server: runs the masters' commands until the stop, then closes the listeners and every
/// connection and cancels the commands still running (a spawned command is killed).
struct ProtocolServerService: Service {
    let server: OutstationServer

    func run() async {
        await withDiscardingTaskGroup { commands in
            commands.addTask { await server.runCommands() }
            try? await gracefulShutdown()
            // Also ends `runCommands`' intake; what is in flight is cancelled below.
            try? await server.stop().get()
            commands.cancelAll()
        }
    }
}

/// The persistent handlers' coprocesses and the feeders, restarted with back-off while they run; stopped last,
/// when nothing can send them a command any more (SIGTERM, then SIGKILL after the grace period).
struct HostProcessesService: Service {
    let processes: HostProcesses

    func run() async {
        await cancelWhenGracefulShutdown { [processes] in await processes.run() }
    }
}

/// Calls `body` every `interval` until graceful shutdown or cancellation; a shutdown during the wait ends it at once.
func repeatUntilShutdown(every interval: Duration, _ body: () async -> Void) async {
    while !Task.isCancelled, !Task.isShuttingDownGracefully {
        do {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        } catch {
            return
        }
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        await body()
    }
}
