#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `[handler NAME]` and `[feeder NAME]` sections.
extension DaemonConfigReader {
    static let handlerKeys = ["exec", "args", "mode", "working_directory", "environment", "timeout", "max_output",
                              "restart_delay"]
    static let feederKeys = ["exec", "args", "working_directory", "environment", "max_line", "restart_delay", "points"]

    mutating func readHandler(_ fields: FieldReader, name: String) {
        let program = readProgram(fields)
        let mode = fields.keyword("mode", HandlerMode.allCases.map { ($0.rawValue, $0) })
        let timeout = fields.duration("timeout", max: .seconds(3600))
        let maxOutput = fields.int("max_output", in: 1024...16_777_216)
        let restartDelay = fields.duration("restart_delay", max: .seconds(600))
        if mode != .persistent, fields.has("restart_delay") {
            fields.error("restart_delay", "restart_delay applies to mode = persistent only; a spawn handler starts a new process per command")
        }
        fields.reportUnknownKeys(known: Self.handlerKeys, elsewhere: Self.misplaced(for: "handler"))
        // A handler whose exec is wrong is still declared, so that its points are not reported as well.
        handlers.append(HandlerConfiguration(
            name: name, program: program ?? ProgramConfiguration(executable: ""), mode: mode ?? .spawn, timeout: timeout ?? HandlerConfiguration.defaultTimeout,
            maxOutput: maxOutput ?? HandlerConfiguration.defaultMaxOutput,
            restartDelay: restartDelay ?? HandlerConfiguration.defaultRestartDelay, location: fields.location))
    }

    mutating func readFeeder(_ fields: FieldReader, name: String) {
        let program = readProgram(fields)
        let maxLine = fields.int("max_line", in: 256...16_777_216)
        let restartDelay = fields.duration("restart_delay", max: .seconds(600))
        var points: [PointSpan] = []
        var pointLocations: [SourceLocation] = []
        for item in fields.list("points") ?? [] {
            switch PointSpan.parse(item.scalarText ?? "") {
            case .success(let span):
                points.append(span)
                pointLocations.append(item.location)
            case .failure(let problem):
                fields.diagnostics.error(item.location, subject: fields.subject, key: "points", problem.message)
            }
        }
        fields.reportUnknownKeys(known: Self.feederKeys, elsewhere: Self.misplaced(for: "feeder"))
        var feeder = FeederConfiguration(name: name, program: program ?? ProgramConfiguration(executable: ""),
                                         maxLine: maxLine ?? HandlerConfiguration.defaultMaxOutput,
                                         restartDelay: restartDelay ?? HandlerConfiguration.defaultRestartDelay,
                                         location: fields.location)
        feeder.points = points
        feeders.append(feeder)
        feederPointLocations.append(pointLocations)
    }

    /// `exec`, `args`, `working_directory`, `environment`; nil when `exec` is missing or wrong.
    private func readProgram(_ fields: FieldReader) -> ProgramConfiguration? {
        var executable: String?
        if fields.has("exec") {
            executable = fields.read("exec") { value in
                guard let text = value.scalarText, !text.trimmed.isEmpty else {
                    return .failure(ValueError("exec is empty; name the program, e.g. exec = /usr/lib/rtu104d/hooks/breaker.sh"))
                }
                let path = Paths.resolve(String(text.trimmed), relativeTo: configDirectory)
                if let problem = Self.executableProblem(path) { return .failure(ValueError(problem)) }
                return .success(path)
            }
        } else {
            fields.missing("exec", " (the program to run, e.g. exec = hooks/breaker.sh; it is run directly, not through a shell)")
        }
        var arguments: [String] = []
        if let items = fields.list("args") { arguments = items.compactMap(\.scalarText) }
        var directory = configDirectory.isEmpty ? "." : configDirectory
        if let given = fields.string("working_directory") {
            let path = Paths.resolve(given, relativeTo: configDirectory)
            if Self.isDirectory(path) {
                directory = path
            } else {
                fields.error("working_directory", "'\(path)' is not a directory")
            }
        }
        var environment: [EnvironmentVariable] = []
        if let items = fields.list("environment") {
            for item in items {
                switch Self.parseVariable(item.scalarText ?? "") {
                case .success(let variable): environment.append(variable)
                case .failure(let problem):
                    fields.diagnostics.error(item.location, subject: fields.subject, key: "environment", problem.message)
                }
            }
        }
        guard let executable else { return nil }
        return ProgramConfiguration(executable: executable, arguments: arguments, workingDirectory: directory,
                                    environment: environment)
    }

    /// `KEY=VALUE` with a portable name; the RTU104_ prefix is the daemon's.
    static func parseVariable(_ text: String) -> Result<EnvironmentVariable, ValueError> {
        guard let equals = text.firstIndex(of: "=") else {
            return .failure(ValueError("'\(text)' is not KEY=VALUE"))
        }
        let name = String(text[..<equals].trimmed)
        let value = String(text[text.index(after: equals)...].trimmed)
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
              name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }) else {
            return .failure(ValueError("'\(name)' is not a variable name; use letters, digits and '_', not starting with a digit"))
        }
        guard !name.uppercased().hasPrefix("RTU104_") else {
            return .failure(ValueError("'\(name)': names starting with RTU104_ are set by the daemon for each command"))
        }
        return .success(EnvironmentVariable(name: name, value: value))
    }

    /// Why `path` cannot be run, or nil.
    static func executableProblem(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return "'\(path)' does not exist" }
        if status.st_mode & S_IFMT == S_IFDIR { return "'\(path)' is a directory, not a program" }
        guard access(path, X_OK) == 0 else { return "'\(path)' is not executable (chmod +x)" }
        return nil
    }

    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }
}
