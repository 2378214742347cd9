/// Typed, located access to the keys of one INI section or JSON object. Every problem goes to
/// `Diagnostics` with the key's file:line; the accessors return nil then, so reading goes on.
final class FieldReader {
    let subject: String
    let location: SourceLocation
    let diagnostics: Diagnostics
    /// The members in file order, first of each key only, and whether an accessor asked for each. A section or
    /// object has a handful of keys, so a linear search beats hashing: a large point table makes one reader per
    /// point, and a dictionary and a set per reader were a third of its load time.
    private var members: [ConfigMember] = []
    private var used: [Bool] = []

    init(subject: String, location: SourceLocation, members: [ConfigMember], diagnostics: Diagnostics) {
        self.subject = subject
        self.location = location
        self.diagnostics = diagnostics
        self.members.reserveCapacity(members.count)
        for member in members {
            if let first = self.member(member.key) {
                diagnostics.error(member.keyLocation, subject: subject, key: member.key,
                                  "duplicate key; it is already set at \(first.keyLocation)")
                continue
            }
            self.members.append(member)
        }
        used = Array(repeating: false, count: self.members.count)
    }

    private func index(_ key: String) -> Int? { members.firstIndex { $0.key == key } }

    private func member(_ key: String) -> ConfigMember? { index(key).map { members[$0] } }

    func has(_ key: String) -> Bool { index(key) != nil }

    func keyLocation(_ key: String) -> SourceLocation? { member(key)?.keyLocation }

    /// The raw value, marking the key as understood.
    func value(_ key: String) -> ConfigValue? {
        guard let index = index(key) else { return nil }
        used[index] = true
        return members[index].value
    }

    func error(_ key: String?, _ message: String) {
        let at = key.flatMap(keyLocation) ?? location
        diagnostics.error(at, subject: subject, key: key, message)
    }

    func warning(_ key: String?, _ message: String) {
        let at = key.flatMap(keyLocation) ?? location
        diagnostics.warning(at, subject: subject, key: key, message)
    }

    func missing(_ key: String, _ explanation: String = "") {
        diagnostics.error(location, subject: subject, "missing required key '\(key)'" + explanation)
    }

    /// Reports every key no accessor asked for. `elsewhere` explains keys that belong to another kind of entry.
    func reportUnknownKeys(known: [String], elsewhere: [String: String] = [:], ignored: Set<String> = []) {
        for (member, used) in zip(members, used) where !used && !ignored.contains(member.key) {
            let key = member.key, location = member.keyLocation
            if let explanation = elsewhere[key] {
                diagnostics.error(location, subject: subject, key: key, explanation)
            } else {
                diagnostics.error(location, subject: subject, key: key,
                                  "unknown key" + Suggestions.hint(for: key, in: known))
            }
        }
    }

    /// Applies `parse` to the key's value if present; a failure message is reported at the key.
    func read<T>(_ key: String, _ parse: (ConfigValue) -> Result<T, ValueError>) -> T? {
        guard let value = value(key) else { return nil }
        switch parse(value) {
        case .success(let result): return result
        case .failure(let problem):
            diagnostics.error(problem.location ?? value.location, subject: subject, key: key, problem.message)
            return nil
        }
    }

    func string(_ key: String) -> String? { read(key, ValueParsers.string) }
    func bool(_ key: String) -> Bool? { read(key, ValueParsers.bool) }
    func int(_ key: String, in range: ClosedRange<Int>) -> Int? { read(key) { ValueParsers.int($0, in: range) } }
    func number(_ key: String, in range: ClosedRange<Double>? = nil) -> Double? { read(key) { ValueParsers.number($0, in: range) } }
    func duration(_ key: String, allowZero: Bool = false, max: Duration? = nil) -> Duration? {
        read(key) { ValueParsers.duration($0, allowZero: allowZero, max: max) }
    }
    func keyword<T>(_ key: String, _ choices: [(String, T)]) -> T? { read(key) { ValueParsers.keyword($0, choices) } }
    func list(_ key: String) -> [ConfigValue]? { read(key) { .success(ValueParsers.list($0)) } }
}

/// A value that does not parse, with an optional more precise place (an item in a list).
struct ValueError: Error {
    var message: String
    var location: SourceLocation?

    init(_ message: String, at location: SourceLocation? = nil) {
        self.message = message
        self.location = location
    }
}

/// Conversions from read values to typed values, shared by both file formats.
enum ValueParsers {
    static func string(_ value: ConfigValue) -> Result<String, ValueError> {
        guard let text = value.scalarText else { return .failure(ValueError("expected text, found \(value.display)")) }
        return .success(text)
    }

    static let trueWords: Set<String> = ["true", "yes", "on", "1"]
    static let falseWords: Set<String> = ["false", "no", "off", "0"]

    static func bool(_ value: ConfigValue) -> Result<Bool, ValueError> {
        if case .bool(let flag) = value.content { return .success(flag) }
        let text = value.scalarText?.lowercased() ?? ""
        if trueWords.contains(text) { return .success(true) }
        if falseWords.contains(text) { return .success(false) }
        return .failure(ValueError("\(value.display) is not a yes/no value; use true or false (also yes/no, on/off, 1/0)"))
    }

    static func rangeText<T: Comparable>(_ range: ClosedRange<T>) -> String { "\(range.lowerBound)…\(range.upperBound)" }

    /// A whole number; INI text may be decimal or `0x` hexadecimal.
    static func int(_ value: ConfigValue, in range: ClosedRange<Int>) -> Result<Int, ValueError> {
        let parsed: Int?
        switch value.content {
        case .number(let number, _):
            parsed = number.rounded() == number && abs(number) < 9e15 ? Int(number) : nil
        case .text(let text), .string(let text):
            let text = text.replacingUnderscores
            if text.lowercased().hasPrefix("0x") { parsed = Int(text.dropFirst(2), radix: 16) }
            else if text.lowercased().hasPrefix("-0x") { parsed = Int(text.dropFirst(3), radix: 16).map { -$0 } }
            else { parsed = Int(text) }
        default:
            parsed = nil
        }
        guard let number = parsed else {
            return .failure(ValueError("\(value.display) is not a whole number; expected \(rangeText(range))"))
        }
        guard range.contains(number) else {
            return .failure(ValueError("\(number) is outside the allowed range \(rangeText(range))"))
        }
        return .success(number)
    }

    static func number(_ value: ConfigValue, in range: ClosedRange<Double>? = nil) -> Result<Double, ValueError> {
        let parsed: Double?
        switch value.content {
        case .number(let number, _): parsed = number
        case .text(let text), .string(let text): parsed = Double(text.replacingUnderscores).flatMap { $0.isFinite ? $0 : nil }
        default: parsed = nil
        }
        guard let number = parsed else {
            let expected = range.map { "expected a number in \(rangeText($0))" } ?? "expected a number"
            return .failure(ValueError("\(value.display) is not a number; \(expected)"))
        }
        if let range, !range.contains(number) {
            return .failure(ValueError("\(value.display) is outside the allowed range \(rangeText(range))"))
        }
        return .success(number)
    }

    /// Seconds as a number (`15`, `0.5`) or with a unit (`500ms`, `15s`, `2min`, `1h`, `7d`).
    static func duration(_ value: ConfigValue, allowZero: Bool = false, max: Duration? = nil) -> Result<Duration, ValueError> {
        var seconds: Double?
        switch value.content {
        case .number(let number, _): seconds = number
        case .text(let text), .string(let text):
            let text = text.lowercased().replacingOccurrences(" ", with: "")
            for (suffix, factor) in [("ms", 0.001), ("min", 60.0), ("s", 1.0), ("m", 60.0), ("h", 3600.0), ("d", 86_400.0)]
            where text.hasSuffix(suffix) {
                seconds = Double(text.dropLast(suffix.count)).map { $0 * factor }
                break
            }
            if seconds == nil { seconds = Double(text) }
        default: break
        }
        guard let seconds, seconds.isFinite else {
            return .failure(ValueError("\(value.display) is not a duration; write seconds (15, 0.5) or use ms, s, min, h or d (500ms)"))
        }
        guard seconds > 0 || (allowZero && seconds == 0) else {
            return .failure(ValueError("\(value.display) must be " + (allowZero ? "0 or more seconds" : "more than 0 seconds")))
        }
        // Beyond about 285,000 years the milliseconds would not fit in an Int64 (and no timer needs that).
        let milliseconds = (seconds * 1000).rounded()
        guard milliseconds < 9e15 else {
            return .failure(ValueError("\(value.display) is " + (max.map { "longer than the allowed \(Format.duration($0))" } ?? "too long")))
        }
        let duration = Duration.milliseconds(Int64(milliseconds))
        if let max, duration > max {
            return .failure(ValueError("\(value.display) is longer than the allowed \(Format.duration(max))"))
        }
        return .success(duration)
    }

    /// One of `choices` (named in the message) or of `aliases` (accepted quietly).
    static func keyword<T>(_ value: ConfigValue, _ choices: [(String, T)], aliases: [(String, T)] = []) -> Result<T, ValueError> {
        let text = (value.scalarText ?? "").lowercased()
        if let match = (choices + aliases).first(where: { $0.0 == text }) { return .success(match.1) }
        var names: [String] = []
        for choice in choices where !names.contains(choice.0) { names.append(choice.0) }
        let hint = Suggestions.closest(to: text, in: names).map { " (did you mean '\($0)'?)" } ?? ""
        return .failure(ValueError("\(value.display) is not one of \(Suggestions.alternatives(names))\(hint)"))
    }

    /// A JSON list, or INI text split at commas; a single scalar is a list of one.
    static func list(_ value: ConfigValue) -> [ConfigValue] {
        switch value.content {
        case .array(let items): return items
        case .text(let text):
            return text.split(separator: ",").map { ConfigValue(.text(String($0.trimmed)), at: value.location) }
                .filter { $0.scalarText != "" }
        case .null: return []
        default: return [value]
        }
    }

    static func intList(_ value: ConfigValue, in range: ClosedRange<Int>) -> Result<[Int], ValueError> {
        var result: [Int] = []
        for item in list(value) {
            switch int(item, in: range) {
            case .success(let number): result.append(number)
            case .failure(var problem):
                problem.location = item.location
                return .failure(problem)
            }
        }
        return .success(result)
    }
}

extension String {
    var replacingUnderscores: String { replacingOccurrences("_", with: "") }

    /// Plain replacement without Foundation, so the readers stay usable anywhere.
    func replacingOccurrences(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
