public import Config
public import Logging
import Outstation
public import Server

/// How a reload went, for the log and the control socket.
public struct ReloadResult: Sendable {
    public let succeeded: Bool
    public let message: String
}

/// Reads and validates the whole configuration again, then applies it to the running server.
/// One reload at a time; a configuration with any error changes nothing.
public actor Reloader {
    private let configPath: String
    private let overrides: DaemonOverrides
    private let server: OutstationServer
    let processes: HostProcesses?
    private let controlSettings: ControlSocketSettings?
    private let logger: Logger
    /// The configuration in force, without its point table (the process image holds the points).
    public private(set) var configuration: DaemonConfiguration
    public private(set) var lastOutcome: ReloadResult?
    private var systemd: SystemdSupervision?
    /// pid, start time, configuration file and the last reload, for the status reply (read off the actor).
    public nonisolated let record: DaemonRecord

    /// The daemon's state: a reload runs only while it serves, and one that ends after the stop began keeps quiet.
    private let lifecycle: DaemonLifecycle?

    /// The metrics endpoint's address as bound at start (a reload does not move it).
    private let metricsInForce: String?

    public init(configuration: DaemonConfiguration, overrides: DaemonOverrides, server: OutstationServer,
                processes: HostProcesses? = nil, controlSettings: ControlSocketSettings? = nil, logger: Logger,
                record: DaemonRecord? = nil, lifecycle: DaemonLifecycle? = nil) {
        self.lifecycle = lifecycle
        self.record = record ?? DaemonRecord(started: SystemClock.wallMilliseconds(), configPath: configuration.configPath)
        self.configPath = configuration.configPath
        self.overrides = overrides
        self.server = server
        self.processes = processes
        self.controlSettings = controlSettings
        self.logger = logger
        self.configuration = configuration
        self.configuration.dropPointTable()
        metricsInForce = configuration.metrics.map(\.address)
    }

    /// Tells systemd about every reload from now on (RELOADING=1 … READY=1, STATUS=).
    public func report(to supervision: SystemdSupervision) {
        systemd = supervision
    }

    public func reload() async -> ReloadResult {
        // The services stop the SIGHUP loop and the control socket early in the stop; this catches the request
        // that slipped in just before.
        if let lifecycle, !lifecycle.advance(from: .running, to: .reloading) {
            let outcome = ReloadResult(succeeded: false, message: "reload refused: rtu104d is \(lifecycle.state.rawValue)")
            logger.warning("\(outcome.message)")
            return outcome
        }
        systemd?.reloading()
        logger.notice("reloading configuration", metadata: ["config": "\(configPath)"])
        let outcome: ReloadResult
        switch ConfigurationLoader.load(configPath: configPath, overrides: overrides) {
        case .failure(let problems):
            for error in problems.errors { logger.error("reload: \(error)") }
            outcome = ReloadResult(succeeded: false, message:
                "reload failed with \(problems.errors.count) error(s), first: \(problems.errors.first.map { "\($0)" } ?? "?"); the running configuration stays")
        case .success(let loaded):
            for warning in loaded.warnings { logger.warning("reload: \(warning)") }
            do {
                // Certificates, keys, CA bundles and CRLs are read again; a broken one fails the reload here.
                let listeners = try TLSSetup.listenerSettings(loaded)
                TLSSetup.reportCertificates(listeners, logger: logger)
                // The new image is built here, off the event loop, while the old one serves; the loop only swaps.
                let prepared = try await server.prepareImage(points: loaded.points)
                // A station that starts journaling needs the journal open before it records its first event.
                if record.journalWriter == nil, loaded.stations.contains(where: \.eventJournal),
                   let journal = await EventJournalSetup.attach(loaded, to: server, restoring: false, logger: logger) {
                    record.attach(journal: journal)
                }
                let report = try await server.reload(listeners: listeners, prepared: prepared, stations: loaded.stations).get()
                let fileAreaChanges = FileAreaChanges.describe(from: configuration.fileAreas, to: loaded.fileAreas)
                if fileAreaChanges != nil { try await server.replaceFileAreas(loaded.fileAreas).get() }
                configuration = loaded
                configuration.dropPointTable()
                controlSettings?.errorLimit = loaded.daemon.controlErrorLimit
                let processChanges = processes?.reconfigure(loaded)
                let metrics = loaded.metrics.map(\.address)
                if metrics != metricsInForce {
                    let text = "reload: [metrics] changed to \(metrics.map { "listen = \($0)" } ?? "no endpoint"); the endpoint "
                        + "stays \(metricsInForce.map { "on \($0)" } ?? "off") until rtu104d is restarted"
                    logger.warning("\(text)")
                }
                outcome = ReloadResult(succeeded: true, message: "configuration reloaded: \(report.summary)"
                                       + (processChanges.map { "; \($0.summary)" } ?? "")
                                       + (fileAreaChanges.map { "; \($0)" } ?? ""))
            } catch {
                outcome = ReloadResult(succeeded: false, message: "reload failed: \(error); the running configuration stays")
            }
        }
        if outcome.succeeded { logger.notice("\(outcome.message)") } else { logger.error("\(outcome.message)") }
        FreedMemory.returnToSystem()  // the parse of the new (or rejected) configuration is garbage now
        record.record(DaemonRecord.Reload(time: SystemClock.wallMilliseconds(), succeeded: outcome.succeeded,
                                          message: outcome.message))
        // READY=1 only while the daemon still serves: after STOPPING=1 it would tell systemd the opposite.
        if let systemd {
            await systemd.reloaded(outcome.succeeded ? .succeeded : .failed(outcome.message), lifecycle: lifecycle)
        } else {
            lifecycle?.advance(from: .reloading, to: .running)
        }
        lastOutcome = outcome
        return outcome
    }
}
