import Config
@testable import Daemon
import Foundation
import IEC104
@testable import Outstation
import Testing

@Suite("Daemon status: pid, start, configuration, last reload")
struct DaemonStatusTests {
    @Test func theDaemonRecordShowsPidStartConfigAndTheLastReload() throws {
        let record = DaemonRecord(pid: 4242, started: 1_796_392_800_250, configPath: "/etc/rtu104d/rtu104d.conf")
        var object = record.statusObject
        #expect(object["pid"] as? Int == 4242)
        #expect(object["started"] as? String == "2026-12-04T14:00:00.250Z")
        #expect(object["config"] as? String == "/etc/rtu104d/rtu104d.conf")
        #expect(object["last_reload"] is NSNull)

        record.record(.init(time: 1_796_392_860_000, succeeded: false, message: "reload failed with 1 error(s), first: x"))
        object = record.statusObject
        let reload = try #require(object["last_reload"] as? [String: Any])
        #expect(reload["time"] as? String == "2026-12-04T14:01:00.000Z")
        #expect(reload["ok"] as? Bool == false)
        #expect(reload["message"] as? String == "reload failed with 1 error(s), first: x")
    }

    @Test func aRelativeConfigPathIsShownAbsolute() {
        let record = DaemonRecord(started: 0, configPath: "etc/rtu104d/rtu104d.conf")
        #expect(record.configPath == FileManager.default.currentDirectoryPath + "/etc/rtu104d/rtu104d.conf")
        #expect(record.pid == getpid())
    }

    @Test func theStatusReplyCarriesTheDaemonObject() throws {
        let outstation = Outstation(points: testPoints, stations: [], now: LinkInstant(nanoseconds: 0), wallTime: 0)
        let record = DaemonRecord(pid: 7, started: 0, configPath: "/x.conf")
        record.record(.init(time: 0, succeeded: true, message: "configuration reloaded: stations: none; points: unchanged"))
        guard case .reply(let text) = ControlService.answer(#"{"op":"status"}"#, outstation: outstation, wallTime: 0,
                                                            status: { ControlService.StatusInputs(daemon: record) }) else {
            Issue.record("no status reply")
            return
        }
        let reply = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let daemon = try #require(reply["daemon"] as? [String: Any])
        #expect(daemon["pid"] as? Int == 7)
        #expect(daemon["started"] as? String == "1970-01-01T00:00:00.000Z")
        #expect((daemon["last_reload"] as? [String: Any])?["ok"] as? Bool == true)
        #expect(!text.contains("Optional("))
    }
}
