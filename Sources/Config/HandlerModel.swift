public import Outstation

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
    /// The monitor points the feeder declares it feeds (`points`): invalid (IV) at once when it exits on its own.
    public var points: [PointSpan] = []
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

/// `47:3201` or `47:3300-3310`: IOAs of one common address, the range inclusive.
public struct PointSpan: Hashable, Sendable, CustomStringConvertible {
    public var commonAddress: UInt16
    public var objectAddresses: ClosedRange<UInt32>

    public init(commonAddress: UInt16, objectAddresses: ClosedRange<UInt32>) {
        self.commonAddress = commonAddress
        self.objectAddresses = objectAddresses
    }

    public var addresses: [PointAddress] {
        objectAddresses.map { PointAddress(commonAddress: commonAddress, objectAddress: $0) }
    }

    public var description: String {
        objectAddresses.count == 1 ? "\(commonAddress):\(objectAddresses.lowerBound)"
            : "\(commonAddress):\(objectAddresses.lowerBound)-\(objectAddresses.upperBound)"
    }

    /// The largest range one item may span (a typo like 47:1-1000000 is caught rather than expanded).
    public static let maximumCount: UInt32 = 100_000

    /// `CA:IOA` or `CA:IOA-IOA`.
    static func parse(_ text: String) -> Result<PointSpan, ValueError> {
        let example = "write CA:IOA or CA:IOA-IOA, e.g. 47:3201 or 47:3300-3310"
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let ca = UInt16(parts[0].trimmed), (1...65534).contains(ca) else {
            return .failure(ValueError("'\(text)' is not a point; \(example)"))
        }
        let bounds = parts[1].split(separator: "-", omittingEmptySubsequences: false).map { UInt32($0.trimmed) }
        guard (1...2).contains(bounds.count), let first = bounds.first ?? nil, let last = bounds.last ?? nil,
              first <= 16_777_215, last <= 16_777_215 else {
            return .failure(ValueError("'\(text)' is not a point; \(example)"))
        }
        guard first <= last else { return .failure(ValueError("'\(text)': the range runs backwards; write \(ca):\(last)-\(first)")) }
        guard last - first < maximumCount else {
            return .failure(ValueError("'\(text)' spans more than \(maximumCount) points; list smaller ranges"))
        }
        return .success(PointSpan(commonAddress: ca, objectAddresses: first...last))
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
