@testable import Daemon
import Foundation
import Testing
import TestSupport
import UnixSignals

/// The daemon's services in their ServiceGroup, started from a real configuration and stopped the way SIGTERM
/// stops them; systemd's messages and the log as an operator would see them.
/// One daemon at a time: four at once, with their event loops, took the CPU from the timing-bound ServerTests.
@Suite(.serialized) struct DaemonServiceGroupTests {
    @Test func aGracefulShutdownStopsEveryServiceInOrderAndInTime() async throws {
        let fixture = try await DaemonFixture()
        #expect(fixture.daemon.lifecycle.state == .running)
        #expect(fixture.sent == ["READY=1\nSTATUS=0/1 stations connected, 0 connections"],
                "READY=1 with the first status, once everything is bound")
        #expect(FileManager.default.fileExists(atPath: fixture.daemon.controlSocketPath))
        let stoppedInTime = try await fixture.serving {}
        #expect(stoppedInTime, "the ServiceGroup returned within the limit: no service was left running")
        #expect(fixture.daemon.lifecycle.state == .stopped)
        #expect(fixture.sent.last == "STOPPING=1\nSTATUS=stopping")
        #expect(!FileManager.default.fileExists(atPath: fixture.daemon.controlSocketPath), "the socket file is removed")
        #expect(fixture.log.messages(containing: "rtu104d stopped").count == 1)
        #expect(fixture.log.all.allSatisfy { $0.level < .warning }, "\(fixture.log.all.map(\.message))")
    }

    @Test func aStopSignalIsNamedInTheLogAndStopsTheGroup() async throws {
        let fixture = try await DaemonFixture()
        let stoppedInTime = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await fixture.daemon.run(); return true }
            fixture.stop.yield(.sigint)
            group.addTask { try? await Task.sleep(for: .seconds(20)); return false }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(stoppedInTime)
        let lines = fixture.log.all.map(\.message)
        let stopping = try #require(lines.firstIndex(of: "stopping on SIGINT"))
        #expect(lines.firstIndex(of: "rtu104d stopped").map { $0 > stopping } == true)
        #expect(fixture.sent.filter { $0.hasPrefix("STOPPING=1") }.count == 1)
    }

    @Test func aSighupAppliesAGoodConfigurationAndRefusesABadOneNamingFileAndLine() async throws {
        let fixture = try await DaemonFixture()
        let port = freeLoopbackPort()
        let stoppedInTime = try await fixture.serving {
            DaemonFixture.writeConfig(fixture.configPath, port: port, commonAddresses: "1, 2")
            fixture.reload.yield(.sighup)
            #expect(await eventually { fixture.sent.contains { $0.hasPrefix("READY=1") && $0.contains("last reload") } })

            // Line 12 holds the broken value.
            DaemonFixture.writeConfig(fixture.configPath, port: port, commonAddresses: "one")
            fixture.reload.yield(.sighup)
            #expect(await eventually { fixture.sent.contains { $0.hasPrefix("READY=1") && $0.contains("FAILED") } })
        }
        #expect(stoppedInTime)
        let errors = fixture.log.all.filter { $0.level == .error }.map(\.message)
        #expect(errors.contains { $0.hasPrefix("reload: ") && $0.contains("rtu.conf:12:") }, "\(errors)")
        #expect(fixture.log.messages(containing: "configuration reloaded").count == 1)
        // systemd: RELOADING=1 with MONOTONIC_USEC, then READY=1, for each reload; the failure in STATUS=.
        let sent = fixture.sent
        let reloading = sent.indices.filter { sent[$0].hasPrefix("RELOADING=1\nMONOTONIC_USEC=") }
        #expect(reloading.count == 2)
        for index in reloading { #expect(sent.count > index + 1 && sent[index + 1].hasPrefix("READY=1\nSTATUS="), "\(sent)") }
        #expect(sent.contains { $0.hasPrefix("READY=1") && $0.contains("last reload") && $0.contains("FAILED") })
        #expect(fixture.daemon.lifecycle.state == .stopped)
    }

    @Test func theControlSocketAnswersOverARealUnixSocket() async throws {
        let fixture = try await DaemonFixture()
        let stoppedInTime = try await fixture.serving {
            let client = try #require(ControlClient(path: fixture.daemon.controlSocketPath))
            defer { client.close() }
            let status = try #require(await client.ask(#"{"op":"status"}"#))
            #expect(status.contains(#""ok":true"#) && status.contains(#""name":"anyone""#), "\(status)")
            let set = try #require(await client.ask(#"{"op":"set","points":[{"ca":1,"ioa":100,"value":true}]}"#))
            #expect(set.contains(#""ok":true,"updated":1"#), "\(set)")
            let get = try #require(await client.ask(#"{"op":"get","points":["1:100"]}"#))
            #expect(get.contains(#""value":true"#), "\(get)")
            let refused = try #require(await client.ask(#"{"op":"set","points":[{"ca":1,"ioa":999,"value":true}]}"#))
            #expect(refused == #"{"error":"no point 1:999","ok":false}"#)
            let reload = try #require(await client.ask(#"{"op":"reload"}"#), "a reload's reply comes from the service's child task")
            #expect(reload.hasPrefix(#"{"message":"configuration reloaded"#), "\(reload)")
        }
        #expect(stoppedInTime, "a client still connected does not hold the stop")
    }
}
