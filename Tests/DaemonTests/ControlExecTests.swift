import BuildInfo
import Config
import Foundation
import IEC104
import Outstation
import Testing
@testable import Daemon
import TestSupport

/// The control socket's `exec` request and the messages that name a point and why.
@Suite("Control socket: exec, unknown points, version")
struct ControlExecTests {
    static func address(_ ioa: UInt32) -> PointAddress { PointAddress(commonAddress: 47, objectAddress: ioa) }

    static func outstation() -> Outstation {
        let table = PointTable(
            monitorPoints: [MonitorPointDefinition(address: address(1001), kind: .double, initialValue: .double(.off)),
                            MonitorPointDefinition(address: address(1201), kind: .step,
                                                   initialValue: .step(StepPosition(value: 5, isTransient: false)))],
            commandPoints: [CommandPointDefinition(address: address(2001), kind: .double, selectBeforeOperate: .required,
                                                   feedback: address(1001)),
                            CommandPointDefinition(address: address(2002), kind: .single, selectBeforeOperate: .no),
                            CommandPointDefinition(address: address(2201), kind: .step, feedback: address(1201))])
        return Outstation(points: table, stations: [], now: LinkInstant(nanoseconds: 0), wallTime: 0)
    }

    static func plan(_ line: String) -> Result<ExecPlan, ControlRequestError>? {
        let outstation = outstation()
        return ControlExec.parse(line, image: outstation.image, newID: outstation.reserveCommandID)
    }

    @Test func selectBeforeOperateIsASelectThenAnExecuteWithTheStationsFeedback() throws {
        let plan = try #require(try Self.plan(#"{"op":"exec","point":"47:2001","value":"on","select":true}"#)?.get())
        #expect(plan.requests.map(\.isSelect) == [true, false])
        #expect(plan.requests.allSatisfy { $0.station == "rtu104ctl" && $0.peer == "control socket" })
        #expect(plan.requests[1].element == .doubleCommand(DoubleCommand(state: .on)))
        #expect(plan.requests[0].element == .doubleCommand(DoubleCommand(state: .on, isSelect: true)))
        #expect(plan.requests[1].suggestedFeedback == PointUpdate(address: Self.address(1001), value: .double(.on)))
        #expect(Set(plan.requests.map(\.id)).count == 2)
    }

    @Test func aStepMovesTheFeedbackFromItsCurrentPosition() throws {
        let plan = try #require(try Self.plan(#"{"op":"exec","point":"47:2201","value":"higher"}"#)?.get())
        #expect(plan.requests[0].suggestedFeedback?.value == .step(StepPosition(value: 6, isTransient: false)))
    }

    @Test(arguments: [
        (#"{"op":"exec","point":"47:2001","value":"on"}"#, "47:2001 requires select-before-operate; add select"),
        (#"{"op":"exec","point":"47:2002","value":"on","select":true}"#,
         "47:2002 does not take select-before-operate; leave out select"),
        (#"{"op":"exec","point":"47:1001","value":"on"}"#,
         "47:1001 is not a command point (it is a monitor point; exec only takes command points)"),
        (#"{"op":"exec","point":"47:9","value":"on"}"#, "no point 47:9"),
        (#"{"op":"exec","point":"47:2002","value":"maybe"}"#, "'maybe' is not a value for 47:2002 (C_SC_NA_1); use on/off"),
        (#"{"op":"exec","point":"47","value":"on"}"#, "'47' is not CA:IOA (e.g. 47:2001)"),
        (#"{"op":"exec","point":"47:2002"}"#, #"exec needs "value", e.g. "on" or 230.5"#),
        (#"{"op":"exec","point":"47:2002","value":"on","force":true}"#, #"unknown key "force" for op exec"#),
    ])
    func refusalsNameThePointAndWhy(line: String, message: String) {
        #expect(Self.plan(line) == .failure(ControlRequestError(message)))
    }

    @Test func otherRequestsAreNotExec() {
        #expect(Self.plan(#"{"op":"status"}"#) == nil)
    }

    @Test(arguments: [
        (#"{"op":"set","points":[{"point":"47:2002","value":1}]}"#,
         "47:2002 is not a monitor point (it is a command point; set only takes monitor points)"),
        (#"{"op":"set","points":[{"point":"47:9","value":1}]}"#, "no point 47:9"),
        (#"{"op":"get","points":["47:2002"]}"#,
         "47:2002 is not a monitor point (it is a command point; get only takes monitor points)"),
    ])
    func unknownMonitorPointsAreNamed(line: String, message: String) throws {
        guard case .error(let reply) = ControlService.answer(line, outstation: Self.outstation(), wallTime: 0) else {
            Issue.record("not refused: \(line)")
            return
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])
        #expect(object["error"] as? String == message)
    }

    @Test func statusCarriesTheVersionAndRepliesKeepSlashes() throws {
        guard case .reply(let reply) = ControlService.answer(#"{"op":"status"}"#, outstation: Self.outstation(), wallTime: 0) else {
            Issue.record("no status reply")
            return
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])
        #expect(object["version"] as? String == rtu104VersionText)
        #expect(ControlService.render(["path": "/run/rtu104d"]) == #"{"path":"/run/rtu104d"}"#)
    }
}
