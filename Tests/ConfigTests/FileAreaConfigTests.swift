@testable import Config
import Foundation
import Outstation
import Testing

/// `[files NAME]` sections: the file transfer areas of /work/tmp/file-transfer-spec.md.
@Suite struct FileAreaConfigTests {
    /// A folder that exists: the example's records.
    static let records = ExampleConfigTests.checkout + "/etc/rtu104d/records"

    /// `Files.config` (station scada serves CA 47, point 47:1) and then `sections`, which start on line 12.
    static func files(_ sections: String, points: String = Files.points) -> Files {
        Files(config: Files.config + "\n" + sections + "\n", points: points)
    }

    static func area(_ extra: String = "", name: String = "records", ioa: String = "30001-30099") -> String {
        "[files \(name)]\ncommon_address = 47\nioa = \(ioa)\ndirectory = \(records)\n" + extra
    }

    @Test func requiredKeysAloneTakeTheDefaults() throws {
        let files = Self.files(Self.area())
        let config = try #require(files.configuration)
        #expect(config.warnings.isEmpty)
        let area = try #require(config.fileAreas.first)
        #expect(config.fileAreas.count == 1)
        #expect(area == FileArea(name: "records", directory: Self.records, commonAddress: 47, objectAddresses: 30001...30099))
        #expect(area.patterns == ["*"])
        #expect(area.nameOfFile == 1)
        #expect(area.sectionSize == 65536)
        #expect(area.maximumFileSize == 16_711_680)
        #expect(area.allowDelete == false)
        #expect(area.scanInterval == .seconds(2))
        #expect(config.fileAreaSources["records"] == SourceLocation(file: "rtu.conf", line: 12))
    }

    @Test func noFilesSectionNoAreas() throws {
        let config = try #require(Files().configuration)
        #expect(config.fileAreas.isEmpty)
        #expect(config.fileAreaSources.isEmpty)
    }

    @Test func everyKey() throws {
        let config = try #require(Self.files(Self.area("""
            pattern = *.cfg  *.dat record-??.hdr [ab]*.txt
            name_of_file = 65535
            section_size = 1024
            max_file_size = 261120
            allow_delete = yes
            scan_interval = 500ms
            """, ioa: "30500")).configuration)
        let area = try #require(config.fileAreas.first)
        #expect(area.objectAddresses == 30500...30500)
        #expect(area.patterns == ["*.cfg", "*.dat", "record-??.hdr", "[ab]*.txt"])
        #expect(area.nameOfFile == 65535)
        #expect(area.sectionSize == 1024)
        #expect(area.maximumFileSize == 255 * 1024)
        #expect(area.allowDelete)
        #expect(area.scanInterval == .milliseconds(500))
    }

    @Test func maximumFileSizeDefaultsTo255Sections() throws {
        let config = try #require(Self.files(Self.area("section_size = 4096\n")).configuration)
        #expect(config.fileAreas.first?.maximumFileSize == 255 * 4096)
        let large = try #require(Self.files(Self.area("section_size = 16777215\nmax_file_size = 16777215\n")).configuration)
        #expect(large.fileAreas.first?.maximumFileSize == 16_777_215)
        let empty = try #require(Self.files(Self.area("max_file_size = 0\nscan_interval = 1h\n")).configuration)
        #expect(empty.fileAreas.first?.maximumFileSize == 0)
        #expect(empty.fileAreas.first?.scanInterval == .seconds(3600))
    }

    @Test func relativeDirectoryIsTakenFromTheConfigFilesFolder() throws {
        let example = ExampleConfigTests.checkout + "/etc/rtu104d/rtu104d.conf"
        let config = try ConfigurationLoader.load(configPath: example).get()
        #expect(config.fileAreas == [FileArea(name: "records", directory: Self.records, commonAddress: 47,
                                              objectAddresses: 30001...30099, patterns: ["*.cfg", "*.dat", "*.hdr"])])
        #expect(config.fileAreaSources["records"]?.file == example)
        // A relative config path gives a relative directory, as for the other paths.
        let contents = ["etc/rtu/rtu.conf": "[daemon]\npoint_tables = points.json\n[listener main]\n[station s]\n"
                            + "common_addresses = 47\nallow = any\n[files f]\ncommon_address = 47\nioa = 9\n"
                            + "directory = ../data/./records/\n",
                        "etc/rtu/points.json": Files.points]
        let loaded = ConfigurationLoader.load(configPath: "etc/rtu/rtu.conf") { path in
            contents[path].map { .success($0) } ?? .failure(ConfigurationLoader.FileReadError("no such file"))
        }
        let area = try #require(try loaded.get().fileAreas.first)
        #expect(area.directory == "etc/data/records")
        #expect(area.objectAddresses == 9...9)
    }

    @Test func aDirectoryThatIsNotThereOnlyWarns() throws {
        let missing = NSTemporaryDirectory() + "rtu104d-no-such-\(UUID().uuidString)"
        let files = Self.files("[files records]\ncommon_address = 47\nioa = 30001\ndirectory = \(missing)\n")
        #expect(files.errors.isEmpty)
        #expect(files.warnings == ["rtu.conf:15: warning: files 'records' key 'directory': '\(missing)' does not exist; "
                                   + "the files area stays empty until it is a directory"])
        #expect(files.configuration?.fileAreas.first?.directory == missing)

        let plainFile = Self.records + "/sample.cfg"
        let notDirectory = Self.files("[files records]\ncommon_address = 47\nioa = 30001\ndirectory = \(plainFile)\n")
        #expect(notDirectory.warnings == ["rtu.conf:15: warning: files 'records' key 'directory': '\(plainFile)' is not a "
                                          + "directory; the files area stays empty until it is a directory"])
    }

    @Test func missingKeys() {
        #expect(Self.files("[files records]\npattern = *.cfg\n").errors == [
            "rtu.conf:12: files 'records': missing required key 'common_address' (the common address whose master may fetch the files, e.g. common_address = 47)",
            "rtu.conf:12: files 'records': missing required key 'ioa' (the IOAs the files take, one per file, e.g. ioa = 30001-30099)",
            "rtu.conf:12: files 'records': missing required key 'directory' (the folder whose files are served, e.g. directory = /var/lib/rtu104d/records)",
        ])
        #expect(Self.files("[files]\ncommon_address = 47\n").errors == ["rtu.conf:12: [files] needs a name, e.g. [files main]"])
    }

    @Test func unknownKeysGetADidYouMean() {
        #expect(Self.files(Self.area("patern = *.cfg\n")).errors
                == ["rtu.conf:16: files 'records' key 'patern': unknown key; did you mean 'pattern'?"])
        #expect(Self.files(Self.area("scan_intervall = 5s\n")).errors
                == ["rtu.conf:16: files 'records' key 'scan_intervall': unknown key; did you mean 'scan_interval'?"])
        // The station's plural key is a slip here, not a key that belongs in a [station] section.
        #expect(Self.files("[files records]\ncommon_addresses = 47\nioa = 30001\ndirectory = \(Self.records)\n").errors == [
            "rtu.conf:12: files 'records': missing required key 'common_address' (the common address whose master may fetch the files, e.g. common_address = 47)",
            "rtu.conf:13: files 'records' key 'common_addresses': unknown key; did you mean 'common_address'?",
        ])
        // A key of another section says where it belongs.
        #expect(Self.files(Self.area("exec = /bin/true\n")).errors
                == ["rtu.conf:16: files 'records' key 'exec': 'exec' belongs in a [handler NAME] section, not in a [files] section"])
        // And the other way round: a [files] key in a station.
        #expect(Files(config: Files.config + "directory = /tmp\n").errors
                == ["rtu.conf:11: station 'scada' key 'directory': 'directory' belongs in a [files NAME] section, not in a [station] section"])
        #expect(Files(config: Files.config + "common_address = 47\n").errors
                == ["rtu.conf:11: station 'scada' key 'common_address': unknown key; did you mean 'common_addresses'?"])
    }

    @Test(arguments: [
        ("ioa = 0-10", "'0-10' is outside 1…16777215; write IOA or IOA-IOA in 1…16777215, e.g. ioa = 30001-30099"),
        ("ioa = 30001-16777216", "'30001-16777216' is outside 1…16777215; write IOA or IOA-IOA in 1…16777215, e.g. ioa = 30001-30099"),
        ("ioa = 300-200", "'300-200': the range runs backwards; write 200-300"),
        ("ioa = 47:30001", "'47:30001' is not an IOA range; write IOA or IOA-IOA in 1…16777215, e.g. ioa = 30001-30099"),
        ("ioa = 1-2-3", "'1-2-3' is not an IOA range; write IOA or IOA-IOA in 1…16777215, e.g. ioa = 30001-30099"),
    ])
    func badObjectAddressRanges(_ line: String, _ message: String) {
        let files = Self.files("[files records]\ncommon_address = 47\n\(line)\ndirectory = \(Self.records)\n")
        #expect(files.errors == ["rtu.conf:14: files 'records' key 'ioa': \(message)"])
    }

    @Test(arguments: [
        ("common_address = 0", "common_address", "0 is outside the allowed range 1…65534"),
        ("common_address = 65535", "common_address", "65535 is outside the allowed range 1…65534"),
        ("section_size = 1023", "section_size", "1023 is outside the allowed range 1024…16777215"),
        ("section_size = 16777216", "section_size", "16777216 is outside the allowed range 1024…16777215"),
        ("section_size = 64k", "section_size", "64k is not a whole number; expected 1024…16777215"),
        ("max_file_size = -1", "max_file_size", "-1 is outside the allowed range 0…16711680"),
        ("max_file_size = 16711681", "max_file_size",
         "16711681 exceeds 16711680 octets, 255 sections of section_size = 65536; choose 16711680 or less or a larger section_size"),
        ("name_of_file = 0", "name_of_file", "0 is outside the allowed range 1…65535"),
        ("name_of_file = 65536", "name_of_file", "65536 is outside the allowed range 1…65535"),
        ("scan_interval = 50ms", "scan_interval", "50ms is shorter than the allowed 100ms; the directory is read this often"),
        ("scan_interval = 61min", "scan_interval", "61min is longer than the allowed 1h"),
        ("scan_interval = 0", "scan_interval", "0 must be more than 0 seconds"),
        ("allow_delete = maybe", "allow_delete", "maybe is not a yes/no value; use true or false (also yes/no, on/off, 1/0)"),
        ("pattern = records/*.cfg", "pattern", "'records/*.cfg' contains '/'; patterns match the file name only (subdirectories are not served)"),
        ("pattern = [ab.cfg", "pattern", "'[ab.cfg' has an unmatched '[' or ']'; write a set as [abc] or [0-9]"),
    ])
    func valuesOutOfRange(_ line: String, _ key: String, _ message: String) {
        let config = line.hasPrefix("common_address") ? "[files records]\n\(line)\nioa = 30001\ndirectory = \(Self.records)\n"
            : Self.area(line + "\n")
        let errors = Self.files(config).errors
        let lineNumber = line.hasPrefix("common_address") ? 13 : 16
        #expect(errors == ["rtu.conf:\(lineNumber): files 'records' key '\(key)': \(message)"])
    }

    @Test func maximumFileSizeFollowsTheSectionSize() {
        #expect(Self.files(Self.area("section_size = 1024\nmax_file_size = 261121\n")).errors
                == ["rtu.conf:17: files 'records' key 'max_file_size': 261121 exceeds 261120 octets, 255 sections of "
                    + "section_size = 1024; choose 261120 or less or a larger section_size"])
        #expect(Self.files(Self.area("section_size = 1000000\nmax_file_size = 16777216\n")).errors
                == ["rtu.conf:17: files 'records' key 'max_file_size': 16777216 exceeds 16777215 octets, the largest length "
                    + "of file (LOF) IEC 60870-5-101 can carry; choose 16777215 or less"])
    }

    @Test func aCommonAddressNoStationServes() {
        #expect(Self.files("[files records]\ncommon_address = 48\nioa = 30001\ndirectory = \(Self.records)\n").errors
                == ["rtu.conf:13: files 'records' key 'common_address': no station serves common address 48, so no master "
                    + "could fetch these files; add it to a station's common_addresses (the stations serve 47)"])
    }

    @Test func overlapsWithMonitorAndCommandPointsNameThePoint() {
        let points = pointLines(#"{ "ca": 47, "ioa": 1, "type": "single" }"#,
                                #"{ "ca": 47, "ioa": 30010, "type": "float" }"#,
                                #"{ "ca": 48, "ioa": 30011, "type": "float" }"#,
                                #"{ "ca": 47, "ioa": 30050, "command": "single" }"#,
                                #"{ "ca": 47, "ioa": 30051, "type": "single" }"#)
        #expect(Self.files(Self.area(ioa: "30001-30049"), points: points).errors
                == ["rtu.conf:14: files 'records' key 'ioa': ioa = 30001-30049 overlaps the monitor point 47:30010 (at "
                    + "points.json:3:1); each file takes an IOA of its own, so choose a range of common address 47 that no point uses"])
        #expect(Self.files(Self.area(ioa: "30050"), points: points).errors
                == ["rtu.conf:14: files 'records' key 'ioa': ioa = 30050 overlaps the command point 47:30050 (at "
                    + "points.json:5:1); each file takes an IOA of its own, so choose a range of common address 47 that no point uses"])
        #expect(Self.files(Self.area(ioa: "30011-30099"), points: points).errors
                == ["rtu.conf:14: files 'records' key 'ioa': ioa = 30011-30099 overlaps the command point 47:30050 (at "
                    + "points.json:5:1), 2 points in all (47:30050-30051); each file takes an IOA of its own, so choose a range "
                    + "of common address 47 that no point uses"])
        // The same IOA on another common address is no conflict; neither is the range just beside a point.
        #expect(Self.files(Self.area(ioa: "30011-30049"), points: points).errors.isEmpty)
        #expect(Self.files(Self.area(ioa: "2-30009"), points: points).errors.isEmpty)
    }

    @Test func overlapsWithAnotherAreaOfTheSameCommonAddress() {
        let config = Files.config.replacingOccurrences(of: "common_addresses = 47", with: "common_addresses = 47, 48")
        let sections = Self.area(ioa: "30001-30099") + "\n" + Self.area(name: "logs", ioa: "30099-30200") + "\n"
            + "[files other-ca]\ncommon_address = 48\nioa = 30001-30099\ndirectory = \(Self.records)\n"
        let files = Files(config: config + "\n" + sections)
        #expect(files.errors == ["rtu.conf:19: files 'logs' key 'ioa': ioa = 30099-30200 overlaps ioa = 30001-30099 of "
                                 + "files 'records' (at rtu.conf:14) on common address 47; give each area IOAs of its own"])
        let apart = Files(config: config + "\n" + Self.area() + "\n" + Self.area(name: "logs", ioa: "30100-30200") + "\n"
                          + "[files other-ca]\ncommon_address = 48\nioa = 30001-30099\ndirectory = \(Self.records)\n")
        #expect(apart.configuration?.fileAreas.map(\.name) == ["records", "logs", "other-ca"])
    }

    @Test func aDuplicateAreaName() {
        #expect(Self.files(Self.area() + "\n" + Self.area(ioa: "30100-30200")).errors
                == ["rtu.conf:17: files 'records': duplicate section; it is already defined at rtu.conf:12"])
    }

    @Test func summaryLine() throws {
        let config = try #require(Self.files(Self.area("pattern = *.cfg *.dat\n")
                                             + "\n" + Self.area("""
                                                 name_of_file = 2
                                                 section_size = 4096
                                                 max_file_size = 1000000
                                                 allow_delete = yes
                                                 scan_interval = 10s
                                                 """, name: "logs", ioa: "31000")).configuration)
        let summary = renderSummary(config)
        #expect(summary.contains("\nfiles records: \(Self.records) (CA 47, IOA 30001-30099, pattern *.cfg *.dat, delete not allowed)\n"))
        #expect(summary.contains("\nfiles logs: \(Self.records) (CA 47, IOA 31000, pattern *, NOF 2, sections of 4096 octets, "
                                 + "files up to 1000000 octets, delete allowed, scanned every 10s)\n"))
    }

    @Test func reloadNamesTheAreasThatChanged() {
        let records = FileArea(name: "records", directory: "/r", commonAddress: 47, objectAddresses: 1...9)
        let logs = FileArea(name: "logs", directory: "/l", commonAddress: 47, objectAddresses: 10...19)
        var wider = records
        wider.objectAddresses = 1...20
        #expect(FileAreaChanges.describe(from: [records], to: [records]) == nil)
        #expect(FileAreaChanges.describe(from: [], to: []) == nil)
        #expect(FileAreaChanges.describe(from: [], to: [records, logs]) == "files areas changed: 2 added (records, logs)")
        #expect(FileAreaChanges.describe(from: [records, logs], to: [wider])
                == "files areas changed: 1 removed (logs), 1 changed (records)")
    }
}
