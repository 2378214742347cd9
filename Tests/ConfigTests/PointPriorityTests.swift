@testable import Config
import Outstation
import Testing

@Suite("Point table: priority")
struct PointPriorityTests {
    func files(_ points: String, extra: [String: String] = [:], tables: String = "points.json") -> Files {
        Files(config: Files.config.replacing("point_tables = points.json", with: "point_tables = \(tables)"), points: points, extra: extra)
    }

    @Test func jsonPriorityAndTheDefaultsByKind() throws {
        let config = try #require(files(pointLines(
            #"{"ca": 47, "ioa": 1, "type": "float", "priority": "high"}"#,
            #"{"ca": 47, "ioa": 2, "type": "single", "priority": "LOW"}"#,
            #"{"ca": 47, "ioa": 3, "type": "scaled", "priority": "normal"}"#,
            #"{"ca": 47, "ioa": 4, "type": "double"}"#,
            #"{"ca": 47, "ioa": 5, "type": "float"}"#,
            #"{"ca": 47, "ioa": 6, "type": "counter"}"#,
            #"{"ca": 47, "ioa": 7, "type": "bitstring"}"#
        )).configuration)
        #expect(config.points.monitorPoints.map(\.priority) == [.high, .low, .normal, .high, .normal, .normal, .high])
    }

    @Test(arguments: PointKind.allCases)
    func defaultPriorityOfEachKind(kind: PointKind) throws {
        let config = try #require(files(pointLines(#"{"ca": 47, "ioa": 1, "type": "\#(kind.rawValue)"}"#)).configuration)
        let expected: EventPriority = kind.isMeasurement || kind == .counter ? .normal : .high
        #expect(config.points.monitorPoints.first?.priority == expected)
    }

    @Test func iniPriority() throws {
        let ini = """
            [point 47:5]
            type = normalized
            priority = low

            [point 47:6]
            type = step
            """
        let config = try #require(files(pointLines(), extra: ["more.ini": ini], tables: "points.json, more.ini").configuration)
        #expect(config.points.monitorPoints.map(\.priority) == [.low, .high])
    }

    @Test func jsonBadValueNamesTheChoices() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "float", "priority": "hihg"}"#))
        #expect(files.errors == [
            "points.json:2:51: point 47:1 key 'priority': \"hihg\" is not one of 'high', 'normal' or 'low' (did you mean 'high'?)",
        ])
    }

    @Test func iniBadValueNamesTheChoices() {
        let files = files(pointLines(), extra: ["more.ini": "[point 47:5]\ntype = float\npriority = urgent\n"],
                          tables: "points.json, more.ini")
        #expect(files.errors == ["more.ini:3: point 47:5 key 'priority': urgent is not one of 'high', 'normal' or 'low'"])
    }

    @Test func priorityOnACommandPoint() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "command": "single", "priority": "high"}"#))
        #expect(files.errors == ["points.json:2:43: command 47:1 key 'priority': 'priority' applies to monitor points only; a command reports back through its 'feedback' point"])
    }

    @Test func misspelledKeySuggestsPriority() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "float", "priorty": "low"}"#))
        #expect(files.errors == ["points.json:2:39: point 47:1 key 'priorty': unknown key; did you mean 'priority'?"])
    }

    @Test func summaryCountsPrioritiesOtherThanTheDefault() throws {
        let config = try #require(files(pointLines(
            #"{"ca": 47, "ioa": 1, "type": "float", "priority": "high"}"#,
            #"{"ca": 47, "ioa": 2, "type": "single", "priority": "normal"}"#,
            #"{"ca": 47, "ioa": 3, "type": "scaled", "priority": "low"}"#,
            #"{"ca": 47, "ioa": 4, "type": "double", "priority": "high"}"#
        )).configuration)
        #expect(renderSummary(config).contains("priority raised 1, priority lowered 2"))
        let plain = try #require(files(pointLines(#"{"ca": 47, "ioa": 1, "type": "float"}"#)).configuration)
        #expect(!renderSummary(plain).contains("priority"))
    }
}
