import Config
@testable import Daemon
import Foundation
import IEC104
@testable import Outstation
import Testing
import TestSupport

private func spawnHandler(_ configuration: HandlerConfiguration, limit: Int = 16) -> SpawnHandler {
    SpawnHandler(configuration: configuration, parser: UpdateParser(points: testPoints), slots: ProcessSlots(limit: limit))
}

@Suite("Spawn handlers")
struct SpawnHandlerTests {
    init() { ChildProcess.ignoreBrokenPipes() }

    @Test func successWithUpdatesAndFreeText() async throws {
        let scratch = Scratch()
        let exec = scratch.script("ok.sh", """
            #!/bin/sh
            echo "switching $RTU104_POINT to $RTU104_VALUE"
            echo '{"point":"47:1","value":"on"}'
            echo '{"op":"set","points":[{"ca":47,"ioa":2,"value":"on"}]}'
            exit 0
            """)
        let outcome = await spawnHandler(handlerConfiguration(exec: exec, directory: scratch.path)).perform(commandRequest())
        #expect(outcome.succeeded)
        #expect(outcome.updates == [PointUpdate(address: address(1), value: .single(true)),
                                    PointUpdate(address: address(2), value: .double(.on))])
        #expect(outcome.rejectedLines.isEmpty)
    }

    @Test func badUpdateLinesAreReportedButTheCommandSucceeds() async throws {
        let scratch = Scratch()
        let exec = scratch.script("bad.sh", """
            #!/bin/sh
            echo '{"point":"47:99","value":1}'
            echo '{"point":"47:1","value":"maybe"}'
            """)
        let outcome = await spawnHandler(handlerConfiguration(exec: exec, directory: scratch.path)).perform(commandRequest())
        #expect(outcome.succeeded)
        #expect(outcome.updates.isEmpty)
        #expect(outcome.rejectedLines.count == 2)
        #expect(outcome.rejectedLines[0].contains("no monitor point 47:99"))
    }

    @Test func nonZeroExitIsAFailure() async throws {
        let scratch = Scratch()
        let exec = scratch.script("fail.sh", "#!/bin/sh\necho 'relay stuck' >&2\nexit 3\n")
        let outcome = await spawnHandler(handlerConfiguration(exec: exec, directory: scratch.path)).perform(commandRequest())
        #expect(outcome.reason == "handler 'h' failed: exit status 3")
        #expect(outcome.stderr == ["relay stuck"])
    }

    @Test func crashIsAFailure() async throws {
        let scratch = Scratch()
        let exec = scratch.script("crash.sh", "#!/bin/sh\necho '{\"point\":\"47:1\",\"value\":true}'\nkill -9 $$\n")
        let outcome = await spawnHandler(handlerConfiguration(exec: exec, directory: scratch.path)).perform(commandRequest())
        #expect(outcome.reason == "handler 'h' failed: killed by signal 9")
        #expect(outcome.updates.isEmpty)
    }

    @Test func missingProgramIsAFailure() async throws {
        let scratch = Scratch()
        let outcome = await spawnHandler(handlerConfiguration(exec: scratch.path + "/nope", directory: scratch.path))
            .perform(commandRequest())
        #expect(outcome.reason?.contains("could not be started") == true)
    }

    @Test func hangIsKilledAtTheTimeout() async throws {
        let scratch = Scratch()
        // The child `sleep` holds stdout too: the whole process group must go.
        let exec = scratch.script("hang.sh", "#!/bin/sh\nsleep 120 &\nsleep 120\n")
        let handler = spawnHandler(handlerConfiguration(exec: exec, directory: scratch.path, timeout: .milliseconds(300)))
        var outcome: HandlerOutcome?
        let time = await elapsed { outcome = await handler.perform(commandRequest()) }
        #expect(outcome?.reason == "handler 'h' gave no answer within 0.3 seconds; killed")
        #expect(time < .seconds(30), "ended by the limit, not by the script")
    }

    @Test func pointTimeoutOverridesTheHandlers() async throws {
        let scratch = Scratch()
        let exec = scratch.script("slow.sh", "#!/bin/sh\nsleep 120\n")
        let handler = spawnHandler(handlerConfiguration(exec: exec, directory: scratch.path, timeout: .seconds(120)))
        let time = await elapsed { #expect(await !handler.perform(commandRequest(), timeout: .milliseconds(200)).succeeded) }
        #expect(time < .seconds(30), "ended by the limit, not by the script")
    }

    @Test func hugeOutputIsBounded() async throws {
        let scratch = Scratch()
        let exec = scratch.script("yes.sh", "#!/bin/sh\nyes 'y' >&2 &\nexec yes '{\"point\":\"47:1\",\"value\":true}'\n")
        let handler = spawnHandler(handlerConfiguration(exec: exec, directory: scratch.path, maxOutput: 4096))
        var outcome: HandlerOutcome?
        let time = await elapsed { outcome = await handler.perform(commandRequest()) }
        #expect(outcome?.reason == "handler 'h' wrote more than 4096 bytes on stdout; killed")
        #expect((outcome?.stderr.joined().utf8.count ?? .max) < 4096 + 100)
        #expect(time < .seconds(30), "ended by the limit, not by the script")
    }

    @Test func stderrIsKeptPerCommandAndLogged() async throws {
        let scratch = Scratch()
        let exec = scratch.script("err.sh", "#!/bin/sh\necho 'first' >&2\necho 'second' >&2\n")
        let configuration = daemonConfiguration(handlers: [handlerConfiguration(exec: exec, directory: scratch.path)],
                                                bindings: [10: "h"])
        let log = LogRecorder()
        let dispatcher = CommandDispatcher(configuration: configuration, logger: log.logger)
        let result = await dispatcher.execute(commandRequest(peer: "10.0.0.9"))
        guard case .success = result else { Issue.record("failed: \(result)"); return }
        let lines = log.entries(containing: "handler stderr")
        #expect(lines.map(\.message) == ["handler stderr: first", "handler stderr: second"])
        #expect(lines.first?.metadata == ["station": "scada", "peer": "10.0.0.9", "ca": "47", "ioa": "10", "type": "C_SC_NA_1",
                                         "handler": "h"])
    }

    @Test func environmentAndStdinCarryTheCommandExactly() async throws {
        let scratch = Scratch()
        let exec = scratch.script("dump.sh", """
            #!/bin/sh
            env | grep -E '^(RTU104_|SITE=|PATH=)' | sort > env.txt
            cat > stdin.json
            """)
        let time = try #require(CP56Time2a(unixMilliseconds: 1_772_366_405_250) as CP56Time2a?)
        let request = commandRequest(ioa: 40, id: 7, element: .setpointFloat(.nan, SetpointQualifier(qualifier: 5, isSelect: true), time: time),
                                     isSelect: true, station: "scada", peer: "192.0.2.1", time: time)
        let handler = spawnHandler(handlerConfiguration(exec: exec, directory: scratch.path,
                                                        environment: [EnvironmentVariable(name: "SITE", value: "north")]))
        #expect(await handler.perform(request).succeeded)
        #expect(scratch.read("env.txt") == """
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
            RTU104_CA=47
            RTU104_COMMAND=float
            RTU104_FEEDBACK=47:3
            RTU104_HANDLER=h
            RTU104_IOA=40
            RTU104_ORIGINATOR=3
            RTU104_PEER=192.0.2.1
            RTU104_POINT=47:40
            RTU104_QUALIFIER=5
            RTU104_SELECT=1
            RTU104_STATION=scada
            RTU104_TIME=2026-03-01T12:00:05.250Z
            RTU104_TYPE=C_SE_TC_1
            RTU104_VALUE=nan
            SITE=north

            """)
        #expect(scratch.read("stdin.json") == #"{"ca":47,"command":"float","feedback":"47:3","handler":"h","ioa":40,"originator":3,"peer":"192.0.2.1","point":"47:40","qualifier":5,"select":true,"station":"scada","time":"2026-03-01T12:00:05.250Z","type":"C_SE_TC_1","value":"nan"}"# + "\n")
    }

    @Test(arguments: [
        (InformationElement.singleCommand(SingleCommand(isOn: false)), "off", "\"off\""),
        (.doubleCommand(DoubleCommand(state: .on)), "on", "\"on\""),
        (.regulatingStepCommand(RegulatingStepCommand(direction: .higher)), "higher", "\"higher\""),
        (.setpointFloat(.infinity, SetpointQualifier()), "inf", "\"inf\""),
        (.setpointFloat(-.infinity, SetpointQualifier()), "-inf", "\"-inf\""),
        (.setpointFloat(231.5, SetpointQualifier()), "231.5", "231.5"),
        (.setpointFloat(.greatestFiniteMagnitude, SetpointQualifier()), "3.4028235e+38", "3.4028235e+38"),
        (.setpointScaled(-32768, SetpointQualifier()), "-32768", "-32768"),
        (.setpointNormalized(NormalizedValue(rawValue: 16384), SetpointQualifier()), "0.5", "0.5"),
        (.bitstringCommand(0xFFFF_FFFF), "4294967295", "4294967295"),
    ])
    func valuesAsTextAndJSON(element: InformationElement, text: String, json: String) {
        #expect(CommandMessage.textValue(element) == text)
        let line = CommandMessage.json(commandRequest(element: element), handler: "h")
        #expect(line.hasSuffix(#""value":"# + json + "}"))
    }

    @Test func shellMetacharactersAreNeverExecuted() async throws {
        let scratch = Scratch()
        let marker = scratch.path + "/pwned"
        let nasty = "$(touch \(marker)); rm -rf \(scratch.path)/keep `touch \(marker)` \"' \\ \n;|&"
        scratch.script("keep", "precious")
        let exec = scratch.script("echo.sh", """
            #!/bin/sh
            printf '%s' "$RTU104_PEER" > peer.txt
            printf '%s' "$RTU104_STATION" > station.txt
            cat > stdin.json
            """)
        let handler = spawnHandler(handlerConfiguration(exec: exec, args: [nasty], directory: scratch.path,
                                                        environment: [EnvironmentVariable(name: "X", value: nasty)]))
        let outcome = await handler.perform(commandRequest(station: nasty, peer: nasty))
        #expect(outcome.succeeded)
        #expect(!scratch.exists("pwned"))
        #expect(scratch.exists("keep"))
        #expect(scratch.read("peer.txt") == nasty)
        #expect(scratch.read("station.txt") == nasty)
        let data = try #require(scratch.read("stdin.json")?.data(using: .utf8))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["peer"] as? String == nasty)
        #expect(object["station"] as? String == nasty)
    }

    @Test func processLimitMakesCommandsWait() async throws {
        let scratch = Scratch()
        let exec = scratch.script("slow.sh", "#!/bin/sh\nsleep 0.3\n")
        let configuration = daemonConfiguration(handlers: [handlerConfiguration(exec: exec, directory: scratch.path)],
                                                bindings: Dictionary(uniqueKeysWithValues: (10...14).map { (UInt32($0), "h") }),
                                                maxProcesses: 2)
        let dispatcher = CommandDispatcher(configuration: configuration, logger: LogRecorder().logger)
        let time = await elapsed {
            await withTaskGroup(of: Bool.self) { group in
                for ioa in UInt32(10)...14 {
                    group.addTask {
                        if case .success = await dispatcher.execute(commandRequest(ioa: ioa, id: UInt64(ioa))) { return true }
                        return false
                    }
                }
                for await ok in group { #expect(ok) }
            }
        }
        #expect(dispatcher.slots.peakInUse == 2)
        // Five commands of 0.3 s, two at a time: three rounds.
        #expect(time >= .milliseconds(850))
    }

    @Test func deactivationKillsARunningCommand() async throws {
        let scratch = Scratch()
        let exec = scratch.script("long.sh", "#!/bin/sh\nsleep 120\n")
        let configuration = daemonConfiguration(handlers: [handlerConfiguration(exec: exec, directory: scratch.path,
                                                                                timeout: .seconds(120))],
                                                bindings: [10: "h"])
        let dispatcher = CommandDispatcher(configuration: configuration, logger: LogRecorder().logger)
        let time = await elapsed {
            let command = Task { await dispatcher.execute(commandRequest(id: 42)) }
            try? await Task.sleep(for: .milliseconds(300))
            // What a deactivation does: cancel the task that runs the command.
            command.cancel()
            guard case .failure(let reason) = await command.value else { Issue.record("succeeded"); return }
            #expect(reason.contains("cancelled"))
        }
        #expect(time < .seconds(30), "ended by the limit, not by the script")
    }

    @Test func deactivationWhileWaitingForAProcess() async throws {
        let scratch = Scratch()
        // The running command outlasts the test, so only the cancellation can end the waiting one.
        let exec = scratch.script("slow.sh", "#!/bin/sh\nsleep 120\n")
        let configuration = daemonConfiguration(handlers: [handlerConfiguration(exec: exec, directory: scratch.path)],
                                                bindings: [10: "h", 11: "h"], maxProcesses: 1)
        let dispatcher = CommandDispatcher(configuration: configuration, logger: LogRecorder().logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await dispatcher.execute(commandRequest(ioa: 10, id: 1)) }
            try? await Task.sleep(for: .milliseconds(100))
            let waiting = Task {
                await elapsed {
                    let result = await dispatcher.execute(commandRequest(ioa: 11, id: 2))
                    guard case .failure = result else { Issue.record("succeeded"); return }
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
            waiting.cancel()
            #expect(await waiting.value < .seconds(30), "ended by the cancellation, not by the running command")
            group.cancelAll()
        }
    }
}
