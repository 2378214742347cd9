#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IEC104
import Outstation

/// Reads the common shape of a JSON point-table entry straight from the bytes, without a located tree:
/// a monitor point on one line whose keys are among ca, ioa, type, name, comment, time_tag, value, retain,
/// priority and groups, each once, with plain values (`{"ca":47,"ioa":1,"type":"float","time_tag":true}`).
///
/// It answers only for entries the general reader would take without a single message, and then with the
/// very definition that reader makes; anything else (a command point, another key, an escape, a line break,
/// a value out of range or of another spelling, a syntax error) gets nil, and the general located reader
/// reads the entry from the same place, so that messages keep their wording and file:line:column.
/// Measured on a 1,000,000-point table: the located tree and `FieldReader` per entry were most of the load.
/// StreamingPointTableTests compare the two readers entry by entry; change them together.
enum FastPointEntryParser {
    private enum Key: UInt16 {
        case ca = 1, ioa = 2, type = 4, name = 8, comment = 16, timeTag = 32, value = 64, retain = 128, priority = 256, groups = 512
    }

    /// A scalar as written, for `PointTableReader.parseValue`.
    private enum Token {
        case number(Range<Int>)
        case string(Range<Int>)
        case bool(Bool)
    }

    /// The definition of the entry whose `{` is at `start`, and the position after its `}`; nil when the
    /// entry is not of the common shape or not free of problems.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int,
                      location: SourceLocation) -> (definition: MonitorPointDefinition, end: Int)? {
        var scanner = Scanner(bytes: bytes, position: start)
        guard scanner.take(UInt8(ascii: "{")) else { return nil }
        var seen: UInt16 = 0
        var ca = 0, ioa = 0
        var kind: PointKind?
        var name = ""
        var timeTag = false
        var retain: Bool?
        var priority: EventPriority?
        var groups = InterrogationGroups()
        var value: Token?
        while true {
            scanner.skipBlanks()
            guard let keyRange = scanner.plainString(), let key = Self.key(bytes, keyRange) else { return nil }
            guard seen & key.rawValue == 0 else { return nil }
            seen |= key.rawValue
            scanner.skipBlanks()
            guard scanner.take(UInt8(ascii: ":")) else { return nil }
            scanner.skipBlanks()
            switch key {
            case .ca:
                guard let number = scanner.plainInteger(), (1...65534).contains(number) else { return nil }
                ca = number
            case .ioa:
                guard let number = scanner.plainInteger(), (1...16_777_215).contains(number) else { return nil }
                ioa = number
            case .type:
                guard let range = scanner.plainString(), let found = Self.match(bytes, range, PointTableReader.fastPointKinds) else { return nil }
                kind = found
            case .name:
                guard let range = scanner.plainString() else { return nil }
                name = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            case .comment:
                guard scanner.plainString() != nil else { return nil }
            case .timeTag:
                guard let flag = scanner.literalBool() else { return nil }
                timeTag = flag
            case .retain:
                guard let flag = scanner.literalBool() else { return nil }
                retain = flag
            case .priority:
                guard let range = scanner.plainString(), let found = Self.match(bytes, range, PointTableReader.fastPriorities) else { return nil }
                priority = found
            case .groups:
                guard let found = scanner.groupList() else { return nil }
                groups = found
            case .value:
                if let flag = scanner.literalBool() { value = .bool(flag) }
                else if let range = scanner.plainString() { value = .string(range) }
                else if let range = scanner.plainNumber() { value = .number(range) }
                else { return nil }
            }
            scanner.skipBlanks()
            if scanner.take(UInt8(ascii: ",")) { continue }
            guard scanner.take(UInt8(ascii: "}")) else { return nil }
            break
        }
        let required = Key.ca.rawValue | Key.ioa.rawValue | Key.type.rawValue
        guard seen & required == required, let kind else { return nil }
        // The general reader's messages for these keys: counters take counter_group, not groups; retain = false
        // on a counter is a warning.
        if kind == .counter, seen & Key.groups.rawValue != 0 || retain == false { return nil }
        var initialValue: PointValue?
        if let value {
            let content: ConfigValue.Content
            switch value {
            case .bool(let flag): content = .bool(flag)
            case .string(let range): content = .string(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            case .number(let range):
                let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
                guard let number = Double(literal), number.isFinite else { return nil }
                content = .number(number, literal: literal)
            }
            guard case .success(let parsed) = PointTableReader.parseValue(ConfigValue(content, at: location), kind: kind, transient: false)
            else { return nil }
            initialValue = parsed
        }
        let definition = MonitorPointDefinition(
            address: PointAddress(commonAddress: UInt16(ca), objectAddress: UInt32(ioa)), name: name, kind: kind,
            initialValue: initialValue, timeTaggedEvents: timeTag, groups: groups, retain: retain ?? false, priority: priority)
        return (definition, scanner.position)
    }

    private static func key(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Key? {
        let count = range.count
        guard count >= 2, count <= 8 else { return nil }
        func equals(_ word: StaticString) -> Bool {
            word.utf8CodeUnitCount == count && memcmp(word.utf8Start, bytes.baseAddress! + range.lowerBound, count) == 0
        }
        switch bytes[range.lowerBound] {
        case UInt8(ascii: "c"): return equals("ca") ? .ca : equals("comment") ? .comment : nil
        case UInt8(ascii: "i"): return equals("ioa") ? .ioa : nil
        case UInt8(ascii: "t"): return equals("type") ? .type : equals("time_tag") ? .timeTag : nil
        case UInt8(ascii: "n"): return equals("name") ? .name : nil
        case UInt8(ascii: "v"): return equals("value") ? .value : nil
        case UInt8(ascii: "r"): return equals("retain") ? .retain : nil
        case UInt8(ascii: "p"): return equals("priority") ? .priority : nil
        case UInt8(ascii: "g"): return equals("groups") ? .groups : nil
        default: return nil
        }
    }

    private static func match<T>(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ choices: [([UInt8], T)]) -> T? {
        for (word, result) in choices where word.count == range.count {
            if word.withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress! + range.lowerBound, range.count) }) == 0 {
                return result
            }
        }
        return nil
    }

    /// Reads the tokens of one line; every method leaves the position where it was when it answers nil.
    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position: Int

        /// Spaces and tabs only: a line break ends the fast path (the general reader counts lines).
        mutating func skipBlanks() {
            while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x09 { position += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// A string without escapes or control characters; the range of its contents.
        mutating func plainString() -> Range<Int>? {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
            var end = position + 1
            while end < bytes.count {
                let byte = bytes[end]
                if byte == UInt8(ascii: "\"") {
                    let range = position + 1..<end
                    position = end + 1
                    return range
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                end += 1
            }
            return nil
        }

        /// Digits without sign, fraction, exponent or leading zero, at most 9 of them.
        mutating func plainInteger() -> Int? {
            var end = position, number = 0
            while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") {
                if end - position < 9 { number = number * 10 + Int(bytes[end] - UInt8(ascii: "0")) }
                end += 1
            }
            let count = end - position
            guard count > 0, count <= 9, count == 1 || bytes[position] != UInt8(ascii: "0") else { return nil }
            if end < bytes.count, bytes[end] == UInt8(ascii: ".") || bytes[end] == UInt8(ascii: "e") || bytes[end] == UInt8(ascii: "E") {
                return nil
            }
            position = end
            return number
        }

        /// A JSON number as RFC 8259 writes it (the general reader refuses the rest with a message).
        mutating func plainNumber() -> Range<Int>? {
            var end = position
            func digits() -> Int {
                let first = end
                while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") { end += 1 }
                return end - first
            }
            if end < bytes.count, bytes[end] == UInt8(ascii: "-") { end += 1 }
            let integerStart = end
            let integerDigits = digits()
            guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { return nil }
            if end < bytes.count, bytes[end] == UInt8(ascii: ".") {
                end += 1
                guard digits() > 0 else { return nil }
            }
            if end < bytes.count, bytes[end] == UInt8(ascii: "e") || bytes[end] == UInt8(ascii: "E") {
                end += 1
                if end < bytes.count, bytes[end] == UInt8(ascii: "+") || bytes[end] == UInt8(ascii: "-") { end += 1 }
                guard digits() > 0 else { return nil }
            }
            let range = position..<end
            position = end
            return range
        }

        mutating func literalBool() -> Bool? {
            if matches("true") { position += 4; return true }
            if matches("false") { position += 5; return false }
            return nil
        }

        private func matches(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            return bytes.count - position >= count && memcmp(word.utf8Start, bytes.baseAddress! + position, count) == 0
        }

        /// `[1, 2]`: interrogation groups 1…16.
        mutating func groupList() -> InterrogationGroups? {
            let start = position
            guard take(UInt8(ascii: "[")) else { return nil }
            var groups: [Int] = []
            skipBlanks()
            if take(UInt8(ascii: "]")) { return InterrogationGroups(groups: groups) }
            while true {
                skipBlanks()
                guard let group = plainInteger(), (1...16).contains(group) else { position = start; return nil }
                groups.append(group)
                skipBlanks()
                if take(UInt8(ascii: ",")) { continue }
                if take(UInt8(ascii: "]")) { return InterrogationGroups(groups: groups) }
                position = start
                return nil
            }
        }
    }
}

extension PointTableReader {
    /// The spellings the fast path takes as they are; aliases and other cases go to the general reader.
    static let fastPointKinds: [([UInt8], PointKind)] = PointKind.allCases.map { (Array($0.rawValue.utf8), $0) }
    static let fastPriorities: [([UInt8], EventPriority)] = EventPriority.allCases.map { (Array($0.rawValue.utf8), $0) }
}
