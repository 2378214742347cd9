import ArgumentParser
import Foundation

/// `rtu104ctl exec 47:2001 on --select`: runs a command point's handler in the daemon, with no master.
struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command point's handler in a running rtu104d, without a master (for commissioning).",
        discussion: """
        The daemon builds the command as a station would for a master's command and hands it to the point's \
        handler (or the built-in feedback handler); a positive result's feedback becomes return information \
        (COT 11, retrem) for every connected master. --select runs the select first, then the execute, as a \
        select-before-operate master does. The handler sees station "rtu104ctl" and peer "control socket". \
        Prints the result (positive or negative, why, how long each step took) and the feedback point's value. \
        Exit status 0 positive, 1 negative or refused, 2 no connection to the daemon, 64 usage error.
        """)

    @OptionGroup var options: ControlOptions

    @Argument(help: ArgumentHelp("The command point.", valueName: "ca:ioa"))
    var point: String

    @Argument(help: "The command value: on/off, higher/lower, a number, 0x… for bitstrings.")
    var value: String

    @Flag(help: "Select before operate: run the select, then the execute.")
    var select = false

    @Option(help: ArgumentHelp("Qualifier: QU 0–31 for single, double and step commands, QL 0–127 for set-points.",
                               valueName: "n"))
    var qualifier: Int?

    func validate() throws {
        let parts = point.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, UInt16(parts[0]) != nil, UInt32(parts[1]) != nil else {
            throw ValidationError("'\(point)' is not CA:IOA (e.g. 47:2001)")
        }
    }

    func run() throws {
        var request: [String: Any] = ["op": "exec", "point": point, "value": value, "select": select]
        if let qualifier { request["qualifier"] = qualifier }
        var result: [String: Any] = [:]
        try runControlRequest(options, request) { reply in
            result = reply
            return Self.describe(reply)
        }
        // An exec the daemon answered but the handler refused: the negative outcome of the command itself.
        if result["positive"] as? Bool != true {
            reportError("negative: \(result["reason"] as? String ?? "the handler refused the command")")
            throw ExitCode(1)
        }
    }

    /// `47:2001 C_DC_NA_1 on: select positive (3.1 ms), execute positive (52.4 ms)` and the feedback point.
    static func describe(_ reply: [String: Any]) -> String {
        let steps = (reply["steps"] as? [[String: Any]] ?? []).map { step -> String in
            let positive = step["positive"] as? Bool == true
            let milliseconds = (step["milliseconds"] as? NSNumber)?.doubleValue ?? 0
            var text = "\(step["step"] as? String ?? "?") \(positive ? "positive" : "negative") (\(milliseconds) ms)"
            if let reason = step["reason"] as? String { text += ": \(reason)" }
            return text
        }
        var text = "\(reply["point"] as? String ?? "?") \(reply["type"] as? String ?? "") \(reply["value"] as? String ?? ""): "
            + steps.joined(separator: ", ") + "\n"
        if let feedback = reply["feedback"] as? [String: Any] {
            text += "feedback " + GetCommand.row(feedback)
        }
        return text
    }
}
