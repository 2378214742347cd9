import IEC104

/// A JSON reader (RFC 8259) that keeps the line and column of every value and key, which
/// Foundation's JSONSerialization throws away. Duplicate keys are kept in order for the caller to judge.
///
/// Hand-written rather than taken from a package: the JSON libraries on the package mirror either drop
/// positions or build their own tree of the whole document, and a point table of a million entries must
/// be read one entry at a time (see ``parse(_:file:streamingItemsOf:to:)``).
struct JSONReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let file: String
    private var position = 0
    private var line = 1
    private var lineStart = 0
    private var depth = 0
    /// The column last worked out, so that a long line is scanned once, not once per value.
    private var columnMark = (line: 0, position: 0, column: 1)
    /// The root member whose list items go to `streamItem` one by one instead of into the tree.
    private var streamedKey: String?
    private var streamItem: ((ConfigValue) -> Void)?
    /// Offered each streamed item first, at its first byte: returns the position after the item if it read it
    /// (see ``FastPointEntryParser``), nil to have it parsed into a located value for `streamItem`.
    private var fastItem: ((UnsafeBufferPointer<UInt8>, Int, SourceLocation) -> Int?)?
    private var streamedKeySeen = false
    static let maximumDepth = 64

    /// Parses a whole document; the first syntax error ends the reading with its line and column.
    static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigValue {
        try parse(text, file: file, streamedKey: nil, streamItem: nil)
    }

    /// Parses a document whose root is an object, handing each item of the list under `key` (its first
    /// occurrence) to `each` as soon as it is read; in the returned tree that list is empty. This keeps
    /// a large point table from existing twice, as text and as a located tree. Items already handed over
    /// stay handed over when a syntax error follows: the caller decides what they are worth then.
    static func parse(_ text: String, file: String, streamingItemsOf key: String,
                      to each: (ConfigValue) -> Void) throws(ConfigError) -> ConfigValue {
        let result = withoutActuallyEscaping(each) { each in
            Result { () throws(ConfigError) in try parse(text, file: file, streamedKey: key, streamItem: each) }
        }
        return try result.get()
    }

    /// As above, offering each item that starts with `{` to `fast` first (see `fastItem`).
    static func parse(_ text: String, file: String, streamingItemsOf key: String,
                      fast: (UnsafeBufferPointer<UInt8>, Int, SourceLocation) -> Int?,
                      to each: (ConfigValue) -> Void) throws(ConfigError) -> ConfigValue {
        let result = withoutActuallyEscaping(each) { each in
            withoutActuallyEscaping(fast) { fast in
                Result { () throws(ConfigError) in try parse(text, file: file, streamedKey: key, streamItem: each, fastItem: fast) }
            }
        }
        return try result.get()
    }

    private static func parse(_ text: String, file: String, streamedKey: String?, streamItem: ((ConfigValue) -> Void)?,
                              fastItem: ((UnsafeBufferPointer<UInt8>, Int, SourceLocation) -> Int?)? = nil) throws(ConfigError) -> ConfigValue {
        // Reads the string's own UTF-8 storage: a copy of a 50 MB table as an array was 50 MB more at peak.
        var text = text
        let result = text.withUTF8 { bytes in
            Result { () throws(ConfigError) in
                var reader = JSONReader(bytes: bytes, file: file)
                reader.streamedKey = streamedKey
                reader.streamItem = streamItem
                reader.fastItem = fastItem
                return try reader.parseDocument()
            }
        }
        return try result.get()
    }

    private mutating func parseDocument() throws(ConfigError) -> ConfigValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3; lineStart = 3 }
        skipWhitespace()
        guard position < bytes.count else { throw error("the file is empty; expected a JSON object") }
        let value = try parseValue()
        skipWhitespace()
        if position < bytes.count {
            throw error("unexpected \(describeCurrent()) after the end of the JSON document")
        }
        return value
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, file: String) {
        self.bytes = bytes
        self.file = file
    }

    private var location: SourceLocation {
        mutating get {
            // Count characters, not bytes: UTF-8 continuation bytes do not start a column.
            var (column, index) = columnMark.line == line && columnMark.position <= position
                ? (columnMark.column, columnMark.position) : (1, lineStart)
            while index < position {
                if bytes[index] & 0xC0 != 0x80 { column += 1 }
                index += 1
            }
            columnMark = (line, position, column)
            return SourceLocation(file: file, line: line, column: column)
        }
    }

    private mutating func error(_ message: String) -> ConfigError { ConfigError(location, message) }

    private func describeCurrent() -> String {
        guard position < bytes.count else { return "end of file" }
        let byte = bytes[position]
        if byte >= 0x20, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return Self.hexByte(byte)
    }

    private static func hexByte(_ byte: UInt8) -> String { "byte 0x" + byte.paddedHex }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0D: position += 1
            case 0x0A:
                position += 1
                line += 1
                lineStart = position
            default: return
            }
        }
    }

    private mutating func parseValue() throws(ConfigError) -> ConfigValue {
        skipWhitespace()
        let start = location
        guard position < bytes.count else { throw error("unexpected end of file; expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(start)
        case UInt8(ascii: "["): return try parseArray(start)
        case UInt8(ascii: "\""): return ConfigValue(.string(try parseString()), at: start)
        case UInt8(ascii: "t"): try expectLiteral("true"); return ConfigValue(.bool(true), at: start)
        case UInt8(ascii: "f"): try expectLiteral("false"); return ConfigValue(.bool(false), at: start)
        case UInt8(ascii: "n"): try expectLiteral("null"); return ConfigValue(.null, at: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber(start)
        case UInt8(ascii: "/"), UInt8(ascii: "#"):
            throw error("JSON has no comments; put notes in a \"comment\" key instead")
        case UInt8(ascii: "'"):
            throw error("strings in JSON need double quotes, not single quotes")
        default:
            throw error("unexpected \(describeCurrent()); expected a value (object, list, string, number, true, false or null)")
        }
    }

    private mutating func enter() throws(ConfigError) {
        depth += 1
        if depth > Self.maximumDepth { throw error("nesting deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func parseObject(_ start: SourceLocation) throws(ConfigError) -> ConfigValue {
        try enter()
        position += 1
        var members: [ConfigMember] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return ConfigValue(.object(members), at: start)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of file inside the object that starts at \(start.line):\(start.column ?? 0)") }
            if bytes[position] == UInt8(ascii: "}") { throw error("trailing comma before '}'; remove the last ','") }
            if bytes[position] == UInt8(ascii: "/") || bytes[position] == UInt8(ascii: "#") {
                throw error("JSON has no comments; put notes in a \"comment\" key instead")
            }
            guard bytes[position] == UInt8(ascii: "\"") else {
                throw error("expected a key in double quotes, found \(describeCurrent())")
            }
            let keyLocation = location
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw error("expected ':' after the key \"\(key)\", found \(describeCurrent())")
            }
            position += 1
            let value: ConfigValue
            if depth == 1, !streamedKeySeen, let streamedKey, key == streamedKey {
                streamedKeySeen = true
                value = try parseStreamedValue()
            } else {
                value = try parseValue()
            }
            members.append(ConfigMember(key: key, keyLocation: keyLocation, value: value))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of file inside the object that starts at \(start.line):\(start.column ?? 0)") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; break }
            throw error("expected ',' or '}' after the value of \"\(key)\", found \(describeCurrent())")
        }
        depth -= 1
        return ConfigValue(.object(members), at: start)
    }

    /// The value of the streamed key: a list goes item by item to `streamItem` and reads as an empty list.
    private mutating func parseStreamedValue() throws(ConfigError) -> ConfigValue {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "["), let streamItem else { return try parseValue() }
        return try parseArray(location, each: streamItem, fast: fastItem)
    }

    private mutating func parseArray(_ start: SourceLocation) throws(ConfigError) -> ConfigValue {
        var items: [ConfigValue] = []
        let list = try parseArray(start) { items.append($0) }
        return ConfigValue(.array(items), at: list.location)
    }

    /// Reads a list, handing each item to `each`; returns an empty list at `start`.
    private mutating func parseArray(_ start: SourceLocation, each: (ConfigValue) -> Void,
                                     fast: ((UnsafeBufferPointer<UInt8>, Int, SourceLocation) -> Int?)? = nil) throws(ConfigError) -> ConfigValue {
        try enter()
        position += 1
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return ConfigValue(.array([]), at: start)
        }
        while true {
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") { throw error("trailing comma before ']'; remove the last ','") }
            if let fast, position < bytes.count, bytes[position] == UInt8(ascii: "{"), let end = fast(bytes, position, location) {
                // The fast reader takes only items without line breaks, so the line count stays right.
                position = end
            } else {
                each(try parseValue())
            }
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of file inside the list that starts at \(start.line):\(start.column ?? 0)") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; break }
            throw error("expected ',' or ']' in the list, found \(describeCurrent())")
        }
        depth -= 1
        return ConfigValue(.array([]), at: start)
    }

    private mutating func expectLiteral(_ word: StaticString) throws(ConfigError) {
        let expected = Array(UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
        guard bytes.count - position >= expected.count, bytes[position..<position + expected.count].elementsEqual(expected) else {
            throw error("unexpected \(describeCurrent()); expected a value (did you mean \(word)? JSON words are lower case and strings need quotes)")
        }
        position += expected.count
    }

    private mutating func parseNumber(_ start: SourceLocation) throws(ConfigError) -> ConfigValue {
        let begin = position
        func digits() -> Int {
            let first = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            return position - first
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits()
        guard integerDigits > 0 else { throw error("a '-' must be followed by digits") }
        if integerDigits > 1, bytes[integerStart] == UInt8(ascii: "0") {
            position = integerStart
            throw error("numbers must not have leading zeros")
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw error("expected digits after the decimal point") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw error("expected digits in the exponent") }
        }
        let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[begin..<position]), as: UTF8.self)
        guard let value = Double(literal), value.isFinite else {
            throw ConfigError(start, "the number \(literal) is out of range")
        }
        return ConfigValue(.number(value, literal: literal), at: start)
    }

    private mutating func parseHex4() throws(ConfigError) -> UInt32 {
        guard bytes.count - position >= 4 else { throw error("a \\u escape needs four hexadecimal digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("a \\u escape needs four hexadecimal digits")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private mutating func parseString() throws(ConfigError) -> String {
        let opening = position
        // Most strings (every key) have no escapes: make them straight from the bytes, without a buffer.
        var end = position + 1
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            position = end + 1
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[opening + 1..<end]), as: UTF8.self)
        }
        let start = location
        position += 1
        var scalars: [UInt8] = []
        while true {
            guard position < bytes.count else { throw ConfigError(start, "unterminated string; add the closing '\"'") }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: scalars, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw ConfigError(start, "unterminated string; add the closing '\"'") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append(0x22)
                case UInt8(ascii: "\\"): scalars.append(0x5C)
                case UInt8(ascii: "/"): scalars.append(0x2F)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw error("a UTF-16 high surrogate \\u escape must be followed by a low surrogate")
                        }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid UTF-16 low surrogate in a \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw error("a lone UTF-16 low surrogate in a \\u escape")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    position -= 2
                    throw error("unknown escape '\\\(Character(Unicode.Scalar(escape)))' in a string")
                }
            case 0x0A:
                throw error("line break inside a string; close the string with '\"' or write \\n")
            case 0x00..<0x20:
                throw error("control character \(Self.hexByte(byte)) inside a string; escape it")
            default:
                scalars.append(byte)
                position += 1
            }
        }
    }
}
