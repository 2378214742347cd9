import Foundation
import IEC104
import Outstation

/// The formats of `rtu104ctl points`.
public enum PointListFormat: String, CaseIterable, Sendable {
    /// A CSV point table (`,` separated) with informational `#` columns.
    case csv
    /// A JSON point table; the type IDs and stations go in each entry's `comment`.
    case json
    /// An INI point table; the type IDs and stations go in each section's `comment`.
    case ini
    /// Aligned columns for people.
    case table
}

/// Every point of a configuration as a signal list: what a SCADA engineer imports on the master side.
///
/// The csv, json and ini forms are point tables the daemon loads again to the same points; the columns
/// it does not read (type IDs, stations) start with `#` in CSV and are the `comment` in JSON and INI.
public enum PointListExport {
    /// One exported point: the point-table keys in table order (only those set), then what the daemon derives.
    struct Row {
        enum Cell {
            case text(String)
            case number(String)
            case bool(Bool)
            case list([String])

            var plain: String {
                switch self {
                case .text(let text), .number(let text): text
                case .bool(let flag): flag ? "true" : "false"
                case .list(let items): items.joined(separator: " ")
                }
            }
        }

        var address: PointAddress
        var isCommand: Bool
        var cells: [(key: String, value: Cell)] = []
        /// The type IDs of interrogation replies (monitor points) or the command types accepted.
        var interrogationTypes: [TypeID] = []
        /// The type IDs of events (monitor points) or of confirmations (command points: the same as the command).
        var eventTypes: [TypeID] = []
        var stations: [String] = []

        subscript(key: String) -> Cell? { cells.first { $0.key == key }?.value }

        var comment: String {
            let stationText = stations.isEmpty ? "no station" : "stations " + stations.joined(separator: " ")
            if isCommand { return "accepts " + eventTypes.map(\.mnemonic).joined(separator: " ") + "; " + stationText }
            return "interrogation " + interrogationTypes.map(\.mnemonic).joined(separator: " ")
                + ", events " + eventTypes.map(\.mnemonic).joined(separator: " ") + "; " + stationText
        }
    }

    /// The point-table columns of the CSV form, in order.
    static let tableColumns = ["ca", "ioa", "name", "type", "command", "value", "quality", "time_tag", "groups", "counter_group",
                               "deadband", "cyclic", "background", "transient", "retain", "priority", "stale_after",
                               "simulate", "sbo", "feedback", "actterm", "handler", "timeout"]
    static let informationColumns = ["#gi_type", "#event_type", "#stations"]

    public static func render(_ config: DaemonConfiguration, as format: PointListFormat) -> String {
        let rows = rows(of: config)
        switch format {
        case .csv: return csv(rows)
        case .json: return json(rows)
        case .ini: return ini(rows)
        case .table: return table(rows)
        }
    }

    static func rows(of config: DaemonConfiguration) -> [Row] {
        var stationsByAddress: [UInt16: [StationConfiguration]] = [:]
        for station in config.stations {
            for commonAddress in station.commonAddresses { stationsByAddress[commonAddress, default: []].append(station) }
        }
        var rows: [Row] = []
        rows.reserveCapacity(config.points.monitorPoints.count + config.points.commandPoints.count)
        for point in config.points.monitorPoints {
            let stations = stationsByAddress[point.address.commonAddress] ?? []
            var row = Row(address: point.address, isCommand: false)
            row.stations = stations.map(\.name)
            row.interrogationTypes = [point.kind.typeID]
            // A station may override the point's time tag setting; list every type its events go out as.
            let timeTagged = stations.isEmpty ? [point.timeTaggedEvents] : stations.map { $0.timeTags.timeTagged(point) }
            row.eventTypes = [false, true].filter { timeTagged.contains($0) }.map { $0 ? point.kind.timeTaggedTypeID : point.kind.typeID }
            monitorCells(point, into: &row)
            rows.append(row)
        }
        for point in config.points.commandPoints {
            var row = Row(address: point.address, isCommand: true)
            row.stations = (stationsByAddress[point.address.commonAddress] ?? []).map(\.name)
            row.eventTypes = [false, true].filter { point.timeTag.accepts(timeTagged: $0) }
                .map { $0 ? point.kind.timeTaggedTypeID : point.kind.typeID }
            row.interrogationTypes = row.eventTypes
            commandCells(point, binding: config.commandBindings[point.address], into: &row)
            rows.append(row)
        }
        return rows.sorted { $0.address < $1.address || ($0.address == $1.address && !$0.isCommand) }
    }

    private static func monitorCells(_ point: MonitorPointDefinition, into row: inout Row) {
        var cells: [(String, Row.Cell)] = [("ca", .number("\(point.address.commonAddress)")), ("ioa", .number("\(point.address.objectAddress)"))]
        if !point.name.isEmpty { cells.append(("name", .text(point.name))) }
        cells.append(("type", .text(point.kind.rawValue)))
        var transient = false
        switch point.initialValue {
        case .single(let on): cells.append(("value", .bool(on)))
        case .double(let state): cells.append(("value", .text(state.name)))
        case .step(let position):
            cells.append(("value", .number("\(position.value)")))
            transient = position.isTransient
        case .bitstring(let bits):
            let hex = String(bits, radix: 16, uppercase: true)
            cells.append(("value", .text("0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex)))
        case .normalized(let value): cells.append(("value", .number(normalizedText(value))))
        case .scaled(let value): cells.append(("value", .number("\(value)")))
        case .float(let value): cells.append(("value", .number(value.rounded() == value && abs(value) < 1e15 ? "\(Int64(value))" : "\(value)")))
        case .counter(let reading): cells.append(("value", .number("\(reading.value)")))
        }
        let flags = PointTableReader.qualityFlags.filter { point.initialQuality.contains($0.1) }.map(\.0)
        if !flags.isEmpty { cells.append(("quality", .list(flags))) }
        if point.timeTaggedEvents { cells.append(("time_tag", .bool(true))) }
        if !point.groups.groups.isEmpty { cells.append(("groups", .list(point.groups.groups.map(String.init)))) }
        if let group = point.counterGroup { cells.append(("counter_group", .number("\(group)"))) }
        switch point.deadband {
        case .absolute(let amount)?: cells.append(("deadband", .number(numberText(amount))))
        case .percent(let percent)?: cells.append(("deadband", .text(numberText(percent) + "%")))
        case nil: break
        }
        switch point.periodic {
        case .cyclic(let period)?: cells.append(("cyclic", .text(Format.duration(period))))
        case .background(let period)?: cells.append(("background", .text(Format.duration(period))))
        case nil: break
        }
        if transient { cells.append(("transient", .bool(true))) }
        if point.retain { cells.append(("retain", .bool(true))) }
        if point.priority != point.kind.defaultEventPriority { cells.append(("priority", .text(point.priority.rawValue))) }
        if let staleAfter = point.staleAfter {
            cells.append(("stale_after", staleAfter == .zero ? .number("0") : .text(Format.duration(staleAfter))))
        }
        if let simulation = point.simulation { cells.append(("simulate", .text(simulationText(simulation)))) }
        row.cells = cells.map { (key: $0.0, value: $0.1) }
    }

    private static func commandCells(_ point: CommandPointDefinition, binding: CommandBinding?, into row: inout Row) {
        var cells: [(String, Row.Cell)] = [("ca", .number("\(point.address.commonAddress)")), ("ioa", .number("\(point.address.objectAddress)"))]
        if !point.name.isEmpty { cells.append(("name", .text(point.name))) }
        cells.append(("command", .text(point.kind.rawValue)))
        cells.append(("time_tag", .text(point.timeTag.rawValue)))
        cells.append(("sbo", .text(point.selectBeforeOperate.rawValue)))
        if let feedback = point.feedback { cells.append(("feedback", .text(feedback.description))) }
        if !point.sendsTermination { cells.append(("actterm", .bool(false))) }
        if let binding {
            cells.append(("handler", .text(binding.handler)))
            if let timeout = binding.timeout { cells.append(("timeout", .text(Format.duration(timeout)))) }
        }
        row.cells = cells.map { (key: $0.0, value: $0.1) }
    }

    /// `5` rather than `5.0`; fractions as Swift prints them (the shortest text that reads back the same).
    /// A generator as the point tables write it, every argument given (the update interval too).
    static func simulationText(_ generator: SimulationGenerator) -> String {
        let arguments: [String]
        switch generator {
        case .sine(let amplitude, let period, let offset, let interval):
            arguments = [numberText(amplitude), Format.duration(period), numberText(offset), Format.duration(interval)]
        case .ramp(let from, let to, let period, let interval):
            arguments = [numberText(from), numberText(to), Format.duration(period), Format.duration(interval)]
        case .randomWalk(let step, let min, let max, let interval):
            arguments = [numberText(step), numberText(min), numberText(max), Format.duration(interval)]
        case .toggle(let interval):
            arguments = [Format.duration(interval)]
        case .counter(let rate, let interval):
            arguments = [numberText(rate), Format.duration(interval)]
        }
        return generator.name + "(" + arguments.joined(separator: ", ") + ")"
    }

    static func numberText(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? "\(Int64(number))" : "\(number)"
    }

    /// The shortest decimal that reads back as the same 16-bit fraction (`0.95`, not `0.95001220703125`).
    static func normalizedText(_ value: NormalizedValue) -> String {
        for digits in 1...6 {
            let text = String(format: "%.\(digits)f", value.doubleValue)
            if let parsed = Double(text), NormalizedValue(parsed) == value { return numberText(parsed) }
        }
        return numberText(value.doubleValue)
    }

    // MARK: Formats

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == ";" })
                || text.first == " " || text.last == " " else { return text }
        return "\"" + text.replacingOccurrences("\"", with: "\"\"") + "\""
    }

    static func csv(_ rows: [Row]) -> String {
        var lines = [(tableColumns + informationColumns).joined(separator: ",")]
        for row in rows {
            var fields = tableColumns.map { row[$0].map { csvField($0.plain) } ?? "" }
            fields.append(row.isCommand ? "" : row.interrogationTypes.map(\.mnemonic).joined(separator: " "))
            fields.append(row.eventTypes.map(\.mnemonic).joined(separator: " "))
            fields.append(csvField(row.stations.joined(separator: " ")))
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ rows: [Row]) -> String {
        var lines: [String] = []
        for row in rows {
            var members = row.cells.map { key, cell -> String in
                let value: String
                switch cell {
                case .text(let text): value = JSONText.quoted(text)
                case .number(let text): value = text
                case .bool(let flag): value = flag ? "true" : "false"
                case .list(let items): value = "[" + items.map { key == "groups" ? $0 : JSONText.quoted($0) }.joined(separator: ", ") + "]"
                }
                return "\"\(key)\": \(value)"
            }
            members.append("\"comment\": " + JSONText.quoted(row.comment))
            lines.append("    { " + members.joined(separator: ", ") + " }")
        }
        return "{ \"points\": [\n" + lines.joined(separator: ",\n") + (lines.isEmpty ? "" : "\n") + "] }\n"
    }

    static func iniString(_ text: String) -> String {
        var result = "\""
        for character in text {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default: result.append(character)
            }
        }
        return result + "\""
    }

    static func ini(_ rows: [Row]) -> String {
        var lines: [String] = []
        for row in rows {
            if !lines.isEmpty { lines.append("") }
            lines.append("[\(row.isCommand ? "command" : "point") \(row.address)]")
            for (key, cell) in row.cells where key != "ca" && key != "ioa" {
                let value: String
                switch cell {
                case .text(let text):
                    // Free text in quotes; keywords, durations and addresses as they are.
                    let plain = key != "name" && !text.isEmpty
                        && text.allSatisfy { $0.isLetter || $0.isNumber || "_-.:%".contains($0) }
                    value = plain ? text : iniString(text)
                case .number(let text): value = text
                case .bool(let flag): value = flag ? "true" : "false"
                case .list(let items): value = items.joined(separator: ", ")
                }
                lines.append("\(key) = \(value)")
            }
            lines.append("comment = " + iniString(row.comment))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func table(_ rows: [Row]) -> String {
        let header = ["CA", "IOA", "NAME", "KIND", "GI TYPE", "EVENT TYPE", "GROUPS", "DEADBAND", "HANDLER", "FEEDBACK", "SBO", "STATIONS"]
        var lines = [header]
        for row in rows {
            let kind = row.isCommand ? "command " + (row["command"]?.plain ?? "") : (row["type"]?.plain ?? "")
            func cell(_ key: String) -> String { row[key]?.plain ?? "" }
            let interrogation: String = row.isCommand ? "-" : row.interrogationTypes.map(\.mnemonic).joined(separator: " ")
            let events: String = row.eventTypes.map(\.mnemonic).joined(separator: " ")
            let counterGroup: String = row["counter_group"].map { "counter " + $0.plain } ?? ""
            let groups: String = row["groups"]?.plain ?? counterGroup
            var line: [String] = ["\(row.address.commonAddress)", "\(row.address.objectAddress)", cell("name"), kind]
            line += [interrogation, events, groups, cell("deadband"), cell("handler"), cell("feedback"), cell("sbo")]
            line.append(row.stations.joined(separator: " "))
            lines.append(line.map { $0.contains("\n") ? $0.replacingOccurrences("\n", with: " ") : $0 })
        }
        var widths = [Int](repeating: 0, count: header.count)
        for line in lines { for (index, cell) in line.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return lines.map { line in
            var text = ""
            for (index, cell) in line.enumerated() {
                text += index == line.count - 1 ? cell : cell.padding(to: widths[index] + 2)
            }
            while text.last == " " { text.removeLast() }
            return text
        }.joined(separator: "\n") + "\n"
    }
}
