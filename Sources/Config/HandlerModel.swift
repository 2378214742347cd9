import Outstation

/// How a handler program is run.
public enum HandlerMode: String, CaseIterable, Hashable, Sendable {
    /// One process per command: the command on stdin (one JSON object) and in RTU104_* variables; exit 0 is success.
    case spawn
    /// One long-running coprocess: newline-delimited JSON requests with an id on stdin, replies with that id on stdout.
    case persistent
}

/// A program run directly (argv, never through a shell), with a controlled working directory and environment.
public struct ProgramConfiguration: Hashable, Sendable {
    /// Absolute path of the executable (relative paths in the file are resolved against its directory).
    public var executable: String
    /// Fixed arguments, after the executable's own name.
    public var arguments: [String]
    public var workingDirectory: String
    /// Added to the clean base environment (`PATH` only), in file order; a later key wins.
    public var environment: [EnvironmentVariable]

    public init(executable: String, arguments: [String] = [], workingDirectory: String = "/",
                environment: [EnvironmentVariable] = []) {
        self.executable = executable
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.environment = environment
    }

    /// The `PATH` a handler or feeder starts with unless `environment` sets another.
    public static let basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The complete environment of the program: `PATH`, then the configured variables.
    public var baseEnvironment: [String: String] {
        var result = ["PATH": Self.basePath]
        for variable in environment { result[variable.name] = variable.value }
        return result
    }
}

public struct EnvironmentVariable: Hashable, Sendable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// One `[handler NAME]`: the program that carries out the commands of the points naming it.
public struct HandlerConfiguration: Hashable, Sendable {
    public var name: String
    public var program: ProgramConfiguration
    public var mode: HandlerMode
    /// How long a command may take before it fails (the spawned process is killed).
    public var timeout: Duration
    /// The most bytes read from stdout (spawn: in all; persistent: per line) and from stderr.
    public var maxOutput: Int
    /// The first wait before a persistent handler that exited is started again; it doubles up to 32 times this.
    public var restartDelay: Duration
    public var location: SourceLocation

    public static let defaultTimeout = Duration.seconds(5)
    public static let defaultMaxOutput = 65_536
    public static let defaultRestartDelay = Duration.seconds(1)

    public init(name: String, program: ProgramConfiguration, mode: HandlerMode = .spawn,
                timeout: Duration = Self.defaultTimeout, maxOutput: Int = Self.defaultMaxOutput,
                restartDelay: Duration = Self.defaultRestartDelay, location: SourceLocation) {
        self.name = name
        self.program = program
        self.mode = mode
        self.timeout = timeout
        self.maxOutput = maxOutput
        self.restartDelay = restartDelay
        self.location = location
    }
}

/// One `[feeder NAME]`: a long-lived program whose stdout lines set monitor points.
public struct FeederConfiguration: Hashable, Sendable {
    public var name: String
    public var program: ProgramConfiguration
    /// The longest stdout line taken; longer lines are skipped.
    public var maxLine: Int
    public var restartDelay: Duration
    public var location: SourceLocation

    public init(name: String, program: ProgramConfiguration, maxLine: Int = HandlerConfiguration.defaultMaxOutput,
                restartDelay: Duration = HandlerConfiguration.defaultRestartDelay, location: SourceLocation) {
        self.name = name
        self.program = program
        self.maxLine = maxLine
        self.restartDelay = restartDelay
        self.location = location
    }
}

/// How a command point is carried out: by a handler, or (no binding) by the built-in feedback handler.
public struct CommandBinding: Hashable, Sendable {
    /// The `[handler NAME]` that runs the point's commands.
    public var handler: String
    /// The point's own timeout, overriding the handler's.
    public var timeout: Duration?

    public init(handler: String, timeout: Duration? = nil) {
        self.handler = handler
        self.timeout = timeout
    }
}
