@testable import Config
import IEC104
import Outstation
import Testing

@Suite struct PointTableTests {
    /// Loads the base daemon config with this JSON point table.
    func files(_ points: String, extra: [String: String] = [:], tables: String = "points.json") -> Files {
        Files(config: Files.config.replacing("point_tables = points.json", with: "point_tables = \(tables)"), points: points, extra: extra)
    }

    func monitor(_ json: String) throws -> MonitorPointDefinition {
        let config = try #require(files(pointLines(json)).configuration)
        return try #require(config.points.monitorPoints.first)
    }

    @Test func everyMonitorKindFromJSON() throws {
        let config = try #require(files(pointLines(
            #"{"ca": 47, "ioa": 1, "name": "Breaker", "type": "single", "value": true, "quality": ["invalid", "blocked"], "time_tag": true, "groups": [1, 2]}"#,
            #"{"ca": 47, "ioa": 2, "type": "double", "value": "indeterminate"}"#,
            #"{"ca": 47, "ioa": 3, "type": "step", "value": -64, "transient": true, "groups": 3}"#,
            #"{"ca": 47, "ioa": 4, "type": "bitstring", "value": "0xFFFF0000"}"#,
            #"{"ca": 47, "ioa": 5, "type": "normalized", "value": -0.5, "deadband": {"percent": 1.5}}"#,
            #"{"ca": 47, "ioa": 6, "type": "scaled", "value": -32768, "deadband": {"absolute": 10}, "cyclic": 0.5}"#,
            #"{"ca": 47, "ioa": 7, "type": "float", "value": 2.5e2, "deadband": 0.25, "background": "2min"}"#,
            #"{"ca": 47, "ioa": 8, "type": "counter", "value": 2147483647, "counter_group": 4, "quality": ["invalid"]}"#
        )).configuration)
        let points = config.points.monitorPoints
        #expect(points.map(\.kind) == PointKind.allCases)
        #expect(points[0].name == "Breaker")
        #expect(points[0].initialValue == .single(true))
        #expect(points[0].initialQuality == [.invalid, .blocked])
        #expect(points[0].timeTaggedEvents)
        #expect(points[0].groups.groups == [1, 2])
        #expect(points[1].initialValue == .double(.indeterminate))
        #expect(points[2].initialValue == .step(StepPosition(value: -64, isTransient: true)))
        #expect(points[2].groups.groups == [3])
        #expect(points[3].initialValue == .bitstring(0xFFFF_0000))
        #expect(points[4].initialValue == .normalized(NormalizedValue(-0.5)))
        #expect(points[4].deadband == .percent(1.5))
        #expect(points[5].initialValue == .scaled(-32768))
        #expect(points[5].deadband == .absolute(10))
        #expect(points[5].periodic == .cyclic(.milliseconds(500)))
        #expect(points[6].initialValue == .float(250))
        #expect(points[6].deadband == .absolute(0.25))
        #expect(points[6].periodic == .background(.seconds(120)))
        #expect(points[7].initialValue == .counter(BinaryCounterReading(value: Int32.max)))
        #expect(points[7].counterGroup == 4)
        #expect(config.pointSources[PointAddress(commonAddress: 47, objectAddress: 3)] == SourceLocation(file: "points.json", line: 4, column: 1))
    }

    @Test func defaultsOfAMonitorPoint() throws {
        let point = try monitor(#"{"ca": 47, "ioa": 9, "type": "float"}"#)
        #expect(point.initialValue == .float(0))
        #expect(point.initialQuality == [])
        #expect(!point.timeTaggedEvents)
        #expect(point.groups == [])
        #expect(point.deadband == nil)
        #expect(point.periodic == nil)
    }

    @Test func commandPointsFromJSON() throws {
        let config = try #require(files(pointLines(
            #"{"ca": 47, "ioa": 1, "type": "single"}"#,
            #"{"ca": 47, "ioa": 2, "type": "float"}"#,
            #"{"ca": 47, "ioa": 11, "name": "Open/close", "command": "single", "time_tag": "both", "sbo": "required", "feedback": 1, "actterm": true}"#,
            #"{"ca": 47, "ioa": 12, "command": "float", "time_tag": true, "sbo": false, "feedback": "47:2", "actterm": false}"#,
            #"{"ca": 47, "ioa": 13, "command": "double"}"#
        )).configuration)
        let commands = config.points.commandPoints
        #expect(commands.count == 3)
        #expect(commands[0] == CommandPointDefinition(address: PointAddress(commonAddress: 47, objectAddress: 11), name: "Open/close",
                                                      kind: .single, timeTag: .both, selectBeforeOperate: .required,
                                                      feedback: PointAddress(commonAddress: 47, objectAddress: 1), sendsTermination: true))
        #expect(commands[1].timeTag == .with)
        #expect(commands[1].selectBeforeOperate == .no)
        #expect(commands[1].feedback == PointAddress(commonAddress: 47, objectAddress: 2))
        #expect(!commands[1].sendsTermination)
        #expect(commands[2].timeTag == .both)
        #expect(commands[2].selectBeforeOperate == .optional)
        #expect(commands[2].feedback == nil)
    }

    @Test func iniPointTableMeansTheSame() throws {
        let ini = """
            ; the same points as INI
            [point 47:1]
            name = "Breaker; main"
            type = single
            value = on
            quality = invalid, blocked
            time_tag = yes
            groups = 1, 2

            [point 47:5]
            type = normalized
            value = -0.5
            deadband = 1.5%

            [point 47:8]
            type = counter
            value = 0x10
            counter_group = 4

            [command 47:11]
            command = single
            sbo = required
            feedback = 47:1
            """
        let config = try #require(files(pointLines(), extra: ["more.ini": ini], tables: "points.json, more.ini").configuration)
        let points = config.points.monitorPoints
        #expect(points.count == 3)
        #expect(points[0].name == "Breaker; main")
        #expect(points[0].initialValue == .single(true))
        #expect(points[0].initialQuality == [.invalid, .blocked])
        #expect(points[0].timeTaggedEvents)
        #expect(points[0].groups.groups == [1, 2])
        #expect(points[1].deadband == .percent(1.5))
        #expect(points[2].initialValue == .counter(BinaryCounterReading(value: 16)))
        #expect(config.points.commandPoints[0].selectBeforeOperate == .required)
        #expect(config.pointSources[PointAddress(commonAddress: 47, objectAddress: 5)] == SourceLocation(file: "more.ini", line: 10))
    }

    @Test func pointTableNamedConfIsINI() throws {
        let config = try #require(files("", extra: ["p.conf": "[point 47:1]\ntype = single\n"], tables: "p.conf").configuration)
        #expect(config.points.monitorPoints.count == 1)
    }

    // MARK: Errors

    @Test func duplicateAddressInOneFile() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single"}"#, #"{"ca": 47, "ioa": 1, "type": "float"}"#))
        #expect(files.errors == ["points.json:3:1: point 47:1: duplicate address 47:1; the monitor point at points.json:2:1 already uses it"])
    }

    @Test func duplicateAddressAcrossFiles() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single"}"#),
                          extra: ["more.ini": "\n[point 47:1]\ntype = double\n"], tables: "points.json, more.ini")
        #expect(files.errors == ["more.ini:2: point 47:1: duplicate address 47:1; the monitor point at points.json:2:1 already uses it"])
    }

    /// A hint speaks the syntax of the table it is about: no JSON objects for an INI user.
    @Test func anINIDeadbandHintUsesINISyntax() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single"}"#),
                          extra: ["more.ini": "\n[point 47:2]\ntype = float\ndeadband = lots\n"], tables: "points.json, more.ini")
        #expect(files.errors == ["more.ini:4: point 47:2 key 'deadband': lots is not a deadband; write an absolute amount (0.5) or a percentage (2%)"])
    }

    @Test func duplicateAddressAcrossMonitorAndCommand() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single"}"#, #"{"ca": 47, "ioa": 1, "command": "single"}"#))
        #expect(files.errors == ["points.json:3:1: command 47:1: duplicate address 47:1; the monitor point at points.json:2:1 already uses it"])
    }

    @Test func counterGroupOnANonCounter() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "float", "counter_group": 1}"#))
        #expect(files.errors == ["points.json:2:39: point 47:1 key 'counter_group': counter_group applies to counters (type counter) only, not to a float point"])
    }

    @Test func groupsOnACounter() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "counter", "groups": [1]}"#))
        #expect(files.errors == ["points.json:2:41: point 47:1 key 'groups': counters answer counter interrogation (C_CI_NA_1), not station interrogation; use counter_group 1…4 instead of groups"])
    }

    @Test func deadbandOnANonMeasurement() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single", "deadband": 1}"#))
        #expect(files.errors == ["points.json:2:40: point 47:1 key 'deadband': deadband applies to measured values (normalized, scaled, float) only, not to a single point"])
    }

    @Test func cyclicAndBackgroundBothSet() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "float", "cyclic": 10, "background": 60}"#))
        #expect(files.errors == ["points.json:2:53: point 47:1 key 'background': cyclic and background are both set; a point is sent either cyclically (COT 1) or by background scan (COT 2)"])
    }

    @Test func cyclicCounter() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "counter", "cyclic": 10}"#))
        #expect(files.errors == ["points.json:2:41: point 47:1 key 'cyclic': counters are reported by counter interrogation or spontaneously, not cyclically or by background scan"])
    }

    @Test func transientOnANonStep() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single", "transient": true}"#))
        #expect(files.errors == ["points.json:2:40: point 47:1 key 'transient': transient applies to step positions (type step) only, not to a single point"])
    }

    @Test func overflowQualityOnASinglePoint() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single", "quality": ["overflow"]}"#))
        #expect(files.errors == ["points.json:2:40: point 47:1 key 'quality': a single point has no overflow flag (SIQ/DIQ carry only blocked, substituted, not_topical and invalid)"])
    }

    @Test func counterQualityOtherThanInvalid() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "counter", "quality": ["blocked"]}"#))
        #expect(files.errors == ["points.json:2:41: point 47:1 key 'quality': integrated totals carry only the invalid flag (the IV bit of BCR)"])
    }

    @Test func unknownQualityFlag() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "float", "quality": ["invalid", "stale"]}"#))
        #expect(files.errors == ["points.json:2:62: point 47:1 key 'quality': \"stale\" is not one of 'overflow', 'blocked', 'substituted', 'not_topical' or 'invalid'"])
    }

    @Test func feedbackToAMissingPoint() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single"}"#, #"{"ca": 47, "ioa": 2, "command": "single", "feedback": 5}"#))
        #expect(files.errors == ["points.json:3:43: command 47:2 key 'feedback': no monitor point 47:5 is defined in the point tables"])
    }

    @Test func feedbackToACommandPoint() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single"}"#, #"{"ca": 47, "ioa": 2, "command": "single"}"#,
                                     #"{"ca": 47, "ioa": 3, "command": "single", "feedback": "47:2"}"#))
        #expect(files.errors == ["points.json:4:43: command 47:3 key 'feedback': 47:2 is a command point (at points.json:3:1); feedback must name a monitor point"])
    }

    @Test func feedbackOfAnUnusualKindIsAWarning() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "counter"}"#, #"{"ca": 47, "ioa": 2, "command": "single", "feedback": 1}"#))
        #expect(files.errors.isEmpty)
        #expect(files.warnings == ["points.json:3:43: warning: command 47:2 key 'feedback': a single command usually reports back on a single or double point, but 47:1 (at points.json:2:1) is a counter point"])
    }

    @Test func badFeedbackAddress() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single"}"#, #"{"ca": 47, "ioa": 2, "command": "single", "feedback": "47/1"}"#))
        #expect(files.errors == ["points.json:3:55: command 47:2 key 'feedback': \"47/1\" is not a point address; write an IOA (1001) or CA:IOA (47:1001)"])
    }

    @Test(arguments: [
        (#""type": "step", "value": 64"#, "points.json:2:47: point 47:1 key 'value': step position: 64 is outside the allowed range -64…63"),
        (#""type": "scaled", "value": 40000"#, "points.json:2:49: point 47:1 key 'value': scaled value: 40000 is outside the allowed range -32768…32767"),
        (#""type": "normalized", "value": 1.5"#, "points.json:2:53: point 47:1 key 'value': normalized value: 1.5 is outside the allowed range -1.0…1.0"),
        (#""type": "counter", "value": 2147483648"#, "points.json:2:50: point 47:1 key 'value': counter reading: 2147483648 is outside the allowed range -2147483648…2147483647"),
        (#""type": "double", "value": "half""#, "points.json:2:49: point 47:1 key 'value': \"half\" is not a double-point value; use off, on, intermediate or indeterminate"),
        (#""type": "single", "value": "maybe""#, "points.json:2:49: point 47:1 key 'value': \"maybe\" is not a single-point value; use true/false, on/off or 1/0"),
        (#""type": "bitstring", "value": "0xFFFFFFFFF""#, "points.json:2:52: point 47:1 key 'value': \"0xFFFFFFFFF\" is not a 32-bit string; use 0…4294967295 or hexadecimal \"0x0000FFFF\""),
        (#""type": "float", "value": "warm""#, "points.json:2:48: point 47:1 key 'value': float value: \"warm\" is not a number; expected a number in -3.4028234663852886e+38…3.4028234663852886e+38"),
        (#""type": "float", "groups": [1, 17]"#, "points.json:2:53: point 47:1 key 'groups': 17 is outside the allowed range 1…16"),
        (#""type": "counter", "counter_group": 5"#, "points.json:2:58: point 47:1 key 'counter_group': 5 is outside the allowed range 1…4"),
        (#""type": "float", "deadband": -1"#, "points.json:2:51: point 47:1 key 'deadband': -1 is not a deadband; write an absolute amount (0.5), a percentage (\"2%\"), or {\"absolute\": 0.5} / {\"percent\": 2}"),
        (#""type": "float", "cyclic": 0"#, "points.json:2:49: point 47:1 key 'cyclic': 0 must be more than 0 seconds"),
        (#""type": "analog""#, "points.json:2:30: point 47:1 key 'type': \"analog\" is not one of 'single', 'double', 'step', 'bitstring', 'normalized', 'scaled', 'float' or 'counter'"),
        (#""type": "flaot""#, "points.json:2:30: point 47:1 key 'type': \"flaot\" is not one of 'single', 'double', 'step', 'bitstring', 'normalized', 'scaled', 'float' or 'counter' (did you mean 'float'?)"),
    ])
    func invalidValuesNameTheRange(fields: String, message: String) {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "# + fields + "}"))
        #expect(files.errors == [message])
    }

    @Test func addressOutOfRange() {
        let files = files(pointLines(#"{"ca": 0, "ioa": 16777216, "type": "single"}"#))
        #expect(files.errors == [
            "points.json:2:8: point key 'ca': 0 is outside the allowed range 1…65534",
            "points.json:2:18: point key 'ioa': 16777216 is outside the allowed range 1…16777215",
        ])
    }

    @Test func missingAddressAndType() {
        let files = files(pointLines(#"{"name": "lost"}"#))
        #expect(files.errors == [
            "points.json:2:1: point ?:?: missing required key 'ca' (the common address, 1…65534)",
            "points.json:2:1: point ?:?: missing required key 'ioa' (the information object address, 1…16777215)",
            "points.json:2:1: point ?:?: missing required key 'type' (single, double, step, bitstring, normalized, scaled, float or counter; or 'command' for a command point)",
        ])
    }

    @Test func typeAndCommandTogether() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single", "command": "single"}"#))
        #expect(files.errors == ["points.json:2:22: command 47:1 key 'type': an entry has either 'type' (a monitor point) or 'command' (a command point), not both"])
    }

    @Test func commandKeyOnAMonitorPoint() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single", "sbo": "required"}"#))
        #expect(files.errors == ["points.json:2:40: point 47:1 key 'sbo': 'sbo' applies to command points only; write a command point as [command CA:IOA] in INI or with \"command\" in JSON"])
    }

    @Test func monitorKeyOnACommandPoint() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "command": "single", "groups": [1]}"#))
        #expect(files.errors == ["points.json:2:43: command 47:1 key 'groups': 'groups' applies to monitor points only; a command reports back through its 'feedback' point"])
    }

    @Test func unknownPointKeyWithSuggestion() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single", "time_tagged": true}"#))
        #expect(files.errors == ["points.json:2:40: point 47:1 key 'time_tagged': unknown key; did you mean 'time_tag'?"])
    }

    @Test func duplicateJSONKey() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single", "type": "double"}"#))
        #expect(files.errors == ["points.json:2:40: point 47:1 key 'type': duplicate key; it is already set at points.json:2:22"])
    }

    @Test func badJSONNamesLineAndColumn() {
        let files = files("{ \"points\": [\n  { \"ca\": 47 \"ioa\": 1 }\n] }")
        #expect(files.errors == ["points.json:2:14: expected ',' or '}' after the value of \"ca\", found '\"'"])
    }

    @Test func jsonTopLevelShape() {
        #expect(files("[]").errors == ["points.json:1:1: a point table is a JSON object: { \"points\": [ ... ] }, found a list"])
        #expect(files("{}").errors == ["points.json:1:1: point table: missing required key 'points' (a list of point objects: { \"points\": [ ... ] })"])
        #expect(files(#"{"points": [], "pionts": 1}"#).errors == ["points.json:1:16: point table key 'pionts': unknown key; did you mean 'points'?"])
        #expect(files(#"{"points": [1]}"#).errors == ["points.json:1:13: each entry of \"points\" is an object { \"ca\": ..., \"ioa\": ... }, found 1"])
    }

    @Test func iniPointTableErrors() {
        let ini = """
            [point 47-1]
            type = single
            [pont 47:2]
            type = single
            [point 47:3]
            ioa = 3
            type = single
            [command 47:4]
            command = toggle
            """
        let files = files(pointLines(), extra: ["more.ini": ini], tables: "points.json, more.ini")
        #expect(files.errors == [
            "more.ini:1: [point 47-1] needs an address CA:IOA with CA in 1…65534 and IOA in 1…16777215, e.g. [point 47:1001]",
            "more.ini:3: unknown section [pont 47:2]; did you mean 'point'?; a point table has [point CA:IOA] and [command CA:IOA] sections",
            "more.ini:6: point 47:3 key 'ioa': the address is in the section header [point 47:3]; remove this key",
            "more.ini:9: command 47:4 key 'command': toggle is not one of 'single', 'double', 'step', 'normalized', 'scaled', 'float' or 'bitstring'",
        ])
    }

    @Test func pointTableFileMissing() {
        let files = files(pointLines(), tables: "points.json, missing.ini")
        #expect(files.errors == ["rtu.conf:2: [daemon] key 'point_tables': cannot read the point table 'missing.ini': no such file"])
    }

    @Test func pointTableWithUnknownFormat() {
        let files = files(pointLines(), tables: "points.xlsx")
        #expect(files.errors == ["rtu.conf:2: [daemon] key 'point_tables': cannot tell the format of 'points.xlsx'; name point tables *.json, *.csv, *.ini or *.conf"])
    }

    @Test func pointTableListedTwice() {
        let files = files(Files.points, tables: "points.json, ./points.json")
        #expect(files.errors == ["rtu.conf:2: [daemon] key 'point_tables': the point table 'points.json' is listed twice"])
    }

    @Test func stationCommonAddressWithoutPoints() {
        let files = Files(config: Files.config.replacing("common_addresses = 47", with: "common_addresses = 47, 48"))
        #expect(files.errors.isEmpty)
        #expect(files.warnings == ["rtu.conf:10: warning: station 'scada' key 'common_addresses': common address 48 has no points in the point tables; requests to it get empty replies"])
    }

    @Test func commonAddressThatNoStationServes() {
        let files = files(pointLines(#"{"ca": 47, "ioa": 1, "type": "single"}"#, #"{"ca": 50, "ioa": 1, "type": "single"}"#))
        #expect(files.errors.isEmpty)
        #expect(files.warnings == ["rtu.conf:7: warning: common address 50 has points but no station serves it"])
    }

    @Test func allErrorsAcrossFilesAreCollected() {
        let config = Files.config.replacing("point_tables = points.json", with: "point_tables = points.json, more.ini")
            + "\nw = 20\n"
        let files = Files(config: config, points: pointLines(#"{"ca": 47, "ioa": 1, "type": "single", "deadband": 1}"#),
                          extra: ["more.ini": "[point 47:1]\ntype = float\nvalue = x\n"])
        let errors = files.errors
        #expect(errors.count == 4)
        #expect(errors[0].hasPrefix("rtu.conf:12:"))
        #expect(errors[1].hasPrefix("points.json:2:40:"))
        #expect(errors[2].hasPrefix("more.ini:3:"))
        #expect(errors[3].hasPrefix("more.ini:1: point 47:1: duplicate address"))
    }
}

@Suite struct BitstringCommandTests {
    @Test func bitstringCommandCannotRequireSelect() {
        let files = Files(config: Files.config, points: pointLines(#"{"ca": 47, "ioa": 9, "command": "bitstring", "sbo": "required"}"#))
        #expect(files.errors.count == 1)
        #expect(files.errors.first?.contains("a bitstring command (C_BO) has no select/execute bit") == true, "\(files.errors)")
    }
}
