import ArgumentParser
import Foundation
import IEC104

/// `rtu104ctl watch`: follows every event of a running rtu104d until interrupted.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print every change of a running rtu104d as it happens (until interrupted).")

    @OptionGroup var options: ControlOptions

    @Option(name: .long, help: "Stop after this many events.")
    var count: Int?

    func run() throws {
        do {
            var client = try ControlClient(path: options.socketPath)
            defer { client.close() }
            let (_, reply) = try client.request(["op": "watch"])
            guard reply["ok"] as? Bool == true else {
                reportError(reply["error"] as? String ?? "the daemon refused the watch")
                throw ExitCode(1)
            }
            var seen = 0
            if !options.json { writeStandardOutput("COT      " + GetCommand.header) }
            while count.map({ seen < $0 }) ?? true {
                guard let line = try client.readLine() else {
                    // The daemon stopped or restarted: a script watching for changes must not take that for success.
                    reportError("rtu104d closed the control connection (stopped or restarting?); watch ended")
                    throw ExitCode(2)
                }
                if options.json {
                    writeStandardOutput(line + "\n")
                } else if let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] {
                    if let event = object["event"] as? [String: Any] {
                        let cause = Cause(rawValue: UInt8(clamping: event["cot"] as? Int ?? 0)).name
                        writeStandardOutput(cause.padding(toLength: 8, withPad: " ", startingAt: 0) + " " + GetCommand.row(event))
                    } else if let dropped = object["dropped"] as? Int {
                        writeStandardOutput("… \(dropped) event(s) not shown: this terminal did not keep up\n")
                    }
                }
                seen += 1
            }
        } catch let error as ControlClientError {
            reportError(error.description)
            throw ExitCode(2)
        }
    }
}
