import ArgumentParser
import Foundation
@testable import rtu104ctl
import Testing

/// Every subcommand `rtu104ctl` has (read from its configuration, so a new one is covered when it is added) is
/// documented in docs/rtu104ctl.md and in rtu104ctl(1).
@Suite struct DocumentationCoverageTests {
    static var checkout: String {
        // Tests/rtu104ctlTests/DocumentationCoverageTests.swift → the checkout.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    static var subcommands: [String] {
        RTU104Ctl.configuration.subcommands.map { $0.configuration.commandName ?? $0._commandName }
    }

    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: checkout + "/" + relative, encoding: .utf8)
    }

    /// The words of a line: letters, digits and `-` (for clock-sync), roff's `\-` and font escapes undone.
    static func words(_ line: Substring) -> Set<String> {
        var text = String(line)
        for escape in [#"\fB"#, #"\fI"#, #"\fR"#, #"\fP"#] { text = text.replacingOccurrences(of: escape, with: " ") }
        text = text.replacingOccurrences(of: #"\-"#, with: "-")
        return Set(text.split { !($0.isLetter || $0.isNumber || $0 == "-") }.map(String.init))
    }

    @Test func theSubcommandListIsRead() {
        #expect(Self.subcommands.count >= 16)
        #expect(Self.subcommands.contains("decode") && Self.subcommands.contains("clock-sync"))
    }

    /// A heading of docs/rtu104ctl.md names each subcommand.
    @Test func markdownHasAHeadingForEverySubcommand() throws {
        let headings = try Self.read("docs/rtu104ctl.md").split(separator: "\n").filter { $0.hasPrefix("#") }
        let named = headings.reduce(into: Set<String>()) { $0.formUnion(Self.words($1)) }
        let missing = Self.subcommands.filter { !named.contains($0) }
        #expect(missing.isEmpty, "docs/rtu104ctl.md has no heading for \(missing)")
    }

    /// rtu104ctl(1) describes each subcommand in a .TP paragraph whose tag starts with its name, or gives it
    /// a synopsis line (`.B rtu104ctl NAME`).
    @Test func manPageDescribesEverySubcommand() throws {
        let lines = try Self.read("docs/man/rtu104ctl.1").split(separator: "\n", omittingEmptySubsequences: false)
        var named = Set<String>()
        for (index, line) in lines.enumerated() {
            if line.hasPrefix(".TP"), index + 1 < lines.count {
                let tag = lines[index + 1].drop { $0 != " " }
                if let first = tag.split(whereSeparator: { $0 == " " || $0 == "\"" || $0 == "," }).first {
                    named.formUnion(Self.words(first))
                }
            }
            if line.hasPrefix(".B rtu104ctl ") { named.formUnion(Self.words(line.dropFirst(".B rtu104ctl ".count))) }
        }
        let missing = Self.subcommands.filter { !named.contains($0) }
        #expect(missing.isEmpty, "rtu104ctl(1) has no .TP paragraph or synopsis line for \(missing)")
    }
}
