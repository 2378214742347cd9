/// A cursor over bytes that were already checked to be long enough.
///
/// The decoders validate the total length before they read, so each read here
/// only re-checks the bound and reports truncation instead of trapping.
struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    @inline(__always)
    mutating func readUInt8() throws(ASDUError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(needed: offset + 1, available: bytes.count) }
        let value = bytes[offset]
        offset += 1
        return value
    }

    @inline(__always)
    mutating func readUInt16() throws(ASDUError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw .truncated(needed: offset + 2, available: bytes.count) }
        let value = UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
        offset += 2
        return value
    }

    @inline(__always)
    mutating func readUInt24() throws(ASDUError) -> UInt32 {
        guard offset + 3 <= bytes.count else { throw .truncated(needed: offset + 3, available: bytes.count) }
        let value = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
        offset += 3
        return value
    }

    @inline(__always)
    mutating func readUInt32() throws(ASDUError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw .truncated(needed: offset + 4, available: bytes.count) }
        let value = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
            | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        offset += 4
        return value
    }

    @inline(__always)
    mutating func readInt16() throws(ASDUError) -> Int16 { Int16(bitPattern: try readUInt16()) }

    @inline(__always)
    mutating func readFloat() throws(ASDUError) -> Float { Float(bitPattern: try readUInt32()) }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendUInt16(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    @inline(__always)
    mutating func appendUInt24(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value >> 16))
    }

    @inline(__always)
    mutating func appendUInt32(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 24))
    }
}

extension ByteReader {
    /// Runs `body` with a reader over `bytes`.
    static func read<T>(_ bytes: [UInt8], _ body: (inout ByteReader) throws(ASDUError) -> T) throws(ASDUError) -> T {
        try withRawBytes(bytes) { raw throws(ASDUError) in
            var reader = ByteReader(raw)
            return try body(&reader)
        }
    }
}

/// `Array.withUnsafeBytes` with a typed error (the standard library's version only rethrows).
func withRawBytes<T, E: Error>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
    let result: Result<T, E> = bytes.withUnsafeBytes { raw in
        do throws(E) { return .success(try body(raw)) } catch { return .failure(error) }
    }
    return try result.get()
}
