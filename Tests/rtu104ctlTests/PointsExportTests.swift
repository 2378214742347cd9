import ArgumentParser
@testable import Config
import Foundation
import IEC104
import Outstation
@testable import rtu104ctl
import Testing

/// `rtu104ctl points`: the signal list of a configuration, and its point tables loading again.
@Suite struct PointsExportTests {
    static var checkout: String {
        // Tests/rtu104ctlTests/PointsExportTests.swift → the checkout.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static var exampleConfig: String { checkout + "/etc/rtu104d/rtu104d.conf" }

    static func loadExample() throws -> DaemonConfiguration {
        try ConfigurationLoader.load(configPath: exampleConfig).get()
    }

    /// The example config with its point tables replaced by `exported`, read in place (so that its handler
    /// programs and other relative paths still resolve).
    static func reload(_ exported: String, as format: PointListFormat, configPath: String = exampleConfig,
                       tables: String = "points.json, points-extra.ini") throws -> DaemonConfiguration {
        let original = try String(contentsOfFile: configPath, encoding: .utf8)
        let tablePath = checkout + "/etc/rtu104d/exported-points.\(format.rawValue)"
        let config = original.replacingOccurrences(of: "point_tables = \(tables)",
                                                   with: "point_tables = exported-points.\(format.rawValue)")
        #expect(config != original)
        return try ConfigurationLoader.load(configPath: configPath) { path in
            if path == configPath { return .success(config) }
            if path == tablePath { return .success(exported) }
            return ConfigurationLoader.readFromDisk(path)
        }.get()
    }

    /// The summary without the line naming the point table files (the only thing that differs).
    static func summary(_ config: DaemonConfiguration) -> String {
        renderSummary(config).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("  point tables:") }.joined(separator: "\n")
    }

    @Test(arguments: [PointListFormat.csv, .json, .ini]) func roundTrip(format: PointListFormat) throws {
        let original = try Self.loadExample()
        let exported = try PointsCommand.render(config: Self.exampleConfig, format: format)
        let reloaded = try Self.reload(exported, as: format)
        #expect(reloaded.points == original.points)
        #expect(reloaded.commandBindings == original.commandBindings)
        #expect(reloaded.warnings.map(\.description) == [])
        #expect(Self.summary(reloaded) == Self.summary(original))
        #expect(Self.summary(original).contains("points: 23 monitor, 8 command"))
        // Exporting the reloaded configuration gives the same text again.
        #expect(PointListExport.render(reloaded, as: format) == exported)
    }

    /// The CSV example, exported in each format, loads again to the same points.
    @Test(arguments: [PointListFormat.csv, .json, .ini]) func roundTripOfTheCSVExample(format: PointListFormat) throws {
        let path = Self.checkout + "/etc/rtu104d/rtu104d-csv.conf"
        let original = try ConfigurationLoader.load(configPath: path).get()
        let exported = try PointsCommand.render(config: path, format: format)
        let reloaded = try Self.reload(exported, as: format, configPath: path, tables: "points-feeder.csv")
        #expect(reloaded.points == original.points)
        #expect(Self.summary(reloaded) == Self.summary(original))
        #expect(Self.summary(original).contains("points: 10 monitor, 2 command"))
    }

    @Test func numbersAsWritten() throws {
        let csv = try PointsCommand.render(config: Self.checkout + "/etc/rtu104d/rtu104d-csv.conf", format: .csv)
        // 0.95 is stored as the 16-bit fraction 31130/32768 = 0.95001220703125; the export writes 0.95 again.
        #expect(csv.contains("\n48,3003,Feeder 2 power factor,normalized,,0.95,,,4,,1%,"))
        #expect(csv.contains("\n48,3002,Feeder 2 current (A),float,,0,,,4,,2%,10s,"))
        #expect(csv.contains("\n48,3101,Feeder 2 active power (kW x 10),scaled,,0,,,4,,5,"))
        #expect(csv.contains("\n48,1002,\"Feeder 2 earthing switch; closed\",single,"))
        #expect(PointListExport.normalizedText(NormalizedValue(rawValue: -32768)) == "-1")
        #expect(PointListExport.normalizedText(NormalizedValue(rawValue: 1)) == "3e-05")
    }

    @Test func csvExport() throws {
        let csv = try PointsCommand.render(config: Self.exampleConfig, format: .csv)
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.count == 1 + 23 + 8)
        #expect(lines[0] == "ca,ioa,name,type,command,value,quality,time_tag,groups,counter_group,deadband,cyclic,background,"
                + "transient,retain,priority,stale_after,simulate,sbo,feedback,actterm,handler,timeout,#gi_type,#event_type,#stations")
        // A time-tagged float: interrogation replies M_ME_NC_1; events M_ME_TF_1 (and with time_tags = always also
        // on the station 'others', so only the tagged type).
        #expect(lines.contains("47,3201,Feeder voltage (V),float,,230,,true,1 4,,0.5,,,,,,5s,,,,,,,M_ME_NC_1,M_ME_TF_1,control-centre others local-tools"))
        // A simulated point: its generator with every argument, quoted for the commas.
        #expect(lines.contains { $0.hasPrefix("47,3203,Frequency (Hz),float,,50,") && $0.contains(#","sine(0.05, 60s, 50, 1s)","#) })
        // Untagged: per-point stations send M_ME_NC_1, the station with time_tags = always M_ME_TF_1.
        #expect(lines.contains { $0.hasPrefix("47,3203,Frequency (Hz),float,,50,") && $0.hasSuffix(",M_ME_NC_1,M_ME_NC_1 M_ME_TF_1,control-centre others local-tools") })
        let commands = lines.filter { $0.contains(",C_") }
        #expect(commands.count == 8)
        #expect(commands.allSatisfy { $0.contains(",,C_") }, "command points have no interrogation type")
    }

    @Test func jsonExportIsJSON() throws {
        let json = try PointsCommand.render(config: Self.exampleConfig, format: .json)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let points = try #require(root["points"] as? [[String: Any]])
        #expect(points.count == 31)
        let voltage = try #require(points.first { $0["ioa"] as? Int == 3201 })
        #expect(voltage["type"] as? String == "float")
        #expect(voltage["groups"] as? [Int] == [1, 4])
        #expect(voltage["deadband"] as? Double == 0.5)
        #expect(voltage["comment"] as? String == "interrogation M_ME_NC_1, events M_ME_TF_1; stations control-centre others local-tools")
        let breaker = try #require(points.first { $0["command"] != nil && $0["handler"] as? String == "breaker" })
        #expect(breaker["sbo"] != nil)
        #expect((breaker["comment"] as? String)?.hasPrefix("accepts C_") == true)
    }

    @Test func iniExport() throws {
        let ini = try PointsCommand.render(config: Self.exampleConfig, format: .ini)
        #expect(ini.hasPrefix("[point 47:1001]\nname = \"Q1 breaker closed\"\ntype = single\nvalue = false\ntime_tag = true\ngroups = 1, 2\n"))
        #expect(ini.components(separatedBy: "\n[command ").count == 9)
    }

    @Test func tableExport() throws {
        let table = try PointsCommand.render(config: Self.exampleConfig, format: .table)
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.count == 1 + 31)
        #expect(lines[0].hasPrefix("CA  IOA   NAME"))
        #expect(lines[0].hasSuffix("STATIONS"))
        // Columns line up: every row's IOA starts where the header's does.
        let ioaColumn = try #require(lines[0].range(of: "IOA")).lowerBound.utf16Offset(in: lines[0])
        for line in lines.dropFirst() {
            #expect(line.dropFirst(ioaColumn).first?.isNumber == true, "\(line)")
        }
        let voltage = try #require(lines.first { $0.contains("Feeder voltage") })
        #expect(voltage.contains("float"))
        #expect(voltage.contains("M_ME_NC_1"))
        #expect(voltage.contains("M_ME_TF_1"))
        #expect(lines.contains { $0.contains("command single") && $0.contains("breaker") })
    }

    /// `compare --table` reads CSV tables through the same loader.
    @Test func compareTakesACSVTable() throws {
        let expected = try ExpectedPoints.load(table: Self.checkout + "/etc/rtu104d/points-feeder.csv")
        #expect(expected.count == 10)
        let voltage = try #require(expected.first { $0.address == 3001 })
        #expect(voltage.commonAddress == 48)
        #expect(voltage.value == .float(231.5))
        #expect(voltage.name == "Feeder 2 voltage (V)")
    }

    @Test func configErrorsFail() throws {
        #expect(throws: ExitCode(1)) {
            try PointsCommand.render(config: Self.checkout + "/no/such/rtu104d.conf", format: .csv)
        }
    }

    @Test func parsesItsArguments() throws {
        let command = try PointsCommand.parse(["--config", "x.conf", "--format", "json"])
        #expect(command.config == "x.conf")
        #expect(command.format == .json)
        #expect(throws: (any Error).self) { try PointsCommand.parse(["--format", "xml"]) }
    }
}
