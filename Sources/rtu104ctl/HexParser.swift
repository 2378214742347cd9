/// Hex text to octets, as operators paste it from captures, logs and other tools.
///
/// Accepted:
/// - bytes as pairs of hex digits, in either case: `68 0E 00`, `680E00`, `68:0e:00`;
/// - separators: white space (spaces, tabs, line breaks), `:`, `,`, `;` and `-`;
/// - an optional `0x`/`0X` before each byte or run of bytes: `0x68 0x0E`, `0x680E`;
///   after `0x` a single digit is one byte (`0x7` is 0x07), as in C sources;
/// - `#` starts a comment that runs to the end of the line.
///
/// A run of digits without `0x` must have an even count: `680` is refused rather than guessed.
enum HexParser {
    static func parse(_ text: String) throws(HexParseError) -> [UInt8] {
        var bytes: [UInt8] = []
        var token = ""
        var tokenLine = 1
        var tokenColumn = 1
        var line = 1
        var column = 0
        var inComment = false

        func flush() throws(HexParseError) {
            guard !token.isEmpty else { return }
            defer { token = "" }
            try appendToken(token, line: tokenLine, column: tokenColumn, to: &bytes)
        }

        for character in text {
            column += 1
            if character == "\n" || character == "\r\n" || character == "\r" {
                try flush()
                inComment = false
                line += 1
                column = 0
                continue
            }
            if inComment { continue }
            if character == "#" {
                try flush()
                inComment = true
            } else if character.isWhitespace || separators.contains(character) {
                try flush()
            } else {
                if token.isEmpty {
                    tokenLine = line
                    tokenColumn = column
                }
                token.append(character)
            }
        }
        try flush()
        return bytes
    }

    static let separators: Set<Character> = [":", ",", ";", "-"]

    private static func appendToken(_ token: String, line: Int, column: Int,
                                    to bytes: inout [UInt8]) throws(HexParseError) {
        var digits = Substring(token)
        let hasPrefix = digits.hasPrefix("0x") || digits.hasPrefix("0X")
        if hasPrefix { digits = digits.dropFirst(2) }
        func fail(_ kind: HexParseError.Kind) -> HexParseError {
            HexParseError(kind: kind, token: token, line: line, column: column)
        }
        guard !digits.isEmpty else { throw fail(.noDigits) }
        var values: [UInt8] = []
        values.reserveCapacity(digits.count)
        for character in digits {
            guard let value = character.hexDigitValue, character.isASCII else { throw fail(.notHex) }
            values.append(UInt8(value))
        }
        if hasPrefix, values.count == 1 {
            bytes.append(values[0])
            return
        }
        guard values.count % 2 == 0 else { throw fail(.oddDigitCount(values.count)) }
        var index = 0
        while index < values.count {
            bytes.append(values[index] << 4 | values[index + 1])
            index += 2
        }
    }
}

/// Why hex text could not be read; `line` and `column` are 1-based and count characters.
struct HexParseError: Error, Hashable, Sendable, CustomStringConvertible {
    enum Kind: Hashable, Sendable {
        case notHex
        case oddDigitCount(Int)
        case noDigits
    }

    var kind: Kind
    var token: String
    var line: Int
    var column: Int

    /// The problem without its location, e.g. `'zz' is not hex`.
    var description: String {
        switch kind {
        case .notHex: "'\(token)' is not hex"
        case .oddDigitCount(let count): "'\(token)' has an odd number of hex digits (\(count))"
        case .noDigits: "'\(token)' has no hex digits"
        }
    }
}
