import ArgumentParser
import Foundation

/// `rtu104ctl set 47:1001=23.5 47:1002=on --quality invalid`: new values into the process image.
struct SetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set monitor points of a running rtu104d; each change becomes a spontaneous event.",
        discussion: """
        Each assignment is CA:IOA=VALUE, in the point tables' notation: true/false/on/off for \
        single points, off/on/intermediate/indeterminate for double points, numbers for steps, \
        measurements and counters, 0x… for bitstrings. All are applied or none is.
        """)

    @OptionGroup var options: ControlOptions

    @Argument(help: "Assignments CA:IOA=VALUE.")
    var assignments: [String]

    @Option(name: .long, parsing: .singleValue,
            help: "Quality flag for every value: invalid, not_topical, substituted, blocked, overflow (repeatable).")
    var quality: [String] = []

    @Option(name: .long, help: "Source time in milliseconds since 1970 (default: now, stamped by the daemon).")
    var time: Int64?

    /// Checked here rather than in `run()`: ArgumentParser shows a validation error with this subcommand's
    /// usage (exit 64); thrown from `run()` it came with the top-level usage.
    func validate() throws {
        for assignment in assignments where !assignment.contains("=") {
            throw ValidationError("'\(assignment)' is not CA:IOA=VALUE (e.g. 47:3201=231.5)")
        }
    }

    func run() throws {
        var points: [[String: Any]] = []
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            let address = String(assignment[..<equals])
            let text = String(assignment[assignment.index(after: equals)...])
            var point: [String: Any] = ["point": address, "value": Self.jsonValue(text)]
            if !quality.isEmpty { point["quality"] = quality.flatMap { $0.split(separator: ",").map(String.init) } }
            if let time { point["time"] = time }
            points.append(point)
        }
        try runControlRequest(options, ["op": "set", "points": points]) { reply in
            "\(reply["updated"] as? Int ?? 0) point(s) set, \(reply["events"] as? Int ?? 0) event(s)\n"
        }
    }

    /// Numbers go as JSON numbers, everything else as text for the daemon to interpret.
    static func jsonValue(_ text: String) -> Any {
        if let number = Double(text), number.isFinite, !text.lowercased().hasPrefix("0x") { return number }
        return text
    }
}
