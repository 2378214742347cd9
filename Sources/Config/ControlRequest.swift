public import Outstation
import IEC104

/// One request on the control socket (newline-delimited JSON), already checked against the points.
public enum ControlRequest: Sendable, Equatable {
    /// `{"op":"set","points":[{"ca":47,"ioa":3201,"value":231.5,"quality":["invalid"],"time":1763790000123}]}`
    /// — all or nothing. A point may also be named `"point":"47:3201"`.
    case set([PointUpdate])
    /// `{"op":"get","points":["47:3201", …]}`; without `points`, every monitor point.
    case get([PointAddress]?)
    /// `{"op":"status"}`: listeners, stations, connections, buffers, counters.
    case status
    /// `{"op":"reload"}`: read the configuration again.
    case reload
    /// `{"op":"watch"}`: one line per event from now on, until the client disconnects.
    case watch
}

/// Why a control request was refused; the text goes back to the client.
public struct ControlRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Parses control socket requests. Values are read with the point tables' rules, so the socket
/// takes exactly what a point table may say (`on`/`off`, `"0x00FF"`, quality flag names, …).
public enum ControlRequestParser {
    /// The longest request line taken; longer ones are refused without parsing.
    public static let maximumLineLength = 1 << 20
    /// The most points one `set` may carry.
    public static let maximumBatch = 100_000

    /// Parses one line; `kindOf` names the kind of each monitor point (nil: no such point).
    public static func parse(_ line: String, kindOf: (PointAddress) -> PointKind?) -> Result<ControlRequest, ControlRequestError> {
        // Feeders send plain `set` lines at high rates (issue 12); the fast path takes those, and everything else,
        // errors included, is read by the located parser so that each message stays as precise as it was.
        if let updates = parseSetFast(line, form: .controlRequest, kindOf: kindOf) { return .success(.set(updates)) }
        return parseLocated(line, kindOf: kindOf)
    }

    /// The located parser alone: a JSON tree with the place of every value, then the request rules. Every line the
    /// fast path declines comes here; tests and the fuzzer compare the two.
    public static func parseLocated(_ line: String, kindOf: (PointAddress) -> PointKind?) -> Result<ControlRequest, ControlRequestError> {
        guard line.utf8.count <= maximumLineLength else {
            return .failure(ControlRequestError("request longer than \(maximumLineLength) bytes"))
        }
        let document: ConfigValue
        do {
            document = try JSONReader.parse(line, file: "request")
        } catch {
            return .failure(ControlRequestError("not JSON: \(error.message)"))
        }
        return request(document, kindOf: kindOf)
    }

    /// The request rules over a JSON tree already read (a handler's output line is read once, then judged here).
    static func request(_ document: ConfigValue, kindOf: (PointAddress) -> PointKind?) -> Result<ControlRequest, ControlRequestError> {
        guard case .object(let members) = document.content else {
            return .failure(ControlRequestError("a request is a JSON object with an \"op\""))
        }
        var fields: [String: ConfigValue] = [:]
        for member in members {
            guard fields[member.key] == nil else { return .failure(ControlRequestError("\"\(member.key)\" given twice")) }
            fields[member.key] = member.value
        }
        guard let op = fields["op"], case .string(let name) = op.content else {
            return .failure(ControlRequestError("missing \"op\"; use set, get, status, reload or watch"))
        }
        let allowed: Set<String>
        switch name {
        case "set", "get": allowed = ["op", "points", "id"]
        case "status", "reload", "watch": allowed = ["op", "id"]
        default: return .failure(ControlRequestError("unknown op \"\(name)\"; use set, get, status, reload or watch"))
        }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            return .failure(ControlRequestError("unknown key \"\(unknown)\" for op \(name)"))
        }
        switch name {
        case "set":
            guard let points = fields["points"], case .array(let items) = points.content, !items.isEmpty else {
                return .failure(ControlRequestError("set needs \"points\": a non-empty list"))
            }
            guard items.count <= maximumBatch else {
                return .failure(ControlRequestError("set with \(items.count) points; at most \(maximumBatch) per request"))
            }
            var updates: [PointUpdate] = []
            updates.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                switch update(item, kindOf: kindOf) {
                case .success(let update): updates.append(update)
                case .failure(let problem): return .failure(ControlRequestError("points[\(index)]: \(problem.message)"))
                }
            }
            return .success(.set(updates))
        case "get":
            guard let points = fields["points"] else { return .success(.get(nil)) }
            guard case .array(let items) = points.content else {
                return .failure(ControlRequestError("get takes \"points\": a list of \"CA:IOA\""))
            }
            var addresses: [PointAddress] = []
            for (index, item) in items.enumerated() {
                guard case .string(let text) = item.content, let address = PointTableReader.parseAddress(text) else {
                    return .failure(ControlRequestError("points[\(index)]: \(item.display) is not \"CA:IOA\""))
                }
                addresses.append(address)
            }
            return .success(.get(addresses))
        case "status":
            return .success(.status)
        case "watch":
            return .success(.watch)
        default:
            return .success(.reload)
        }
    }

    static func update(_ item: ConfigValue, kindOf: (PointAddress) -> PointKind?) -> Result<PointUpdate, ValueError> {
        guard case .object(let members) = item.content else { return .failure(ValueError("each point is an object")) }
        var fields: [String: ConfigValue] = [:]
        for member in members {
            guard ["ca", "ioa", "point", "value", "quality", "time", "transient"].contains(member.key) else {
                return .failure(ValueError("unknown key \"\(member.key)\""))
            }
            guard fields[member.key] == nil else { return .failure(ValueError("\"\(member.key)\" given twice")) }
            fields[member.key] = member.value
        }
        let address: PointAddress
        if let point = fields["point"] {
            guard fields["ca"] == nil, fields["ioa"] == nil else { return .failure(ValueError("give \"point\" or \"ca\" and \"ioa\", not both")) }
            guard let text = point.scalarText, let parsed = PointTableReader.parseAddress(text) else {
                return .failure(ValueError("\(point.display) is not \"CA:IOA\""))
            }
            address = parsed
        } else {
            guard let ca = fields["ca"], let ioa = fields["ioa"] else { return .failure(ValueError("missing \"ca\" and \"ioa\" (or \"point\")")) }
            let commonAddress: Int
            let objectAddress: Int
            switch (ValueParsers.int(ca, in: 1...65534), ValueParsers.int(ioa, in: 1...16_777_215)) {
            case (.success(let c), .success(let i)): (commonAddress, objectAddress) = (c, i)
            case (.failure(let problem), _): return .failure(ValueError("ca: " + problem.message))
            case (_, .failure(let problem)): return .failure(ValueError("ioa: " + problem.message))
            }
            address = PointAddress(commonAddress: UInt16(commonAddress), objectAddress: UInt32(objectAddress))
        }
        guard let kind = kindOf(address) else { return .failure(ValueError("no monitor point \(address)")) }
        guard let raw = fields["value"] else { return .failure(ValueError("missing \"value\" for \(address)")) }
        var transient = false
        if let flag = fields["transient"] {
            guard kind == .step else { return .failure(ValueError("\"transient\" is for step positions only")) }
            switch ValueParsers.bool(flag) {
            case .success(let value): transient = value
            case .failure(let problem): return .failure(problem)
            }
        }
        let value: PointValue
        switch PointTableReader.parseValue(raw, kind: kind, transient: transient) {
        case .success(let parsed): value = parsed
        case .failure(let problem): return .failure(ValueError("\(address): " + problem.message))
        }
        var quality: QualityDescriptor = []
        if let flags = fields["quality"] {
            for flag in ValueParsers.list(flags) {
                switch ValueParsers.keyword(flag, PointTableReader.qualityFlags) {
                case .success(let bit): quality.insert(bit)
                case .failure(let problem): return .failure(ValueError("\(address) quality: " + problem.message))
                }
            }
            if quality.contains(.overflow), kind == .single || kind == .double {
                return .failure(ValueError("\(address): single and double points have no overflow flag"))
            }
        }
        var time: Int64?
        if let stamp = fields["time"] {
            // Milliseconds since the Unix epoch, within the CP56Time2a years 2000–2099.
            switch ValueParsers.int(stamp, in: 946_684_800_000...4_102_444_799_999) {
            case .success(let milliseconds): time = Int64(milliseconds)
            case .failure(let problem): return .failure(ValueError("\(address) time (ms since 1970, years 2000–2099): " + problem.message))
            }
        }
        return .success(PointUpdate(address: address, value: value, quality: quality, time: time))
    }
}
