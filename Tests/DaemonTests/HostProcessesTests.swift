import Config
import Daemon
import Foundation
import Outstation
import Testing

@Suite("Reloading handlers and feeders")
struct HostProcessesTests {
    func feeder(_ scratch: Scratch, name: String) -> FeederConfiguration {
        let exec = scratch.script("\(name).sh", "#!/bin/sh\necho $$ > \(name).pid\nwhile true; do echo '{\"point\":\"47:1\",\"value\":true}'; sleep 0.05; done\n")
        return FeederConfiguration(name: name, program: ProgramConfiguration(executable: exec, workingDirectory: scratch.path),
                                   location: SourceLocation(file: "test.conf", line: 1))
    }

    func configuration(feeders: [FeederConfiguration]) -> DaemonConfiguration {
        var configuration = daemonConfiguration(handlers: [], bindings: [:])
        configuration.feeders = feeders
        return configuration
    }

    func pid(_ scratch: Scratch, _ name: String) -> Int32? {
        scratch.read("\(name).pid").flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    @Test func anUnchangedConfigurationKeepsTheProcessesAndAChangedOneReplacesThem() async throws {
        let scratch = Scratch()
        let first = configuration(feeders: [feeder(scratch, name: "a")])
        let sink = UpdateSink()
        let processes = HostProcesses(configuration: first, logger: LogRecorder().logger, apply: { sink.apply($0) })
        await withDiscardingTaskGroup { group in
            group.addTask { await processes.run() }
            #expect(await eventually { pid(scratch, "a") != nil })
            let oldFeeder = try? #require(pid(scratch, "a"))
            #expect(processes.reconfigure(first) == false, "nothing changed: the feeder keeps running")
            #expect(oldFeeder.map { kill($0, 0) == 0 } == true)

            let second = configuration(feeders: [feeder(scratch, name: "b")])
            #expect(processes.reconfigure(second) == true)
            #expect(await eventually { pid(scratch, "b") != nil }, "the new configuration's feeder starts")
            #expect(await eventually { oldFeeder.map { kill($0, 0) != 0 } == true }, "the old one is stopped")
            group.cancelAll()
        }
        #expect(pid(scratch, "b").map { kill($0, 0) != 0 } == true, "stopping the daemon stops the current generation")
    }
}
