@testable import Config
import IEC104
import Outstation
import Testing

/// The base config with `station` lines added to `[station scada]` (from line 11), `daemon` lines in `[daemon]`
/// (from line 3) and further sections after it.
private func files(station: String = "", daemon: String = "", sections: String = "", points: String? = nil,
                   extra: [String: String] = [:]) -> Files {
    let config = Files.config
        .replacing("point_tables = points.json\n", with: "point_tables = points.json\n" + daemon)
        .replacing("common_addresses = 47\n", with: "common_addresses = 47\n" + station)
    return Files(config: config + sections,
                 points: points ?? pointLines(#"{"ca": 47, "ioa": 1, "type": "single"}"#,
                                              #"{"ca": 47, "ioa": 2, "type": "float", "stale_after": "2s"}"#,
                                              #"{"ca": 47, "ioa": 3, "type": "counter", "stale_after": 0}"#,
                                              #"{"ca": 47, "ioa": 4, "type": "float"}"#),
                 extra: extra)
}

private func point(_ config: DaemonConfiguration, _ ioa: UInt32, ca: UInt16 = 47) -> MonitorPointDefinition? {
    config.points.monitorPoints.first { $0.address == PointAddress(commonAddress: ca, objectAddress: ioa) }
}

@Suite struct QualityConfigTests {
    @Test func staleAfterOfAPointAndTheStationDefault() throws {
        let config = try #require(files(station: "stale_after = 10s\n").configuration)
        #expect(point(config, 1)?.staleAfter == .seconds(10))
        #expect(point(config, 2)?.staleAfter == .seconds(2), "a point's own key wins")
        #expect(point(config, 3)?.staleAfter == .zero, "0 keeps the point unwatched")
        let none = try #require(files().configuration)
        #expect(point(none, 1)?.staleAfter == nil)
        #expect(point(none, 2)?.staleAfter == .seconds(2))
    }

    @Test func theShortestDefaultOfTheStationsServingACommonAddressWins() throws {
        let loaded = files(station: "stale_after = 10s\n", sections: """
            [station backup]
            listener = main
            allow = others
            common_addresses = 47, 48
            stale_after = 1min

            [listener second]
            bind = 0.0.0.0:2405

            [station other]
            listener = second
            allow = any
            common_addresses = 48
            stale_after = 30s

            """, points: pointLines(#"{"ca": 47, "ioa": 1, "type": "single"}"#, #"{"ca": 48, "ioa": 1, "type": "single"}"#))
        #expect(loaded.errors == [])
        let config = try #require(loaded.configuration)
        #expect(point(config, 1)?.staleAfter == .seconds(10))
        #expect(point(config, 1, ca: 48)?.staleAfter == .seconds(30))
    }

    @Test func staleAfterInAnINIPointTable() throws {
        let config = try #require(files(extra: ["more.ini": "[point 47:9]\ntype = step\nstale_after = 500ms\n"])
            .replacingTables("points.json, more.ini").configuration)
        #expect(point(config, 9)?.staleAfter == .milliseconds(500))
    }

    @Test(arguments: [
        ("stale_after = soon", "rtu.conf:11: station 'scada' key 'stale_after': soon is not a duration; write seconds (15, 0.5) or use ms, s, min, h or d (500ms)"),
        ("stale_after = 0", "rtu.conf:11: station 'scada' key 'stale_after': 0 must be more than 0 seconds"),
        ("stale_after = 40d", "rtu.conf:11: station 'scada' key 'stale_after': 40d is longer than the allowed 30d"),
    ])
    func badStationDurations(line: String, message: String) {
        #expect(files(station: line + "\n").errors == [message])
    }

    @Test func badPointDuration() {
        let errors = files(points: pointLines(#"{"ca": 47, "ioa": 1, "type": "single", "stale_after": "-1s"}"#)).errors
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("points.json:2:") == true)
        #expect(errors.first?.contains("key 'stale_after'") == true)
    }

    @Test func feederPoints() throws {
        let config = try #require(files(sections: "[feeder sine]\nexec = /bin/sh\npoints = 47:1, 47:2-4\n").configuration)
        let feeder = try #require(config.feeders.first)
        #expect(feeder.points == [PointSpan(commonAddress: 47, objectAddresses: 1...1),
                                  PointSpan(commonAddress: 47, objectAddresses: 2...4)])
        #expect(feeder.points.flatMap(\.addresses).count == 4)
    }

    @Test(arguments: [
        ("points = 47:5", "rtu.conf:13: feeder 'sine' key 'points': no monitor point 47:5 is defined in the point tables; did you mean 47:4?"),
        ("points = 47:3-6", "rtu.conf:13: feeder 'sine' key 'points': 2 of 47:3-6 are not monitor points (47:5-6), they are not defined in the point tables; did you mean 47:4?"),
        ("points = 48:1", "rtu.conf:13: feeder 'sine' key 'points': no monitor point 48:1 is defined in the point tables; common address 48 has no monitor points (the tables use 47)"),
        ("points = 47", "rtu.conf:13: feeder 'sine' key 'points': '47' is not a point; write CA:IOA or CA:IOA-IOA, e.g. 47:3201 or 47:3300-3310"),
        ("points = 47:9-2", "rtu.conf:13: feeder 'sine' key 'points': '47:9-2': the range runs backwards; write 47:2-9"),
    ])
    func unknownOrBadFeederPoints(line: String, message: String) {
        #expect(files(sections: "[feeder sine]\nexec = /bin/sh\n" + line + "\n").errors == [message])
    }

    @Test func startQuality() throws {
        #expect(try #require(files().configuration).daemon.startQuality == .good)
        #expect(try #require(files(daemon: "start_quality = not_topical\n").configuration).daemon.startQuality == .notTopical)
        #expect(files(daemon: "start_quality = stale\n").errors.first?.hasPrefix("rtu.conf:3: [daemon] key 'start_quality': ") == true)
    }
}

private extension Files {
    func replacingTables(_ tables: String) -> Files {
        var copy = self
        copy.contents["rtu.conf"] = contents["rtu.conf"]?.replacing("point_tables = points.json", with: "point_tables = " + tables)
        return copy
    }
}
