import ArgumentParser
import Foundation

/// `rtu104ctl get 47:1001 47:3201`: current values, quality and times.
struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print monitor points of a running rtu104d (all of them without arguments).")

    @OptionGroup var options: ControlOptions

    @Argument(help: "Points as CA:IOA.")
    var points: [String] = []

    func run() throws {
        var request: [String: Any] = ["op": "get"]
        if !points.isEmpty { request["points"] = points }
        try runControlRequest(options, request) { reply in
            let rows = (reply["points"] as? [[String: Any]] ?? []).map(Self.row)
            return rows.joined()
        }
    }

    static func row(_ point: [String: Any]) -> String {
        let address = "\(point["ca"] as? Int ?? 0):\(point["ioa"] as? Int ?? 0)"
        let quality = (point["quality"] as? [String] ?? [])
        let time = (point["time"] as? Int).map { formatMilliseconds(Int64($0)) } ?? ""
        let name = (point["name"] as? String).map { "  \($0)" } ?? ""
        return "\(address.padding(toLength: 12, withPad: " ", startingAt: 0)) "
            + "\((point["type"] as? String ?? "").padding(toLength: 11, withPad: " ", startingAt: 0)) "
            + "\(describe(point["value"], type: point["type"] as? String).padding(toLength: 14, withPad: " ", startingAt: 0)) "
            + "\((quality.isEmpty ? "good" : quality.joined(separator: ",")).padding(toLength: 12, withPad: " ", startingAt: 0)) "
            + time + name + "\n"
    }

    /// Single points read on/off; JSON numbers and booleans both arrive as NSNumber, so the type decides.
    static func describe(_ value: Any?, type: String?) -> String {
        switch value {
        case let number as NSNumber where type == "single": number.boolValue ? "on" : "off"
        case let number as NSNumber: number.stringValue
        case let text as String: text
        default: "-"
        }
    }
}

/// `2026-11-22 05:33:24.123` in UTC.
func formatMilliseconds(_ milliseconds: Int64) -> String {
    let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
    return formatter.string(from: date)
}
