import ArgumentParser
import Foundation

/// `rtu104ctl status`: stations, their masters, link state, buffers and counters.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the stations of a running rtu104d: connected masters, link state, event buffers, commands.")

    @OptionGroup var options: ControlOptions

    func run() throws {
        try runControlRequest(options, ["op": "status"]) { reply in
            (reply["stations"] as? [[String: Any]] ?? []).map(Self.describe).joined()
        }
    }

    static func describe(_ station: [String: Any]) -> String {
        func number(_ key: String) -> Int { station[key] as? Int ?? 0 }
        var text = "station \(station["name"] as? String ?? "?")  listener \(station["listener"] as? String ?? "?")"
            + "  allow \(station["allow"] as? String ?? "?")"
            + "  CA \((station["common_addresses"] as? [Int] ?? []).map(String.init).joined(separator: ","))\n"
        let connections = station["connections"] as? [[String: Any]] ?? []
        if connections.isEmpty { text += "  no master connected\n" }
        for connection in connections {
            let active = connection["active"] as? Bool == true ? "  (receiving data)" : ""
            text += "  master \(connection["peer"] as? String ?? "?")  link \(connection["state"] as? String ?? "?")\(active)\n"
        }
        text += "  events buffered \(number("buffered_events"))/\(number("buffer_capacity"))"
            + "  dropped \(number("dropped_events"))  sent \(number("events_sent"))\n"
        text += "  commands \(number("commands"))  failed \(number("commands_failed"))"
            + "  interrogations \(number("interrogations"))  negative confirmations \(number("negative_confirmations"))\n"
        if let offset = station["clock_offset_ms"] as? Int {
            text += "  master clock \(offset) ms ahead of system time\n"
        }
        return text
    }
}
