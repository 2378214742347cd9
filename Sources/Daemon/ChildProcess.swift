#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Config
import Logging
import Subprocess
import SystemPackage
import Synchronization

/// How a child process ended.
public enum ChildTermination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    /// It could not be started (no such file, not executable, …).
    case notStarted(String)

    init(_ status: TerminationStatus) {
        switch status {
        case .exited(let code): self = .exited(code)
        case .signaled(let signal): self = .signaled(signal)
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        case .notStarted(let reason): "could not be started: \(reason)"
        }
    }
}

/// Why a spawned process was killed before it finished by itself.
enum KillReason: Sendable, Equatable {
    case timeout
    case cancelled
    case outputLimit
}

/// Kills a child's whole process group from outside the task that runs it (a timeout, a deactivation,
/// too much output). Firing before the child exists kills it as soon as it is attached.
final class KillSwitch: Sendable {
    private struct State {
        var processGroup: pid_t?
        var reason: KillReason?
    }
    private let state = Mutex(State())

    var reason: KillReason? { state.withLock { $0.reason } }

    func fire(_ reason: KillReason) {
        let target: pid_t? = state.withLock { state in
            if state.reason == nil { state.reason = reason }
            return state.processGroup
        }
        if let target { kill(-target, SIGKILL) }
    }

    /// Called inside the run body, so the group is never signalled after the child was reaped.
    func attach(_ processGroup: pid_t) {
        let killNow = state.withLock { state in
            state.processGroup = processGroup
            return state.reason != nil
        }
        if killNow { kill(-processGroup, SIGKILL) }
    }

    func detach() { state.withLock { $0.processGroup = nil } }
}

/// Running handler and feeder programs with swift-subprocess: argv only, a clean environment, stdout and
/// stderr drained concurrently with size limits, the child in its own process group.
enum ChildProcess {
    /// Writes to a pipe whose reader is gone must fail with EPIPE, not kill the daemon.
    static func ignoreBrokenPipes() { signal(SIGPIPE, SIG_IGN) }

    static func configuration(_ program: ProgramConfiguration, extraEnvironment: [String: String],
                              teardown: [TeardownStep]) -> Configuration {
        var environment = program.baseEnvironment
        for (key, value) in extraEnvironment { environment[key] = value }
        var options = PlatformOptions()
        // A process group of its own, so that a kill reaches what a script started too.
        options.processGroupID = 0
        options.teardownSequence = teardown
        let name = program.executable.split(separator: "/").last.map(String.init) ?? program.executable
        return Configuration(
            executable: .path(FilePath(absolute(program.executable))),
            arguments: Arguments(executablePathOverride: name, remainingValues: program.arguments),
            environment: .custom(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, $0.value) })),
            workingDirectory: FilePath(absolute(program.workingDirectory)),
            platformOptions: options)
    }

    /// Config paths relative to the daemon's working directory (a config given as a relative path) made
    /// absolute, so that the executable is found after the child has changed to its working directory.
    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let directory = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path == "." ? directory : directory + "/" + path
    }

    struct SpawnOutcome: Sendable {
        var termination: ChildTermination
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        /// More stderr came than was kept.
        var stderrTruncated = false
        var killed: KillReason?
    }

    private enum SpawnPart: Sendable {
        case input
        case output([UInt8])
        case error([UInt8], truncated: Bool)
        case timer
    }

    /// Runs the program once with `input` on stdin; kills its process group after `timeout`, when more than
    /// `maxOutput` bytes come on stdout, or when `killSwitch` fires. Never throws.
    static func spawn(_ program: ProgramConfiguration, environment: [String: String], input: [UInt8],
                      timeout: Duration, maxOutput: Int, killSwitch: KillSwitch) async -> SpawnOutcome {
        let configuration = configuration(program, extraEnvironment: environment,
                                          teardown: [.send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(1))])
        do {
            let result = try await withTaskCancellationHandler {
                try await run(configuration, input: .inputWriter, output: .sequence, error: .sequence) { execution in
                    killSwitch.attach(execution.processIdentifier.value)
                    defer { killSwitch.detach() }
                    return await withTaskGroup(of: SpawnPart.self) { group in
                        group.addTask {
                            _ = try? await execution.standardInputWriter.write(input)
                            try? await execution.standardInputWriter.finish()
                            return .input
                        }
                        group.addTask {
                            var kept: [UInt8] = []
                            do {
                                for try await buffer in execution.standardOutput {
                                    if kept.count + buffer.count > maxOutput {
                                        killSwitch.fire(.outputLimit)
                                        continue
                                    }
                                    buffer.withUnsafeBytes { kept.append(contentsOf: $0) }
                                }
                            } catch {}
                            return .output(kept)
                        }
                        group.addTask {
                            var kept: [UInt8] = []
                            var truncated = false
                            do {
                                for try await buffer in execution.standardError {
                                    buffer.withUnsafeBytes { bytes in
                                        let room = max(0, maxOutput - kept.count)
                                        if bytes.count > room { truncated = true }
                                        kept.append(contentsOf: bytes.prefix(room))
                                    }
                                }
                            } catch {}
                            return .error(kept, truncated: truncated)
                        }
                        group.addTask {
                            if (try? await Task.sleep(for: timeout)) != nil { killSwitch.fire(.timeout) }
                            return .timer
                        }
                        var outcome = SpawnOutcome(termination: .exited(0))
                        var streams = 0
                        for await part in group {
                            switch part {
                            case .input, .timer: continue
                            case .output(let bytes): outcome.stdout = bytes; streams += 1
                            case .error(let bytes, let truncated):
                                outcome.stderr = bytes
                                outcome.stderrTruncated = truncated
                                streams += 1
                            }
                            // Both pipes are closed: the process is gone (or closed them); stop the timer.
                            if streams == 2 { group.cancelAll() }
                        }
                        return outcome
                    }
                }
            } onCancel: {
                killSwitch.fire(.cancelled)
            }
            var outcome = result.closureResult
            outcome.termination = ChildTermination(result.terminationStatus)
            outcome.killed = killSwitch.reason
            return outcome
        } catch {
            return SpawnOutcome(termination: .notStarted("\(error)"), killed: killSwitch.reason)
        }
    }

    /// Runs a long-lived program until it exits or the task is cancelled (then SIGTERM to its group,
    /// SIGKILL after `grace`). Lines come to the callbacks as they arrive; `input`, if given, feeds stdin.
    static func runLongLived(_ program: ProgramConfiguration, environment: [String: String] = [:],
                             input: LineMailbox?, maxLine: Int, grace: Duration,
                             started: @escaping @Sendable () -> Void = {},
                             stdout: @escaping @Sendable ([LineSplitter.Event]) async -> Void,
                             stderr: @escaping @Sendable (LineSplitter.Event) -> Void) async -> ChildTermination {
        let configuration = configuration(program, extraEnvironment: environment,
                                          teardown: [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: grace)])
        do {
            let result = try await run(configuration, input: .inputWriter, output: .sequence, error: .sequence) { execution in
                started()
                await withTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        if let input {
                            while let line = await input.next() {
                                do {
                                    _ = try await execution.standardInputWriter.write(Array((line + "\n").utf8))
                                } catch {
                                    break
                                }
                            }
                        }
                        try? await execution.standardInputWriter.finish()
                        return false
                    }
                    group.addTask {
                        var splitter = LineSplitter(limit: maxLine)
                        // The next read waits for this one's lines: a consumer that applies back-pressure
                        // (the process image when the masters' queues are full) slows the program's writes.
                        do {
                            for try await buffer in execution.standardOutput {
                                var lines: [LineSplitter.Event] = []
                                buffer.withUnsafeBytes { splitter.feed($0) { lines.append($0) } }
                                if !lines.isEmpty { await stdout(lines) }
                            }
                        } catch {}
                        var last: [LineSplitter.Event] = []
                        splitter.finish { last.append($0) }
                        if !last.isEmpty { await stdout(last) }
                        return true
                    }
                    group.addTask {
                        var splitter = LineSplitter(limit: maxLine)
                        do {
                            for try await buffer in execution.standardError {
                                buffer.withUnsafeBytes { splitter.feed($0, stderr) }
                            }
                        } catch {}
                        splitter.finish(stderr)
                        return false
                    }
                    // stdout at its end means the program is going: stop feeding it.
                    for await stdoutEnded in group where stdoutEnded {
                        group.cancelAll()
                    }
                }
            }
            return ChildTermination(result.terminationStatus)
        } catch {
            return .notStarted("\(error)")
        }
    }
}
