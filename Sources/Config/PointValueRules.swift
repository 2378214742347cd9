import IEC104
import Outstation

/// The value rules of point tables: the deadband forms and a point's value by kind, shared by the point tables,
/// the control socket's located parser and (by the same rules) ``FastSetParser``.
extension PointTableReader {
    /// `{"absolute": 0.5}`, `{"percent": 1}`, `0.5` (absolute) or `"1%"`.
    static func parseDeadband(_ value: ConfigValue) -> Result<Deadband, ValueError> {
        // The hint speaks the syntax of the file it is about: INI values arrive as untyped text.
        let usage: String
        if case .text = value.content {
            usage = "write an absolute amount (0.5) or a percentage (2%)"
        } else {
            usage = "write an absolute amount (0.5), a percentage (\"2%\"), or {\"absolute\": 0.5} / {\"percent\": 2}"
        }
        if case .object(let members) = value.content {
            guard members.count == 1, let member = members.first, member.key == "absolute" || member.key == "percent" else {
                return .failure(ValueError("a deadband object has exactly one key, absolute or percent; \(usage)"))
            }
            switch ValueParsers.number(member.value, in: 0...Double.greatestFiniteMagnitude) {
            case .success(let amount): return .success(member.key == "absolute" ? .absolute(amount) : .percent(amount))
            case .failure(var problem):
                problem.location = member.value.location
                return .failure(problem)
            }
        }
        guard var text = value.scalarText.map({ String($0.trimmed) }) else { return .failure(ValueError("\(value.display) is not a deadband; \(usage)")) }
        var percent = false
        if text.hasSuffix("%") {
            percent = true
            text = String(text.dropLast().trimmed)
        }
        guard let amount = Double(text), amount.isFinite, amount >= 0 else {
            return .failure(ValueError("\(value.display) is not a deadband; \(usage)"))
        }
        return .success(percent ? .percent(amount) : .absolute(amount))
    }

    // FastSetParser.value converts JSON numbers by these rules without a ConfigValue; change both together
    // (FastSetParserTests and FuzzControl compare them).
    static func parseValue(_ value: ConfigValue, kind: PointKind, transient: Bool) -> Result<PointValue, ValueError> {
        switch kind {
        case .single:
            return ValueParsers.bool(value).map { .single($0) }
                .mapError { _ in ValueError("\(value.display) is not a single-point value; use true/false, on/off or 1/0") }
        case .double:
            let choices: [(String, DoublePointState)] = [("off", .off), ("on", .on), ("intermediate", .intermediate),
                                                         ("indeterminate", .indeterminate)]
            let aliases: [(String, DoublePointState)] = [("false", .off), ("true", .on), ("0", .intermediate), ("1", .off),
                                                         ("2", .on), ("3", .indeterminate)]
            return ValueParsers.keyword(value, choices, aliases: aliases).map { .double($0) }
                .mapError { _ in ValueError("\(value.display) is not a double-point value; use off, on, intermediate or indeterminate") }
        case .step:
            return ValueParsers.int(value, in: -64...63).map { .step(StepPosition(value: Int8($0), isTransient: transient)) }
                .mapError { ValueError("step position: " + $0.message) }
        case .bitstring:
            return ValueParsers.int(value, in: 0...0xFFFF_FFFF).map { .bitstring(UInt32($0)) }
                .mapError { _ in ValueError("\(value.display) is not a 32-bit string; use 0…4294967295 or hexadecimal \"0x0000FFFF\"") }
        case .normalized:
            return ValueParsers.number(value, in: -1...1).map { .normalized(NormalizedValue($0)) }
                .mapError { ValueError("normalized value: " + $0.message) }
        case .scaled:
            return ValueParsers.int(value, in: -32768...32767).map { .scaled(Int16($0)) }
                .mapError { ValueError("scaled value: " + $0.message) }
        case .float:
            let limit = Double(Float.greatestFiniteMagnitude)
            return ValueParsers.number(value, in: -limit...limit).map { .float(Float($0)) }
                .mapError { ValueError("float value: " + $0.message) }
        case .counter:
            return ValueParsers.int(value, in: Int(Int32.min)...Int(Int32.max)).map { .counter(BinaryCounterReading(value: Int32($0))) }
                .mapError { ValueError("counter reading: " + $0.message) }
        }
    }
}
