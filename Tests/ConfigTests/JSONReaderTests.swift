@testable import Config
import Testing

@Suite struct JSONReaderTests {
    func parse(_ text: String) throws -> ConfigValue { try JSONReader.parse(text, file: "p.json") }

    func error(_ text: String) -> String {
        do {
            _ = try JSONReader.parse(text, file: "p.json")
            return "no error"
        } catch {
            return error.description
        }
    }

    func members(_ value: ConfigValue) -> [ConfigMember] {
        if case .object(let members) = value.content { return members }
        return []
    }

    @Test func nestedObjectsAndArraysWithLocations() throws {
        let root = try parse("""
            {
              "points": [
                { "ca": 47, "deadband": { "percent": 2 } },
                [1, [2, 3]], {}, []
              ],
              "ok": true, "no": false, "nothing": null
            }
            """)
        let top = members(root)
        #expect(top.map(\.key) == ["points", "ok", "no", "nothing"])
        #expect(top[0].keyLocation == SourceLocation(file: "p.json", line: 2, column: 3))
        guard case .array(let items) = top[0].value.content else { Issue.record("not an array"); return }
        #expect(items.count == 4)
        #expect(items[0].location == SourceLocation(file: "p.json", line: 3, column: 5))
        let point = members(items[0])
        #expect(point[0].value.location == SourceLocation(file: "p.json", line: 3, column: 13))
        let deadband = members(point[1].value)
        #expect(deadband[0].key == "percent")
        #expect(deadband[0].value.scalarText == "2")
        guard case .bool(true) = top[1].value.content, case .bool(false) = top[2].value.content,
              case .null = top[3].value.content else { Issue.record("literals"); return }
        #expect(top[3].value.location.line == 6)
    }

    @Test func stringEscapes() throws {
        let root = try parse(#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u20AC", "\ud83d\ude00", "Grüße €"]"#)
        guard case .array(let items) = root.content else { Issue.record("not an array"); return }
        let strings = items.compactMap(\.scalarText)
        #expect(strings == ["a\"b\\c/d\u{8}\u{C}\n\r\t", "é€", "😀", "Grüße €"])
    }

    @Test(arguments: [
        ("0", 0.0), ("-12", -12.0), ("3.25", 3.25), ("1e3", 1000.0), ("2.5E-2", 0.025), ("-1.5e+2", -150.0),
    ])
    func numbers(text: String, value: Double) throws {
        let root = try parse("[\(text)]")
        guard case .array(let items) = root.content, case .number(let number, let literal) = items[0].content else {
            Issue.record("not a number"); return
        }
        #expect(number == value)
        #expect(literal == text)
    }

    @Test func columnsCountCharactersNotBytes() {
        #expect(error(#"{"é": 1 x}"#) == "p.json:1:9: expected ',' or '}' after the value of \"é\", found 'x'")
    }

    @Test(arguments: [
        ("{\n  \"a\": 1\n  \"b\": 2\n}", "p.json:3:3: expected ',' or '}' after the value of \"a\", found '\"'"),
        ("[1, 2,]", "p.json:1:7: trailing comma before ']'; remove the last ','"),
        ("{\"a\": 1,}", "p.json:1:9: trailing comma before '}'; remove the last ','"),
        ("{\"a\": \"open}", "p.json:1:7: unterminated string; add the closing '\"'"),
        ("{\n// note\n}", "p.json:2:1: JSON has no comments; put notes in a \"comment\" key instead"),
        ("[True]", "p.json:1:2: unexpected 'T'; expected a value (object, list, string, number, true, false or null)"),
        ("[tru]", "p.json:1:2: unexpected 't'; expected a value (did you mean true? JSON words are lower case and strings need quotes)"),
        ("[01]", "p.json:1:2: numbers must not have leading zeros"),
        ("[1.]", "p.json:1:4: expected digits after the decimal point"),
        ("{'a': 1}", "p.json:1:2: expected a key in double quotes, found '''"),
        ("{\"a\" 1}", "p.json:1:6: expected ':' after the key \"a\", found '1'"),
        ("[\"\\x\"]", "p.json:1:3: unknown escape '\\x' in a string"),
        ("[\"\\u12\"]", "p.json:1:7: a \\u escape needs four hexadecimal digits"),
        ("{} {}", "p.json:1:4: unexpected '{' after the end of the JSON document"),
        ("", "p.json:1:1: the file is empty; expected a JSON object"),
        ("[1, 2", "p.json:1:6: unexpected end of file inside the list that starts at 1:1"),
    ])
    func syntaxErrors(text: String, message: String) {
        #expect(error(text) == message)
    }

    @Test func deepNestingIsRefused() {
        let text = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(error(text).contains("nesting deeper than 64 levels"))
    }
}
