import IEC104
import Testing

@Suite("Operator text: elements, types and time tags as an engineer writes them")
struct OperatorTextTests {
    static let time = CP56Time2a(unixMilliseconds: 1_796_398_463_331)

    @Test func timeTagsAreISO8601UTC() {
        #expect(Self.time.iso8601 == "2026-12-04T15:34:23.331Z")
        var flagged = Self.time
        flagged.isInvalid = true
        flagged.isSummerTime = true
        #expect(flagged.iso8601 == "2026-12-04T15:34:23.331Z IV SU")
        #expect(CP56Time2a(unixMilliseconds: 946_684_800_000).iso8601 == "2000-01-01T00:00:00.000Z")
    }

    @Test(arguments: [
        (InformationElement.doubleCommand(DoubleCommand(state: .on, qualifier: CommandQualifier(rawValue: 0), isSelect: true)),
         "C_DC_NA_1 select on, QU=0"),
        (.doubleCommand(DoubleCommand(state: .off, qualifier: CommandQualifier(rawValue: 1), isSelect: false)), "C_DC_NA_1 off, QU=1"),
        (.singleCommand(SingleCommand(isOn: true)), "C_SC_NA_1 on, QU=0"),
        (.singleCommand(SingleCommand(isOn: false), time: time), "C_SC_TA_1 off, QU=0 at 2026-12-04T15:34:23.331Z"),
        (.regulatingStepCommand(RegulatingStepCommand(direction: .higher, qualifier: CommandQualifier(rawValue: 0), isSelect: false)),
         "C_RC_NA_1 higher, QU=0"),
        (.setpointFloat(231.0, SetpointQualifier(qualifier: 0, isSelect: false)), "C_SE_NC_1 231.0"),
        (.setpointFloat(231.0, SetpointQualifier(qualifier: 0, isSelect: false), time: time),
         "C_SE_TC_1 231.0 at 2026-12-04T15:34:23.331Z"),
        (.setpointScaled(-12, SetpointQualifier(qualifier: 3, isSelect: true)), "C_SE_NB_1 select -12, QL=3"),
        (.setpointNormalized(NormalizedValue(rawValue: 16384), SetpointQualifier(qualifier: 0, isSelect: false)), "C_SE_NA_1 0.5"),
        (.bitstringCommand(0xBEEF), "C_BO_NA_1 0x0000BEEF"),
        (.read, "C_RD_NA_1"),
    ])
    func elementsReadAsWritten(element: InformationElement, expected: String) {
        #expect(element.operatorText == expected)
        for text in ["IEC104.", "Optional(", "rawValue:"] { #expect(!element.operatorText.contains(text)) }
    }

    @Test func selectIsRecognisedForEveryCommandFamily() {
        #expect(InformationElement.singleCommand(SingleCommand(isOn: true, qualifier: CommandQualifier(rawValue: 0), isSelect: true))
            .isSelectCommand)
        #expect(InformationElement.setpointFloat(1, SetpointQualifier(qualifier: 0, isSelect: true)).isSelectCommand)
        #expect(!InformationElement.setpointFloat(1, SetpointQualifier(qualifier: 0, isSelect: false)).isSelectCommand)
        #expect(!InformationElement.read.isSelectCommand)
    }

    @Test func hexIsUpperCaseAndPaddedToTheTypesWidth() {
        #expect(UInt8(0x0F).paddedHex == "0F")
        #expect(UInt8(0xA0).paddedHex == "A0")
        #expect(UInt16(0x55AA).paddedHex == "55AA")
        #expect(UInt32(0xABCD).paddedHex == "0000ABCD")
        #expect(UInt32.max.paddedHex == "FFFFFFFF")
        #expect(UInt64(1).paddedHex == "0000000000000001")
    }
}
