/// Parses hex octets such as `"68 04 07 00 00 00"`; spaces are optional. Anything else stops the test run,
/// so that a typo in a vector cannot pass as a shorter vector.
public func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    precondition(digits.count.isMultiple(of: 2), "odd number of hex digits in \(text)")
    return stride(from: 0, to: digits.count, by: 2).map { index in
        guard let byte = UInt8(String(digits[index...index + 1]), radix: 16) else {
            preconditionFailure("not hex: \(text)")
        }
        return byte
    }
}

/// `12 AB` style rendering for failure messages.
public func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { byte in (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true) }.joined(separator: " ")
}
