import Config
@testable import Daemon
import Foundation
import IEC104
@testable import Outstation
import Testing
import TestSupport

/// A coprocess that writes its pid to `<name>.pid`, answers every command but IOA 13 (never answered), and
/// counts the commands it has seen in its own memory, reported with each reply: state a restart would lose.
private func coprocess(_ name: String) -> String {
    """
    #!/usr/bin/python3
    import json, os, sys
    with open("\(name).pid", "w") as f: f.write(str(os.getpid()))
    seen = 0
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("cancel"):
            continue
        seen += 1
        with open("\(name).seen", "w") as f: f.write(str(seen))
        if request["ioa"] != 13:
            print(json.dumps({"id": request["id"], "ok": True}), flush=True)
    """
}

private func succeeded(_ result: CommandResult) -> Bool {
    if case .success = result { true } else { false }
}

@Suite("Reloading handlers and feeders", .enabled(if: hasPython))
struct HostProcessesTests {
    init() { ChildProcess.ignoreBrokenPipes() }

    func feeder(_ scratch: Scratch, name: String, point: String = "47:1", line: Int = 1) -> FeederConfiguration {
        let exec = scratch.script("\(name).sh", "#!/bin/sh\necho $$ > \(name).pid\nwhile true; do echo '{\"point\":\"\(point)\",\"value\":true}'; sleep 0.05; done\n")
        return FeederConfiguration(name: name, program: ProgramConfiguration(executable: exec, workingDirectory: scratch.path),
                                   location: SourceLocation(file: "test.conf", line: line))
    }

    func persistent(_ scratch: Scratch, name: String, timeout: Duration = .seconds(20)) -> HandlerConfiguration {
        handlerConfiguration(name, exec: scratch.script("\(name).py", coprocess(name)), mode: .persistent,
                             directory: scratch.path, timeout: timeout)
    }

    func configuration(handlers: [HandlerConfiguration] = [], bindings: [UInt32: String] = [:],
                       feeders: [FeederConfiguration], points: PointTable = testPoints) -> DaemonConfiguration {
        var configuration = daemonConfiguration(handlers: handlers, bindings: bindings)
        configuration.feeders = feeders
        configuration.points = points
        return configuration
    }

    func pid(_ scratch: Scratch, _ name: String) -> Int32? {
        scratch.read("\(name).pid").flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    func alive(_ pid: Int32?) -> Bool { pid.map { kill($0, 0) == 0 } ?? false }

    /// Runs `body` while `processes` run, then stops them.
    func running(_ processes: HostProcesses, _ body: () async throws -> Void) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await processes.run() }
            defer { group.cancelAll() }
            try await body()
        }
    }

    @Test func anUnchangedConfigurationKeepsTheProcessesAndAChangedOneReplacesThem() async throws {
        let scratch = Scratch()
        let first = configuration(feeders: [feeder(scratch, name: "a")])
        let sink = UpdateSink()
        let processes = HostProcesses(configuration: first, logger: LogRecorder().logger, apply: { sink.apply($0) })
        try await running(processes) {
            #expect(await eventually { pid(scratch, "a") != nil })
            let oldFeeder = pid(scratch, "a")
            #expect(processes.reconfigure(first) == ProcessChanges(feeders: ["a": .kept]), "nothing changed: the feeder keeps running")
            #expect(alive(oldFeeder))

            let second = configuration(feeders: [feeder(scratch, name: "b")])
            #expect(processes.reconfigure(second) == ProcessChanges(feeders: ["a": .stopped, "b": .started]))
            #expect(await eventually { pid(scratch, "b") != nil }, "the new configuration's feeder starts")
            #expect(await eventually { !alive(oldFeeder) }, "the old one is stopped")
        }
        #expect(!alive(pid(scratch, "b")), "stopping the daemon stops every process")
    }

    @Test func aReloadThatAddsPointsKeepsTheCoprocessWithItsStateAndTheFeeder() async throws {
        let scratch = Scratch()
        // The feeder sets 47:9, a point the first table does not have: its lines are refused until a reload adds it.
        let first = configuration(handlers: [persistent(scratch, name: "tap")], bindings: [10: "tap"],
                                  feeders: [feeder(scratch, name: "sine", point: "47:9")])
        let sink = UpdateSink()
        let processes = HostProcesses(configuration: first, logger: LogRecorder().logger, apply: { sink.apply($0) })
        try await running(processes) {
            #expect(await eventually { pid(scratch, "tap") != nil && pid(scratch, "sine") != nil })
            let (tap, sine) = (pid(scratch, "tap"), pid(scratch, "sine"))
            #expect(succeeded(await processes.execute(commandRequest(ioa: 10))))
            #expect(sink.all.isEmpty)

            // A new station's points, a new command point on the same handler, and the sections moved down the file.
            var points = testPoints
            points.monitorPoints.append(MonitorPointDefinition(address: address(9), kind: .single))
            points.commandPoints.append(CommandPointDefinition(address: address(41), kind: .single))
            var tapMoved = persistent(scratch, name: "tap")
            tapMoved.location = SourceLocation(file: "test.conf", line: 40)
            let second = configuration(handlers: [tapMoved], bindings: [10: "tap", 41: "tap"],
                                       feeders: [feeder(scratch, name: "sine", point: "47:9", line: 50)], points: points)
            #expect(processes.reconfigure(second) == ProcessChanges(handlers: ["tap": .kept], feeders: ["sine": .kept]))

            #expect(succeeded(await processes.execute(commandRequest(ioa: 41))), "the new binding is in force")
            #expect(scratch.read("tap.seen") == "2", "the coprocess kept its count: it was not restarted")
            #expect(await eventually { sink.all.contains(PointUpdate(address: address(9), value: .single(true))) },
                    "the kept feeder reads its lines against the new point table")
            #expect(pid(scratch, "tap") == tap && alive(tap))
            #expect(pid(scratch, "sine") == sine && alive(sine))
            #expect(processes.persistentHandler(named: "tap")?.starts == 1)
            #expect(processes.feeder(named: "sine")?.starts == 1)
        }
    }

    @Test func aChangedHandlerIsRestartedAndItsCommandInFlightFailsAtOnce() async throws {
        let scratch = Scratch()
        let first = configuration(handlers: [persistent(scratch, name: "tap"), persistent(scratch, name: "other")],
                                  bindings: [10: "tap", 13: "tap", 11: "other"], feeders: [])
        let processes = HostProcesses(configuration: first, logger: LogRecorder().logger, apply: { _ in })
        try await running(processes) {
            #expect(await eventually { pid(scratch, "tap") != nil && pid(scratch, "other") != nil })
            let (oldTap, other) = (pid(scratch, "tap"), pid(scratch, "other"))
            try FileManager.default.removeItem(atPath: scratch.path + "/tap.pid")
            // IOA 13 is never answered; its timeout (20 s) is far beyond the wait below.
            async let inFlight = processes.execute(commandRequest(ioa: 13, id: 7))
            #expect(await eventually { scratch.read("tap.seen") == "1" })

            var changed = persistent(scratch, name: "tap")
            changed.program.environment = [EnvironmentVariable(name: "MODE", value: "auto")]
            var reloaded = first
            reloaded.handlers = [changed, persistent(scratch, name: "other")]
            #expect(processes.reconfigure(reloaded) == ProcessChanges(handlers: ["tap": .restarted, "other": .kept]))

            let started = ContinuousClock.now
            let result = await inFlight
            #expect(ContinuousClock.now - started < .seconds(15), "the command fails when its coprocess is stopped, not at its 20 s timeout")
            guard case .failure(let reason) = result else {
                Issue.record("the command in flight on the replaced coprocess succeeded")
                return
            }
            #expect(reason.contains("handler 'tap'"))
            #expect(await eventually { pid(scratch, "tap") != nil }, "the new coprocess starts")
            #expect(pid(scratch, "tap") != oldTap)
            #expect(!alive(oldTap), "the old coprocess is gone before the new one takes commands")
            #expect(succeeded(await processes.execute(commandRequest(ioa: 10))))
            #expect(scratch.read("tap.seen") == "1", "the new coprocess starts counting afresh")
            #expect(pid(scratch, "other") == other && alive(other), "the other handler is untouched")
        }
    }

    @Test func aCommandThatFindsItsCoprocessStoppedFailsAtOnce() async throws {
        let scratch = Scratch()
        let first = configuration(handlers: [persistent(scratch, name: "tap")], bindings: [10: "tap"], feeders: [])
        let processes = HostProcesses(configuration: first, logger: LogRecorder().logger, apply: { _ in })
        let retired = try #require(processes.persistentHandler(named: "tap"))
        try await running(processes) {
            #expect(await eventually { pid(scratch, "tap") != nil })
            #expect(processes.reconfigure(configuration(feeders: [])) == ProcessChanges(handlers: ["tap": .stopped]))
            #expect(await eventually { !alive(pid(scratch, "tap")) })
            // As a command does that took the handler from the routes just before the reload swapped them.
            let started = ContinuousClock.now
            let outcome = await retired.perform(commandRequest(ioa: 10))
            #expect(ContinuousClock.now - started < .seconds(15), "not at the 20 s timeout")
            #expect(outcome.reason == "handler 'tap' was stopped")
        }
    }

    @Test func spawnHandlersChangeWithoutAProcessAndRemovedOnesGo() async throws {
        let scratch = Scratch()
        let ok = scratch.script("ok.sh", "#!/bin/sh\nexit 0\n")
        let fail = scratch.script("fail.sh", "#!/bin/sh\nexit 3\n")
        let first = configuration(handlers: [handlerConfiguration("breaker", exec: ok, directory: scratch.path),
                                             handlerConfiguration("gone", exec: ok, directory: scratch.path)],
                                  bindings: [10: "breaker", 11: "gone"], feeders: [])
        let processes = HostProcesses(configuration: first, logger: LogRecorder().logger, apply: { _ in })
        try await running(processes) {
            #expect(succeeded(await processes.execute(commandRequest(ioa: 10))))
            let second = configuration(handlers: [handlerConfiguration("breaker", exec: fail, directory: scratch.path)],
                                       bindings: [10: "breaker"], feeders: [])
            #expect(processes.reconfigure(second) == ProcessChanges(handlers: ["breaker": .changed, "gone": .removed]))
            #expect(processes.reconfigure(second) == ProcessChanges(handlers: ["breaker": .kept]))
            guard case .failure(let reason) = await processes.execute(commandRequest(ioa: 10)) else {
                Issue.record("the changed handler's program did not run")
                return
            }
            #expect(reason.contains("exit status 3"), "\(reason)")
        }
    }

    @Test func theSummaryNamesEveryHandlerAndFeeder() {
        #expect(ProcessChanges().summary == "handlers: none; feeders: none")
        #expect(ProcessChanges(handlers: ["tap-changer": .kept, "breaker": .restarted], feeders: ["sine": .kept]).summary
                == "handlers: breaker restarted, tap-changer kept; feeders: sine kept")
    }
}
