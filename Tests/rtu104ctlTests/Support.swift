import IEC104
@testable import rtu104ctl

/// Test vectors, byte for byte.
enum Vectors {
    /// C_IC_NA_1 act, CA 47, QOI 20: the general interrogation from the issue.
    static let generalInterrogation = "68 0E 00 00 00 00 64 01 06 00 2F 00 00 00 00 14"
    /// S-frame acknowledging up to N(R)=5.
    static let supervisory = "68 04 01 00 0A 00"
    /// U-frame STARTDT act.
    static let startDT = "68 04 07 00 00 00"
    /// M_ME_TF_1 spont, CA 1, IOA 4001, 230.5, good quality, 2026-11-22 04:57:51.123; N(S)=1 N(R)=2.
    static let floatWithTime = "68 19 02 00 04 00 24 01 03 00 01 00 A1 0F 00 00 80 66 43 00 B3 C7 39 04 16 0B 1A"
    /// C_SC_NA_1 with COT 47 (unknown IOA) and P/N set, CA 1, IOA 5000, ON; N(S)=2 N(R)=1.
    static let negativeConfirmation = "68 0E 04 00 02 00 2D 01 6F 00 01 00 88 13 00 01"
    /// M_SP_TB_1 whose CP56Time2a minute is 60 (reserved).
    static let badMinute = "68 15 00 00 00 00 1E 01 03 00 01 00 E9 03 00 01 00 00 3C 00 01 01 1A"
}

/// The one frame that `hex` holds, decoded as `rtu104ctl decode` does.
func frame(_ hex: String, number: Int = 1) throws -> DecodedFrame {
    var decoder = FrameStreamDecoder()
    let (frames, error) = decoder.feed(try HexParser.parse(hex))
    guard frames.count == 1, error == nil || frames[0].asduError != nil else {
        throw TestFailure("expected one frame, got \(frames.count) and \(error ?? "no error")")
    }
    var result = frames[0]
    result.number = number
    return result
}

/// An I-frame carrying one object, encoded by the codec.
func frame(_ element: InformationElement, cause: Cause = .spontaneous, address: UInt32 = 100) throws -> DecodedFrame {
    let asdu = try ASDU(cause: CauseOfTransmission(cause), commonAddress: 1, address: address, element: element).encoded()
    return DecodedFrame(number: 1, offset: 0, apdu: APDU(apci: .information(send: 0, receive: 0), asdu: asdu))
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
