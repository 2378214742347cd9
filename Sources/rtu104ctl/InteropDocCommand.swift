import ArgumentParser
import Config
import Foundation

/// `rtu104ctl interop-doc --config FILE [--output FILE]`: the interoperability list for a daemon config.
struct InteropDocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interop-doc",
        abstract: "Write the IEC 60870-5-104 interoperability list (Markdown) for a daemon config.",
        discussion: """
        The document follows IEC 60870-5-104 clause 9: listeners and TLS, link parameters per station, the type \
        identifications with their causes of transmission (marked used, not used or not supported) and the basic \
        application functions. It is derived from the tables rtu104d itself uses, for the points of the config.
        """
    )

    @Option(help: ArgumentHelp("The daemon config (rtu104d.conf).", valueName: "path"))
    var config: String

    @Option(help: ArgumentHelp("Write the document here instead of standard output.", valueName: "path"))
    var output: String?

    func run() throws {
        let document = try Self.document(config: config)
        let text = document.markdown() + "\n"
        guard let output else {
            writeStandardOutput(text)
            return
        }
        do {
            try text.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            reportError("\(output): cannot write the document: \(error.localizedDescription)")
            throw ExitCode(MasterExit.refused)
        }
    }

    /// The document for the config at `path`; a config with errors is reported (file:line) and exits 1.
    static func document(config path: String) throws -> InteropDocument {
        switch ConfigurationLoader.load(configPath: path) {
        case .failure(let problems):
            for problem in problems.errors { reportError(problem.description) }
            reportError("\(path): \(problems.errors.count) error(s); no document written")
            throw ExitCode(MasterExit.refused)
        case .success(let configuration):
            return InteropDocument(configuration: configuration)
        }
    }
}
