import IEC104
public import Outstation

extension ControlRequestParser {
    /// Where a line for the `set` fast path comes from; the two differ in what may surround the object.
    public enum SetLineForm: Sendable {
        /// A control socket request: `{"op":"set","points":[…]}` with JSON whitespace around it.
        case controlRequest
        /// A handler's or feeder's output line, as `UpdateParser.parseLine` takes it: a whole set request or one
        /// bare point object (`{"point":"47:3201","value":1}`), with only spaces and tabs before it.
        case updateLine
    }

    /// The `set` fast path alone: the updates of a well-formed set line, or nil when it does not handle the
    /// line — anything unusual and every error, so that the located parser (`parse`) reads it and words the
    /// message. For any line it accepts, the result equals what `parse` returns for it (for `.updateLine`,
    /// what the daemon's handler line reader returns).
    public static func parseSetFast(_ line: String, form: SetLineForm = .controlRequest,
                                    kindOf: (PointAddress) -> PointKind?) -> [PointUpdate]? {
        var line = line
        // Native strings are contiguous already; this only copies a bridged one.
        line.makeContiguousUTF8()
        let result: [PointUpdate]?? = line.utf8.withContiguousStorageIfAvailable { bytes in
            guard let base = bytes.baseAddress, bytes.count <= maximumLineLength - (form == .updateLine ? barePointWrapping : 0) else {
                return nil
            }
            var parser = FastSetParser(base: base, count: bytes.count)
            return parser.parseLine(form: form, kindOf: kindOf)
        }
        return result ?? nil
    }

    /// The bytes `UpdateParser` adds around a bare point to make it a set request (`{"op":"set","points":[` `]}`);
    /// such a line must stay within the length limit once wrapped.
    static let barePointWrapping = 23
}

/// Issue 12: at 150k events/s the located JSON tree (a `ConfigValue` per value, a dictionary per point, a
/// `SourceLocation` per value) kept the event loop busy. This reader walks the line's bytes once and builds the
/// updates directly. It takes only the plain shapes a feeder writes; the moment anything is unusual (an escape in
/// a string, non-ASCII text, an exotic number, an unknown or repeated key) or wrong, it gives up and returns nil,
/// so that the located parser reads the line again and every error message stays what it was. The value rules are
/// those of `PointTableReader.parseValue` and `ValueParsers`: numbers of the common kinds are converted here
/// (integers by hand, fractions with `Double(String)` exactly as `JSONReader` does), anything else goes through
/// those functions with a scalar `ConfigValue`. The differential tests and FuzzControl hold the two paths together.
struct FastSetParser {
    // Internal, not private: the tokenizer in FastSetParser+Tokens.swift moves through the same bytes.
    let base: UnsafePointer<UInt8>
    let count: Int
    var position = 0

    private static let location = SourceLocation(file: "request", line: 1)

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    // MARK: Lines

    mutating func parseLine(form: ControlRequestParser.SetLineForm, kindOf: (PointAddress) -> PointKind?) -> [PointUpdate]? {
        switch form {
        case .controlRequest:
            skipWhitespace()
        case .updateLine:
            // `UpdateParser` trims only spaces and tabs; a line starting with a line break is free text there.
            while current == 0x20 || current == 0x09 { position += 1 }
        }
        guard current == UInt8(ascii: "{") else { return nil }
        let start = position
        position += 1
        skipWhitespace()
        guard current == UInt8(ascii: "\""), let first = readKey() else { return nil }
        position = start
        let updates: [PointUpdate]
        if first.isPointKey {
            guard form == .updateLine, let update = parsePoint(kindOf: kindOf) else { return nil }
            updates = [update]
        } else {
            guard let request = parseRequest(kindOf: kindOf) else { return nil }
            updates = request
        }
        skipWhitespace()
        return position == count ? updates : nil
    }

    /// `{"op":"set","points":[…],"id":…}` in any order.
    private mutating func parseRequest(kindOf: (PointAddress) -> PointKind?) -> [PointUpdate]? {
        position += 1
        var seen: UInt16 = 0
        var isSet = false
        var updates: [PointUpdate] = []
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\""), let key = readKey(), !key.isPointKey, seen & key.rawValue == 0 else { return nil }
            seen |= key.rawValue
            guard skipColon() else { return nil }
            switch key {
            case .op:
                guard case .string(let name)? = parseScalar(), equals(name, "set") else { return nil }
                isSet = true
            case .points:
                guard let items = parsePoints(kindOf: kindOf) else { return nil }
                updates = items
            default:
                // "id" is the client's to choose and comes back in the reply; any scalar will do.
                guard parseScalar() != nil else { return nil }
            }
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            guard current == UInt8(ascii: "}") else { return nil }
            position += 1
            break
        }
        return isSet && !updates.isEmpty ? updates : nil
    }

    private mutating func parsePoints(kindOf: (PointAddress) -> PointKind?) -> [PointUpdate]? {
        guard current == UInt8(ascii: "[") else { return nil }
        position += 1
        var updates: [PointUpdate] = []
        while true {
            skipWhitespace()
            let start = position
            guard let update = parsePoint(kindOf: kindOf), updates.count < ControlRequestParser.maximumBatch else { return nil }
            updates.append(update)
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                if updates.count == 1 {
                    // A feeder's points look alike, so the first one's length tells how many follow; a quarter more
                    // covers longer addresses and values. One allocation instead of a dozen regrowths, and the
                    // array the updates travel in is not left twice as large as they need.
                    let estimate = (count - position) * 5 / ((position - start) * 4) + 2
                    updates.reserveCapacity(min(estimate, ControlRequestParser.maximumBatch))
                }
                continue
            }
            guard current == UInt8(ascii: "]") else { return nil }
            position += 1
            return updates
        }
    }

    // MARK: Points

    /// One point object, with `ControlRequestParser`'s rules for its keys.
    private mutating func parsePoint(kindOf: (PointAddress) -> PointKind?) -> PointUpdate? {
        guard current == UInt8(ascii: "{") else { return nil }
        position += 1
        var seen: UInt16 = 0
        var ca: Scalar?, ioa: Scalar?, point: Scalar?, raw: Scalar?, time: Scalar?, transient: Scalar?
        var quality: QualityDescriptor?
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\""), let key = readKey(), key.isPointKey, seen & key.rawValue == 0 else { return nil }
            seen |= key.rawValue
            guard skipColon() else { return nil }
            if key == .quality {
                guard let flags = parseQuality() else { return nil }
                quality = flags
            } else {
                guard let scalar = parseScalar() else { return nil }
                switch key {
                case .ca: ca = scalar
                case .ioa: ioa = scalar
                case .point: point = scalar
                case .value: raw = scalar
                case .time: time = scalar
                default: transient = scalar
                }
            }
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            guard current == UInt8(ascii: "}") else { return nil }
            position += 1
            break
        }

        let address: PointAddress
        if let point {
            guard ca == nil, ioa == nil, let parsed = self.address(point) else { return nil }
            address = parsed
        } else {
            guard let ca, let ioa, let commonAddress = int(ca, in: 1...65534),
                  let objectAddress = int(ioa, in: 1...16_777_215) else { return nil }
            address = PointAddress(commonAddress: UInt16(commonAddress), objectAddress: UInt32(objectAddress))
        }
        guard let kind = kindOf(address), let raw else { return nil }
        var isTransient = false
        if let transient {
            guard kind == .step else { return nil }
            if case .bool(let flag) = transient {
                isTransient = flag
            } else {
                guard let flag = try? ValueParsers.bool(configValue(transient)).get() else { return nil }
                isTransient = flag
            }
        }
        guard let value = value(raw, kind: kind, transient: isTransient) else { return nil }
        if let quality, quality.contains(.overflow), kind == .single || kind == .double { return nil }
        var milliseconds: Int64?
        if let time {
            guard let stamp = int(time, in: 946_684_800_000...4_102_444_799_999) else { return nil }
            milliseconds = Int64(stamp)
        }
        return PointUpdate(address: address, value: value, quality: quality ?? [], time: milliseconds)
    }

    /// `PointTableReader.parseValue` for the kinds and numbers a feeder sends, that function itself for the rest.
    private func value(_ scalar: Scalar, kind: PointKind, transient: Bool) -> PointValue? {
        switch scalar {
        case .integer(let number, let negative, _):
            switch kind {
            case .single:
                // Only the literals 1 and 0 are yes/no words.
                guard !negative, number == 0 || number == 1 else { return nil }
                return .single(number == 1)
            case .double:
                // The literals 0…3 are the DIQ states by number.
                guard !negative else { return nil }
                switch number {
                case 0: return .double(.intermediate)
                case 1: return .double(.off)
                case 2: return .double(.on)
                case 3: return .double(.indeterminate)
                default: return nil
                }
            case .step:
                guard (-64...63).contains(number) else { return nil }
                return .step(StepPosition(value: Int8(number), isTransient: transient))
            case .bitstring:
                guard (0...0xFFFF_FFFF).contains(number) else { return nil }
                return .bitstring(UInt32(number))
            case .normalized:
                // -0 reads as -0.0 in JSONReader.
                let double = negative && number == 0 ? -0.0 : Double(number)
                guard (-1...1).contains(double) else { return nil }
                return .normalized(NormalizedValue(double))
            case .scaled:
                guard (-32768...32767).contains(number) else { return nil }
                return .scaled(Int16(number))
            case .float:
                // At most 15 digits: always within Float's range, and exact as a Double as strtod would read it.
                return .float(Float(negative && number == 0 ? -0.0 : Double(number)))
            case .counter:
                guard (Int(Int32.min)...Int(Int32.max)).contains(number) else { return nil }
                return .counter(BinaryCounterReading(value: Int32(number)))
            }
        case .fraction(let literal) where kind == .float || kind == .normalized:
            guard let number = double(literal) else { return nil }
            if kind == .float {
                let limit = Double(Float.greatestFiniteMagnitude)
                guard (-limit...limit).contains(number) else { return nil }
                return .float(Float(number))
            }
            guard (-1...1).contains(number) else { return nil }
            return .normalized(NormalizedValue(number))
        case .bool(let flag) where kind == .single:
            return .single(flag)
        default:
            return try? PointTableReader.parseValue(configValue(scalar), kind: kind, transient: transient).get()
        }
    }

    /// `ValueParsers.int`, by hand for integer literals.
    private func int(_ scalar: Scalar, in range: ClosedRange<Int>) -> Int? {
        if case .integer(let number, _, _) = scalar { return range.contains(number) ? number : nil }
        return try? ValueParsers.int(configValue(scalar), in: range).get()
    }

    /// `PointTableReader.parseAddress`, by hand for the plain `CA:IOA`.
    private func address(_ scalar: Scalar) -> PointAddress? {
        guard case .string(let text) = scalar else { return nil }
        var parts = (0, 0)
        var digits = (0, 0)
        var afterColon = false
        for index in text {
            let byte = base[index]
            if byte == UInt8(ascii: ":"), !afterColon {
                afterColon = true
            } else if byte &- UInt8(ascii: "0") < 10, (afterColon ? digits.1 : digits.0) < 9 {
                let digit = Int(byte &- UInt8(ascii: "0"))
                if afterColon { parts.1 = parts.1 * 10 + digit; digits.1 += 1 } else { parts.0 = parts.0 * 10 + digit; digits.0 += 1 }
            } else {
                // Spaces, signs, long runs of zeros: rare, so the table reader's own parse decides.
                return PointTableReader.parseAddress(string(text))
            }
        }
        guard digits.0 > 0, digits.1 > 0, (1...65534).contains(parts.0), (1...16_777_215).contains(parts.1) else { return nil }
        return PointAddress(commonAddress: UInt16(parts.0), objectAddress: UInt32(parts.1))
    }

    /// `"quality"`: a list of flag names, one name, or null (`ValueParsers.list`).
    private mutating func parseQuality() -> QualityDescriptor? {
        guard current == UInt8(ascii: "[") else {
            guard let scalar = parseScalar() else { return nil }
            if case .null = scalar { return [] }
            return flag(scalar)
        }
        position += 1
        var quality: QualityDescriptor = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { position += 1; return quality }
        while true {
            skipWhitespace()
            guard let scalar = parseScalar(), let bit = flag(scalar) else { return nil }
            quality.insert(bit)
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            guard current == UInt8(ascii: "]") else { return nil }
            position += 1
            return quality
        }
    }

    private func flag(_ scalar: Scalar) -> QualityDescriptor? {
        if case .string(let text) = scalar {
            for (name, bit) in PointTableReader.qualityFlags where matches(text, name) { return bit }
        }
        // Capitals and the like: the keyword rule decides.
        return try? ValueParsers.keyword(configValue(scalar), PointTableReader.qualityFlags).get()
    }

    // MARK: Values for the slow rules

    private func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count), as: UTF8.self)
    }

    /// The number as `JSONReader` reads it: the literal's text through `Double(String)`.
    private func double(_ literal: Range<Int>) -> Double? {
        guard let number = Double(string(literal)), number.isFinite else { return nil }
        return number
    }

    /// The value as the located parser would have it (its location only matters for messages, which are not made here).
    private func configValue(_ scalar: Scalar) -> ConfigValue {
        switch scalar {
        case .integer(let number, let negative, let literal):
            return ConfigValue(.number(negative && number == 0 ? -0.0 : Double(number), literal: string(literal)), at: Self.location)
        case .fraction(let literal):
            return ConfigValue(.number(double(literal) ?? .nan, literal: string(literal)), at: Self.location)
        case .string(let text):
            return ConfigValue(.string(string(text)), at: Self.location)
        case .bool(let flag):
            return ConfigValue(.bool(flag), at: Self.location)
        case .null:
            return ConfigValue(.null, at: Self.location)
        }
    }
}
