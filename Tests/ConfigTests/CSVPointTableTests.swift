@testable import Config
import IEC104
import Outstation
import Testing

@Suite struct CSVPointTableTests {
    /// The base daemon config reading `tables`, with these files.
    func files(_ csv: String, tables: String = "points.csv", extra: [String: String] = [:]) -> Files {
        Files(config: Files.config.replacing("point_tables = points.json", with: "point_tables = \(tables)"),
              extra: ["points.csv": csv].merging(extra) { $1 })
    }

    func points(_ csv: String) throws -> PointTable {
        try #require(files(csv).configuration).points
    }

    static let semicolonTable = """
        ca;ioa;name;type;value;groups;deadband;time_tag
        47;1;Breaker Q1;single;true;1 2;;yes
        47;2;Voltage;float;230.5;1|3;0.5;
        47;3;"Current; phase L1";scaled;-12;;2%;

        """

    @Test(arguments: [";", ","]) func bothSeparators(separator: String) throws {
        let table = Self.semicolonTable.replacing("Current; phase L1", with: "Current# phase L1")
            .replacing(";", with: separator).replacing("Current# phase L1", with: "Current\(separator) phase L1")
        let points = try points(table).monitorPoints
        #expect(points.count == 3)
        #expect(points[0].name == "Breaker Q1")
        #expect(points[0].initialValue == .single(true))
        #expect(points[0].timeTaggedEvents)
        #expect(points[0].groups.groups == [1, 2])
        #expect(points[1].kind == .float)
        #expect(points[1].initialValue == .float(230.5))
        #expect(points[1].groups.groups == [1, 3])
        #expect(points[1].deadband == .absolute(0.5))
        #expect(!points[1].timeTaggedEvents)
        #expect(points[2].name == "Current\(separator) phase L1")
        #expect(points[2].initialValue == .scaled(-12))
        #expect(points[2].deadband == .percent(2))
    }

    @Test func byteOrderMarkAndCRLF() throws {
        let table = "\u{FEFF}ca,ioa,type\r\n47,1,single\r\n47,2,double\r\n"
        let points = try points(table).monitorPoints
        #expect(points.map(\.kind) == [.single, .double])
    }

    @Test func quotedFieldsWithQuotesSeparatorsAndNewlines() throws {
        let table = """
            ca,ioa,type,name,quality
            47,1,single,"Say ""hello"", then
            go",invalid|blocked
            47,2,single,"plain",""

            """
        let config = try #require(files(table).configuration)
        let points = config.points.monitorPoints
        #expect(points[0].name == "Say \"hello\", then\ngo")
        #expect(points[0].initialQuality == [.invalid, .blocked])
        #expect(points[1].name == "plain")
        #expect(points[1].initialQuality == [])
        // The second point starts on line 4: the first one's name spans lines 2 and 3.
        #expect(config.pointSources[PointAddress(commonAddress: 47, objectAddress: 2)] == SourceLocation(file: "points.csv", line: 4))
    }

    @Test func listValuesInEveryNotation() throws {
        let table = """
            ca;ioa;type;groups
            47;1;single;1 2
            47;2;single;1|2
            47;3;single;"1,2"
            47;4;single; 1 | 2 
            47;5;single;7

            """
        let points = try points(table).monitorPoints
        #expect(points.map(\.groups.groups) == [[1, 2], [1, 2], [1, 2], [1, 2], [7]])
    }

    @Test func emptyCellsMeanNotGiven() throws {
        let table = """
            ca;ioa;name;type;command;value;sbo;feedback;deadband;retain;priority
            47;1;;float;;;;;;;
            47;2;;scaled;;5;;;;yes;high
            47;100;Breaker;;single;;required;1;;;
            ;;;;;;;;;;

            """
        let config = try #require(files(table).configuration)
        let monitors = config.points.monitorPoints
        #expect(monitors.count == 2)
        #expect(monitors[0].initialValue == .float(0))
        #expect(monitors[0].deadband == nil)
        #expect(monitors[0].name == "")
        #expect(monitors[0].priority == PointKind.float.defaultEventPriority)
        #expect(monitors[1].initialValue == .scaled(5))
        #expect(monitors[1].retain)
        #expect(monitors[1].priority == .high)
        let command = try #require(config.points.commandPoints.first)
        #expect(command.kind == .single)
        #expect(command.name == "Breaker")
        #expect(command.selectBeforeOperate == .required)
        #expect(command.feedback == PointAddress(commonAddress: 47, objectAddress: 1))
    }

    @Test func columnsStartingWithHashAreIgnored() throws {
        let table = """
            ca;ioa;type;# notes;#gi type
            47;1;single;whatever you like;M_SP_NA_1

            """
        #expect(try points(table).monitorPoints.count == 1)
    }

    // MARK: Errors, each with file, line and column

    @Test func badNumber() {
        let table = """
            ca;ioa;type;value;deadband
            47;1;float;1.5;0.1
            47;2;float;abc;
            47;3;float;1;lots

            """
        #expect(files(table).errors == [
            "points.csv:3:4: point 47:2 key 'value': float value: abc is not a number; expected a number in -3.4028234663852886e+38…3.4028234663852886e+38",
            "points.csv:4:5: point 47:3 key 'deadband': lots is not a deadband; write an absolute amount (0.5) or a percentage (2%)",
        ])
    }

    @Test func badAddress() {
        let table = """
            ca;ioa;type
            70000;1;single

            """
        #expect(files(table).errors == ["points.csv:2:1: point key 'ca': 70000 is outside the allowed range 1…65534"])
    }

    @Test func unknownColumnWithSuggestion() {
        let table = """
            ca;ioa;type;deadbnd;colour
            47;1;float;0.5;red

            """
        #expect(files(table).errors == [
            "points.csv:1:4: unknown column 'deadbnd'; did you mean 'deadband'? (a column whose name starts with # is ignored)",
            "points.csv:1:5: unknown column 'colour' (a column whose name starts with # is ignored)",
        ])
    }

    @Test func missingRequiredColumns() {
        #expect(files("ca;name;type\n47;x;single\n").errors == [
            "points.csv:1: missing required column 'ioa'; the header names the columns, e.g. ca;ioa;name;type",
        ])
        #expect(files("ca;ioa;name\n47;1;x\n").errors == [
            "points.csv:1: missing column 'type' (monitor points) or 'command' (command points); the header names the columns, e.g. ca;ioa;name;type",
        ])
    }

    @Test func missingRequiredCell() {
        #expect(files("ca;ioa;type\n47;1;\n").errors == [
            "points.csv:2: point 47:1: missing required key 'type' (single, double, step, bitstring, normalized, scaled, float or counter; or 'command' for a command point)",
        ])
    }

    @Test func wrongNumberOfFields() {
        let table = """
            ca;ioa;type;name
            47;1;single;a;b
            47;2;single
            47;3;single;fine

            """
        let files = files(table)
        #expect(files.errors == [
            "points.csv:2:5: the row has 5 fields, the header 4; check for a missing or extra separator, or put a field that holds one in double quotes",
            "points.csv:3:4: the row has 3 fields, the header 4; check for a missing or extra separator, or put a field that holds one in double quotes",
        ])
    }

    @Test func quoteErrors() {
        #expect(files("ca;ioa;type;name\n47;1;single;\"open\n").errors == [
            "points.csv:2:4: the quoted field is never closed; a quote inside a quoted field is written twice (\"\")",
        ])
        #expect(files("ca;ioa;type;name\n47;1;single;\"a\"b\n").errors == [
            "points.csv:2:4: text after the closing quote; put the whole field in quotes and write a quote inside it twice (\"\")",
        ])
        #expect(files("ca;ioa;type;name\n47;1;single;a\"b\n").errors == [
            "points.csv:2:4: a quote inside an unquoted field; put the whole field in quotes and write the quote twice (\"\")",
        ])
    }

    @Test func keysOfTheOtherKindAreNamedAtTheCell() {
        let table = """
            ca;ioa;type;command;sbo;deadband
            47;1;single;;required;
            47;2;;double;;0.5

            """
        #expect(files(table).errors == [
            "points.csv:2:5: point 47:1 key 'sbo': 'sbo' applies to command points only; write a command point as [command CA:IOA] in INI or with \"command\" in JSON",
            "points.csv:3:6: command 47:2 key 'deadband': 'deadband' applies to monitor points only; a command reports back through its 'feedback' point",
        ])
    }

    @Test func duplicatePointAcrossCSVAndJSON() {
        let files = files("ca;ioa;type\n47;1;single\n", tables: "points.json, points.csv")
        #expect(files.errors.count == 1)
        #expect(files.errors.first?.contains("points.csv:2") == true)
        #expect(files.errors.first?.contains("47:1") == true)
    }

    @Test func csvTableMixedWithJSON() throws {
        let files = files("ca;ioa;type;name\n47;2;float;from csv\n", tables: "points.json, points.csv")
        let config = try #require(files.configuration)
        #expect(config.points.monitorPoints.map(\.address.objectAddress) == [1, 2])
        #expect(config.points.monitorPoints.map(\.name) == ["", "from csv"])
        #expect(config.pointSources[PointAddress(commonAddress: 47, objectAddress: 2)] == SourceLocation(file: "points.csv", line: 2))
        #expect(config.pointSources[PointAddress(commonAddress: 47, objectAddress: 1)]?.file == "points.json")
    }

    @Test func emptyFile() {
        #expect(files("").errors == ["points.csv:1: the CSV point table is empty; its first line names the columns, e.g. ca;ioa;name;type"])
    }

    /// The same entries as CSV, JSON and INI load into the same points.
    @Test func sameAsJSONAndINI() throws {
        let csv = """
            ca,ioa,name,type,command,value,quality,groups,deadband,cyclic,stale_after,sbo,feedback,time_tag
            47,1,Q1,double,,on,blocked,1 2,,,30s,,,true
            47,2,U,float,,1.5,,,2%,10,,,,
            47,100,Q1 cmd,,double,,,,,,,required,1,with

            """
        let json = """
            { "points": [
              { "ca": 47, "ioa": 1, "name": "Q1", "type": "double", "value": "on", "quality": ["blocked"], "groups": [1, 2], "stale_after": "30s", "time_tag": true },
              { "ca": 47, "ioa": 2, "name": "U", "type": "float", "value": 1.5, "deadband": "2%", "cyclic": 10 },
              { "ca": 47, "ioa": 100, "name": "Q1 cmd", "command": "double", "sbo": "required", "feedback": 1, "time_tag": "with" }
            ] }
            """
        let ini = """
            [point 47:1]
            name = Q1
            type = double
            value = on
            quality = blocked
            groups = 1, 2
            stale_after = 30s
            time_tag = true
            [point 47:2]
            name = U
            type = float
            value = 1.5
            deadband = 2%
            cyclic = 10
            [command 47:100]
            name = Q1 cmd
            command = double
            sbo = required
            feedback = 1
            time_tag = with
            """
        let fromCSV = try points(csv)
        let fromJSON = try #require(Files(points: json).configuration).points
        let fromINI = try #require(files(ini, tables: "points.ini", extra: ["points.ini": ini]).configuration).points
        #expect(fromCSV.monitorPoints.count == 2 && fromCSV.commandPoints.count == 1)
        #expect(fromCSV == fromJSON)
        #expect(fromCSV == fromINI)
    }

    @Test func largeTableLoads() throws {
        var table = "ca;ioa;name;type;value;groups;deadband\n"
        for ioa in 1...20_000 { table += "47;\(ioa);point \(ioa);float;\(ioa).5;1;0.5\n" }
        let points = try points(table).monitorPoints
        #expect(points.count == 20_000)
        #expect(points.last?.initialValue == .float(20_000.5))
    }
}
