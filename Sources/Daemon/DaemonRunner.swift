public import Config
public import Logging
import NIOCore
import NIOPosix
import Outstation
import Monitoring
import Server
import ServiceLifecycle
import Synchronization

/// Builds the outstation from a validated configuration and serves it until told to stop.
public enum DaemonRunner {
    /// Serves `loaded`; returns after a stop signal and an orderly stop of every service.
    public static func serve(_ loaded: consuming DaemonConfiguration, overrides: DaemonOverrides, logger: Logger,
                             signals: DaemonSignals) async throws {
        let daemon = try await start(consume loaded, overrides: overrides, logger: logger, signals: signals)
        try await daemon.run()
    }

    /// Builds the image and the server, binds every listener and the control socket, restores the saved state
    /// and tells systemd `READY=1`; the daemon serves from then on, and its services run in ``RunningDaemon/run()``.
    /// `loaded` is consumed: its point table is dropped once the process image holds the points (a million
    /// points are 56 MB as definitions, which the image keeps in its own sorted copy).
    public static func start(_ loaded: consuming DaemonConfiguration, overrides: DaemonOverrides, logger: Logger,
                             signals: DaemonSignals, notifier: SystemdNotifier = .fromEnvironment()) async throws -> RunningDaemon {
        var configuration = consume loaded
        let lifecycle = DaemonLifecycle()
        let record = DaemonRecord(started: SystemClock.wallMilliseconds(), configPath: configuration.configPath)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let pointCount = configuration.points.monitorPoints.count + configuration.points.commandPoints.count
        let outstation: NIOLoopBound<Outstation>
        do {
            let points = configuration.points, stations = configuration.stations
            let startNotTopical = configuration.daemon.startQuality == .notTopical
            let fileAreas = configuration.fileAreas
            outstation = try await eventLoop.submit {
                NIOLoopBound(Outstation(points: points, stations: stations,
                                        now: SystemClock.monotonicNow(), wallTime: SystemClock.wallMilliseconds(),
                                        startNotTopical: startNotTopical, fileAreas: fileAreas),
                             eventLoop: eventLoop)
            }.get()
        }
        ChildProcess.ignoreBrokenPipes()
        let serverBox = ServerBox()
        // Feeders and handlers wait here while the masters' queues are full (back-pressure).
        func apply(from source: UpdateSource) -> UpdateSink {
            { updates in
                guard let server = serverBox.server, !updates.isEmpty else { return }
                do {
                    _ = try await server.ingest(updates, source: source).get()
                } catch {
                    logger.warning("point update refused: \(error)")
                }
            }
        }
        let processes = HostProcesses(configuration: configuration, logger: logger, feederUpdates: apply(from: .feeder),
                                      handlerUpdates: apply(from: .handler),
                                      invalidate: { points in
                                          guard let server = serverBox.server, !points.isEmpty else { return [] }
                                          return (try? await server.invalidate(points: points).get()) ?? []
                                      })
        configuration.dropPointTable()
        let stateStore = StateStore(directory: configuration.daemon.stateDirectory)
        let saved = loadState(from: stateStore, logger: logger)
        let fileAddresses = saved?.fileAddresses ?? []
        let (server, rememberedFiles) = try await eventLoop.submit {
            // Before the server starts the first directory scans, so that every file is listed at its old address.
            // Addresses of folders no area serves any more are forgotten here.
            outstation.value.files.remember(fileAddresses)
            let remembered = outstation.value.files.addressesToKeep.count
            return (OutstationServer(eventLoop: eventLoop, logger: logger, outstation: outstation.value,
                                     commandHandler: processes), remembered)
        }.get()
        serverBox.server = server
        if let saved {
            await restore(saved, rememberedFiles: rememberedFiles, from: stateStore, into: server, logger: logger)
        }
        let journal = await EventJournalSetup.attach(configuration, to: server, logger: logger)
        if let journal { record.attach(journal: journal) }
        let metricsEndpoint: MetricsHTTPServer?
        do {
            let listeners = try TLSSetup.listenerSettings(configuration)
            TLSSetup.reportCertificates(listeners, logger: logger)
            try await server.start(listeners: listeners).get()
            metricsEndpoint = try await DaemonMetrics.start(configuration.metrics, server: server, processes: processes,
                                                            record: record, logger: logger)
        } catch {
            try? await server.stop().get()
            try? await group.shutdownGracefully()
            lifecycle.advance(to: .stopped)
            throw error
        }
        let controlSettings = ControlSocketSettings(errorLimit: configuration.daemon.controlErrorLimit)
        let reloader = Reloader(configuration: configuration, overrides: overrides, server: server, processes: processes,
                                controlSettings: controlSettings, logger: logger, record: record, lifecycle: lifecycle)
        let control: ControlSocket
        do {
            control = try await ControlSocket.bind(path: configuration.daemon.controlSocket,
                                                   mode: configuration.daemon.controlSocketMode,
                                                   group: configuration.daemon.controlSocketGroup,
                                                   settings: controlSettings, server: server,
                                                   reloader: reloader, logger: logger)
        } catch {
            await metricsEndpoint?.stop()
            try? await server.stop().get()
            try? await group.shutdownGracefully()
            lifecycle.advance(to: .stopped)
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
        // Sent before any service runs, so that a SIGHUP that came during start-up reloads after READY=1.
        let systemd = await SystemdSupervision.started(server: server, logger: logger, notifier: notifier)
        await reloader.report(to: systemd)
        lifecycle.advance(to: .running)

        // Listed in start order; a graceful shutdown stops them in reverse, one after the other: STOPPING=1, no
        // more reloads, the control socket closes, the state is saved, the server closes its listeners and
        // connections and cancels running commands, and last the coprocesses and feeders get SIGTERM (then SIGKILL).
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: EventJournalService(record: record, server: server, logger: logger), serviceName: "event journal"),
            .init(service: HostProcessesService(processes: processes), serviceName: "handlers and feeders"),
            .init(service: ProtocolServerService(server: server), serviceName: "IEC 104 server"),
        ]
        if let metricsEndpoint { services.append(.init(service: MetricsService(endpoint: metricsEndpoint), serviceName: "metrics endpoint")) }
        services += [
            .init(service: StateSaveService(store: stateStore, server: server, logger: logger), serviceName: "state saving"),
            .init(service: control, serviceName: "control socket"),
            .init(service: CertificateExpiryService(server: server, logger: logger), serviceName: "certificate expiry check"),
            .init(service: ReloadService(signals: signals.reload, reloader: reloader), serviceName: "reload on SIGHUP"),
            .init(service: SupervisionService(supervision: systemd, lifecycle: lifecycle), serviceName: "systemd supervision"),
            .init(service: StopSignalService(signals: signals.stop, logger: logger),
                  successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "stop on SIGTERM or SIGINT"),
        ]
        return RunningDaemon(services: services, eventLoopGroup: group, lifecycle: lifecycle, controlSocketPath: control.path,
                             stateFilePath: stateStore.path, logger: logger)
    }
}

/// A daemon that serves: its services in one ServiceGroup, run by ``run()``.
public final class RunningDaemon: Sendable {
    public let lifecycle: DaemonLifecycle
    public let controlSocketPath: String
    public let stateFilePath: String
    private let group: ServiceGroup
    private let eventLoopGroup: MultiThreadedEventLoopGroup
    private let logger: Logger

    init(services: [ServiceGroupConfiguration.ServiceConfiguration], eventLoopGroup: MultiThreadedEventLoopGroup,
         lifecycle: DaemonLifecycle, controlSocketPath: String, stateFilePath: String, logger: Logger) {
        // The group's own lines are debug chatter about its mechanics; the daemon logs its stop in its own words.
        var groupLogger = logger
        groupLogger.logLevel = max(logger.logLevel, .info)
        group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: groupLogger))
        self.eventLoopGroup = eventLoopGroup
        self.lifecycle = lifecycle
        self.controlSocketPath = controlSocketPath
        self.stateFilePath = stateFilePath
        self.logger = logger
    }

    /// Runs every service until a stop signal (or ``triggerGracefulShutdown()``), stops them in order and shuts
    /// the event loop down. Throws when a service ended on its own, after the others were cancelled.
    public func run() async throws {
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
        }
        try? await eventLoopGroup.shutdownGracefully()
        lifecycle.advance(to: .stopping)  // already so unless every service was cancelled
        lifecycle.advance(to: .stopped)
        if let failure { throw failure }
        logger.notice("rtu104d stopped")
    }

    /// Stops the daemon as SIGTERM does, without a signal (tests).
    public func triggerGracefulShutdown() async {
        await group.triggerGracefulShutdown()
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

/// The state file's contents; nil, logged, when there is none yet or it cannot be used.
func loadState(from store: StateStore, logger: Logger) -> SavedState? {
    do {
        guard let saved = try store.load() else {
            logger.info("no state file yet", metadata: ["path": "\(store.path)"])
            return nil
        }
        return saved
    } catch {
        logger.error("ignoring the state file: \(error)", metadata: ["path": "\(store.path)"])
        return nil
    }
}

/// Puts the saved values back into the image; the file addresses went to the catalog before the server existed.
func restore(_ saved: SavedState, rememberedFiles: Int, from store: StateStore, into server: OutstationServer,
             logger: Logger) async {
    do {
        let restored = try await server.perform { outstation in saved.points.filter { outstation.image.restore($0) }.count }.get()
        if !saved.points.isEmpty || saved.fileAddresses.isEmpty {
            logger.notice("restored \(restored) of \(saved.points.count) saved values", metadata: ["path": "\(store.path)"])
        }
        if rememberedFiles > 0 {
            let text = rememberedFiles == 1 ? "1 file is listed again at its address"
                : "\(rememberedFiles) files are listed again at their addresses"
            logger.info("file transfer: \(text) of the last run, if they are still there", metadata: ["path": "\(store.path)"])
        }
        // Simulated counters and walks go on from the restored readings, not from the configured values.
        if restored > 0 { try await server.resumeSimulation().get() }
    } catch {
        // The file was read; only a server that is already stopping refuses the values.
        logger.error("cannot restore the saved values: \(error)", metadata: ["path": "\(store.path)"])
    }
}

func saveState(to store: StateStore, from server: OutstationServer, logger: Logger) async {
    do {
        let state = try await server.inspect { outstation in
            SavedState(points: outstation.image.persistentState, fileAddresses: outstation.files.addressesToKeep)
        }.get()
        // An empty state is written over an earlier one, so that it does not come back at the next start.
        guard !state.isEmpty || store.exists else { return }
        try store.save(state, savedAt: SystemClock.wallMilliseconds())
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
