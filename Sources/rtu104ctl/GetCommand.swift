import ArgumentParser
import Foundation
import IEC104

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
            return Self.header + rows.joined()
        }
    }

    /// The column names above `row`'s columns.
    static let header = columns("POINT", "TYPE", "VALUE", "QUALITY", "TIME (UTC)", "NAME")

    static func columns(_ address: String, _ type: String, _ value: String, _ quality: String, _ time: String,
                        _ name: String) -> String {
        "\(address.padding(toLength: 12, withPad: " ", startingAt: 0)) "
            + "\(type.padding(toLength: 11, withPad: " ", startingAt: 0)) "
            + "\(value.padding(toLength: 14, withPad: " ", startingAt: 0)) "
            + "\(quality.padding(toLength: 12, withPad: " ", startingAt: 0)) "
            + (name.isEmpty ? time : time.padding(toLength: 24, withPad: " ", startingAt: 0) + " " + name) + "\n"
    }

    static func row(_ point: [String: Any]) -> String {
        let address = "\(point["ca"] as? Int ?? 0):\(point["ioa"] as? Int ?? 0)"
        let quality = (point["quality"] as? [String] ?? [])
        let time = (point["time"] as? Int).map { formatMilliseconds(Int64($0)) } ?? ""
        return columns(address, point["type"] as? String ?? "", describe(point["value"], type: point["type"] as? String),
                       quality.isEmpty ? "good" : quality.joined(separator: ","), time.isEmpty ? "-" : time,
                       point["name"] as? String ?? "")
    }

    /// Single points read on/off; JSON numbers and booleans both arrive as NSNumber, so the type decides.
    static func describe(_ value: Any?, type: String?) -> String {
        switch value {
        case let number as NSNumber where type == "single": number.boolValue ? "on" : "off"
        // The daemon sends a float point's Float widened to Double (82.30000305175781); the Float's own
        // shortest text is what was set.
        case let number as NSNumber where type == "float": "\(Float(number.doubleValue))"
        case let number as NSNumber: number.stringValue
        case let text as String: text
        default: "-"
        }
    }
}

/// `2026-11-22T05:33:24.123Z`: ISO 8601, UTC.
func formatMilliseconds(_ milliseconds: Int64) -> String {
    let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
    return formatter.string(from: date)
}
