import Config
@testable import Daemon
import Foundation
import IEC104
@testable import Outstation
import Testing
import TestSupport

/// A coprocess in Python: IOA 10 succeeds with an update, 11 is refused, 12 makes it exit, 13 is never answered.
/// Cancellations and its pid are written to files; it announces 47:1 = on at start without being asked.
private let coprocess = """
    #!/usr/bin/python3
    import json, os, sys
    with open("pid", "w") as f: f.write(str(os.getpid()))
    print(json.dumps({"point": "47:1", "value": "on"}), flush=True)
    print("ready", file=sys.stderr, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("cancel"):
            with open("cancelled", "a") as f: f.write("%d\\n" % request["id"])
            continue
        with open("requests", "a") as f: f.write(line)
        ioa = request["ioa"]
        if ioa == 10:
            print(json.dumps({"id": request["id"], "ok": True, "updates": [{"point": "47:2", "value": "on" if request["select"] else "off"}]}), flush=True)
        elif ioa == 11:
            print(json.dumps({"id": request["id"], "ok": False, "error": "interlock active"}), flush=True)
        elif ioa == 12:
            sys.exit(4)
    """

private struct Fixture: Sendable {
    let scratch = Scratch()
    let handler: PersistentHandler
    let updates = UpdateSink()
    let log = LogRecorder()

    init(timeout: Duration = .seconds(3)) {
        let exec = scratch.script("coprocess.py", coprocess)
        let sink = updates
        handler = PersistentHandler(configuration: handlerConfiguration(exec: exec, mode: .persistent, directory: scratch.path,
                                                                        timeout: timeout),
                                    parser: UpdateParser(points: testPoints), logger: log.logger,
                                    unsolicited: { sink.apply($0) })
    }

    /// Runs `body` while the coprocess runs, then stops it.
    func running(_ body: () async throws -> Void) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await handler.run() }
            await handler.waitUntilStarted()
            defer { group.cancelAll() }
            try await body()
        }
    }
}

@Suite("Persistent handlers", .enabled(if: hasPython))
struct PersistentHandlerTests {
    init() { ChildProcess.ignoreBrokenPipes() }

    @Test func repliesWithUpdatesAndRefusals() async throws {
        let fixture = Fixture()
        try await fixture.running {
            let select = await fixture.handler.perform(commandRequest(ioa: 10, isSelect: true))
            #expect(select.updates == [PointUpdate(address: address(2), value: .double(.on))])
            let execute = await fixture.handler.perform(commandRequest(ioa: 10))
            #expect(execute.updates == [PointUpdate(address: address(2), value: .double(.off))])
            let refused = await fixture.handler.perform(commandRequest(ioa: 11))
            #expect(refused.reason == "handler 'h' refused: interlock active")
            // The request lines carry an id and the command.
            let lines = try #require(fixture.scratch.read("requests")).split(separator: "\n")
            #expect(lines.count == 3)
            let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
            #expect(first["id"] as? Int == 1)
            #expect(first["select"] as? Bool == true)
            #expect(first["point"] as? String == "47:10")
            // The line printed at start, without an id, is an update of its own.
            #expect(await eventually { fixture.updates.all == [PointUpdate(address: address(1), value: .single(true))] })
            #expect(await eventually { !fixture.log.messages(containing: "stderr: ready").isEmpty })
        }
    }

    @Test func theRequestIdIsTheCommandId() async throws {
        let fixture = Fixture()
        try await fixture.running {
            #expect(await fixture.handler.perform(commandRequest(ioa: 10, id: 4_711)).succeeded)
            #expect(await fixture.handler.perform(commandRequest(ioa: 10, id: 1 << 62)).succeeded)
            let lines = try #require(fixture.scratch.read("requests")).split(separator: "\n")
            let ids = try lines.map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["id"] as? Int
            }
            #expect(ids == [4_711, 1 << 62])
        }
    }

    @Test func aSecondCommandUnderAnIdInFlightIsRefused() async throws {
        let fixture = Fixture(timeout: .seconds(20))
        try await fixture.running {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    let outcome = await fixture.handler.perform(commandRequest(ioa: 13, id: 9))
                    #expect(outcome.reason == "handler 'h' cancelled")
                }
                #expect(await eventually { fixture.scratch.read("requests") != nil })
                let twin = await fixture.handler.perform(commandRequest(ioa: 10, id: 9))
                #expect(twin.reason == "command id 9 is already with handler 'h'")
                group.cancelAll()
            }
            // The first command is the one withdrawn; the twin never reached the coprocess.
            #expect(await eventually { fixture.scratch.read("cancelled") == "9\n" })
            #expect(fixture.scratch.read("requests")?.split(separator: "\n").count == 1)
        }
    }

    @Test func manyCommandsInFlight() async throws {
        let fixture = Fixture()
        try await fixture.running {
            await withTaskGroup(of: Bool.self) { group in
                for index in 0..<20 { group.addTask { await fixture.handler.perform(commandRequest(ioa: 10, id: UInt64(index))).succeeded } }
                for await ok in group { #expect(ok) }
            }
        }
    }

    @Test func exitFailsTheCommandAndTheHandlerRestarts() async throws {
        let fixture = Fixture()
        try await fixture.running {
            let crash = await fixture.handler.perform(commandRequest(ioa: 12))
            #expect(crash.reason?.contains("exited (exit status 4) before answering") == true)
            // Back-off 100 ms, then a new coprocess answers.
            #expect(await eventually { fixture.handler.starts == 2 })
            let next = await fixture.handler.perform(commandRequest(ioa: 10))
            #expect(next.succeeded)
            #expect(!fixture.log.messages(containing: "restarting in 0.1 seconds").isEmpty)
        }
    }

    @Test func noReplyTimesOutAndIsWithdrawn() async throws {
        let fixture = Fixture(timeout: .milliseconds(300))
        try await fixture.running {
            let time = await elapsed {
                let outcome = await fixture.handler.perform(commandRequest(ioa: 13))
                #expect(outcome.reason == "handler 'h' gave no answer within 0.3 seconds")
            }
            #expect(time < .seconds(30), "ended by the timeout: the coprocess never answers")
            #expect(await eventually { fixture.scratch.read("cancelled") == "1\n" })
        }
    }

    @Test func deactivationWithdrawsACommand() async throws {
        let fixture = Fixture(timeout: .seconds(20))
        try await fixture.running {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    let outcome = await fixture.handler.perform(commandRequest(ioa: 13, id: 5))
                    #expect(outcome.reason == "handler 'h' cancelled")
                }
                try? await Task.sleep(for: .milliseconds(200))
                group.cancelAll()
            }
            // The coprocess is told the command's own id.
            #expect(await eventually { fixture.scratch.read("cancelled") == "5\n" })
        }
    }

    @Test func stopTerminatesTheCoprocess() async throws {
        let fixture = Fixture()
        try await fixture.running {
            #expect(await eventually { fixture.scratch.read("pid") != nil })
        }
        let pid = try #require(fixture.scratch.read("pid").flatMap { Int32($0) })
        #expect(kill(pid, 0) != 0)
    }
}
