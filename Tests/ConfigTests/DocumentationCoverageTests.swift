@testable import Config
import Foundation
import Outstation
import Testing

/// The keys the config readers accept are the source of truth; docs/configuration.md and rtu104d.conf(5) are
/// tested against them, so that a key added to a reader without its documentation fails here, in both places.
@Suite struct DocumentationCoverageTests {
    static var checkout: String { ExampleConfigTests.checkout }

    /// A section of the documentation (by its heading) and the keys it must describe.
    struct Section: CustomTestStringConvertible, Sendable {
        var heading: String
        var keys: [String]
        var testDescription: String { heading }
    }

    static let sections: [Section] = [
        Section(heading: "[daemon]", keys: DaemonConfigReader.daemonKeys),
        Section(heading: "[listener NAME]", keys: DaemonConfigReader.listenerKeys),
        Section(heading: "[station NAME]", keys: DaemonConfigReader.stationKeys),
        Section(heading: "[handler NAME]", keys: DaemonConfigReader.handlerKeys),
        Section(heading: "[feeder NAME]", keys: DaemonConfigReader.feederKeys),
        Section(heading: "[metrics]", keys: DaemonConfigReader.metricsKeys),
        Section(heading: "[files NAME]", keys: DaemonConfigReader.filesKeys),
        Section(heading: "Monitor point keys", keys: PointTableReader.commonKeys + PointTableReader.monitorKeys),
        Section(heading: "Command point keys", keys: PointTableReader.commonKeys + PointTableReader.commandKeys),
    ]

    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: checkout + "/" + relative, encoding: .utf8)
    }

    /// Every section kind the daemon config reader knows has its heading in both documents.
    @Test func everySectionKindHasAHeading() throws {
        let markdown = Set(Markdown(try Self.read("docs/configuration.md")).headings)
        let roff = Set(Roff(try Self.read("docs/man/rtu104d.conf.5")).headings)
        for kind in DaemonConfigReader.sectionKinds {
            let heading = DaemonConfigReader.singleSections.contains(kind) ? "[\(kind)]" : "[\(kind) NAME]"
            #expect(markdown.contains(heading), "docs/configuration.md has no heading \(heading)")
            #expect(roff.contains(heading), "rtu104d.conf(5) has no .SH or .SS \(heading)")
        }
    }

    /// Each key is a row of the section's table in docs/configuration.md (the first cell names it in backquotes).
    @Test(arguments: sections) func configurationMarkdownDescribesEveryKey(_ section: Section) throws {
        let markdown = Markdown(try Self.read("docs/configuration.md"))
        let documented = try #require(markdown.tableKeys(under: section.heading),
                                      "docs/configuration.md has no heading \(section.heading)")
        let missing = section.keys.filter { !documented.contains($0) }
        #expect(missing.isEmpty, "docs/configuration.md, \(section.heading): no table row for \(missing)")
    }

    /// Each key is the tag of a .TP paragraph of the section in rtu104d.conf(5).
    @Test(arguments: sections) func manPageDescribesEveryKey(_ section: Section) throws {
        let roff = Roff(try Self.read("docs/man/rtu104d.conf.5"))
        let documented = try #require(roff.tagWords(under: section.heading),
                                      "rtu104d.conf(5) has no .SH or .SS \(section.heading)")
        let missing = section.keys.filter { !documented.contains($0) }
        #expect(missing.isEmpty, "rtu104d.conf(5), \(section.heading): no .TP paragraph for \(missing)")
    }

    /// The parsers themselves: a key only mentioned in prose, or in another section, does not count.
    @Test func parsersCountOnlyTheSectionsOwnEntries() {
        let markdown = Markdown("""
            ## [daemon]
            | Key | Meaning |
            |---|---|
            | `a`, `b` | text with `c` |
            prose with `d`
            ## [listener NAME]
            | `e` | |
            """)
        #expect(markdown.tableKeys(under: "[daemon]") == ["a", "b"])
        #expect(markdown.tableKeys(under: "[listener NAME]") == ["e"])
        #expect(markdown.tableKeys(under: "[station NAME]") == nil)
        let roff = Roff(#"""
            .SH "[daemon]"
            .TP
            .BR point_tables ", " state_directory " (default " /var/lib/rtu104d )
            Text naming log_level.
            .SH "POINT TABLES"
            .SS "Monitor point keys"
            .TP
            .B \fBvalue\fP
            .SH FILES
            .TP
            .B k
            """#)
        #expect(roff.tagWords(under: "[daemon]") == ["point_tables", "state_directory", "default", "var", "lib", "rtu104d"])
        #expect(roff.tagWords(under: "Monitor point keys") == ["value"])
        #expect(roff.headings == ["[daemon]", "POINT TABLES", "Monitor point keys", "FILES"])
    }
}

/// Headings and table rows of a Markdown document.
struct Markdown {
    var lines: [Substring]
    init(_ text: String) { lines = text.split(separator: "\n", omittingEmptySubsequences: false) }

    private static func heading(_ line: Substring) -> (level: Int, text: String)? {
        let level = line.prefix { $0 == "#" }.count
        guard level > 0, line.dropFirst(level).first == " " else { return nil }
        return (level, line.dropFirst(level).trimmingCharacters(in: .whitespaces))
    }

    var headings: [String] { lines.compactMap { Self.heading($0)?.text } }

    /// The backquoted names in the first cell of every table row from the heading to the next heading of its
    /// level or above (its subsections included); nil without the heading.
    func tableKeys(under title: String) -> [String]? {
        guard let start = lines.firstIndex(where: { Self.heading($0)?.text == title }),
              let level = Self.heading(lines[start])?.level else { return nil }
        var keys: [String] = []
        for line in lines[(start + 1)...] {
            if let next = Self.heading(line), next.level <= level { break }
            guard line.hasPrefix("|") else { continue }
            let cell = line.dropFirst().prefix { $0 != "|" }
            keys += cell.split(separator: "`", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map { String($0.element) }
        }
        return keys
    }
}

/// Section headings and .TP tags of a man page in roff.
struct Roff {
    var lines: [Substring]
    init(_ text: String) { lines = text.split(separator: "\n", omittingEmptySubsequences: false) }

    private static func heading(_ line: Substring) -> (level: Int, text: String)? {
        for (macro, level) in [(".SH ", 1), (".SS ", 2)] where line.hasPrefix(macro) {
            return (level, line.dropFirst(macro.count).trimmingCharacters(in: CharacterSet(charactersIn: "\" ")))
        }
        return nil
    }

    var headings: [String] { lines.compactMap { Self.heading($0)?.text } }

    /// The words (letters, digits, `_`) of every .TP tag line from the heading to the next heading of its level
    /// or above, font escapes removed; nil without the heading.
    func tagWords(under title: String) -> [String]? {
        guard let start = lines.firstIndex(where: { Self.heading($0)?.text == title }),
              let level = Self.heading(lines[start])?.level else { return nil }
        var words: [String] = []
        var tagFollows = false
        for line in lines[(start + 1)...] {
            if let next = Self.heading(line), next.level <= level { break }
            if line.hasPrefix(".TP") { tagFollows = true; continue }
            guard tagFollows else { continue }
            tagFollows = false
            var text = String(line)
            if text.hasPrefix(".") { text = String(text.drop { $0 != " " }) }
            for escape in [#"\fB"#, #"\fI"#, #"\fR"#, #"\fP"#, #"\-"#, #"\(em"#] {
                text = text.replacingOccurrences(of: escape, with: " ")
            }
            words += text.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init)
        }
        return words
    }
}

/// The site configuration `make install` puts in /etc/rtu104d: safe as it is (see scripts/check-install for the
/// installed copy).
@Suite struct SiteConfigTests {
    @Test func loadsWithoutWarningsAndAdmitsOnlyNamedMasters() throws {
        let path = ExampleConfigTests.checkout + "/etc/site/rtu104d.conf"
        let config: DaemonConfiguration
        switch ConfigurationLoader.load(configPath: path) {
        case .success(let loaded): config = loaded
        case .failure(let errors):
            Issue.record("etc/site/rtu104d.conf does not load:\n\(errors)")
            return
        }
        #expect(config.warnings.map(\.description) == [])
        // The unit's StateDirectory= and RuntimeDirectory=, the only places ProtectSystem=strict leaves writable.
        #expect(config.daemon.stateDirectory == "/var/lib/rtu104d")
        #expect(config.daemon.runtimeDirectory == "/run/rtu104d")
        #expect(config.daemon.controlSocketPath == nil)
        #expect(config.handlers.isEmpty && config.feeders.isEmpty)
        #expect(config.listeners.map(\.bindDescription) == ["0.0.0.0:2404", "127.0.0.1:2405"])
        #expect(try config.stations.map(\.filter) == [AddressFilter(parsing: "192.0.2.10"), AddressFilter(parsing: "127.0.0.1")])
        #expect(config.stations.allSatisfy { $0.filter != .any && $0.filter != .others })
        #expect(config.points.monitorPoints.count > 0)
        #expect(config.daemon.pointTables.allSatisfy { $0.hasPrefix(ExampleConfigTests.checkout + "/etc/site/") })
    }
}
