import Testing
@testable import rtu104ctl

@Suite("Bad input: frames before it, then one error line")
struct ErrorPathTests {
    @Test func notHexArgument() {
        let report = Decoding.decodeArguments(["68", "04", "zz"], format: .text)
        #expect(report == DecodeReport(output: "", error: "argument 3, column 1: 'zz' is not hex"))
    }

    @Test func oddDigitsInArgument() {
        let report = Decoding.decodeArguments(["680E00000000640106002F00000000140"], format: .json)
        #expect(report.output.isEmpty)
        #expect(report.error == "argument 1, column 1: '680E00000000640106002F00000000140' has an odd number of hex digits (33)")
    }

    @Test func notHexOnStandardInputKeepsEarlierFrames() {
        let report = Decoding.decodeHex("68 04 07 00 00 00\n68 04 0B 00 00 00\n68 04 g3 00 00 00\n", format: .text)
        #expect(report.output == "frame 1: U-frame STARTDT act\nframe 2: U-frame STARTDT con\n")
        #expect(report.error == "line 3, column 7: 'g3' is not hex")
    }

    @Test func invalidStartByte() {
        let report = Decoding.decodeArguments([Vectors.startDT, "69 04 07 00 00 00"], format: .text)
        #expect(report.output == "frame 1: U-frame STARTDT act\n")
        #expect(report.error == "frame 2: wrong start byte 0x69 where 0x68 was expected (input octet 6)")
    }

    @Test func invalidLength() {
        let report = Decoding.decodeArguments(["68 FE 00 00 00 00"], format: .text)
        #expect(report.output.isEmpty)
        #expect(report.error == "frame 1: APDU length 254 is outside 4...253 (input octet 0)")
    }

    @Test func invalidUnnumberedFunction() {
        let report = Decoding.decodeArguments(["68 04 03 00 00 00"], format: .json)
        #expect(report.output.isEmpty)
        #expect(report.error == "frame 1: U-frame control field 0x03 0x00 0x00 0x00 is not one function (input octet 0)")
    }

    @Test func truncatedLastFrame() {
        let report = Decoding.decodeArguments([Vectors.supervisory, "68 0E 00 00 00 00 64 01"], format: .text)
        #expect(report.output == "frame 1: S-frame N(R)=5\n")
        #expect(report.error == "frame 2: the input ends after 8 of its 16 octets (input octet 6)")
        #expect(Decoding.decodeArguments(["68"], format: .text).error
            == "frame 1: the input ends after its start octet (input octet 0)")
    }

    @Test func noInput() {
        #expect(Decoding.decodeArguments([""], format: .text).error
            == "no input: give hex octets as arguments, on standard input or with --file")
        #expect(Decoding.decodeHex("# only a comment\n", format: .text).error != nil)
    }

    @Test func reservedTimeValueShowsHeaderThenFails() {
        let report = Decoding.decodeArguments([Vectors.generalInterrogation, Vectors.badMinute], format: .text)
        #expect(report.error == "frame 2: ASDU: CP56Time2a minute has the reserved value 60")
        #expect(report.output.hasSuffix("""
            frame 2: I-frame N(S)=0 N(R)=0 (23 octets)
              type: M_SP_TB_1 (30) single-point information with time tag CP56Time2a
              SQ=0 objects=1
              COT: spont (3) P/N=0 T=0 originator=0
              CA: 1

            """))
        #expect(report.output.hasPrefix("frame 1: I-frame"))
    }

    @Test func reservedTimeValueAsJSON() {
        let report = Decoding.decodeArguments([Vectors.badMinute], format: .json)
        #expect(report.error == "frame 1: ASDU: CP56Time2a minute has the reserved value 60")
        #expect(report.output == """
            {"frame":"I","ns":0,"nr":0,"type":"M_SP_TB_1","typeId":30,"sq":false,"count":1,"cot":3,\
            "cotName":"spont","negative":false,"test":false,"originator":0,"ca":1,\
            "error":"CP56Time2a minute has the reserved value 60"}

            """)
    }

    @Test func framesAfterTheBadOneAreNotDecoded() {
        let report = Decoding.decodeArguments([Vectors.badMinute, Vectors.startDT], format: .text)
        #expect(!report.output.contains("STARTDT"))
        #expect(report.error == "frame 1: ASDU: CP56Time2a minute has the reserved value 60")
    }

    @Test func unknownTypeID() {
        let report = Decoding.decodeArguments(["68 0E 00 00 00 00 C8 01 06 00 2F 00 00 00 00 14"], format: .json)
        #expect(report.error == "frame 1: ASDU: unknown type identification 200")
        #expect(report.output.hasPrefix(#"{"frame":"I","ns":0,"nr":0,"type":null,"typeId":200,"#))
        let text = Decoding.decodeArguments(["68 0E 00 00 00 00 C8 01 06 00 2F 00 00 00 00 14"], format: .text)
        #expect(text.output.contains("\n  type: unknown (200)\n"))
    }

    @Test func objectCountMismatch() {
        // C_IC_NA_1 declaring two objects but carrying one.
        let report = Decoding.decodeArguments(["68 0E 00 00 00 00 64 02 06 00 2F 00 00 00 00 14"], format: .text)
        #expect(report.error == "frame 1: ASDU: C_IC_NA_1 declares 2 object(s), which take 14 octets, but the ASDU has 10")
        #expect(report.output.contains("\n  SQ=0 objects=2\n"))
    }

    @Test func asduShorterThanItsHeader() {
        let report = Decoding.decodeArguments(["68 08 00 00 00 00 64 01 06 00"], format: .json)
        #expect(report.output == #"{"frame":"I","ns":0,"nr":0,"error":"ASDU truncated: needs at least 6 octets, has 4"}"# + "\n")
        #expect(report.error == "frame 1: ASDU truncated: needs at least 6 octets, has 4")
    }

    @Test func reservedDoubleCommandState() {
        // C_DC_NA_1 with DCS 0 (not permitted).
        let report = Decoding.decodeArguments(["68 0E 00 00 00 00 2E 01 06 00 01 00 01 00 00 00"], format: .text)
        #expect(report.error == "frame 1: ASDU: DCS (double command state) has the reserved value 0")
    }

    @Test func decoderStopsAfterAnError() {
        var decoder = FrameStreamDecoder()
        _ = decoder.feed([0x69])
        let later = decoder.feed([0x68, 0x04, 0x07, 0x00, 0x00, 0x00])
        #expect(later.frames.isEmpty && later.error == nil)
        #expect(decoder.finish() == nil)
    }
}
