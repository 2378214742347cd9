import Testing
import IEC104
@testable import rtu104ctl

/// Every one of the 33 InformationElement cases, encoded by the codec, decoded and printed.
@Suite("Formatting of each information element")
struct ElementFormattingTests {
    static let t = CP56Time2a(year: 26, month: 11, dayOfMonth: 22, hour: 4, minute: 57, milliseconds: 51_123)
    static let tFlags = CP56Time2a(year: 26, month: 3, dayOfMonth: 1, hour: 23, minute: 0, milliseconds: 5,
                                   isInvalid: true, isSummerTime: true)
    static let text = " time=2026-11-22 04:57:51.123"
    static let json = #","time":"2026-11-22T04:57:51.123","timeFlags":[]"#

    struct Case: Sendable, CustomTestStringConvertible {
        var element: InformationElement
        /// After `IOA 100: `.
        var text: String
        /// The object's keys after `"ioa":100,`, without the closing brace.
        var json: String
        var testDescription: String { text }
    }

    static let cases: [Case] = [
        Case(element: .singlePoint(SinglePointInformation(isOn: true)),
             text: "value=on quality=good", json: #""value":true,"quality":[]"#),
        Case(element: .singlePoint(SinglePointInformation(isOn: false, quality: [.invalid, .notTopical]), time: t),
             text: "value=off quality=NT,IV" + text, json: #""value":false,"quality":["NT","IV"]"# + json),
        Case(element: .doublePoint(DoublePointInformation(state: .indeterminate, quality: [.blocked]), time: tFlags),
             text: "value=indeterminate quality=BL time=2026-03-01 23:00:00.005 IV SU",
             json: #""value":"indeterminate","quality":["BL"],"time":"2026-03-01T23:00:00.005","timeFlags":["IV","SU"]"#),
        Case(element: .doublePoint(DoublePointInformation(state: .intermediate)),
             text: "value=intermediate quality=good", json: #""value":"intermediate","quality":[]"#),
        Case(element: .stepPosition(StepPosition(value: -64, isTransient: true), [.substituted]),
             text: "value=-64 transient quality=SB", json: #""value":-64,"transient":true,"quality":["SB"]"#),
        Case(element: .bitstring(0x1234_ABCD, [], time: t),
             text: "value=0x1234ABCD quality=good" + text,
             json: #""value":305441741,"hex":"0x1234ABCD","quality":[]"# + json),
        Case(element: .normalized(NormalizedValue(rawValue: 16384), [.overflow]),
             text: "value=0.5 (raw 16384) quality=OV", json: #""value":0.5,"raw":16384,"quality":["OV"]"#),
        Case(element: .scaled(-32768, [], time: t),
             text: "value=-32768 quality=good" + text, json: #""value":-32768,"quality":[]"# + json),
        Case(element: .float(-0.125, [.invalid]),
             text: "value=-0.125 quality=IV", json: #""value":-0.125,"quality":["IV"]"#),
        Case(element: .float(.nan, []),
             text: "value=nan quality=good", json: #""value":"NaN","quality":[]"#),
        Case(element: .integratedTotals(BinaryCounterReading(value: -5, sequenceNumber: 7, carry: true, invalid: true), time: t),
             text: "value=-5 seq=7 quality=CY,IV" + text, json: #""value":-5,"sequence":7,"quality":["CY","IV"]"# + json),
        Case(element: .packedSinglePoints(StatusChangeDetection(status: 0x00FF, changed: 0x0101), []),
             text: "status=0x00FF changed=0x0101 quality=good", json: #""value":255,"changed":257,"quality":[]"#),
        Case(element: .normalizedWithoutQuality(NormalizedValue(rawValue: -32768)),
             text: "value=-1.0 (raw -32768)", json: #""value":-1.0,"raw":-32768"#),
        Case(element: .protectionEvent(SingleEventOfProtection(state: .on, quality: [.elapsedTimeInvalid]),
                                       elapsed: CP16Time2a(milliseconds: 120), time: t),
             text: "event=on elapsed=120 ms quality=EI" + text,
             json: #""value":"on","elapsedMs":120,"quality":["EI"]"# + json),
        Case(element: .protectionStartEvents([.general, .phaseL2, .reverseDirection], [],
                                             duration: CP16Time2a(milliseconds: 59_999), time: t),
             text: "start=GS,SL2,SRD duration=59999 ms quality=good" + text,
             json: #""value":["GS","SL2","SRD"],"durationMs":59999,"quality":[]"# + json),
        Case(element: .protectionOutputCircuit([], [.invalid], operatingTime: CP16Time2a(milliseconds: 0), time: t),
             text: "trip=none operating-time=0 ms quality=IV" + text,
             json: #""value":[],"operatingTimeMs":0,"quality":["IV"]"# + json),
        Case(element: .endOfInitialization(CauseOfInitialization(cause: 2, afterParameterChange: true)),
             text: "COI=2 (remote reset) after parameter change",
             json: #""value":2,"meaning":"remote reset","afterParameterChange":true"#),
        Case(element: .singleCommand(SingleCommand(isOn: true, qualifier: .shortPulse, isSelect: true)),
             text: "value=on select QU=1 (short pulse)",
             json: #""value":true,"select":true,"qualifier":1,"qualifierName":"short pulse""#),
        Case(element: .doubleCommand(DoubleCommand(state: .off, qualifier: .persistent), time: t),
             text: "value=off execute QU=3 (persistent)" + text,
             json: #""value":"off","select":false,"qualifier":3,"qualifierName":"persistent""# + json),
        Case(element: .regulatingStepCommand(RegulatingStepCommand(direction: .higher, qualifier: .longPulse)),
             text: "value=higher execute QU=2 (long pulse)",
             json: #""value":"higher","select":false,"qualifier":2,"qualifierName":"long pulse""#),
        Case(element: .setpointNormalized(NormalizedValue(rawValue: -16384), SetpointQualifier(qualifier: 0, isSelect: true)),
             text: "value=-0.5 (raw -16384) select QL=0",
             json: #""value":-0.5,"raw":-16384,"select":true,"qualifier":0"#),
        Case(element: .setpointScaled(1234, SetpointQualifier(qualifier: 64), time: t),
             text: "value=1234 execute QL=64" + text,
             json: #""value":1234,"select":false,"qualifier":64"# + json),
        Case(element: .setpointFloat(50.25, SetpointQualifier()),
             text: "value=50.25 execute QL=0", json: #""value":50.25,"select":false,"qualifier":0"#),
        Case(element: .bitstringCommand(0x0000_0001, time: t),
             text: "value=0x00000001" + text, json: #""value":1,"hex":"0x00000001""# + json),
        Case(element: .interrogation(.group(3)),
             text: "QOI=23 (group 3 interrogation)", json: #""value":23,"meaning":"group 3 interrogation""#),
        Case(element: .counterInterrogation(CounterInterrogationQualifier(request: 5, freeze: .freezeWithReset)),
             text: "RQT=5 (general counter request) FRZ=2 (freeze with reset)",
             json: #""value":5,"meaning":"general counter request","freeze":"freeze with reset""#),
        Case(element: .read, text: "read", json: #""value":null"#),
        Case(element: .clockSynchronization(t),
             text: "time=2026-11-22 04:57:51.123",
             json: #""value":"2026-11-22T04:57:51.123""# + json),
        Case(element: .test(pattern: 0x55AA), text: "FBP=0x55AA", json: #""value":21930,"hex":"0x55AA""#),
        Case(element: .resetProcess(.general),
             text: "QRP=1 (general reset of process)", json: #""value":1,"meaning":"general reset of process""#),
        Case(element: .delayAcquisition(CP16Time2a(milliseconds: 1500)), text: "delay=1500 ms", json: #""value":1500"#),
        Case(element: .testWithTime(counter: 4242, time: t),
             text: "TSC=4242" + text, json: #""value":4242"# + json),
        Case(element: .parameterNormalized(NormalizedValue(rawValue: 328), MeasuredParameterQualifier(kind: 1)),
             text: "value=0.010009765625 (raw 328) KPA=1 (threshold value)",
             json: #""value":0.010009765625,"raw":328,"kind":1,"kindName":"threshold value","localChange":false,"notInOperation":false"#),
        Case(element: .parameterScaled(-7, MeasuredParameterQualifier(kind: 3, localChange: true, notInOperation: true)),
             text: "value=-7 KPA=3 (low limit) LPC POP",
             json: #""value":-7,"kind":3,"kindName":"low limit","localChange":true,"notInOperation":true"#),
        Case(element: .parameterFloat(0.5, MeasuredParameterQualifier(kind: 40)),
             text: "value=0.5 KPA=40 (private 40)",
             json: #""value":0.5,"kind":40,"kindName":"private 40","localChange":false,"notInOperation":false"#),
        Case(element: .parameterActivation(ParameterActivationQualifier(rawValue: 3)),
             text: "QPA=3 (act/deact of persistent cyclic or periodic transmission of the addressed object)",
             json: #""value":3,"meaning":"act/deact of persistent cyclic or periodic transmission of the addressed object""#),
    ]

    @Test(arguments: cases)
    func element(_ testCase: Case) throws {
        let decoded = try frame(testCase.element)
        #expect(decoded.asduError == nil)
        let text = APDUTextFormatter.format(decoded)
        #expect(text.split(separator: "\n").last.map(String.init) == "  IOA 100: " + testCase.text)
        let json = APDUJSONFormatter.format(decoded)
        #expect(json.hasSuffix(#","objects":[{"ioa":100,"# + testCase.json + "}]}"))
    }

    @Test func everyElementCaseIsCovered() throws {
        // One case name per InformationElement case: a new case in the codec must get a test here.
        func name(_ element: InformationElement) -> String {
            String(String(describing: element).prefix { $0 != "(" })
        }
        #expect(Set(Self.cases.map { name($0.element) }).count == 33)
    }
}
