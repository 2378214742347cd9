import Config
import Foundation
import IEC104
public import Outstation
import Synchronization

/// How a command is shown to a handler: one JSON object (stdin of a spawn handler, a request line of a
/// persistent one) and RTU104_* environment variables. Values from the wire are data: they are escaped by the
/// JSON encoder and passed in the environment, never through a shell; NaN and infinities become strings.
public enum CommandMessage {
    /// The command as JSON members (`id` is added for persistent handlers).
    public static func members(_ request: CommandRequest, handler: String) -> [String: Any] {
        let address = request.point.address
        return [
            "handler": handler,
            "station": request.station,
            "peer": request.peer,
            "ca": Int(address.commonAddress),
            "ioa": Int(address.objectAddress),
            "point": address.description,
            "type": request.element.typeID.mnemonic,
            "command": request.point.kind.rawValue,
            "value": jsonValue(request.element),
            "select": request.isSelect,
            "qualifier": qualifier(request.element).map { $0 as Any } ?? NSNull(),
            "time": request.time.flatMap(isoTime).map { $0 as Any } ?? NSNull(),
            "originator": Int(request.originator),
            "feedback": request.point.feedback.map { $0.description as Any } ?? NSNull(),
        ]
    }

    /// One line of JSON (no newline), keys sorted.
    public static func json(_ request: CommandRequest, handler: String, id: UInt64? = nil) -> String {
        var object = members(request, handler: handler)
        if let id { object["id"] = Int(id) }
        return render(object)
    }

    /// The RTU104_* variables of a command.
    public static func environment(_ request: CommandRequest, handler: String) -> [String: String] {
        let address = request.point.address
        return [
            "RTU104_HANDLER": handler,
            "RTU104_STATION": request.station,
            "RTU104_PEER": request.peer,
            "RTU104_CA": String(address.commonAddress),
            "RTU104_IOA": String(address.objectAddress),
            "RTU104_POINT": address.description,
            "RTU104_TYPE": request.element.typeID.mnemonic,
            "RTU104_COMMAND": request.point.kind.rawValue,
            "RTU104_VALUE": textValue(request.element),
            "RTU104_SELECT": request.isSelect ? "1" : "0",
            "RTU104_QUALIFIER": qualifier(request.element).map(String.init) ?? "",
            "RTU104_TIME": request.time.flatMap(isoTime) ?? "",
            "RTU104_ORIGINATOR": String(request.originator),
            "RTU104_FEEDBACK": request.point.feedback?.description ?? "",
        ]
    }

    /// `on`/`off` (single, double), `higher`/`lower` (step), numbers for set-points and bitstrings;
    /// `nan`, `inf`, `-inf` for floats that are not finite.
    static func textValue(_ element: InformationElement) -> String {
        switch element {
        case .singleCommand(let command, _): command.isOn ? "on" : "off"
        case .doubleCommand(let command, _): command.state == .on ? "on" : "off"
        case .regulatingStepCommand(let command, _): command.direction == .higher ? "higher" : "lower"
        case .setpointNormalized(let value, _, _): "\(value.doubleValue)"
        case .setpointScaled(let value, _, _): "\(value)"
        case .setpointFloat(let value, _, _): "\(value)"
        case .bitstringCommand(let bits, _): "\(bits)"
        default: ""
        }
    }

    static func jsonValue(_ element: InformationElement) -> Any {
        switch element {
        case .setpointNormalized(let value, _, _): return value.doubleValue
        case .setpointScaled(let value, _, _): return Int(value)
        case .setpointFloat(let value, _, _):
            // The shortest decimal that reads back as the same Float; non-finite values as text.
            guard value.isFinite, let number = Double("\(value)") else { return "\(value)" }
            return number
        case .bitstringCommand(let bits, _): return Int(bits)
        default: return textValue(element)
        }
    }

    /// QU of single, double and step commands (0–31), QL of set-points (0–127); nil for bitstrings.
    static func qualifier(_ element: InformationElement) -> Int? {
        switch element {
        case .singleCommand(let command, _): Int(command.qualifier.rawValue)
        case .doubleCommand(let command, _): Int(command.qualifier.rawValue)
        case .regulatingStepCommand(let command, _): Int(command.qualifier.rawValue)
        case .setpointNormalized(_, let qos, _), .setpointScaled(_, let qos, _), .setpointFloat(_, let qos, _):
            Int(qos.qualifier)
        default: nil
        }
    }

    /// `2026-03-01T12:00:05.250Z` (the CP56Time2a as UTC); nil for a date that does not exist.
    static func isoTime(_ time: CP56Time2a) -> String? {
        guard time.unixMilliseconds() != nil else { return nil }
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(2000 + Int(time.year))-\(pad(Int(time.month), 2))-\(pad(Int(time.dayOfMonth), 2))T"
            + "\(pad(Int(time.hour), 2)):\(pad(Int(time.minute), 2)):\(pad(Int(time.milliseconds) / 1000, 2))."
            + "\(pad(Int(time.milliseconds) % 1000, 3))Z"
    }

    static func render(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }
}

/// Reads point updates from handler and feeder output, with the control socket's `set` rules.
public struct UpdateParser: Sendable {
    /// Shared by every copy of this parser: a reload hands the new point table to the feeders and handlers it
    /// keeps running (``use(_:)``) instead of restarting them.
    private let table: PointKinds

    /// The monitor points in force; read once per line, so that a line is parsed against one table.
    var kinds: PointKindIndex { table.current }

    public init(points: PointTable) {
        table = PointKinds(PointKindIndex(points))
    }

    init(kinds: PointKindIndex) {
        table = PointKinds(kinds)
    }

    /// From now on, parses against `points` (in every copy of this parser).
    func use(_ points: PointTable) {
        use(PointKindIndex(points))
    }

    func use(_ kinds: PointKindIndex) {
        table.current = kinds
    }

    /// A line that is one JSON object: a point (`{"point":"47:3201","value":231.5}`) or a whole
    /// `{"op":"set","points":[…]}`. Returns nil for a line that is not a JSON object (free text).
    public func parseLine(_ line: String) -> Result<[PointUpdate], UpdateLineError>? {
        // Feeder lines come at high rates (issue 12): a plain set request or point is read once, by the fast path.
        let kinds = self.kinds
        return Self.updates(ControlRequestParser.readHandlerOutput(line, repliesAllowed: false, kindOf: { kinds[$0] }))
    }

    /// Every line the fast path declines: free text, errors, unusual JSON, read into a located tree once.
    func parseLineLocated(_ line: String) -> Result<[PointUpdate], UpdateLineError>? {
        let kinds = self.kinds
        return Self.updates(ControlRequestParser.readHandlerOutputLocated(line, repliesAllowed: false, kindOf: { kinds[$0] }))
    }

    /// A persistent handler's stdout line: a reply to a command, point updates, or free text.
    func readReplyLine(_ line: String) -> HandlerOutputLine {
        let kinds = self.kinds
        return ControlRequestParser.readHandlerOutput(line, repliesAllowed: true, kindOf: { kinds[$0] })
    }

    private static func updates(_ line: HandlerOutputLine) -> Result<[PointUpdate], UpdateLineError>? {
        switch line {
        case .text: nil
        case .updates(let updates): .success(updates)
        case .rejected(let message): .failure(UpdateLineError(message: message))
        // Without replies allowed, an "id" is an unknown key of a point and comes back as `.rejected`.
        case .reply, .replyWithoutCommandID: .failure(UpdateLineError(message: "a reply where none is expected"))
        }
    }
}

/// The point kinds an ``UpdateParser`` reads against, replaceable while feeders and handlers run.
final class PointKinds: Sendable {
    private let kinds: Mutex<PointKindIndex>

    init(_ kinds: PointKindIndex) { self.kinds = Mutex(kinds) }

    var current: PointKindIndex {
        get { kinds.withLock { $0 } }
        set { kinds.withLock { $0 = newValue } }
    }
}

public struct UpdateLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The kind of every monitor point by address, 8 bytes a point in one sorted array (binary search).
///
/// A dictionary of a million points took 40 MB and a fifth of the start-up of a 1,000,000-point table, and
/// every feeder and every reload built its own; this is built once per table from its sorted points.
struct PointKindIndex: Sendable {
    /// `ca << 32 | ioa` shifted left by 8, with the kind's index in the low byte.
    private let entries: [UInt64]
    private static let kinds = PointKind.allCases

    init(_ points: PointTable) {
        var entries: [UInt64] = []
        entries.reserveCapacity(points.monitorPoints.count)
        var ascending = true
        for point in points.monitorPoints {
            let entry = Self.key(point.address) << 8 | UInt64(Self.kinds.firstIndex(of: point.kind) ?? 0)
            if let last = entries.last, last >> 8 >= entry >> 8 { ascending = false }
            entries.append(entry)
        }
        if !ascending {
            // The loader hands points over sorted and without repeats; others (tests) keep the first of an address.
            entries = entries.enumerated().sorted { ($0.element >> 8, $0.offset) < ($1.element >> 8, $1.offset) }.map(\.element)
            var unique: [UInt64] = []
            unique.reserveCapacity(entries.count)
            for entry in entries where unique.last.map({ $0 >> 8 != entry >> 8 }) ?? true { unique.append(entry) }
            entries = unique
        }
        self.entries = entries
    }

    private static func key(_ address: PointAddress) -> UInt64 {
        UInt64(address.commonAddress) << 32 | UInt64(address.objectAddress)
    }

    var count: Int { entries.count }

    subscript(address: PointAddress) -> PointKind? {
        let key = Self.key(address)
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle] >> 8 < key { low = middle + 1 } else { high = middle }
        }
        guard low < entries.count, entries[low] >> 8 == key else { return nil }
        return Self.kinds[Int(entries[low] & 0xFF)]
    }
}
