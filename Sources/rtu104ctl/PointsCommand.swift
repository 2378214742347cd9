import ArgumentParser
import Config

extension PointListFormat: ExpressibleByArgument {}

/// `rtu104ctl points --config FILE [--format csv|json|ini|table]`: the signal list of a configuration.
struct PointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "points",
        abstract: "Print every point of a configuration: the signal list for the master side.",
        discussion: """
        Reads the daemon config and its point tables as rtu104d --check does (no daemon needed) and prints every \
        monitor and command point: address, name, kind, the type IDs of interrogation replies and events, groups, \
        deadband, handler, feedback, select-before-operate and the stations that serve its common address. \
        csv, json and ini are point tables rtu104d loads again; table is for reading.
        """)

    @Option(help: ArgumentHelp("The daemon config.", valueName: "path"))
    var config: String = ConfigurationLoader.defaultConfigPath

    @Option(help: ArgumentHelp("csv, json, ini (point tables that load again) or table (aligned text).", valueName: "format"))
    var format: PointListFormat = .table

    func run() throws {
        writeStandardOutput(try Self.render(config: config, format: format))
    }

    /// The output, or the configuration's errors on standard error and exit status 1.
    static func render(config: String, format: PointListFormat) throws -> String {
        switch ConfigurationLoader.load(configPath: config) {
        case .failure(let problems):
            for error in problems.errors { reportError(error.description) }
            reportError("\(config): \(problems.errors.count) error(s); no points listed")
            throw ExitCode(1)
        case .success(let configuration):
            return PointListExport.render(configuration, as: format)
        }
    }
}
