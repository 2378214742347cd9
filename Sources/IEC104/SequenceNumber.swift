/// Arithmetic on the 15-bit send and receive sequence numbers of I- and S-frames (clause 5.1).
enum SequenceNumber {
    static let modulus: UInt16 = 32768

    static func next(_ value: UInt16) -> UInt16 { (value &+ 1) & 0x7FFF }

    /// How many steps forward from `from` to `to`, wrapping at 32768.
    static func distance(from: UInt16, to: UInt16) -> Int {
        Int((to &+ modulus &- from) & 0x7FFF)
    }
}
