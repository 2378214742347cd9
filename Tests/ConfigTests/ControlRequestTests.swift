import Config
import IEC104
import Outstation
import Testing

@Suite("Control socket requests")
struct ControlRequestTests {
    let kinds: [PointAddress: PointKind] = [
        PointAddress(commonAddress: 47, objectAddress: 1001): .single,
        PointAddress(commonAddress: 47, objectAddress: 1101): .double,
        PointAddress(commonAddress: 47, objectAddress: 1201): .step,
        PointAddress(commonAddress: 47, objectAddress: 3201): .float,
        PointAddress(commonAddress: 47, objectAddress: 5001): .counter,
    ]

    func parse(_ line: String) -> Result<ControlRequest, ControlRequestError> {
        ControlRequestParser.parse(line) { kinds[$0] }
    }

    func address(_ ioa: UInt32) -> PointAddress { PointAddress(commonAddress: 47, objectAddress: ioa) }

    @Test func setWithValueQualityAndTime() throws {
        let request = try parse(#"{"op":"set","points":[{"ca":47,"ioa":3201,"value":231.5,"quality":["invalid","substituted"],"time":1763790000123}]}"#).get()
        #expect(request == .set([PointUpdate(address: address(3201), value: .float(231.5), quality: [.invalid, .substituted],
                                             time: 1_763_790_000_123)]))
    }

    @Test func setNamesPointsEitherWay() throws {
        let request = try parse(#"{"op":"set","points":[{"point":"47:1001","value":"on"},{"ca":47,"ioa":1101,"value":"intermediate"},{"point":"47:1201","value":-3,"transient":true}]}"#).get()
        #expect(request == .set([
            PointUpdate(address: address(1001), value: .single(true)),
            PointUpdate(address: address(1101), value: .double(.intermediate)),
            PointUpdate(address: address(1201), value: .step(StepPosition(value: -3, isTransient: true))),
        ]))
    }

    @Test func getStatusReload() throws {
        #expect(try parse(#"{"op":"get"}"#).get() == .get(nil))
        #expect(try parse(#"{"op":"get","points":["47:1001","47:3201"]}"#).get() == .get([address(1001), address(3201)]))
        #expect(try parse(#"{"op":"status","id":7}"#).get() == .status)
        #expect(try parse(#"{"op":"reload"}"#).get() == .reload)
    }

    @Test(arguments: [
        ("", "not JSON:"),
        ("[1,2]", "a request is a JSON object"),
        (#"{"points":[]}"#, "missing \"op\""),
        (#"{"op":"explode"}"#, "unknown op \"explode\""),
        (#"{"op":"status","points":[]}"#, "unknown key \"points\" for op status"),
        (#"{"op":"set"}"#, "set needs \"points\""),
        (#"{"op":"set","points":[]}"#, "set needs \"points\""),
        (#"{"op":"set","points":[{"ca":47,"ioa":9999,"value":1}]}"#, "points[0]: no monitor point 47:9999"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1001}]}"#, "points[0]: missing \"value\" for 47:1001"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1001,"value":"maybe"}]}"#, "is not a single-point value"),
        (#"{"op":"set","points":[{"ca":47,"ioa":3201,"value":1e39}]}"#, "float value:"),
        (#"{"op":"set","points":[{"ca":47,"ioa":3201,"value":"NaN"}]}"#, "float value:"),
        (#"{"op":"set","points":[{"ca":47,"ioa":5001,"value":4294967296}]}"#, "counter reading:"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1001,"value":true,"quality":["overflow"]}]}"#, "no overflow flag"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1001,"value":true,"quality":["bogus"]}]}"#, "quality:"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1001,"value":true,"time":5}]}"#, "time (ms since 1970"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1001,"value":true,"colour":"red"}]}"#, "unknown key \"colour\""),
        (#"{"op":"set","points":[{"ca":47,"ioa":1001,"point":"47:1001","value":true}]}"#, "not both"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1001,"value":true,"transient":true}]}"#, "step positions only"),
        (#"{"op":"get","points":["1001"]}"#, "is not \"CA:IOA\""),
        (#"{"op":"get","op":"set"}"#, "given twice"),
    ])
    func refusals(line: String, expected: String) {
        switch parse(line) {
        case .success(let request): Issue.record("accepted \(line) as \(request)")
        case .failure(let problem): #expect(problem.message.contains(expected), "\(problem.message)")
        }
    }

    @Test func shellMetacharactersAreJustText() {
        guard case .failure(let problem) = parse(#"{"op":"set","points":[{"point":"47:1001; rm -rf /","value":true}]}"#) else {
            Issue.record("accepted")
            return
        }
        #expect(problem.message.contains("is not \"CA:IOA\""))
    }

    @Test func overlongLineIsRefusedUnread() {
        let line = String(repeating: " ", count: ControlRequestParser.maximumLineLength + 1)
        guard case .failure(let problem) = parse(line) else { Issue.record("accepted"); return }
        #expect(problem.message.contains("longer than"))
    }
}
