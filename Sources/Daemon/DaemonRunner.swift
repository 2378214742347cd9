public import Config
public import Logging
import NIOCore
import NIOPosix
import Outstation
import Server
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Builds the outstation from a validated configuration and serves it until told to stop.
public enum DaemonRunner {
    /// Serves `loaded`; returns after `stopSignals` yields and every connection is closed.
    /// `loaded` is consumed: its point table is dropped once the process image holds the points (a million
    /// points are 56 MB as definitions, which the image keeps in its own sorted copy).
    public static func serve(_ loaded: consuming DaemonConfiguration, overrides: DaemonOverrides, logger: Logger,
                             stopSignals: AsyncStream<Int32>, reloadSignals: AsyncStream<Int32>) async throws {
        var configuration = consume loaded
        let record = DaemonRecord(started: SystemClock.wallMilliseconds(), configPath: configuration.configPath)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let pointCount = configuration.points.monitorPoints.count + configuration.points.commandPoints.count
        let outstation: NIOLoopBound<Outstation>
        do {
            let points = configuration.points, stations = configuration.stations
            outstation = try await eventLoop.submit {
                NIOLoopBound(Outstation(points: points, stations: stations,
                                        now: SystemClock.monotonicNow(), wallTime: SystemClock.wallMilliseconds()),
                             eventLoop: eventLoop)
            }.get()
        }
        ChildProcess.ignoreBrokenPipes()
        let serverBox = ServerBox()
        // Feeders and handlers wait here while the masters' queues are full (back-pressure).
        let apply: UpdateSink = { updates in
            guard let server = serverBox.server, !updates.isEmpty else { return }
            do {
                _ = try await server.ingest(updates).get()
            } catch {
                logger.warning("point update refused: \(error)")
            }
        }
        let processes = HostProcesses(configuration: configuration, logger: logger, apply: apply)
        configuration.dropPointTable()
        let server = try await eventLoop.submit {
            OutstationServer(eventLoop: eventLoop, logger: logger, outstation: outstation.value, commandHandler: processes)
        }.get()
        serverBox.server = server
        let stateStore = StateStore(directory: configuration.daemon.stateDirectory)
        await restoreState(from: stateStore, into: server, logger: logger)
        do {
            let listeners = try TLSSetup.listenerSettings(configuration)
            TLSSetup.reportCertificates(listeners, logger: logger)
            try await server.start(listeners: listeners).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let controlSettings = ControlSocketSettings(errorLimit: configuration.daemon.controlErrorLimit)
        let reloader = Reloader(configuration: configuration, overrides: overrides, server: server, processes: processes,
                                controlSettings: controlSettings, logger: logger, record: record)
        let control: ControlSocket
        do {
            control = try await ControlSocket.bind(path: configuration.daemon.controlSocket,
                                                   mode: configuration.daemon.controlSocketMode,
                                                   group: configuration.daemon.controlSocketGroup,
                                                   settings: controlSettings, server: server,
                                                   reloader: reloader, logger: logger)
        } catch {
            try? await server.stop().get()
            try? await group.shutdownGracefully()
            throw error
        }
        logger.notice("control socket ready", metadata: ["path": "\(control.path)"])
        let ports = try await server.boundPorts().get()
        for listener in configuration.listeners {
            let host = listener.host.contains(":") ? "[\(listener.host)]" : listener.host
            logger.notice("listening", metadata: ["listener": "\(listener.name)",
                                                  "address": "\(host):\(ports[listener.name] ?? listener.port)"])
        }
        FreedMemory.returnToSystem()
        logger.notice("rtu104d ready", metadata: [
            "stations": "\(configuration.stations.count)",
            "points": "\(pointCount)",
            "handlers": "\(configuration.handlers.count)", "feeders": "\(configuration.feeders.count)"])
        // systemd: READY=1 now that every listener and the control socket are bound; watchdog and STATUS=.
        let systemd = await SystemdSupervision.started(server: server, logger: logger)
        await reloader.report(to: systemd)

        // Commands, persistent handlers, feeders, reloads and state saving are child tasks of this group:
        // stopping cancels them (spawned commands are killed, coprocesses and feeders get SIGTERM, then
        // SIGKILL) and waits for them.
        await withDiscardingTaskGroup { tasks in
            tasks.addTask { await server.runCommands() }
            tasks.addTask { await processes.run() }
            tasks.addTask {
                for await _ in reloadSignals { _ = await reloader.reload() }
            }
            tasks.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: TLSSetup.expiryCheckInterval)
                    guard !Task.isCancelled, let listeners = try? await server.listenersInForce().get() else { continue }
                    TLSSetup.reportExpiry(listeners, logger: logger)
                }
            }
            tasks.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: stateSaveInterval)
                    guard !Task.isCancelled else { break }
                    await saveState(to: stateStore, from: server, logger: logger)
                }
            }
            for await signal in stopSignals {
                logger.notice("stopping on \(signalName(signal))")
                break
            }
            // An operator who signals again does not want to wait for the orderly stop: the default
            // action ends the process at once.
            signal(SIGTERM, SIG_DFL)
            signal(SIGINT, SIG_DFL)
            systemd.stopping()
            await control.close()
            await saveState(to: stateStore, from: server, logger: logger)
            try? await server.stop().get()
            tasks.cancelAll()
        }
        try await group.shutdownGracefully()
        logger.notice("rtu104d stopped")
    }
}

extension DaemonConfiguration {
    /// Drops the points and their places once the outstation's process image holds them: nothing after start-up
    /// or a reload reads them from the configuration, and a million points are some 75 MB.
    mutating func dropPointTable() {
        points = PointTable()
        pointSources = PointSources()
    }
}

/// How often counters and retained values are written to the state file (and always at stop).
let stateSaveInterval: Duration = .seconds(10)

func restoreState(from store: StateStore, into server: OutstationServer, logger: Logger) async {
    do {
        guard let saved = try store.load() else {
            logger.info("no state file yet", metadata: ["path": "\(store.path)"])
            return
        }
        let restored = try await server.perform { outstation in saved.filter { outstation.image.restore($0) }.count }.get()
        logger.notice("restored \(restored) of \(saved.count) saved values", metadata: ["path": "\(store.path)"])
    } catch {
        logger.error("ignoring the state file: \(error)", metadata: ["path": "\(store.path)"])
    }
}

func saveState(to store: StateStore, from server: OutstationServer, logger: Logger) async {
    do {
        let snapshot = try await server.inspect { $0.image.persistentState }.get()
        guard !snapshot.isEmpty else { return }
        try store.save(snapshot, savedAt: SystemClock.wallMilliseconds())
    } catch {
        logger.error("cannot save state: \(error)", metadata: ["path": "\(store.path)"])
    }
}

/// The server, set once it exists, for updates that handlers and feeders print.
private final class ServerBox: Sendable {
    private let value = Mutex<OutstationServer?>(nil)
    var server: OutstationServer? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// `SIGTERM`, as `kill -l` and systemd name it; the number only for a signal without a usual name.
func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGTERM: "SIGTERM"
    case SIGINT: "SIGINT"
    case SIGHUP: "SIGHUP"
    case SIGQUIT: "SIGQUIT"
    default: "signal \(signal)"
    }
}
