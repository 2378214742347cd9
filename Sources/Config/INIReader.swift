/// One `key = value` line.
struct INIEntry: Sendable {
    var key: String
    var value: String
    var location: SourceLocation
}

/// A `[kind]` or `[kind name]` section and its entries in file order.
struct INISection: Sendable {
    var kind: String
    var name: String?
    var location: SourceLocation
    var entries: [INIEntry]

    /// How messages name the section: `station 'scada'`, `point 47:1001`, `[daemon]`.
    var subject: String {
        guard let name else { return "[\(kind)]" }
        if kind == "point" || kind == "command" { return "\(kind) \(name)" }
        return "\(kind) '\(name)'"
    }

    var members: [ConfigMember] {
        entries.map { ConfigMember(key: $0.key, keyLocation: $0.location, value: ConfigValue(.text($0.value), at: $0.location)) }
    }
}

struct INIDocument: Sendable {
    var file: String
    var sections: [INISection]
}

/// A reader for the INI dialect of rtu104d: `[kind name]` headers, `key = value` lines, comments starting
/// with `;` or `#` (also after a value: `;` anywhere, `#` after whitespace), values in double quotes when
/// they contain those characters, LF or CRLF line ends. Every syntax error is reported and reading goes on.
enum INIReader {
    static func parse(_ text: String, file: String) -> (INIDocument, [ConfigError]) {
        var sections: [INISection] = []
        var errors: [ConfigError] = []
        var seenKeys: [String: SourceLocation] = [:]
        var lineNumber = 0
        var orphanReported = false

        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            var line = Substring(rawLine)
            if lineNumber == 1, line.first == "\u{FEFF}" { line = line.dropFirst() }
            let trimmed = line.trimmed
            let location = SourceLocation(file: file, line: lineNumber)
            if trimmed.isEmpty || trimmed.first == ";" || trimmed.first == "#" { continue }

            if trimmed.first == "[" {
                // An unterminated header still opens its section, so the keys below are not reported as strays.
                let close = trimmed.firstIndex(of: "]") ?? trimmed.endIndex
                if close == trimmed.endIndex {
                    errors.append(ConfigError(location, "unterminated section header '\(trimmed)'; add ']' at its end"))
                }
                let after = close == trimmed.endIndex ? "" : trimmed[trimmed.index(after: close)...].trimmed
                if !after.isEmpty, after.first != ";", after.first != "#" {
                    errors.append(ConfigError(location, "unexpected text '\(after)' after the section header"))
                }
                let inside = trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmed
                guard !inside.isEmpty else {
                    errors.append(ConfigError(location, "empty section header '[]'"))
                    continue
                }
                let kind: Substring
                var name: String?
                if let space = inside.firstIndex(where: \.isWhitespace) {
                    kind = inside[..<space]
                    var rest = inside[space...].trimmed
                    if rest.count >= 2, rest.first == "\"", rest.last == "\"" { rest = rest.dropFirst().dropLast() }
                    name = String(rest)
                } else {
                    kind = inside
                }
                sections.append(INISection(kind: kind.lowercased(), name: name, location: location, entries: []))
                seenKeys = [:]
                continue
            }

            guard let equals = trimmed.firstIndex(of: "=") else {
                errors.append(ConfigError(location, "expected 'key = value' or a [section] header, found '\(trimmed)'"))
                continue
            }
            let key = trimmed[..<equals].trimmed
            guard !key.isEmpty else {
                errors.append(ConfigError(location, "a value without a key: '\(trimmed)'"))
                continue
            }
            guard key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
                errors.append(ConfigError(location, "'\(key)' is not a valid key; keys are letters, digits and '_'"))
                continue
            }
            let value: String
            switch parseValue(trimmed[trimmed.index(after: equals)...]) {
            case .success(let parsed): value = parsed
            case .failure(let problem):
                errors.append(ConfigError(location, key: String(key), problem.message))
                continue
            }
            guard !sections.isEmpty else {
                if !orphanReported {
                    errors.append(ConfigError(location, key: String(key), "'\(key) = ...' comes before any [section] header"))
                    orphanReported = true
                }
                continue
            }
            let keyText = String(key)
            if let first = seenKeys[keyText] {
                errors.append(ConfigError(location, subject: sections[sections.count - 1].subject, key: keyText,
                                          "duplicate key; it is already set at \(first)"))
                continue
            }
            seenKeys[keyText] = location
            sections[sections.count - 1].entries.append(INIEntry(key: keyText, value: value, location: location))
        }
        return (INIDocument(file: file, sections: sections), errors)
    }

    struct ValueProblem: Error { var message: String }

    /// The text after `=`: a double-quoted string (with `\"`, `\\`, `\n`, `\t` escapes) or bare text up to a comment.
    static func parseValue(_ raw: Substring) -> Result<String, ValueProblem> {
        let text = raw.trimmed
        guard text.first == "\"" else {
            var end = text.endIndex
            var previous: Character = " "
            for index in text.indices {
                let character = text[index]
                if character == ";" || (character == "#" && previous.isWhitespace) {
                    end = index
                    break
                }
                previous = character
            }
            return .success(String(text[..<end].trimmed))
        }
        var result = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" {
                let rest = text[text.index(after: index)...].trimmed
                if !rest.isEmpty, rest.first != ";", rest.first != "#" {
                    return .failure(ValueProblem(message: "unexpected text '\(rest)' after the closing quote"))
                }
                return .success(result)
            }
            if character == "\\" {
                index = text.index(after: index)
                guard index < text.endIndex else { break }
                switch text[index] {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "\"", "\\": result.append(text[index])
                default: return .failure(ValueProblem(message: "unknown escape '\\\(text[index])' in a quoted value; use \\\" \\\\ \\n or \\t"))
                }
            } else {
                result.append(character)
            }
            index = text.index(after: index)
        }
        return .failure(ValueProblem(message: "unterminated quoted value; add the closing '\"'"))
    }
}

extension StringProtocol {
    var trimmed: Substring {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return view
    }
}
