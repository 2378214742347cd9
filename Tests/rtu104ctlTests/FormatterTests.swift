import Testing
import IEC104
@testable import rtu104ctl

@Suite("Text and JSON formatting of whole frames")
struct FormatterTests {
    @Test func generalInterrogationText() throws {
        #expect(APDUTextFormatter.format(try frame(Vectors.generalInterrogation)) == """
            frame 1: I-frame N(S)=0 N(R)=0 (16 octets)
              type: C_IC_NA_1 (100) interrogation command
              SQ=0 objects=1
              COT: act (6) P/N=0 T=0 originator=0
              CA: 47
              IOA 0: QOI=20 (station interrogation)
            """)
    }

    @Test func generalInterrogationJSON() throws {
        #expect(APDUJSONFormatter.format(try frame(Vectors.generalInterrogation)) == """
            {"frame":"I","ns":0,"nr":0,"type":"C_IC_NA_1","typeId":100,"sq":false,"count":1,"cot":6,\
            "cotName":"act","negative":false,"test":false,"originator":0,"ca":47,\
            "objects":[{"ioa":0,"value":20,"meaning":"station interrogation"}]}
            """)
    }

    @Test func supervisoryFrame() throws {
        let decoded = try frame(Vectors.supervisory, number: 3)
        #expect(APDUTextFormatter.format(decoded) == "frame 3: S-frame N(R)=5")
        #expect(APDUJSONFormatter.format(decoded) == #"{"frame":"S","nr":5}"#)
    }

    @Test func unnumberedFrame() throws {
        let decoded = try frame(Vectors.startDT)
        #expect(APDUTextFormatter.format(decoded) == "frame 1: U-frame STARTDT act")
        #expect(APDUJSONFormatter.format(decoded) == #"{"frame":"U","function":"STARTDT act"}"#)
    }

    @Test("all six U functions", arguments: [
        ("68 04 07 00 00 00", "STARTDT act"), ("68 04 0B 00 00 00", "STARTDT con"),
        ("68 04 13 00 00 00", "STOPDT act"), ("68 04 23 00 00 00", "STOPDT con"),
        ("68 04 43 00 00 00", "TESTFR act"), ("68 04 83 00 00 00", "TESTFR con"),
    ])
    func unnumberedFunctions(hex: String, name: String) throws {
        #expect(APDUTextFormatter.format(try frame(hex)) == "frame 1: U-frame \(name)")
    }

    @Test func sequenceNumbersUseAll15Bits() throws {
        // N(S) = 32767, N(R) = 16384.
        let decoded = try frame("68 0E FE FF 00 80 64 01 07 00 2F 00 00 00 00 14")
        #expect(APDUTextFormatter.format(decoded).hasPrefix("frame 1: I-frame N(S)=32767 N(R)=16384 (16 octets)"))
        #expect(APDUJSONFormatter.format(decoded).hasPrefix(#"{"frame":"I","ns":32767,"nr":16384,"#))
    }

    @Test func floatWithTimeText() throws {
        #expect(APDUTextFormatter.format(try frame(Vectors.floatWithTime)) == """
            frame 1: I-frame N(S)=1 N(R)=2 (27 octets)
              type: M_ME_TF_1 (36) measured value, short floating point with time tag CP56Time2a
              SQ=0 objects=1
              COT: spont (3) P/N=0 T=0 originator=0
              CA: 1
              IOA 4001: value=230.5 quality=good time=2026-11-22 04:57:51.123
            """)
    }

    @Test func floatWithTimeJSON() throws {
        #expect(APDUJSONFormatter.format(try frame(Vectors.floatWithTime)) == """
            {"frame":"I","ns":1,"nr":2,"type":"M_ME_TF_1","typeId":36,"sq":false,"count":1,"cot":3,\
            "cotName":"spont","negative":false,"test":false,"originator":0,"ca":1,\
            "objects":[{"ioa":4001,"value":230.5,"quality":[],"time":"2026-11-22T04:57:51.123","timeFlags":[]}]}
            """)
    }

    @Test func negativeConfirmationText() throws {
        #expect(APDUTextFormatter.format(try frame(Vectors.negativeConfirmation)) == """
            frame 1: I-frame N(S)=2 N(R)=1 (16 octets)
              type: C_SC_NA_1 (45) single command
              SQ=0 objects=1
              COT: unknown information object address (47) P/N=1 (negative) T=0 originator=0
              CA: 1
              IOA 5000: value=on execute QU=0 (default)
            """)
    }

    @Test func negativeConfirmationJSON() throws {
        #expect(APDUJSONFormatter.format(try frame(Vectors.negativeConfirmation)) == """
            {"frame":"I","ns":2,"nr":1,"type":"C_SC_NA_1","typeId":45,"sq":false,"count":1,"cot":47,\
            "cotName":"unknown information object address","negative":true,"test":false,"originator":0,"ca":1,\
            "objects":[{"ioa":5000,"value":true,"select":false,"qualifier":0,"qualifierName":"default"}]}
            """)
    }

    @Test func testBitOriginatorAndBroadcast() throws {
        // C_IC_NA_1 actcon with T=1, originator 3, broadcast CA 0xFFFF.
        let decoded = try frame("68 0E 00 00 00 00 64 01 87 03 FF FF 00 00 00 14")
        let text = APDUTextFormatter.format(decoded)
        #expect(text.contains("\n  COT: actcon (7) P/N=0 T=1 (test) originator=3\n"))
        #expect(text.contains("\n  CA: 65535 (broadcast)\n"))
        #expect(APDUJSONFormatter.format(decoded).contains(
            #""cot":7,"cotName":"actcon","negative":false,"test":true,"originator":3,"ca":65535,"#))
    }

    @Test func sequenceOfObjects() throws {
        // M_ME_NB_1 inrogen, SQ=1, three scaled values from IOA 1000.
        let decoded = try frame("68 16 00 00 00 00 0B 83 14 00 01 00 E8 03 00 01 00 00 FF FF 10 E8 03 80")
        #expect(APDUTextFormatter.format(decoded) == """
            frame 1: I-frame N(S)=0 N(R)=0 (24 octets)
              type: M_ME_NB_1 (11) measured value, scaled value
              SQ=1 objects=3
              COT: inrogen (20) P/N=0 T=0 originator=0
              CA: 1
              IOA 1000: value=1 quality=good
              IOA 1001: value=-1 quality=BL
              IOA 1002: value=1000 quality=IV
            """)
        #expect(APDUJSONFormatter.format(decoded).hasSuffix("""
            "sq":true,"count":3,"cot":20,"cotName":"inrogen","negative":false,"test":false,"originator":0,"ca":1,\
            "objects":[{"ioa":1000,"value":1,"quality":[]},{"ioa":1001,"value":-1,"quality":["BL"]},\
            {"ioa":1002,"value":1000,"quality":["IV"]}]}
            """))
    }

    @Test func concatenatedFrames() {
        let input = [Vectors.startDT, Vectors.generalInterrogation, Vectors.supervisory, Vectors.floatWithTime]
            .joined(separator: " ")
        let text = Decoding.decodeArguments([input], format: .text)
        #expect(text.error == nil)
        let lines = text.output.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("frame ") } == [
            "frame 1: U-frame STARTDT act",
            "frame 2: I-frame N(S)=0 N(R)=0 (16 octets)",
            "frame 3: S-frame N(R)=5",
            "frame 4: I-frame N(S)=1 N(R)=2 (27 octets)",
        ])
        let json = Decoding.decodeArguments([input], format: .json)
        #expect(json.error == nil)
        let jsonLines = json.output.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(jsonLines.count == 5)  // four objects and the final line break
        #expect(jsonLines[0] == #"{"frame":"U","function":"STARTDT act"}"#)
        #expect(jsonLines[1].hasPrefix(#"{"frame":"I","ns":0,"nr":0,"type":"C_IC_NA_1""#))
        #expect(jsonLines[2] == #"{"frame":"S","nr":5}"#)
        #expect(jsonLines[3].hasPrefix(#"{"frame":"I","ns":1,"nr":2,"type":"M_ME_TF_1""#))
        #expect(jsonLines[4].isEmpty)
    }

    @Test func concatenatedFramesAcrossLinesOfStandardInput() {
        // Frames split anywhere across lines, as pasted from a capture.
        let input = "68 04 07 00\n00 00 68 0E 00 00 00 00 64\n01 06 00 2F 00 00 00 00 14 68 04\n01 00 0A 00\n"
        let report = Decoding.decodeHex(input, format: .json)
        #expect(report.error == nil)
        #expect(report.output == """
            {"frame":"U","function":"STARTDT act"}
            {"frame":"I","ns":0,"nr":0,"type":"C_IC_NA_1","typeId":100,"sq":false,"count":1,"cot":6,\
            "cotName":"act","negative":false,"test":false,"originator":0,"ca":47,\
            "objects":[{"ioa":0,"value":20,"meaning":"station interrogation"}]}
            {"frame":"S","nr":5}

            """)
    }

    @Test func binaryInputIsTheSame() throws {
        let bytes = try HexParser.parse(Vectors.generalInterrogation + Vectors.supervisory)
        let report = Decoding.decode(bytes, format: .text)
        #expect(report.error == nil)
        #expect(report.output.hasSuffix("  IOA 0: QOI=20 (station interrogation)\nframe 2: S-frame N(R)=5\n"))
    }

    @Test func jsonEscapesStrings() {
        #expect(render(.string("a\"b\\c\nd\u{01}é")) == #""a\"b\\c\nd\u0001é""#)
        #expect(render(.object([("z", .int(1)), ("a", .array([.null, .bool(true)]))])) == #"{"z":1,"a":[null,true]}"#)
        #expect(render(.float(.nan)) == #""NaN""#)
        #expect(render(.float(-.infinity)) == #""-Infinity""#)
        #expect(render(.double(.infinity)) == #""Infinity""#)
        #expect(render(.float(1e-5)) == "1e-05")
    }
}
