import IEC104
import Testing
import TestSupport

/// Decodes one whole frame (start, length, control octets, ASDU) the way the framer does.
private func decodeFrame(_ frame: [UInt8]) throws(FrameError) -> APCI {
    try APCI.decode(control: frame[2], frame[3], frame[4], frame[5], length: Int(frame[1]))
}

@Suite("APCI control field")
struct APCITests {
    struct UVector: Sendable, CustomTestStringConvertible {
        let function: UFunction
        let frame: String
        var testDescription: String { function.name }
    }

    static let uVectors: [UVector] = [
        UVector(function: .startDTActivation, frame: "68 04 07 00 00 00"),
        UVector(function: .startDTConfirmation, frame: "68 04 0B 00 00 00"),
        UVector(function: .stopDTActivation, frame: "68 04 13 00 00 00"),
        UVector(function: .stopDTConfirmation, frame: "68 04 23 00 00 00"),
        UVector(function: .testFRActivation, frame: "68 04 43 00 00 00"),
        UVector(function: .testFRConfirmation, frame: "68 04 83 00 00 00"),
    ]

    @Test("U-frames encode and decode", arguments: uVectors)
    func unnumbered(_ vector: UVector) throws {
        let frame = hex(vector.frame)
        #expect(APCI.unnumbered(vector.function).encodedFrame == frame)
        #expect(APDU(apci: .unnumbered(vector.function)).encoded == frame)
        #expect(try decodeFrame(frame) == .unnumbered(vector.function))
    }

    @Test("U-function names")
    func names() {
        #expect(UFunction.allCases.map(\.name) == ["STARTDT act", "STARTDT con", "STOPDT act", "STOPDT con",
                                                   "TESTFR act", "TESTFR con"])
        #expect(APCI.unnumbered(.testFRActivation).description == "U(TESTFR act)")
        #expect(APCI.supervisory(receive: 7).description == "S(N(R)=7)")
        #expect(APCI.information(send: 1, receive: 2).description == "I(N(S)=1, N(R)=2)")
    }

    @Test("S-frames encode and decode", arguments: [
        (UInt16(0), "68 04 01 00 00 00"),
        (1, "68 04 01 00 02 00"),
        (127, "68 04 01 00 FE 00"),
        (128, "68 04 01 00 00 01"),
        (32767, "68 04 01 00 FE FF"),
    ])
    func supervisory(receive: UInt16, frame: String) throws {
        #expect(APCI.supervisory(receive: receive).encodedFrame == hex(frame))
        #expect(try decodeFrame(hex(frame)) == .supervisory(receive: receive))
    }

    @Test("I-frame sequence numbers are 15 bits shifted left by one", arguments: [
        (UInt16(0), "00 00"),
        (1, "02 00"),
        (127, "FE 00"),
        (128, "00 01"),
        (255, "FE 01"),
        (16384, "00 80"),
        (32767, "FE FF"),
    ])
    func informationSequenceNumbers(number: UInt16, octets: String) throws {
        let field = hex(octets)
        let asdu = hex("64 01 06 00 01 00 00 00 00 14")
        // As the send number
        let sent = APDU(apci: .information(send: number, receive: 0), asdu: asdu).encoded
        #expect(sent == hex("68 0E") + field + hex("00 00") + asdu)
        #expect(try decodeFrame(sent) == .information(send: number, receive: 0))
        // As the receive number
        let received = APDU(apci: .information(send: 5, receive: number), asdu: asdu).encoded
        #expect(received == hex("68 0E 0A 00") + field + asdu)
        #expect(try decodeFrame(received) == .information(send: 5, receive: number))
    }

    @Test("every pair of 15-bit sequence numbers survives encode and decode")
    func informationRoundTrip() throws {
        for send in stride(from: UInt16(0), through: 32767, by: 97) {
            let receive = 32767 - send
            var bytes: [UInt8] = []
            APCI.information(send: send, receive: receive).encodeHeader(asduLength: 10, into: &bytes)
            #expect(bytes.count == APCI.headerLength)
            #expect(bytes[0] == 0x68 && bytes[1] == 14)
            #expect(bytes[2] & 0x01 == 0 && bytes[4] & 0x01 == 0)
            #expect(try decodeFrame(bytes) == .information(send: send, receive: receive))
        }
    }

    @Test("sequence numbers wrap modulo 32768")
    func wrapAround() throws {
        let frame = APDU(apci: .information(send: 32768, receive: 32769), asdu: [0]).encoded
        #expect(Array(frame[2..<6]) == hex("00 00 02 00"))
        #expect(try decodeFrame(frame) == .information(send: 0, receive: 1))
    }

    @Test("the length octet counts control octets and ASDU")
    func lengthOctet() {
        let asdu = [UInt8](repeating: 0xAA, count: ASDU.maximumLength)
        let frame = APDU(apci: .information(send: 0, receive: 0), asdu: asdu).encoded
        #expect(frame.count == APCI.maximumAPDULength)
        #expect(frame[1] == 253)
        #expect(APCI.lengthRange == 4...253)
    }

    // MARK: FrameError, one test per case

    @Test("I-frame without ASDU")
    func informationWithoutASDU() {
        #expect(throws: FrameError.informationFrameWithoutASDU) { try decodeFrame(hex("68 04 00 00 00 00")) }
        #expect(throws: FrameError.informationFrameWithoutASDU) { try decodeFrame(hex("68 04 02 00 04 00")) }
    }

    @Test("S- and U-frames with an ASDU", arguments: [
        ("68 05 01 00 02 00 AA", 5),
        ("68 05 07 00 00 00 AA", 5),
        ("68 06 43 00 00 00 AA BB", 6),
    ])
    func unexpectedASDU(frame: String, length: Int) {
        #expect(throws: FrameError.unexpectedASDU(length: length)) { try decodeFrame(hex(frame)) }
    }

    @Test("U-frames that are not exactly one function", arguments: [
        "68 04 03 00 00 00",  // no function bit
        "68 04 0F 00 00 00",  // STARTDT act and con together
        "68 04 47 00 00 00",  // TESTFR act and STARTDT act
        "68 04 07 01 00 00",  // non-zero second octet
        "68 04 07 00 01 00",
        "68 04 07 00 00 80",
    ])
    func invalidUnnumbered(frame: String) {
        let bytes = hex(frame)
        #expect(throws: FrameError.invalidUnnumberedControl(Array(bytes[2..<6]))) { try decodeFrame(bytes) }
    }

    @Test("wrong start byte and wrong length are reported by the frame scan")
    func scanErrors() {
        #expect(scan(hex("67 04 07 00 00 00")) == .invalid(.invalidStartByte(0x67)))
        #expect(scan(hex("00")) == .invalid(.invalidStartByte(0x00)))
        for length: UInt8 in [0, 1, 2, 3, 254, 255] {
            #expect(scan([0x68, length]) == .invalid(.invalidLength(length)))
        }
    }

    @Test("the frame scan waits for a whole frame and never reads past it")
    func scanIncomplete() {
        #expect(scan([]) == .incomplete)
        #expect(scan([0x68]) == .incomplete)
        #expect(scan(hex("68 04 07 00 00")) == .incomplete)
        #expect(scan(hex("68 04 07 00 00 00")) == .complete(length: 6))
        #expect(scan(hex("68 04 07 00 00 00 68 04")) == .complete(length: 6))
        #expect(scan(hex("68 FD") + [UInt8](repeating: 0, count: 252)) == .incomplete)
        #expect(scan(hex("68 FD") + [UInt8](repeating: 0, count: 253)) == .complete(length: 255))
    }

    @Test("frame errors describe themselves")
    func descriptions() {
        #expect(FrameError.invalidStartByte(0x67).description == "wrong start byte 0x67 where 0x68 was expected")
        #expect(FrameError.invalidLength(0xFF).description == "APDU length 255 is outside 4...253")
        #expect(FrameError.informationFrameWithoutASDU.description.contains("I-frame"))
        #expect(FrameError.unexpectedASDU(length: 5).description.contains("5"))
        #expect(FrameError.invalidUnnumberedControl([0x0F, 0, 0, 0]).description.contains("0x0F 0x00 0x00 0x00"))
    }

    private func scan(_ bytes: [UInt8]) -> FrameScan {
        bytes.withUnsafeBytes { FrameScan.scan($0) }
    }
}
