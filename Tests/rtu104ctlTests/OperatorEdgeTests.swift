import ArgumentParser
import BuildInfo
import Foundation
import Testing
@testable import rtu104ctl

@Suite("rtu104ctl operator edges: version, help text, get/watch rows, exec output, compare tables")
struct OperatorEdgeTests {
    @Test func versionNamesTheReleaseAndAtMostACommit() {
        let text = RTU104Ctl.configuration.version
        #expect(text.hasPrefix("rtu104ctl \(rtu104Version)"))
        #expect(text.wholeMatch(of: /rtu104ctl \d+\.\d+\.\d+( \(commit [0-9a-f]{7}\))?/) != nil)
    }

    /// ArgumentParser wraps each paragraph to the terminal; a hard break inside a sentence made ragged lines.
    @Test(arguments: [RTU104Ctl.self] + RTU104Ctl.configuration.subcommands)
    func helpParagraphsHaveNoHardBreaks(_ command: ParsableCommand.Type) {
        let lines = command.configuration.discussion.split(separator: "\n", omittingEmptySubsequences: false)
        for (line, next) in zip(lines, lines.dropFirst())
        where !line.isEmpty && !next.isEmpty && !line.hasPrefix(" ") && !next.hasPrefix(" ") {
            #expect(line.hasSuffix(":"), "\(command.configuration.commandName ?? "?"): a break after '\(line)'")
        }
    }

    @Test(arguments: [(82.3, "82.3"), (231.5, "231.5"), (0.1, "0.1"), (-1e-5, "-1e-05")])
    func floatPointsPrintTheFloatsShortestText(value: Double, text: String) {
        // What the daemon sends for a float point: the Float widened to Double.
        let widened = NSNumber(value: Double(Float(value)))
        #expect(GetCommand.describe(widened, type: "float") == text)
    }

    @Test func singlePointsReadOnOff() {
        #expect(GetCommand.describe(NSNumber(value: true), type: "single") == "on")
        #expect(GetCommand.describe("intermediate", type: "double") == "intermediate")
    }

    @Test func rowsLineUpUnderTheHeader() {
        let row = GetCommand.row(["ca": 47, "ioa": 3201, "type": "float", "value": NSNumber(value: Double(Float(82.3))),
                                  "quality": ["invalid"], "time": 1_763_790_000_123, "name": "Busbar voltage"])
        #expect(row == "47:3201      float       82.3           invalid      2025-11-22T05:40:00.123Z Busbar voltage\n")
        #expect(GetCommand.header.firstRange(of: "VALUE")?.lowerBound.utf16Offset(in: GetCommand.header)
                == row.firstRange(of: "82.3")?.lowerBound.utf16Offset(in: row))
        #expect(GetCommand.row(["ca": 47, "ioa": 1, "type": "single", "value": false, "quality": [String]()])
                == "47:1         single      off            good         -\n")
    }

    @Test func execResultLines() {
        let reply: [String: Any] = [
            "ok": true, "point": "47:2001", "type": "C_DC_NA_1", "value": "on", "positive": true,
            "steps": [["step": "select", "positive": true, "milliseconds": 1.5],
                      ["step": "execute", "positive": true, "milliseconds": 20.25]],
            "feedback": ["ca": 47, "ioa": 1001, "type": "double", "value": "on", "quality": [String]()],
        ]
        #expect(ExecCommand.describe(reply) == """
            47:2001 C_DC_NA_1 on: select positive (1.5 ms), execute positive (20.25 ms)
            feedback 47:1001      double      on             good         -

            """)
        let negative: [String: Any] = [
            "point": "47:2801", "type": "C_SC_NA_1", "value": "on", "positive": false, "reason": "exit status 3",
            "steps": [["step": "execute", "positive": false, "milliseconds": 3, "reason": "exit status 3"]],
        ]
        #expect(ExecCommand.describe(negative) == "47:2801 C_SC_NA_1 on: execute negative (3.0 ms): exit status 3\n")
    }

    @Test func compareReadsINITablesWithTheDaemonsLoader() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rtu104ctl-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = directory.appendingPathComponent("points.ini")
        try "[point 47:1]\ntype = double\nvalue = on\n\n[point 47:2]\ntype = float\nvalue = 82.3\nquality = invalid\n"
            .write(to: table, atomically: true, encoding: .utf8)
        let points = try ExpectedPoints.load(table: table.path)
        #expect(points.map(\.label) == ["47:1", "47:2"])
        #expect(points[0].value == .double(.on))
        #expect(points[1].value == .float(82.3) && points[1].quality == ["IV"])

        try "[point 47:1]\ntype = doubel\n".write(to: table, atomically: true, encoding: .utf8)
        #expect(throws: PointTableError.self) { try ExpectedPoints.load(table: table.path) }
        do {
            _ = try ExpectedPoints.load(table: table.path)
        } catch {
            #expect(error.description.contains("\(table.path):2"))
            #expect(!error.description.contains("JSON"))
        }
    }
}
