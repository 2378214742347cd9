import Config
import Foundation
import IEC104
import Logging
@testable import Outstation
import Synchronization
import Testing
import TestSupport

let python3 = "/usr/bin/python3"
let hasPython = FileManager.default.isExecutableFile(atPath: python3)

/// A temporary directory with scripts written at test time.
final class Scratch: Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "rtu104d-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes an executable script and returns its path.
    @discardableResult
    func script(_ name: String, _ text: String) -> String {
        let file = path + "/" + name
        precondition(FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: 0o755]), "cannot write \(file)")
        return file
    }

    func read(_ name: String) -> String? { try? String(contentsOfFile: path + "/" + name, encoding: .utf8) }
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path + "/" + name) }
}

/// Monitor points 47:1 (single), 47:2 (double), 47:3 (float); command points are made per test.
let testPoints = PointTable(
    monitorPoints: [
        MonitorPointDefinition(address: address(1), kind: .single),
        MonitorPointDefinition(address: address(2), kind: .double),
        MonitorPointDefinition(address: address(3), kind: .float),
    ],
    commandPoints: (10...30).map { CommandPointDefinition(address: address(UInt32($0)), kind: .single, feedback: address(1)) }
        + [CommandPointDefinition(address: address(40), kind: .float, feedback: address(3))])

func commandRequest(ioa: UInt32 = 10, id: UInt64 = 1, element: InformationElement = .singleCommand(SingleCommand(isOn: true)),
                    isSelect: Bool = false, station: String = "scada", peer: String = "127.0.0.1",
                    time: CP56Time2a? = nil) -> CommandRequest {
    let point = testPoints.commandPoints.first { $0.address == address(ioa) }
        ?? CommandPointDefinition(address: address(ioa), kind: .single, feedback: address(1))
    return CommandRequest(id: id, station: station, peer: peer, point: point, element: element, isSelect: isSelect,
                          originator: 3, time: time, suggestedFeedback: nil)
}

func handlerConfiguration(_ name: String = "h", exec: String, args: [String] = [], mode: HandlerMode = .spawn,
                          directory: String, timeout: Duration = .seconds(3), maxOutput: Int = 65_536,
                          restartDelay: Duration = .milliseconds(100),
                          environment: [EnvironmentVariable] = []) -> HandlerConfiguration {
    HandlerConfiguration(name: name, program: ProgramConfiguration(executable: exec, arguments: args, workingDirectory: directory,
                                                                   environment: environment),
                         mode: mode, timeout: timeout, maxOutput: maxOutput, restartDelay: restartDelay,
                         location: SourceLocation(file: "test.conf", line: 1))
}

func daemonConfiguration(handlers: [HandlerConfiguration], bindings: [UInt32: String], maxProcesses: Int = 16,
                         maxAge: Duration? = .seconds(30), timeouts: [UInt32: Duration] = [:]) -> DaemonConfiguration {
    var commandBindings: [PointAddress: CommandBinding] = [:]
    for (ioa, handler) in bindings { commandBindings[address(ioa)] = CommandBinding(handler: handler, timeout: timeouts[ioa]) }
    return DaemonConfiguration(
        configPath: "test.conf",
        daemon: DaemonSettings(pointTables: [], commandMaxAge: maxAge, maxHandlerProcesses: maxProcesses,
                               location: SourceLocation(file: "test.conf", line: 1)),
        listeners: [], stations: [], points: testPoints, handlers: handlers, commandBindings: commandBindings)
}


/// Collects updates a feeder or handler sets.
final class UpdateSink: Sendable {
    private let updates = Mutex<[PointUpdate]>([])
    var all: [PointUpdate] { updates.withLock { $0 } }
    func apply(_ batch: [PointUpdate]) { updates.withLock { $0 += batch } }
}

/// Polls `condition` every 20 ms for at most `timeout`. Generous by default: Swift Testing runs the suites in
/// parallel on two cooperative threads, and a child process can take seconds to start on a loaded machine.
func eventually(_ timeout: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

func elapsed(_ body: () async throws -> Void) async rethrows -> Duration {
    let start = ContinuousClock.now
    try await body()
    return ContinuousClock.now - start
}
