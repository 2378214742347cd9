import Config
import IEC104
import Outstation
import TestSupport
import Testing

/// The `set` fast path (issue 12) against the located parser: the same updates, bit for bit, for every line it
/// takes, and the located parser's answer (message included) for every line it declines.
@Suite("Control requests: set fast path")
struct FastSetParserTests {
    /// CA 47: IOA 1…8 one of each kind (in `PointKind.allCases` order), 10…4999 float, nothing else.
    static func kindOf(_ address: PointAddress) -> PointKind? {
        guard address.commonAddress == 47 else { return nil }
        switch address.objectAddress {
        case 1...8: return PointKind.allCases[Int(address.objectAddress) - 1]
        case 10..<5000: return .float
        default: return nil
        }
    }

    static func fast(_ line: String, _ form: ControlRequestParser.SetLineForm = .controlRequest) -> [PointUpdate]? {
        ControlRequestParser.parseSetFast(line, form: form, kindOf: kindOf)
    }

    static func located(_ line: String) -> Result<ControlRequest, ControlRequestError> {
        ControlRequestParser.parseLocated(line, kindOf: kindOf)
    }

    static func address(_ ioa: UInt32) -> PointAddress { PointAddress(commonAddress: 47, objectAddress: ioa) }

    /// Equal, and floats equal in every bit (`==` takes -0.0 for 0.0).
    static func identical(_ a: [PointUpdate], _ b: [PointUpdate]) -> Bool {
        a == b && zip(a, b).allSatisfy { x, y in
            switch (x.value, y.value) {
            case (.float(let p), .float(let q)): p.bitPattern == q.bitPattern
            case (.normalized(let p), .normalized(let q)): p.rawValue == q.rawValue
            default: true
            }
        }
    }

    // MARK: Representative lines

    @Test func feederLine() throws {
        let line = #"{"op":"set","points":[{"ca":47,"ioa":17,"value":123456,"time":1764860000123},{"ca":47,"ioa":18,"value":123457,"time":1764860000123}]}"#
        let updates = try #require(Self.fast(line))
        #expect(Self.identical(updates, [
            PointUpdate(address: Self.address(17), value: .float(123_456), time: 1_764_860_000_123),
            PointUpdate(address: Self.address(18), value: .float(123_457), time: 1_764_860_000_123),
        ]))
        #expect(ControlRequestParser.parse(line, kindOf: Self.kindOf) == .success(.set(updates)))
    }

    @Test func membersInAnyOrderWithWhitespaceAndID() throws {
        let line = " { \"points\" :\t[ {\"time\":1764860000123 ,\"quality\" : [ \"invalid\",\"substituted\" ],\"value\":231.5,\r\n"
            + " \"ioa\":7, \"ca\":47 } ] , \"id\" : \"r-1\", \"op\":\"set\" }\r\n"
        let updates = try #require(Self.fast(line))
        #expect(Self.identical(updates, [PointUpdate(address: Self.address(7), value: .float(231.5), quality: [.invalid, .substituted],
                                                     time: 1_764_860_000_123)]))
        #expect(Self.located(line) == .success(.set(updates)))
    }

    @Test func everyKindAndShape() throws {
        let line = #"{"op":"set","id":7,"points":["#
            + #"{"point":"47:1","value":"on"},{"ca":47,"ioa":1,"value":false,"quality":"blocked"},"#
            + #"{"point":"47:2","value":"intermediate"},{"point":"47:2","value":2,"quality":null},"#
            + #"{"point":"47:3","value":-3,"transient":true},{"point":"47:3","value":"5","transient":"yes"},"#
            + #"{"point":"47:4","value":"0x00FF"},{"point":"47:4","value":4294967295},"#
            + #"{"point":"47:5","value":0.5},{"point":"47:5","value":-1},{"point":"47:5","value":1},"#
            + #"{"point":"47:6","value":-32768,"quality":["overflow","Invalid"]},{"point":"47:6","value":1e2},"#
            + #"{"point":"47:7","value":0.1},{"point":"47:7","value":-0},{"point":"47:7","value":3.4028234663852886e38},"#
            + #"{"point":"47:8","value":-2147483648,"quality":[]},{"point":"47:8","value":12.0,"time":"1764860000123"}]}"#
        let updates = try #require(Self.fast(line))
        let expected: [PointUpdate] = [
            PointUpdate(address: Self.address(1), value: .single(true)),
            PointUpdate(address: Self.address(1), value: .single(false), quality: .blocked),
            PointUpdate(address: Self.address(2), value: .double(.intermediate)),
            PointUpdate(address: Self.address(2), value: .double(.on)),
            PointUpdate(address: Self.address(3), value: .step(StepPosition(value: -3, isTransient: true))),
            PointUpdate(address: Self.address(3), value: .step(StepPosition(value: 5, isTransient: true))),
            PointUpdate(address: Self.address(4), value: .bitstring(0xFF)),
            PointUpdate(address: Self.address(4), value: .bitstring(0xFFFF_FFFF)),
            PointUpdate(address: Self.address(5), value: .normalized(NormalizedValue(rawValue: 16384))),
            PointUpdate(address: Self.address(5), value: .normalized(NormalizedValue(rawValue: -32768))),
            PointUpdate(address: Self.address(5), value: .normalized(NormalizedValue(rawValue: 32767))),
            PointUpdate(address: Self.address(6), value: .scaled(-32768), quality: [.overflow, .invalid]),
            PointUpdate(address: Self.address(6), value: .scaled(100)),
            PointUpdate(address: Self.address(7), value: .float(Float(bitPattern: 0x3DCC_CCCD))),
            PointUpdate(address: Self.address(7), value: .float(Float(bitPattern: 0x8000_0000))),
            PointUpdate(address: Self.address(7), value: .float(Float(bitPattern: 0x7F7F_FFFF))),
            PointUpdate(address: Self.address(8), value: .counter(BinaryCounterReading(value: Int32.min))),
            PointUpdate(address: Self.address(8), value: .counter(BinaryCounterReading(value: 12)), time: 1_764_860_000_123),
        ]
        #expect(Self.identical(updates, expected), "\(updates)")
        guard case .success(.set(let slow)) = Self.located(line) else { Issue.record("located parser refused it"); return }
        #expect(Self.identical(updates, slow))
    }

    @Test func barePointOnlyAsAnUpdateLine() throws {
        let line = " \t{\"point\":\"47:7\",\"value\":231.5,\"time\":1764860000123} \r"
        #expect(Self.fast(line) == nil)
        #expect(try #require(Self.fast(line, .updateLine)) == [PointUpdate(address: Self.address(7), value: .float(231.5), time: 1_764_860_000_123)])
        // UpdateParser trims spaces and tabs only; a line that starts with a line break is free text there.
        #expect(Self.fast("\r" + line, .updateLine) == nil)
        #expect(Self.fast(#"{"ca":47,"ioa":1,"value":1,"op":"set"}"#, .updateLine) == nil)
        #expect(Self.fast(#"{"op":"set","points":[{"ca":47,"ioa":1,"value":1}]}"#, .updateLine) == [PointUpdate(address: Self.address(1), value: .single(true))])
    }

    /// Lines the fast path leaves to the located parser, which answers exactly as before.
    @Test(arguments: [
        (#"{"op":"set","points":[{"ca":47,"ioa":1,"value":true,"value":false}]}"#, "points[0]: \"value\" given twice"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1,"value":true,"colour":"red"}]}"#, "points[0]: unknown key \"colour\""),
        (#"{"op":"set","points":[{"ca":47,"ioa":9,"value":true}]}"#, "points[0]: no monitor point 47:9"),
        (#"{"op":"set","points":[{"ca":47,"ioa":7,"value":1e39}]}"#, "points[0]: 47:7: float value: 1e39 is outside the allowed range -3.4028234663852886e+38…3.4028234663852886e+38"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1,"value":"maybe"}]}"#, "points[0]: 47:1: \"maybe\" is not a single-point value; use true/false, on/off or 1/0"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1,"value":true,"quality":["overflow"]}]}"#, "points[0]: 47:1: single and double points have no overflow flag"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1,"value":true,"time":5}]}"#, "points[0]: 47:1 time (ms since 1970, years 2000–2099): 5 is outside the allowed range 946684800000…4102444799999"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1,"value":true}],"op":"set"}"#, "\"op\" given twice"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1,"value":true}],"x":1}"#, "unknown key \"x\" for op set"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1,"value":true},]}"#, "not JSON: trailing comma before ']'; remove the last ','"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1,"value":tru}]}"#, "not JSON: unexpected 't'; expected a value (did you mean true? JSON words are lower case and strings need quotes)"),
        (#"{"op":"set","points":[]}"#, "set needs \"points\": a non-empty list"),
        (#"{"op":"set","points":[{"ca":47,"ioa":1,"value":01}]}"#, "not JSON: numbers must not have leading zeros"),
    ])
    func declinedLinesKeepTheirMessages(line: String, message: String) {
        #expect(Self.fast(line) == nil)
        #expect(ControlRequestParser.parse(line, kindOf: Self.kindOf) == .failure(ControlRequestError(message)))
    }

    /// Unusual but valid: the located parser reads them, with the same result as ever.
    @Test(arguments: [
        #"{"op":"set","points":[{"c\u0061":47,"ioa":1,"value":true}]}"#,
        #"{"op":"set","points":[{"ca":47,"ioa":1,"value":"o\u006e"}]}"#,
        "\u{FEFF}{\"op\":\"set\",\"points\":[{\"ca\":47,\"ioa\":1,\"value\":true}]}",
        #"{"op":"set","points":[{"ca":47,"ioa":7,"value":1.5e-100}]}"#,
        #"{"op":"set","points":[{"ca":47,"ioa":1,"value":true}],"id":{"n":1}}"#,
        #"{"op":"set","points":[{"ca":47,"ioa":7,"value":1234567890123456789}]}"#,
    ])
    func unusualLinesGoTheLocatedWay(line: String) {
        #expect(Self.fast(line) == nil)
        let result = ControlRequestParser.parse(line, kindOf: Self.kindOf)
        #expect(result == Self.located(line))
        if case .failure(let problem) = result { Issue.record("refused: \(problem)") }
    }

    // MARK: Differential

    @Test func plainGeneratedLinesTakeTheFastPath() {
        var generator = LineGenerator(seed: 12)
        for _ in 0..<1000 {
            let line = generator.line(plain: true)
            guard let updates = Self.fast(line) else { Issue.record("declined \(line)"); continue }
            guard case .success(.set(let slow)) = Self.located(line), Self.identical(updates, slow) else {
                Issue.record("differs: \(line)\nfast \(updates)\nlocated \(Self.located(line))")
                continue
            }
        }
    }

    @Test(arguments: 0..<4)
    func fastPathAgreesWithTheLocatedParser(seed: UInt64) {
        var generator = LineGenerator(seed: 1000 + seed)
        var accepted = 0, declinedValid = 0, refused = 0
        for _ in 0..<1500 {
            let line = generator.mutate(generator.line(plain: false))
            let slow = Self.located(line)
            if let updates = Self.fast(line) {
                accepted += 1
                guard case .success(.set(let expected)) = slow, Self.identical(updates, expected) else {
                    Issue.record("fast path took \(line)\nas \(updates)\nlocated: \(slow)")
                    continue
                }
            } else if case .success = slow {
                declinedValid += 1
            } else {
                refused += 1
            }
            let combined = ControlRequestParser.parse(line, kindOf: Self.kindOf)
            if combined != slow { Issue.record("parse differs from parseLocated for \(line)") }
        }
        // The mix exercises all three outcomes.
        #expect(accepted > 375 && declinedValid > 25 && refused > 375, "\(accepted) \(declinedValid) \(refused)")
    }
}

/// Random set lines of every kind and shape (deterministic per seed), and mutations of them.
struct LineGenerator {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { random.next() }

    mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func chance(_ percent: Int) -> Bool { int(0..<100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }

    static let plainValues: [PointKind: [String]] = [
        .single: ["true", "false", "1", "0", #""on""#, #""off""#],
        .double: [#""on""#, #""off""#, #""intermediate""#, #""indeterminate""#, "0", "1", "2", "3"],
        .step: ["-64", "63", "0", "-5", "17"],
        .bitstring: ["0", "4294967295", "255", #""0x00FF""#],
        .normalized: ["0", "1", "-1", "0.5", "-0.25", "0.999969482421875", "0.1"],
        .scaled: ["32767", "-32768", "0", "1234"],
        .float: ["231.5", "0.1", "-0", "123456", "16777217", "-1.5e-7", "1E+2", "3.4028234663852886e38", "0.30000000000000004"],
        .counter: ["0", "-2147483648", "2147483647", "987654"],
    ]

    static let oddValues: [String] = [
        "2", "-1", "64", "-65", "4294967296", "32768", "2147483648", "1.0", "5.0", "5.5", "1e1", "-0.0", "1e39", "1e-45",
        "1e-50", "1e308", "1e400", "3.4028235e38", "-3.4028235e38", "99999999999999999999", "9007199254740993", "123456789012345", "1234567890123456",
        "null", "[]", "{}", "[1]", #""NaN""#, #""inf""#, #""ON""#, #""yes""#, #""maybe""#, #""0x7F""#, #""-0x1""#,
        #""1_000""#, #""1.5""#, #""2""#, #"" 1""#, #""""#, "true", "false", "01", "-", "1.", ".5", "1e", "+1", "0x10",
        #""\u006fn""#, #""o\n""#, "\"\u{E9}t\u{E9}\"", "1.7976931348623157e308", "-0", "0e0", "1E-2", "4.9e-324",
    ]

    mutating func number() -> String {
        var text = chance(30) ? "-" : ""
        let digits = int(1..<19)
        text += String(int(1..<10))
        for _ in 1..<digits { text += String(int(0..<10)) }
        if chance(50) {
            text += "."
            for _ in 0..<int(1..<18) { text += String(int(0..<10)) }
        }
        if chance(20) { text += pick(["e", "E"]) + pick(["", "+", "-"]) + String(int(0..<40)) }
        return text
    }

    mutating func value(for kind: PointKind, plain: Bool) -> String {
        if plain || chance(60) { return pick(Self.plainValues[kind] ?? ["0"]) }
        if chance(40) { return number() }
        return pick(Self.oddValues)
    }

    mutating func space() -> String { chance(75) ? "" : pick([" ", "\t", "\n", "\r\n", "  ", " \t "]) }

    mutating func member(_ key: String, _ value: String) -> String { space() + "\"\(key)\"" + space() + ":" + space() + value + space() }

    mutating func quality(plain: Bool, kind: PointKind) -> String {
        // Single and double points have no overflow flag.
        let names = ["invalid", "substituted", "blocked", "not_topical"] + (plain && (kind == .single || kind == .double) ? [] : ["overflow"])
        if plain || chance(70) {
            if chance(20) { return "\"\(pick(names))\"" }
            return "[" + (0..<int(0..<4)).map { _ in space() + "\"\(pick(names))\"" + space() }.joined(separator: ",") + "]"
        }
        return pick(["null", "[]", #""Invalid""#, #"["bogus"]"#, "[1]", "[null]", #"["invalid",]"#, "true", "{}", #"["in\u0076alid"]"#])
    }

    mutating func point(plain: Bool) -> String {
        let ioa = chance(70) ? int(1..<9) : (!plain && chance(5) ? pick([9, 5000, 0]) : int(10..<5000))
        let kind = FastSetParserTests.kindOf(PointAddress(commonAddress: 47, objectAddress: UInt32(ioa))) ?? .float
        var members: [String] = []
        if chance(50) {
            let name = plain || chance(80) ? "\"47:\(ioa)\"" : pick(["\" 47:\(ioa)\"", "\"047:\(ioa)\"", "\"+47:\(ioa)\"", "\"47:\(ioa):1\"",
                                                                     "\"47:\"", "47", "\"0x2F:\(ioa)\"", "\"47:0000000000\(ioa)\""])
            members.append(member("point", name))
        } else {
            let ca = plain || chance(90) ? "47" : pick(["48", "0", "65535", #""47""#, "47.0", "4.7e1", #""0x2F""#, "true", "-47"])
            members.append(member("ca", ca))
            members.append(member("ioa", plain || chance(95) ? String(ioa) : pick(["0", "16777216", #""1""#, "1.5", "null"])))
        }
        members.append(member("value", value(for: kind, plain: plain)))
        if chance(25) { members.append(member("quality", quality(plain: plain, kind: kind))) }
        if chance(40) {
            let time = plain || chance(80) ? pick(["1764860000123", "946684800000", "4102444799999"])
                : pick(["4102444800000", "5", #""1764860000123""#, "1764860000123.0", "1.764860000123e12", "-1", "null"])
            members.append(member("time", time))
        }
        if kind == .step ? chance(50) : (!plain && chance(5)) {
            members.append(member("transient", plain || chance(70) ? pick(["true", "false"]) : pick([#""yes""#, "1", #""maybe""#, "null"])))
        }
        if !plain, chance(3) { members.append(member(pick(["colour", "Value", "ca"]), "1")) }
        for index in members.indices.reversed() where index > 0 { members.swapAt(index, int(0..<index + 1)) }
        return space() + "{" + members.joined(separator: ",") + "}" + space()
    }

    mutating func line(plain: Bool) -> String {
        // Most points plain even in an odd line, so that one odd point decides its fate.
        let points = (0..<int(1..<6)).map { _ in point(plain: plain || chance(85)) }
        var members = [member("op", plain || chance(95) ? #""set""# : pick([#""get""#, #""SET""#, #""status""#, "1"])),
                       member("points", "[" + points.joined(separator: ",") + "]")]
        if chance(30) {
            members.append(member("id", plain || chance(70) ? pick(["7", #""r-1""#, "null", "true", "1.5"])
                                                             : pick(["[1]", #"{"n":1}"#, #""x\"y""#, "-", "1e999"])))
        }
        if !plain, chance(3) { members.append(member(pick(["x", "op", "points"]), "1")) }
        for index in members.indices.reversed() where index > 0 { members.swapAt(index, int(0..<index + 1)) }
        return space() + "{" + members.joined(separator: ",") + "}" + space()
    }

    /// Half the lines unchanged, the rest cut, with a byte dropped or inserted, or a key spelt with an escape.
    mutating func mutate(_ line: String) -> String {
        var bytes = Array(line.utf8)
        switch int(0..<10) {
        case 0: bytes.removeLast(int(1..<bytes.count))
        case 1: bytes.remove(at: int(0..<bytes.count))
        case 2:
            let insert: [UInt8] = Array(#""\,}]{[: 0-.eE"#.utf8) + [0x00, 0x0A, 0xC3, 0xA9, 0xFF]
            bytes.insert(pick(insert), at: int(0..<bytes.count + 1))
        case 3:
            return line.replacing("\"value\"", with: pick([#""v\u0061lue""#, #""value":1,"value""#]), maxReplacements: 1)
        case 4:
            return pick(["\u{FEFF}", "\u{00A0}", "\n", " "]) + line + pick(["", "\u{00A0}", "x", "}", "\t"])
        default: return line
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
