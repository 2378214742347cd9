public import Config
public import Logging
import Outstation
public import Server

/// How a reload went, for the log, the control socket and systemd's STATUS=.
public struct ReloadOutcome: Sendable {
    public let succeeded: Bool
    public let message: String
}

/// Reads and validates the whole configuration again, then applies it to the running server.
/// One reload at a time; a configuration with any error changes nothing.
public actor Reloader {
    private let configPath: String
    private let overrides: DaemonOverrides
    private let server: OutstationServer
    private let logger: Logger
    public private(set) var configuration: DaemonConfiguration
    public private(set) var lastOutcome: ReloadOutcome?

    public init(configuration: DaemonConfiguration, overrides: DaemonOverrides, server: OutstationServer, logger: Logger) {
        self.configPath = configuration.configPath
        self.overrides = overrides
        self.server = server
        self.logger = logger
        self.configuration = configuration
    }

    public func reload() async -> ReloadOutcome {
        logger.notice("reloading configuration", metadata: ["config": "\(configPath)"])
        let outcome: ReloadOutcome
        switch ConfigurationLoader.load(configPath: configPath, overrides: overrides) {
        case .failure(let problems):
            for error in problems.errors { logger.error("reload: \(error)") }
            outcome = ReloadOutcome(succeeded: false, message:
                "reload failed with \(problems.errors.count) error(s), first: \(problems.errors.first.map { "\($0)" } ?? "?"); the running configuration stays")
        case .success(let loaded):
            for warning in loaded.warnings { logger.warning("reload: \(warning)") }
            do {
                let report = try await server.reload(listeners: loaded.listeners.map(ListenerSettings.init),
                                                     points: loaded.points, stations: loaded.stations).get()
                configuration = loaded
                outcome = ReloadOutcome(succeeded: true, message: "configuration reloaded: \(report.summary)")
            } catch {
                outcome = ReloadOutcome(succeeded: false, message: "reload failed: \(error); the running configuration stays")
            }
        }
        if outcome.succeeded { logger.notice("\(outcome.message)") } else { logger.error("\(outcome.message)") }
        lastOutcome = outcome
        return outcome
    }
}
