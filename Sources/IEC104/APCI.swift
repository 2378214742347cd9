/// The function of a U-format (unnumbered) control field, IEC 60870-5-104 clause 5.3.
public enum UFunction: UInt8, CaseIterable, Hashable, Sendable {
    case startDTActivation = 0x07
    case startDTConfirmation = 0x0B
    case stopDTActivation = 0x13
    case stopDTConfirmation = 0x23
    case testFRActivation = 0x43
    case testFRConfirmation = 0x83

    public var name: String {
        switch self {
        case .startDTActivation: "STARTDT act"
        case .startDTConfirmation: "STARTDT con"
        case .stopDTActivation: "STOPDT act"
        case .stopDTConfirmation: "STOPDT con"
        case .testFRActivation: "TESTFR act"
        case .testFRConfirmation: "TESTFR con"
        }
    }
}

/// The application protocol control information: the four control octets of an APDU (clause 5.1).
///
/// Sequence numbers are 15-bit values (0…32767) that wrap around.
public enum APCI: Hashable, Sendable {
    /// Numbered information transfer, followed by an ASDU.
    case information(send: UInt16, receive: UInt16)
    /// Numbered supervisory function: acknowledges up to `receive`.
    case supervisory(receive: UInt16)
    /// Unnumbered control function.
    case unnumbered(UFunction)

    public static let startByte: UInt8 = 0x68
    /// Start octet, length octet and four control octets.
    public static let headerLength = 6
    /// The length octet counts the control octets and the ASDU: 4…253.
    public static let lengthRange: ClosedRange<Int> = 4...253
    public static let maximumAPDULength = 255

    /// Appends start byte, length and control octets for an ASDU of `asduLength` octets.
    public func encodeHeader(asduLength: Int, into bytes: inout [UInt8]) {
        bytes.append(Self.startByte)
        bytes.append(UInt8(truncatingIfNeeded: 4 + asduLength))
        switch self {
        case .information(let send, let receive):
            bytes.append(UInt8(truncatingIfNeeded: send << 1))
            bytes.append(UInt8(truncatingIfNeeded: send >> 7))
            bytes.append(UInt8(truncatingIfNeeded: receive << 1))
            bytes.append(UInt8(truncatingIfNeeded: receive >> 7))
        case .supervisory(let receive):
            bytes.append(0x01)
            bytes.append(0x00)
            bytes.append(UInt8(truncatingIfNeeded: receive << 1))
            bytes.append(UInt8(truncatingIfNeeded: receive >> 7))
        case .unnumbered(let function):
            bytes.append(function.rawValue)
            bytes.append(0x00)
            bytes.append(0x00)
            bytes.append(0x00)
        }
    }

    /// The six octets of an S- or U-frame, or the header of an I-frame with no ASDU yet.
    public var encodedFrame: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerLength)
        encodeHeader(asduLength: 0, into: &bytes)
        return bytes
    }

    /// Decodes the four control octets of a frame whose length octet is `length`.
    public static func decode(control c1: UInt8, _ c2: UInt8, _ c3: UInt8, _ c4: UInt8,
                              length: Int) throws(FrameError) -> APCI {
        if c1 & 0x01 == 0 {
            guard length > 4 else { throw .informationFrameWithoutASDU }
            return .information(send: UInt16(c1) >> 1 | UInt16(c2) << 7, receive: UInt16(c3) >> 1 | UInt16(c4) << 7)
        }
        guard length == 4 else { throw .unexpectedASDU(length: length) }
        if c1 & 0x03 == 0x01 {
            return .supervisory(receive: UInt16(c3) >> 1 | UInt16(c4) << 7)
        }
        guard c2 == 0, c3 == 0, c4 == 0, let function = UFunction(rawValue: c1) else {
            throw .invalidUnnumberedControl([c1, c2, c3, c4])
        }
        return .unnumbered(function)
    }
}

extension APCI: CustomStringConvertible {
    public var description: String {
        switch self {
        case .information(let send, let receive): "I(N(S)=\(send), N(R)=\(receive))"
        case .supervisory(let receive): "S(N(R)=\(receive))"
        case .unnumbered(let function): "U(\(function.name))"
        }
    }
}

/// Why a byte stream is not a valid sequence of APDUs.
public enum FrameError: Error, Hashable, Sendable {
    /// A frame must start with 0x68.
    case invalidStartByte(UInt8)
    /// The length octet must be 4…253.
    case invalidLength(UInt8)
    /// An I-frame with no ASDU.
    case informationFrameWithoutASDU
    /// An S- or U-frame longer than its four control octets.
    case unexpectedASDU(length: Int)
    /// A U-frame whose control octets are not exactly one function.
    case invalidUnnumberedControl([UInt8])
}

extension FrameError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidStartByte(let byte): "wrong start byte \(hexByte(byte)) where 0x68 was expected"
        case .invalidLength(let length): "APDU length \(length) is outside 4...253"
        case .informationFrameWithoutASDU: "I-frame without an ASDU (length 4)"
        case .unexpectedASDU(let length): "S- or U-frame with length \(length) where 4 was expected"
        case .invalidUnnumberedControl(let octets):
            "U-frame control field \(octets.map(hexByte).joined(separator: " ")) is not one function"
        }
    }
}

func hexByte(_ byte: UInt8) -> String { "0x" + byte.paddedHex }
