import Config
@testable import Daemon
import Foundation
import IEC104
@testable import Outstation
import Testing
import TestSupport

@Suite("Feeders")
struct FeederTests {
    init() { ChildProcess.ignoreBrokenPipes() }

    @Test func linesBecomeUpdatesBadLinesAreLoggedOncePerBurstAndTheFeederRestarts() async throws {
        let scratch = Scratch()
        let exec = scratch.script("feed.sh", """
            #!/bin/sh
            echo '{"point":"47:3","value":231.5}'
            echo 'not json'
            echo '{"point":"47:99","value":1}'
            echo '{"point":"47:3","value":"high"}'
            echo '{"op":"set","points":[{"point":"47:1","value":true},{"point":"47:2","value":"on"}]}'
            echo 'starting up' >&2
            exit 1
            """)
        let configuration = FeederConfiguration(
            name: "f", program: ProgramConfiguration(executable: exec, workingDirectory: scratch.path),
            restartDelay: .milliseconds(100), location: SourceLocation(file: "test.conf", line: 1))
        let sink = UpdateSink()
        let log = LogRecorder()
        let feeder = Feeder(configuration: configuration, points: testPoints, logger: log.logger, apply: { sink.apply($0) })
        await withDiscardingTaskGroup { group in
            group.addTask { await feeder.run() }
            #expect(await eventually { feeder.starts >= 2 && sink.all.count >= 6 })
            group.cancelAll()
        }
        #expect(Array(sink.all.prefix(3)) == [PointUpdate(address: address(3), value: .float(231.5)),
                                              PointUpdate(address: address(1), value: .single(true)),
                                              PointUpdate(address: address(2), value: .double(.on))])
        // Three bad lines per run, one message for the burst.
        let bad = log.entries(containing: "skipped a bad line")
        #expect(bad.count == 1)
        #expect(bad.first?.message == "skipped a bad line: not a JSON object")
        #expect(bad.first?.metadata["feeder"] == "f")
        #expect(!log.messages(containing: "stderr: starting up").isEmpty)
        #expect(!log.messages(containing: "feeder f stopped (exit status 1); restarting in 0.1 seconds").isEmpty)
    }

    @Test func stopTerminatesTheFeeder() async throws {
        let scratch = Scratch()
        let exec = scratch.script("forever.sh", "#!/bin/sh\necho $$ > pid\nwhile true; do echo '{\"point\":\"47:1\",\"value\":true}'; sleep 0.05; done\n")
        let configuration = FeederConfiguration(name: "f", program: ProgramConfiguration(executable: exec, workingDirectory: scratch.path),
                                                location: SourceLocation(file: "test.conf", line: 1))
        let sink = UpdateSink()
        let feeder = Feeder(configuration: configuration, points: testPoints, logger: LogRecorder().logger, apply: { sink.apply($0) })
        let time = await elapsed {
            await withDiscardingTaskGroup { group in
                group.addTask { await feeder.run() }
                #expect(await eventually { sink.all.count >= 3 })
                group.cancelAll()
            }
        }
        #expect(time < .seconds(30), "stopping ends an endless feeder")
        let pid = try #require(scratch.read("pid").flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(kill(pid, 0) != 0)
    }
    @Test func aFeederThatExitsInvalidatesItsDeclaredPointsButNotWhenTheDaemonStopsIt() async throws {
        let scratch = Scratch()
        let exec = scratch.script("once.sh", "#!/bin/sh\necho '{\"point\":\"47:1\",\"value\":true}'\nexit 1\n")
        var configuration = FeederConfiguration(
            name: "sine", program: ProgramConfiguration(executable: exec, workingDirectory: scratch.path),
            restartDelay: .milliseconds(100), location: SourceLocation(file: "test.conf", line: 1))
        configuration.points = [PointSpan(commonAddress: 47, objectAddresses: 1...3)]
        let invalidated = UpdateSink()
        let log = LogRecorder()
        let feeder = Feeder(configuration: configuration, points: testPoints, logger: log.logger, apply: { _ in },
                            invalidate: { points in
                                invalidated.apply(points.map { PointUpdate(address: $0, value: .single(false)) })
                                return points
                            })
        await withDiscardingTaskGroup { group in
            group.addTask { await feeder.run() }
            #expect(await eventually { feeder.starts >= 2 })
            group.cancelAll()
        }
        #expect(Array(invalidated.all.prefix(3).map(\.address)) == [address(1), address(2), address(3)])
        #expect(!log.messages(containing: "feeder sine stopped (exit status 1); invalidated 3 points: 47:1-3; restarting in").isEmpty)

        // Stopped by the daemon: nothing is invalidated.
        let endless = scratch.script("endless.sh", "#!/bin/sh\nwhile true; do sleep 0.05; done\n")
        configuration.program = ProgramConfiguration(executable: endless, workingDirectory: scratch.path)
        let calls = UpdateSink()
        let stopped = Feeder(configuration: configuration, points: testPoints, logger: LogRecorder().logger, apply: { _ in },
                             invalidate: { points in
                                 calls.apply(points.map { PointUpdate(address: $0, value: .single(false)) })
                                 return points
                             })
        await withDiscardingTaskGroup { group in
            group.addTask { await stopped.run() }
            #expect(await eventually { stopped.starts >= 1 })
            group.cancelAll()
        }
        #expect(calls.all.isEmpty)
    }
}
