/// The tokens of one control line for ``FastSetParser``: keys, strings, numbers and literals read in place from the
/// line's bytes, each giving up (nil) on anything the located parser must see instead.
extension FastSetParser {
    /// A scalar as written; numbers and strings keep the place of their literal.
    enum Scalar {
        /// A JSON number without fraction or exponent and with at most 15 digits, so exact in a Double.
        case integer(Int, negative: Bool, literal: Range<Int>)
        /// Any other JSON number (literal at most 32 bytes, exponent at most two digits, so always finite).
        case fraction(literal: Range<Int>)
        /// Printable ASCII without escapes (the contents, without the quotes).
        case string(Range<Int>)
        case bool(Bool)
        case null
    }

    enum Key: UInt16 {
        case ca = 1, ioa = 2, point = 4, value = 8, quality = 16, time = 32, transient = 64
        case op = 128, points = 256, id = 512

        var isPointKey: Bool { rawValue < Key.op.rawValue }
    }

    /// The byte at the position; 0 at the end, which no rule here accepts.
    var current: UInt8 {
        @inline(__always) get { position < count ? base[position] : 0 }
    }

    mutating func skipWhitespace() {
        while position < count {
            switch base[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func skipColon() -> Bool {
        skipWhitespace()
        guard current == UInt8(ascii: ":") else { return false }
        position += 1
        skipWhitespace()
        return true
    }

    /// A key this reader knows, at the opening quote; nil for any other.
    mutating func readKey() -> Key? {
        guard let text = readString() else { return nil }
        let key: Key
        switch (text.count, base[text.lowerBound]) {
        case (2, UInt8(ascii: "c")): key = .ca
        case (2, UInt8(ascii: "o")): key = .op
        case (2, UInt8(ascii: "i")): key = .id
        case (3, _): key = .ioa
        case (4, _): key = .time
        case (5, UInt8(ascii: "p")): key = .point
        case (5, _): key = .value
        case (6, _): key = .points
        case (7, _): key = .quality
        case (9, _): key = .transient
        default: return nil
        }
        return equals(text, Self.name(key)) ? key : nil
    }

    static func name(_ key: Key) -> StaticString {
        switch key {
        case .ca: "ca"
        case .ioa: "ioa"
        case .point: "point"
        case .value: "value"
        case .quality: "quality"
        case .time: "time"
        case .transient: "transient"
        case .op: "op"
        case .points: "points"
        case .id: "id"
        }
    }

    func equals(_ text: Range<Int>, _ word: StaticString) -> Bool {
        guard text.count == word.utf8CodeUnitCount else { return false }
        let start = word.utf8Start
        for offset in 0..<text.count where base[text.lowerBound + offset] != start[offset] { return false }
        return true
    }

    func matches(_ text: Range<Int>, _ word: String) -> Bool {
        var word = word
        return word.withUTF8 { name in
            guard text.count == name.count else { return false }
            for offset in 0..<text.count where base[text.lowerBound + offset] != name[offset] { return false }
            return true
        }
    }

    /// A string at the opening quote: printable ASCII up to the closing quote; nil at an escape or anything else.
    mutating func readString() -> Range<Int>? {
        position += 1
        let start = position
        while position < count {
            let byte = base[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return start..<position - 1
            }
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
            position += 1
        }
        return nil
    }

    /// A string, number, true, false or null; nil for lists, objects and anything this reader leaves to the other.
    mutating func parseScalar() -> Scalar? {
        switch current {
        case UInt8(ascii: "\""): return readString().map { .string($0) }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return parseNumber()
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        default: return nil
        }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let end = position + word.utf8CodeUnitCount
        guard end <= count, equals(position..<end, word) else { return false }
        position = end
        return true
    }

    /// A JSON number (RFC 8259 grammar, as `JSONReader` checks it).
    mutating func parseNumber() -> Scalar? {
        let start = position
        let negative = current == UInt8(ascii: "-")
        if negative { position += 1 }
        let integerStart = position
        var magnitude = 0
        while current &- UInt8(ascii: "0") < 10 {
            // 16 digits would not stay exact; the count below sends such numbers elsewhere. Up to 15 digits cannot
            // overflow, so wrapping arithmetic spares the hottest loop its overflow checks.
            if position &- integerStart < 15 { magnitude = magnitude &* 10 &+ Int(current &- UInt8(ascii: "0")) }
            position &+= 1
        }
        let integerDigits = position - integerStart
        guard integerDigits > 0, integerDigits == 1 || base[integerStart] != UInt8(ascii: "0") else { return nil }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            position += 1
            let fractionStart = position
            while current &- UInt8(ascii: "0") < 10 { position += 1 }
            guard position > fractionStart else { return nil }
            isInteger = false
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            let exponentStart = position
            while current &- UInt8(ascii: "0") < 10 { position += 1 }
            // Two exponent digits and 32 bytes keep every such number finite and far from subnormal.
            guard position > exponentStart, position - exponentStart <= 2 else { return nil }
            isInteger = false
        }
        if isInteger {
            guard integerDigits <= 15 else { return nil }
            return .integer(negative ? -magnitude : magnitude, negative: negative, literal: start..<position)
        }
        guard position - start <= 32 else { return nil }
        return .fraction(literal: start..<position)
    }
}
