import Config
import Foundation
import IEC104
import Outstation
@testable import rtu104ctl
import Testing

/// `rtu104ctl interop-doc`: the interoperability list follows what the configured points put on the wire.
@Suite struct InteropDocumentTests {
    /// A row of a type table: `| 13 | M_ME_NC_1 | used | 3, 5, 20 |` → ("used", [3, 5, 20]).
    static func row(_ typeID: TypeID, in markdown: String) -> (usage: String, causes: [UInt8])? {
        for line in markdown.split(separator: "\n") where line.hasPrefix("| \(typeID.rawValue) | \(typeID.mnemonic) |") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5 else { return nil }
            return (cells[3], cells[4].split(separator: ",").compactMap { UInt8($0.trimmingCharacters(in: .whitespaces)) })
        }
        return nil
    }

    /// The types the points of `configuration` put on the wire or accept, from the daemon's own tables:
    /// interrogation replies without time tag, events by each station's time_tags policy, commands by time_tag.
    static func typesOfPoints(_ configuration: DaemonConfiguration) -> Set<TypeID> {
        var types = Set<TypeID>()
        for point in configuration.points.monitorPoints {
            types.insert(point.kind.typeID)
            for station in configuration.stations where station.serves(point.address.commonAddress) {
                types.insert(station.timeTags.timeTagged(point) ? point.kind.timeTaggedTypeID : point.kind.typeID)
            }
        }
        for command in configuration.points.commandPoints {
            if command.timeTag.accepts(timeTagged: false) { types.insert(command.kind.typeID) }
            if command.timeTag.accepts(timeTagged: true) { types.insert(command.kind.timeTaggedTypeID) }
        }
        return types
    }

    static func load(_ path: String) throws -> DaemonConfiguration {
        switch ConfigurationLoader.load(configPath: path) {
        case .success(let configuration): return configuration
        case .failure(let problems): throw problems
        }
    }

    @Test func theExampleConfigHasEverySectionAndMarksThePointsTypesUsed() throws {
        let configuration = try Self.load(DocumentationCoverageTests.checkout + "/etc/rtu104d/rtu104d.conf")
        let document = InteropDocument(configuration: configuration)
        let markdown = document.markdown()
        for section in InteropDocument.Section.allCases {
            #expect(markdown.contains("## \(section.rawValue)\n"), "no section \(section.rawValue)")
        }
        #expect(markdown.contains("| main | 0.0.0.0 | 2404 | off |"))
        #expect(markdown.contains("| control-centre | main | 47 | 12 | 8 | 30 s | 15 s | 10 s | 20 s |"))
        #expect(markdown.contains("Common address of ASDU: 2 octets"))
        #expect(markdown.contains("Information object address: 3 octets"))
        #expect(markdown.contains("Cause of transmission: 2 octets"))

        let pointTypes = Self.typesOfPoints(configuration)
        #expect(pointTypes.count > 10)
        for typeID in pointTypes {
            let row = try #require(Self.row(typeID, in: markdown), "no row for \(typeID.mnemonic)")
            #expect(row.usage == "used", "\(typeID.mnemonic) is \(row.usage)")
            #expect(Set(row.causes) == document.causes[typeID], "\(typeID.mnemonic)")
            if typeID.isMonitorDirection {
                #expect(row.causes.contains(3) || row.causes.contains(5), "\(typeID.mnemonic) has no spont/req cause")
            } else {
                #expect(Array(row.causes.prefix(2)) == [6, 7], "\(typeID.mnemonic): \(row.causes)")
            }
        }
        // The example's points: float measurands answer GI, the cyclic one COT 1; a background scan is COT 2.
        #expect(Self.row(.M_ME_NC_1, in: markdown).map { Set($0.causes).isSuperset(of: [1, 3, 5, 20]) } == true)
        #expect(Self.row(.M_ME_NB_1, in: markdown).map { $0.causes.contains(2) } == true)
        #expect(Self.row(.C_SC_NA_1, in: markdown)?.causes == [6, 7, 8, 9, 10, 44, 45, 46, 47])
        #expect(Self.row(.M_EI_NA_1, in: markdown).map { $0.usage == "used" && $0.causes == [4] } == true)
        // The example serves etc/rtu104d/records.
        #expect(Self.row(.F_DR_TA_1, in: markdown).map { $0.usage == "used" && $0.causes == [3, 5] } == true)
    }

    /// One point of every kind with and without time tag, a command point of every kind.
    static func smallConfig(in directory: String) throws -> String {
        let kinds: [(String, String)] = [("single", "off"), ("double", "off"), ("step", "0"), ("bitstring", "0"),
                                         ("normalized", "0"), ("scaled", "0"), ("float", "0"), ("counter", "0")]
        var points = ""
        for (index, (kind, value)) in kinds.enumerated() {
            let groups = kind == "counter" ? "" : "groups = 2\n"
            points += "[point 1:\(100 + index)]\ntype = \(kind)\nvalue = \(value)\ntime_tag = no\n\(groups)\n"
        }
        // Time-tagged events only for single, float and counter.
        points += "[point 1:200]\ntype = single\nvalue = off\ntime_tag = yes\n\n"
        points += "[point 1:201]\ntype = float\nvalue = 0\ntime_tag = yes\n\n"
        points += "[point 1:202]\ntype = counter\nvalue = 0\ntime_tag = yes\ncounter_group = 2\n\n"
        for (index, kind) in ["single", "double", "step", "normalized", "scaled", "float", "bitstring"].enumerated() {
            let sbo = kind == "bitstring" ? "no" : "required"
            points += "[command 1:\(300 + index)]\ncommand = \(kind)\ntime_tag = without\nsbo = \(sbo)\n\n"
        }
        points += "[command 1:400]\ncommand = single\ntime_tag = with\nsbo = optional\n\n"
        let config = """
        [daemon]
        point_tables = points.ini
        state_directory = state
        runtime_directory = run
        command_max_age = 20s

        [listener main]
        bind = 127.0.0.1:24040

        [station s]
        listener = main
        allow = any
        common_addresses = 1
        time_tags = per-point
        k = 6
        w = 4

        """
        try points.write(toFile: directory + "/points.ini", atomically: true, encoding: .utf8)
        try config.write(toFile: directory + "/small.conf", atomically: true, encoding: .utf8)
        return directory + "/small.conf"
    }

    static func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "interop-doc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func everyKindGivesExactlyTheExpectedTypes() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = try Self.load(try Self.smallConfig(in: directory))
        let document = InteropDocument(configuration: configuration)

        // Written out by hand from the standard: a change in the code that changes the wire shows up here.
        let handWritten: Set<TypeID> = [
            .M_SP_NA_1, .M_DP_NA_1, .M_ST_NA_1, .M_BO_NA_1, .M_ME_NA_1, .M_ME_NB_1, .M_ME_NC_1, .M_IT_NA_1,
            .M_SP_TB_1, .M_ME_TF_1, .M_IT_TB_1,
            .C_SC_NA_1, .C_DC_NA_1, .C_RC_NA_1, .C_SE_NA_1, .C_SE_NB_1, .C_SE_NC_1, .C_BO_NA_1, .C_SC_TA_1,
        ]
        let fromPoints = Self.typesOfPoints(configuration)
        #expect(fromPoints == handWritten)
        let systemTypes: Set<TypeID> = [.M_EI_NA_1, .C_IC_NA_1, .C_CI_NA_1, .C_RD_NA_1, .C_CS_NA_1, .C_RP_NA_1,
                                        .C_CD_NA_1, .C_TS_TA_1]
        #expect(document.usedTypes == handWritten.union(systemTypes))

        let markdown = document.markdown()
        for typeID in TypeID.allCases {
            let row = try #require(Self.row(typeID, in: markdown), "no row for \(typeID.mnemonic)")
            #expect((row.usage == "used") == document.usedTypes.contains(typeID), "\(typeID.mnemonic): \(row.usage)")
        }
        #expect(Self.row(.M_SP_NA_1, in: markdown)?.causes == [3, 5, 20, 22])
        #expect(Self.row(.M_SP_TB_1, in: markdown)?.causes == [3])
        #expect(Self.row(.M_IT_NA_1, in: markdown)?.causes == [3, 5, 37, 39])
        #expect(Self.row(.M_DP_TB_1, in: markdown)?.usage == "not used")
        #expect(Self.row(.C_BO_TA_1, in: markdown)?.usage == "not used")
        #expect(Self.row(.C_TS_NA_1, in: markdown)?.usage == "not used")
        #expect(Self.row(.C_RD_NA_1, in: markdown)?.causes == [5, 44, 45, 46, 47])
        #expect(markdown.contains("| s | main | 1 | 6 | 4 | 30 s | 15 s | 10 s | 20 s |"))
        #expect(markdown.contains("command_max_age 20 s"))
        #expect(markdown.contains("| 1:300 |  | C_SC_NA_1 | required | without |"))
    }

    @Test func unsupportedTypesAndFunctionsAreMarkedNotSupported() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let markdown = InteropDocument(configuration: try Self.load(try Self.smallConfig(in: directory))).markdown()
        for typeID in [TypeID.M_PS_NA_1, .M_ME_ND_1, .M_EP_TD_1, .M_EP_TE_1, .M_EP_TF_1,
                       .P_ME_NA_1, .P_ME_NB_1, .P_ME_NC_1, .P_AC_NA_1] {
            #expect(Self.row(typeID, in: markdown)?.usage == "not supported", "\(typeID.mnemonic)")
            #expect(!StationRequestTable.isHandled(typeID, acceptTestCommandWithoutTime: true) || typeID.isMonitorDirection)
        }
        for function in ["Double transmission of information objects", "Parameter loading", "File transfer"] {
            #expect(markdown.contains("| \(function) | not supported |"), "\(function)")
        }
        #expect(markdown.contains("| Background scan | not used |"))
        #expect(markdown.contains("| Cyclic data transmission | not used |"))
        #expect(markdown.contains("| Station interrogation | used | global (COT 20); groups 2 (COT 21–36) |"))
    }

    /// The Direction cell of a file transfer row: `| 126 | F_DR_TA_1 | used | 3, 5 | sent |` → "sent".
    static func direction(_ typeID: TypeID, in markdown: String) -> String? {
        for line in markdown.split(separator: "\n") where line.hasPrefix("| \(typeID.rawValue) | \(typeID.mnemonic) |") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            return cells.count >= 7 ? cells[5] : nil
        }
        return nil
    }

    static let fileTypes: [TypeID] = [.F_FR_NA_1, .F_SR_NA_1, .F_SC_NA_1, .F_LS_NA_1, .F_AF_NA_1, .F_SG_NA_1, .F_DR_TA_1, .F_SC_NB_1]

    @Test func withoutAFilesAreaFileTransferIsNotSupported() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = try Self.load(try Self.smallConfig(in: directory))
        #expect(configuration.fileAreas.isEmpty)
        let markdown = InteropDocument(configuration: configuration).markdown()
        #expect(markdown.contains("## File transfer\n\nFile transfer (F_* types): not supported; this configuration has no [files NAME] area.\n"))
        for typeID in Self.fileTypes {
            let row = try #require(Self.row(typeID, in: markdown), "no row for \(typeID.mnemonic)")
            #expect(row.usage == "not supported" && row.causes.isEmpty, "\(typeID.mnemonic): \(row)")
            #expect(Self.direction(typeID, in: markdown) == "", "\(typeID.mnemonic)")
        }
        #expect(markdown.contains("| File transfer | not supported | |"))
    }

    @Test func aFilesAreaMarksTheFileTransferTypesAndTheFunction() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try Self.smallConfig(in: directory)
        try FileManager.default.createDirectory(atPath: directory + "/records", withIntermediateDirectories: true)
        let text = try String(contentsOfFile: path, encoding: .utf8)
            + "\n[files records]\ncommon_address = 1\nioa = 30001-30099\ndirectory = records\nallow_delete = yes\n"
            + "\n[files logs]\ncommon_address = 1\nioa = 31000\ndirectory = records\nname_of_file = 2\nsection_size = 4096\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try Self.load(path)
        #expect(configuration.fileAreas.map(\.name) == ["records", "logs"])
        let document = InteropDocument(configuration: configuration)
        let markdown = document.markdown()

        // Written out by hand from the file transfer design: (type, causes, direction).
        let expected: [(TypeID, [UInt8], String)] = [
            (.F_FR_NA_1, [13], "sent"),
            (.F_SR_NA_1, [13], "sent"),
            (.F_SC_NA_1, [5, 13, 44, 45, 46, 47], "received"),
            (.F_LS_NA_1, [13], "sent"),
            (.F_AF_NA_1, [13, 44, 45, 46, 47], "sent and received"),
            (.F_SG_NA_1, [13], "sent"),
            (.F_DR_TA_1, [3, 5], "sent"),
        ]
        for (typeID, causes, direction) in expected {
            let row = try #require(Self.row(typeID, in: markdown), "no row for \(typeID.mnemonic)")
            #expect(row.usage == "used", "\(typeID.mnemonic): \(row.usage)")
            #expect(row.causes == causes, "\(typeID.mnemonic)")
            #expect(Self.direction(typeID, in: markdown) == direction, "\(typeID.mnemonic)")
        }
        #expect(Self.row(.F_SC_NB_1, in: markdown).map { $0.usage == "not supported" && $0.causes.isEmpty } == true)
        #expect(document.usedTypes.isSuperset(of: expected.map(\.0)))
        #expect(markdown.contains("| records | 1 | 30001–30099 | 1 | 65536 octets | allowed |"))
        #expect(markdown.contains("| logs | 1 | 31000 | 2 | 4096 octets | not allowed |"))
        #expect(markdown.contains("| File transfer | used | monitor direction: transparent file / transmission of disturbance data "
                                  + "(areas records, logs); control direction: not supported |"))
        #expect(!markdown.contains("| File transfer | not supported |"))
        // The file transfer types are in their own section, not among the process information.
        let monitorSection = try #require(markdown.range(of: "## Process information in monitor direction"))
        let fileSection = try #require(markdown.range(of: "## File transfer\n"))
        let functions = try #require(markdown.range(of: "## Basic application functions"))
        let fileRow = try #require(markdown.range(of: "| 126 | F_DR_TA_1 |"))
        #expect(monitorSection.upperBound < fileSection.lowerBound)
        #expect(fileSection.upperBound < fileRow.lowerBound && fileRow.upperBound < functions.lowerBound)
    }

    @Test func aConfigWithErrorsExitsWithoutADocument() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "[daemon]\npoint_tables = missing.json\n".write(toFile: directory + "/bad.conf", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try InteropDocCommand.document(config: directory + "/bad.conf") }
    }
}
