import Config
@testable import Daemon
import IEC104
import Outstation
import Testing
import TestSupport

/// What the control socket answers to each kind of request line, straight on an outstation (no socket).
@Suite struct ControlServiceTests {
    let outstation = Outstation(points: testPoints,
                                stations: [StationConfiguration(name: "scada", listener: "main", filter: .any, commonAddresses: [47])],
                                now: LinkInstant(nanoseconds: 0), wallTime: 0)

    func answer(_ line: String) -> ControlService.Answer {
        ControlService.answer(line, outstation: outstation, wallTime: 0)
    }

    @Test func aStatusRequestListsTheStationsAndTheVersion() throws {
        guard case .reply(let text) = answer(#"{"op":"status"}"#) else { Issue.record("not a reply"); return }
        #expect(text.contains(#""name":"scada""#) && text.contains(#""ok":true"#) && text.contains(#""version""#), "\(text)")
        #expect(text.contains(#""common_addresses":[47]"#))
    }

    @Test func anUpdateIsCheckedAndHandedOnToBeApplied() {
        #expect(answer(#"{"op":"set","points":[{"ca":47,"ioa":1,"value":true}]}"#)
                == .ingest([PointUpdate(address: address(1), value: .single(true), quality: QualityDescriptor(rawValue: 0), time: nil)]))
    }

    @Test func anUpdateOfACommandPointIsRefusedSayingWhy() {
        guard case .error(let text) = answer(#"{"op":"set","points":[{"ca":47,"ioa":10,"value":true}]}"#) else { Issue.record("not refused"); return }
        #expect(text.contains("47:10 is not a monitor point (it is a command point"), "\(text)")
    }

    @Test func anUpdateOfAnUnknownPointNamesIt() {
        #expect(answer(#"{"op":"set","points":[{"ca":47,"ioa":999,"value":true}]}"#) == .error(#"{"error":"no point 47:999","ok":false}"#))
    }

    @Test func getReadsThePointAsItIs() {
        guard case .reply(let text) = answer(#"{"op":"get","points":["47:3"]}"#) else { Issue.record("not a reply"); return }
        #expect(text.contains(#""ioa":3"#) && text.contains(#""type":"float""#), "\(text)")
    }

    @Test func reloadAndWatchAreLeftToTheSocket() {
        #expect(answer(#"{"op":"reload"}"#) == .reload)
        #expect(answer(#"{"op":"watch"}"#) == .watch(#"{"ok":true,"watching":true}"#))
    }

    @Test func theSetReplyIsWrittenByHand() {
        #expect(ControlService.setReply(updated: 2, events: 1) == #"{"events":1,"ok":true,"updated":2}"#)
    }
}
