@testable import Config
import IEC104
import Outstation
import TestSupport
import Testing

/// The streaming point-table reader (and its fast path for plain entries) against a reference that reads the
/// whole file as one located tree and hands every entry of "points" to the general entry reader, as the
/// loader did before it streamed.
@Suite struct StreamingPointTableTests {
    /// What a reader made of a table, in a form that compares whole.
    struct Outcome: Equatable, CustomStringConvertible {
        var monitors: [MonitorPointDefinition]
        var places: [Config.SourceLocation]
        var commands: [CommandPointDefinition]
        var commandPlaces: [Config.SourceLocation]
        var messages: [String]

        init(_ reader: PointTableReader, _ diagnostics: Diagnostics) {
            monitors = reader.monitors
            places = (0..<reader.monitorPlaces.count).map { reader.monitorPlaces[$0] }
            commands = reader.commands.map(\.definition)
            commandPlaces = reader.commands.map(\.location)
            messages = diagnostics.errors.map(\.description) + diagnostics.warnings.map(\.description)
        }

        var description: String {
            "\(monitors.count) monitors, \(commands.count) commands, messages:\n" + messages.joined(separator: "\n")
        }
    }

    static func streaming(_ text: String, file: String = "points.json", fastPath: Bool = true) -> Outcome {
        let diagnostics = Diagnostics()
        var reader = PointTableReader(diagnostics: diagnostics)
        reader.usesFastPath = fastPath
        reader.readJSON(text, file: file)
        return Outcome(reader, diagnostics)
    }

    /// The whole file as one tree first, then each entry: the reading the streaming reader must match.
    static func reference(_ text: String, file: String = "points.json") -> Outcome {
        let diagnostics = Diagnostics()
        var reader = PointTableReader(diagnostics: diagnostics)
        do throws(ConfigError) {
            let root = try JSONReader.parse(text, file: file)
            if case .object(let members) = root.content, let points = members.first(where: { $0.key == "points" }),
               case .array(let items) = points.value.content {
                for item in items { reader.readJSONEntry(item) }
            }
        } catch {
            diagnostics.append(error)
        }
        return Outcome(reader, diagnostics)
    }

    /// Every point kind and every key the configuration guide lists, good and bad values, layouts the fast path
    /// does not take (several lines, tabs, escapes, unicode) next to the ones it does.
    static let variedEntries: [String] = [
        #"{"comment": "feeder 1: breakers and measurands"}"#,
        #"{"ca": 47, "ioa": 1, "name": "Breaker Q1", "type": "single", "value": true, "quality": ["invalid", "blocked"], "time_tag": true, "groups": [1, 2]}"#,
        #"{"ca":47,"ioa":2,"type":"double","value":"indeterminate"}"#,
        #"{"ca": 47, "ioa": 3, "type": "step", "value": -64, "transient": true, "groups": 3}"#,
        #"{"ca": 47, "ioa": 4, "type": "bitstring", "value": "0xFFFF0000"}"#,
        #"{"ca": 47, "ioa": 5, "type": "normalized", "value": -0.5, "deadband": {"percent": 1.5}}"#,
        #"{"ca": 47, "ioa": 6, "type": "scaled", "value": -32768, "deadband": {"absolute": 10}, "cyclic": 0.5}"#,
        #"{"ca": 47, "ioa": 7, "type": "float", "value": 2.5e2, "deadband": 0.25, "background": "2min"}"#,
        #"{"ca": 47, "ioa": 8, "type": "counter", "value": 2147483647, "counter_group": 4, "quality": ["invalid"], "retain": true}"#,
        #"{"ca": 47, "ioa": 9, "type": "float", "time_tag": true}"#,
        #"{"ca": 47, "ioa": 10, "type": "float", "time_tag": false, "value": 0, "retain": false, "priority": "high", "comment": "x"}"#,
        #"{"ca": 47, "ioa": 11, "type": "single", "name": "Trennschalter Ü1 – 東京 ⚡", "value": false, "groups": [16]}"#,
        #"{"ca": 47, "ioa": 12, "type": "single", "name": "say \"hi\"\\ \u00e9\ud83d\ude00\n", "value": 1}"#,
        "{\"ca\": 47,\n  \"ioa\": 13,\n  \"type\": \"scaled\",\n  \"value\": 7}",
        "{\t\"ca\"\t:\t47 ,\"ioa\" : 14 , \"type\" : \"integrated_totals\" }",
        #"{"ca": 47, "ioa": 15, "type": "Float", "priority": "low"}"#,
        #"{"ca": 47, "ioa": 16, "type": "float", "value": 1.0, "cyclic": "500ms"}"#,
        #"{"ioa": 17, "ca": 47, "type": "double", "value": "on", "time_tag": true, "name": ""}"#,
        #"{"ca": 47, "ioa": 18, "type": "step", "value": 63, "groups": [], "priority": "normal"}"#,
        #"{"ca": 47, "ioa": 19, "type": "normalized", "value": 1}"#,
        #"{"ca": 48, "ioa": 1, "type": "single", "value": "on"}"#,
        #"{"ca": 47, "ioa": 20, "type": "float", "value": -1.5e-3, "time_tag": true}"#,
        #"{"ca": 47, "ioa": 21, "type": "bitstring", "value": 4294967295}"#,
        #"{"ca": 47, "ioa": 22, "type": "counter", "value": -5, "retain": false}"#,
        // Command points.
        #"{"ca": 47, "ioa": 101, "name": "Open/close", "command": "single", "time_tag": "both", "sbo": "required", "feedback": 1, "actterm": true}"#,
        #"{"ca": 47, "ioa": 102, "command": "float", "time_tag": true, "sbo": false, "feedback": "47:7", "actterm": false}"#,
        #"{"ca": 47, "ioa": 103, "command": "double", "handler": "tap", "timeout": "30s"}"#,
        #"{"ca": 47, "ioa": 104, "command": "bitstring", "sbo": "no"}"#,
        // Entries with problems: their messages must match word for word and place for place.
        #"{"ca": 47, "ioa": 200, "type": "single", "value": 2}"#,
        #"{"ca": 47, "ioa": 201, "type": "float", "value": "high"}"#,
        #"{"ca": 47, "ioa": 202, "type": "float", "time_tag": "maybe"}"#,
        #"{"ca": 47, "ioa": 203, "type": "flaot"}"#,
        #"{"ca": 47, "ioa": 204, "type": "single", "time_tagged": true}"#,
        #"{"ca": 47, "ioa": 205, "type": "single", "ioa": 206}"#,
        #"{"ca": 47.5, "ioa": 207, "type": "single"}"#,
        #"{"ca": 47, "ioa": 0, "type": "single"}"#,
        #"{"ca": "47", "ioa": "208", "type": "single"}"#,
        #"{"ca": 47, "ioa": 209, "type": "single", "groups": [0, 17]}"#,
        #"{"ca": 47, "ioa": 210, "type": "scaled", "value": 32768}"#,
        #"{"ca": 47, "ioa": 211, "type": "step", "value": 1, "transient": false}"#,
        #"{"ca": 47, "ioa": 212, "type": "counter", "retain": false, "groups": [1]}"#,
        #"{"ca": 47, "ioa": 213, "type": "single", "priority": "urgent"}"#,
        #"{"ca": 47, "ioa": 214, "type": "single", "name": 5}"#,
        #"{"ca": 47, "ioa": 215, "type": "float", "value": null}"#,
        #"{"ca": 47, "ioa": 216, "type": "single", "command": "single"}"#,
        #"{"ca": 47, "ioa": 217}"#,
        #"{"name": "lost"}"#,
        #"{}"#,
        #"[1, 2]"#,
        #""a string""#,
        #"{"ca": 47, "ioa": 218, "type": "float", "deadband": 200}"#,
        #"{"ca": 47, "ioa": 219, "type": "single", "quality": ["overflow"]}"#,
        #"{"ca": 47, "ioa": 220, "type": "single", "value": true, "value": false}"#,
        #"{"ca": 47, "ioa": 221, "type": "normalized", "value": 1.5}"#,
        #"{"ca": 47, "ioa": 222, "type": "float", "value": 1e39}"#,
        #"{"ca": 47, "ioa": 223, "type": "single", "time_tag": 1}"#,
        #"{"ca": 47, "ioa": 224, "type": "single", "retain": "yes"}"#,
        #"{"ca": 47, "ioa": 225, "type": "double", "value": 2}"#,
        #"{"ca": 47, "ioa": 226, "type": "float", "groups": [1, 1, 2]}"#,
        #"{"ca": 47, "ioa": 227, "type": "single", "comment": "", "groups": "1"}"#,
    ]

    @Test func variedTableReadsAsTheReference() {
        let text = pointLines(Self.variedEntries)
        let reference = Self.reference(text)
        #expect(!reference.messages.isEmpty)  // the table has errors on purpose
        #expect(Self.streaming(text) == reference)
        #expect(Self.streaming(text, fastPath: false) == reference)
    }

    @Test func variedTableWithCRLFAndIndentation() {
        let text = "{\r\n  \"comment\": \"CRLF\",\r\n  \"points\": [\r\n    "
            + Self.variedEntries.joined(separator: ",\r\n    ") + "\r\n  ]\r\n}\r\n"
        let reference = Self.reference(text)
        #expect(Self.streaming(text) == reference)
        #expect(Self.streaming(text, fastPath: false) == reference)
    }

    /// Every entry of the varied table on its own, so that a difference names its entry.
    @Test(arguments: variedEntries.indices)
    func eachVariedEntryReadsAsTheReference(index: Int) {
        let text = pointLines([Self.variedEntries[index]])
        #expect(Self.streaming(text) == Self.reference(text), "entry \(index): \(Self.variedEntries[index])")
    }

    /// A table of thousands of plain entries with the odd unusual one, as generators write them.
    @Test func largeGeneratedTableReadsAsTheReference() {
        var generator = SplitMix64(seed: 104)
        let kinds = ["single", "double", "step", "bitstring", "normalized", "scaled", "float", "counter"]
        var entries: [String] = []
        for ioa in 1...5000 {
            let kind = kinds[Int(generator.next() % UInt64(kinds.count))]
            var entry = #"{"ca":47,"ioa":\#(ioa),"type":"\#(kind)""#
            if generator.next() % 2 == 0 { entry += #","time_tag":\#(generator.next() % 2 == 0)"# }
            if generator.next() % 4 == 0 { entry += #","name":"P\#(ioa) ü""# }
            if generator.next() % 8 == 0 { entry += #","groups":[\#(1 + generator.next() % 16)]"# }
            if generator.next() % 50 == 0 { entry += #","value":"x""# }
            if generator.next() % 100 == 0 { entry += #","deadband":1"# }
            entries.append(entry + "}")
        }
        let text = pointLines(entries)
        let reference = Self.reference(text)
        #expect(reference.monitors.count > 4500 && !reference.messages.isEmpty)
        #expect(Self.streaming(text) == reference)
    }

    /// Plain entries with one byte changed, inserted or removed: whatever the fast path makes of them (or
    /// declines), the outcome is the general reader's, messages and places included.
    @Test(arguments: 0..<8)
    func mutatedPlainEntriesReadAsWithoutTheFastPath(seed: Int) {
        var generator = SplitMix64(seed: UInt64(seed) &+ 1)
        let seeds = [
            #"{"ca":47,"ioa":1,"type":"float","time_tag":true}"#,
            #"{"ca": 47, "ioa": 2, "type": "single", "name": "Q1 ü", "value": true, "groups": [1, 16], "retain": true, "priority": "high", "comment": "c"}"#,
            #"{"ca":47,"ioa":3,"type":"counter","value":-7,"retain":true}"#,
            #"{"ca":47,"ioa":4,"type":"normalized","value":-0.25e-1,"time_tag":false}"#,
            #"{"ca":47,"ioa":5,"type":"bitstring","value":"0x0000FFFF","groups":[]}"#,
        ]
        let alphabet = Array(#"{}[]:,"\ -.0123456789eEtrufalsn"#.utf8) + [0x09, 0x0A, 0x0D, 0xC3, 0xBC, 0xFF]
        var entries: [String] = []
        for _ in 0..<300 {
            var bytes = Array(seeds[Int(generator.next() % UInt64(seeds.count))].utf8)
            for _ in 0...(generator.next() % 2) {
                let at = Int(generator.next() % UInt64(bytes.count))
                let byte = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                switch generator.next() % 3 {
                case 0: bytes[at] = byte
                case 1: bytes.insert(byte, at: at)
                default: bytes.remove(at: at)
                }
            }
            entries.append(String(decoding: bytes, as: UTF8.self))
        }
        // One entry per table: a syntax error ends a whole file, and each mutation should count.
        for entry in entries {
            let text = pointLines([entry])
            let general = Self.streaming(text, fastPath: false)
            #expect(Self.streaming(text) == general, "entry: \(entry)")
            #expect(general == Self.reference(text), "entry: \(entry)")
        }
    }

    /// The fast path takes the plain entries (and only those), so the differential tests above test it.
    @Test func plainEntriesTakeTheFastPath() {
        let plain = [
            #"{"ca":47,"ioa":1,"type":"float","time_tag":true}"#,
            #"{"ca": 47, "ioa": 2, "type": "single", "name": "Q1 ü", "value": true, "groups": [1, 16], "retain": true, "priority": "high", "comment": "c"}"#,
            #"{ "ioa" : 3 , "ca" : 47 , "type" : "counter" , "value" : -7 }"#,
            #"{"ca":47,"ioa":4,"type":"normalized","value":-0.25,"time_tag":false}"#,
        ]
        let unusual = [
            #"{"ca":47,"ioa":5,"type":"Float"}"#, #"{"ca":47,"ioa":6,"type":"float","deadband":1}"#,
            #"{"ca":47,"ioa":7,"type":"float","name":"a\"b"}"#, "{\"ca\":47,\n\"ioa\":8,\"type\":\"float\"}",
            #"{"ca":47,"ioa":9,"command":"single"}"#, #"{"ca":47,"ioa":10,"type":"single","value":2}"#,
        ]
        let diagnostics = Diagnostics()
        var reader = PointTableReader(diagnostics: diagnostics)
        reader.readJSON(pointLines(plain + unusual), file: "points.json")
        #expect(reader.fastEntries == plain.count)
        #expect(reader.monitors.count + reader.commands.count == plain.count + unusual.count)
        #expect(diagnostics.errors.map(\.description) == ["points.json:12:43: point 47:10 key 'value': 2 is not a single-point value; use true/false, on/off or 1/0"])
    }

    // MARK: Syntax errors

    /// 499 good entries, then `entry500`, then `tail` after the list.
    static func table(entry500: String = #"{"ca":47,"ioa":500,"type":"float"}"#, tail: String = "") -> String {
        let entries = (1...499).map { #"{"ca":47,"ioa":\#($0),"type":"float","time_tag":true}"# } + [entry500]
        return "{\"points\": [\n" + entries.joined(separator: ",\n") + "\n]" + tail + "\n}\n"
    }

    @Test func syntaxErrorAfterThePointsListIsTheOnlyMessage() {
        let text = Self.table(tail: ",\n  \"comment\": \"ok\" \"more\": 1")
        let outcome = Self.streaming(text)
        #expect(outcome.messages == [#"points.json:503:19: expected ',' or '}' after the value of "comment", found '"'"#])
        #expect(outcome.monitors.isEmpty)
        #expect(outcome == Self.reference(text))
    }

    @Test func syntaxErrorInsideThe500thEntry() {
        let text = Self.table(entry500: #"{"ca":47,"ioa":500 "type":"float"}"#)
        let outcome = Self.streaming(text)
        #expect(outcome.messages == [#"points.json:501:20: expected ',' or '}' after the value of "ioa", found '"'"#])
        #expect(outcome.monitors.isEmpty)
        #expect(outcome == Self.reference(text))
    }

    @Test(arguments: [
        (#"{"ca":47,"ioa":500,"type":"float",}"#, #"points.json:501:35: trailing comma before '}'; remove the last ','"#),
        (#"{"ca":47,"ioa":500,"type":'float'}"#, "points.json:501:27: strings in JSON need double quotes, not single quotes"),
        (#"{"ca":47,"ioa":500,"type":"float" // x"#, #"points.json:501:35: expected ',' or '}' after the value of "type", found '/'"#),
        (#"{"ca":47,"ioa":500, // x"#, #"points.json:501:21: JSON has no comments; put notes in a "comment" key instead"#),
        (#"{"ca":47,"ioa":500,"type":"float","time_tag":True}"#, "points.json:501:46: unexpected 'T'; expected a value (object, list, string, number, true, false or null)"),
        (#"{"ca":47,"ioa":0500,"type":"float"}"#, "points.json:501:16: numbers must not have leading zeros"),
        (#"{"ca":47,"ioa":500,"type":"fl"#, #"points.json:501:30: line break inside a string; close the string with '"' or write \n"#),
        (#"{"ca":47,"ioa":500,"type":tr"#, "points.json:501:27: unexpected 't'; expected a value (did you mean true? JSON words are lower case and strings need quotes)"),
        (#"{"ca":47,"ioa":500,"name":"a\qb","type":"float"}"#, #"points.json:501:29: unknown escape '\q' in a string"#),
    ])
    func syntaxErrorsInThe500thEntry(entry: String, message: String) {
        let text = Self.table(entry500: entry)
        let outcome = Self.streaming(text)
        #expect(outcome.messages == [message])
        #expect(outcome.monitors.isEmpty)
    }

    @Test func unterminatedListNamesWhereItStarts() {
        let text = "{\"points\": [\n" + #"{"ca":47,"ioa":1,"type":"float"}"# + ",\n"
        #expect(Self.streaming(text).messages == ["points.json:3:1: unexpected end of file; expected a value"])
        let unclosed = "{\"points\": [\n" + #"{"ca":47,"ioa":1,"type":"float"}"# + "\n"
        #expect(Self.streaming(unclosed).messages == ["points.json:3:1: unexpected end of file inside the list that starts at 1:12"])
    }

    // MARK: The shape of the file

    @Test func aSecondPointsKeyIsADuplicateKeyAndItsEntriesAreNotRead() {
        let text = "{\"points\": [\n" + #"{"ca":47,"ioa":1,"type":"float"}"# + "\n],\n\"points\": [\n"
            + #"{"ca":47,"ioa":2,"type":"float"}"# + "\n]}"
        let outcome = Self.streaming(text)
        #expect(outcome.messages == ["points.json:4:1: point table key 'points': duplicate key; it is already set at points.json:1:2"])
        #expect(outcome.monitors.map(\.address.objectAddress) == [1])
        let files = Files(points: text)
        #expect(files.errors == outcome.messages)
    }

    @Test func duplicatesInUnsortedOrderNameBothPlacesInFileOrder() {
        let ioas = [5, 3, 5, 1, 3, 5, 2]
        let files = Files(points: pointLines(ioas.map { #"{"ca": 47, "ioa": \#($0), "type": "single"}"# }))
        #expect(files.errors == [
            "points.json:4:1: point 47:5: duplicate address 47:5; the monitor point at points.json:2:1 already uses it",
            "points.json:6:1: point 47:3: duplicate address 47:3; the monitor point at points.json:3:1 already uses it",
            "points.json:7:1: point 47:5: duplicate address 47:5; the monitor point at points.json:2:1 already uses it",
        ])
        // The same again: the order does not depend on the run.
        #expect(files.errors == files.errors)
    }

    @Test func unsortedTableWithoutDuplicatesIsSortedAndKeepsItsPlaces() throws {
        let ioas = [30, 10, 20, 5]
        let config = try #require(Files(points: pointLines(ioas.map { #"{"ca": 47, "ioa": \#($0), "type": "float"}"# })).configuration)
        #expect(config.points.monitorPoints.map(\.address.objectAddress) == [5, 10, 20, 30])
        #expect(config.pointSources[PointAddress(commonAddress: 47, objectAddress: 20)] == SourceLocation(file: "points.json", line: 4, column: 1))
        #expect(config.pointSources[PointAddress(commonAddress: 47, objectAddress: 5)] == SourceLocation(file: "points.json", line: 5, column: 1))
    }

    @Test func emptyTable() throws {
        let outcome = Self.streaming(#"{"points": []}"#)
        #expect(outcome.monitors.isEmpty && outcome.commands.isEmpty && outcome.messages.isEmpty)
        let files = Files(points: "{ \"comment\": \"nothing yet\",\n  \"points\": [ ] }")
        #expect(files.errors.isEmpty)
        #expect(files.warnings == ["rtu.conf:10: warning: station 'scada' key 'common_addresses': common address 47 has no points in the point tables; requests to it get empty replies"])
        #expect(Self.streaming("").messages == ["points.json:1:1: the file is empty; expected a JSON object"])
        #expect(Self.streaming(" \n\t").messages == ["points.json:2:2: the file is empty; expected a JSON object"])
    }

    @Test(arguments: [
        ("[]", "points.json:1:1: a point table is a JSON object: { \"points\": [ ... ] }, found a list"),
        ("[{\"ca\": 47, \"ioa\": 1, \"type\": \"single\"}]", "points.json:1:1: a point table is a JSON object: { \"points\": [ ... ] }, found a list"),
        ("\"points\"", "points.json:1:1: a point table is a JSON object: { \"points\": [ ... ] }, found \"points\""),
        ("42", "points.json:1:1: a point table is a JSON object: { \"points\": [ ... ] }, found 42"),
        ("\n  null", "points.json:2:3: a point table is a JSON object: { \"points\": [ ... ] }, found null"),
        (#"{"points": {"ca": 47}}"#, "points.json:1:12: point table key 'points': expected a list [ ... ], found an object"),
        (#"{"points": "all"}"#, "points.json:1:12: point table key 'points': expected a list [ ... ], found \"all\""),
    ])
    func tableThatIsNotAnObjectWithAList(text: String, message: String) {
        let outcome = Self.streaming(text)
        #expect(outcome.messages == [message])
        #expect(outcome.monitors.isEmpty)
    }

    @Test func topLevelMessagesComeBeforeEntryMessages() {
        let text = "{\"pionts\": 1, \"points\": [\n" + #"{"ca": 47, "ioa": 1, "type": "flaot"}"# + "\n]}"
        #expect(Self.streaming(text).messages == [
            "points.json:1:2: point table key 'pionts': unknown key; did you mean 'points'?",
            "points.json:2:30: point 47:1 key 'type': \"flaot\" is not one of 'single', 'double', 'step', 'bitstring', 'normalized', 'scaled', 'float' or 'counter' (did you mean 'float'?)",
        ])
    }

    @Test func aSecondFileKeepsItsOwnPlaces() throws {
        let config = Files.config.replacing("point_tables = points.json", with: "point_tables = points.json, more.json")
        let files = Files(config: config, points: pointLines(#"{"ca":47,"ioa":2,"type":"float"}"#),
                          extra: ["more.json": pointLines(#"{"ca":47,"ioa":1,"type":"float"}"#, #"{"ca":47,"ioa":2,"type":"float"}"#)])
        #expect(files.errors == ["more.json:3:1: point 47:2: duplicate address 47:2; the monitor point at points.json:2:1 already uses it"])
    }
}

/// `pointLines` for an array of entries.
func pointLines(_ objects: [String]) -> String {
    "{ \"points\": [\n" + objects.joined(separator: ",\n") + "\n] }"
}

