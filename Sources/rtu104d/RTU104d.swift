import ArgumentParser
import BuildInfo
import Config
import Daemon
import Logging
#if canImport(Glibc)
import Glibc
#endif

@main
struct RTU104d: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtu104d",
        abstract: "IEC 60870-5-104 RTU outstation daemon.",
        version: "rtu104d \(rtu104VersionText)")

    @Option(name: .long, help: "The daemon configuration file.")
    var config = "/etc/rtu104d/rtu104d.conf"

    @Flag(name: .long, help: "Validate the configuration, print a summary and exit (0 valid, 1 errors).")
    var check = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (overrides the config).")
    var logLevel: String?

    @Option(name: .long, help: "Where to log: auto (the journal when stderr is connected to it, else stderr), journal, stderr.")
    var logTarget = "auto"

    @Option(name: .long, help: "State directory (overrides the config).")
    var stateDirectory: String?

    @Option(name: .long, help: "Runtime directory for the control socket (overrides the config).")
    var runtimeDirectory: String?

    func run() async throws {
        // A SIGHUP before the handlers are installed must not kill the daemon.
        signal(SIGHUP, SIG_IGN)
        var overrides = DaemonOverrides(stateDirectory: stateDirectory, runtimeDirectory: runtimeDirectory)
        if let logLevel {
            guard let level = LogLevel(rawValue: logLevel) else {
                throw ValidationError("--log-level must be one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            overrides.logLevel = level
        }
        guard let target = LogTarget(rawValue: logTarget) else {
            throw ValidationError("--log-target must be one of \(LogTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let configuration: DaemonConfiguration
        switch ConfigurationLoader.load(configPath: config, overrides: overrides) {
        case .failure(let problems):
            // A ConfigError's text already says `file:line: warning: …`; a second prefix doubled it.
            for error in problems.errors { printError("error: \(error)") }
            for warning in problems.warnings { printError("\(warning)") }
            printError("\(config): \(problems.errors.count) error(s); nothing started")
            throw ExitCode(1)
        case .success(let loaded):
            configuration = loaded
        }
        if check {
            // The summary lists the warnings; printing them to stderr as well showed each one twice.
            print(renderSummary(configuration))
            return
        }
        let level = Logger.Level(rawValue: configuration.daemon.logLevel.rawValue) ?? .info
        let logTo = LogHandlerFactory.bootstrap(level: level, target: target) // journal or stderr (--log-target)
        let logger = Logger(label: "rtu104d")
        if target == .journal && logTo != .journal { logger.warning("journald is not running; logging to stderr") }
        for warning in configuration.warnings { logger.warning("\(warning)") }
        // From here a stop or reload signal waits until the daemon serves, then acts.
        let signals = await DaemonSignals.trapping()
        do {
            try await DaemonRunner.serve(consume configuration, overrides: overrides, logger: logger, signals: signals)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }
}

func printError(_ line: String) {
    writeStandardError(line + "\n")
}
