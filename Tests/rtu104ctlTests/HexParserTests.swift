import Testing
@testable import rtu104ctl

@Suite("Hex parser")
struct HexParserTests {
    static let giBytes: [UInt8] = [0x68, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x64, 0x01, 0x06, 0x00, 0x2F, 0x00, 0x00, 0x00, 0x00, 0x14]

    @Test("accepts the spellings operators paste", arguments: [
        "68 0E 00 00 00 00 64 01 06 00 2F 00 00 00 00 14",
        "680E00000000640106002F0000000014",
        "680e00000000640106002f0000000014",
        "0x68 0x0E 0x00 0x00 0x00 0x00 0x64 0x01 0x06 0x00 0x2F 0x00 0x00 0x00 0x00 0x14",
        "0x68,0x0E,0x00,0x00,0x00,0x00,0x64,0x01,0x06,0x00,0x2F,0x00,0x00,0x00,0x00,0x14",
        "68:0E:00:00:00:00:64:01:06:00:2F:00:00:00:00:14",
        "68-0E-00-00 00;00 64,01\t06 00 2F 00 00 00 00 14",
        "0X680E 0000 0000 640106002F0000000014",
        "0x68 0xE 0x0 0x0 0x0 0x0 0x64 0x1 0x6 0x0 0x2F 0x0 0x0 0x0 0x0 0x14",
        "  68 0E 00 00 00 00 64 01\n06 00 2F 00\r\n00 00 00 14  \n",
        "68 0E 00 00 00 00 # APCI\n64 01 06 00 2F 00 # header\n00 00 00 14",
    ])
    func spellings(text: String) throws {
        #expect(try HexParser.parse(text) == Self.giBytes)
    }

    @Test func emptyAndCommentOnlyTextIsNoBytes() throws {
        #expect(try HexParser.parse("") == [])
        #expect(try HexParser.parse("  # nothing here\n\n") == [])
    }

    @Test func oddDigitCount() {
        #expect(throws: HexParseError(kind: .oddDigitCount(3), token: "680", line: 1, column: 1)) {
            try HexParser.parse("680")
        }
        #expect(throws: HexParseError(kind: .oddDigitCount(1), token: "4", line: 1, column: 7)) {
            try HexParser.parse("68 0E 4 00")
        }
        #expect(throws: HexParseError(kind: .oddDigitCount(3), token: "0x123", line: 2, column: 4)) {
            try HexParser.parse("68\n04 0x123")
        }
    }

    @Test func notHex() {
        #expect(throws: HexParseError(kind: .notHex, token: "zz", line: 1, column: 4)) {
            try HexParser.parse("68 zz 00")
        }
        #expect(throws: HexParseError(kind: .notHex, token: "0x6G", line: 1, column: 1)) {
            try HexParser.parse("0x6G")
        }
        // Full-width digits have hex values in Unicode but are not hex text.
        #expect(throws: HexParseError(kind: .notHex, token: "６８", line: 1, column: 1)) {
            try HexParser.parse("６８")
        }
        #expect(throws: HexParseError(kind: .noDigits, token: "0x", line: 1, column: 4)) {
            try HexParser.parse("68 0x 00")
        }
    }

    @Test func errorMessages() {
        #expect(HexParseError(kind: .notHex, token: "zz", line: 1, column: 4).description == "'zz' is not hex")
        #expect(HexParseError(kind: .oddDigitCount(3), token: "680", line: 1, column: 1).description
            == "'680' has an odd number of hex digits (3)")
        #expect(HexParseError(kind: .noDigits, token: "0x", line: 1, column: 1).description == "'0x' has no hex digits")
    }
}
