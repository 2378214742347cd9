public import Outstation

/// What one line a handler or a feeder printed on stdout means, read once: the JSON is parsed a single time
/// (or not at all, when the `set` fast path takes the line) and judged by the control socket's rules.
public enum HandlerOutputLine: Sendable, Equatable {
    /// Not a JSON object: free text, for the log.
    case text
    /// A point object (`{"point":"47:3201","value":1}`) or a whole `{"op":"set","points":[…]}`.
    case updates([PointUpdate])
    /// A JSON object that is no valid update; the message says why, as the control socket would.
    case rejected(String)
    /// A persistent handler's answer to the command it was sent with this `id`.
    case reply(id: UInt64, HandlerReply)
    /// An object with an `id` that no command can have had (not a whole number ≥ 0).
    case replyWithoutCommandID
}

/// A persistent handler's answer: `{"id":7,"ok":true,"updates":[…]}` or `{"id":7,"ok":false,"error":"…"}`.
public enum HandlerReply: Sendable, Equatable {
    /// Positive; `ignoredUpdates` says why the reply's `updates` were not taken, when they were not.
    case accepted(updates: [PointUpdate], ignoredUpdates: String?)
    /// Negative, with the handler's reason (or "no reason given").
    case refused(reason: String)
}

extension ControlRequestParser {
    /// Reads one stdout line of a handler or feeder. `repliesAllowed`: the line may be a persistent handler's
    /// answer (an object with `"id"`); elsewhere an `id` is just an unknown key of a point.
    public static func readHandlerOutput(_ line: String, repliesAllowed: Bool,
                                         kindOf: (PointAddress) -> PointKind?) -> HandlerOutputLine {
        // A reply is never a plain set line, so a line that might be one skips the fast path; the located reader
        // below decides it either way, the fast path only spares it the tree.
        if !(repliesAllowed && line.utf8.containsIDKey),
           let updates = parseSetFast(line, form: .updateLine, kindOf: kindOf) {
            return .updates(updates)
        }
        return readHandlerOutputLocated(line, repliesAllowed: repliesAllowed, kindOf: kindOf)
    }

    /// The located reader alone (tests compare it with the fast path).
    public static func readHandlerOutputLocated(_ line: String, repliesAllowed: Bool,
                                                kindOf: (PointAddress) -> PointKind?) -> HandlerOutputLine {
        // Spaces (any Unicode space separator) and tabs around the object are allowed, as Foundation's
        // `.whitespaces` allowed them before this reader; line ends and a BOM are not.
        let isBlank: (Character) -> Bool = { $0 == "\t" || $0.unicodeScalars.allSatisfy { $0.properties.generalCategory == .spaceSeparator } }
        let start = line.firstIndex { !isBlank($0) } ?? line.endIndex
        let end = line.lastIndex { !isBlank($0) }.map { line.index(after: $0) } ?? start
        let trimmed = start < end ? line[start..<end] : ""
        guard trimmed.first == "{", let document = try? JSONReader.parse(String(trimmed), file: "request"),
              case .object(let members) = document.content else { return .text }
        // The length limit of a request, counted as the control socket counts it (a bare point inside its set request).
        let isRequest = members.contains { $0.key == "op" }
        guard trimmed.utf8.count + (isRequest ? 0 : barePointWrapping) <= maximumLineLength else {
            return .rejected("request longer than \(maximumLineLength) bytes")
        }
        if repliesAllowed, let id = members.first(where: { $0.key == "id" })?.value {
            return reply(id: id, members: members, kindOf: kindOf)
        }
        guard isRequest else {
            // One bare point object stands for the one element of a set request, and is worded as one.
            switch update(document, kindOf: kindOf) {
            case .success(let update): return .updates([update])
            case .failure(let problem): return .rejected("points[0]: \(problem.message)")
            }
        }
        switch request(document, kindOf: kindOf) {
        case .success(.set(let updates)): return .updates(updates)
        case .success: return .rejected("only \"op\":\"set\" sets points")
        case .failure(let problem): return .rejected(problem.message)
        }
    }

    private static func reply(id: ConfigValue, members: [ConfigMember], kindOf: (PointAddress) -> PointKind?) -> HandlerOutputLine {
        guard case .number(let number, _) = id.content, let commandID = UInt64(exactly: number) else {
            return .replyWithoutCommandID
        }
        func member(_ key: String) -> ConfigValue? { members.last { $0.key == key }?.value }
        guard case .bool(true)? = member("ok")?.content else {
            guard case .string(let error)? = member("error")?.content else { return .reply(id: commandID, .refused(reason: "no reason given")) }
            return .reply(id: commandID, .refused(reason: error))
        }
        guard let list = member("updates") else { return .reply(id: commandID, .accepted(updates: [], ignoredUpdates: nil)) }
        guard case .array(let items) = list.content else {
            return .reply(id: commandID, .accepted(updates: [], ignoredUpdates: "\"updates\" is not a list; ignored"))
        }
        var updates: [PointUpdate] = []
        updates.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            switch update(item, kindOf: kindOf) {
            case .success(let update): updates.append(update)
            case .failure(let problem):
                return .reply(id: commandID, .accepted(updates: [], ignoredUpdates: "updates ignored: points[\(index)]: \(problem.message)"))
            }
        }
        return .reply(id: commandID, .accepted(updates: updates, ignoredUpdates: nil))
    }
}

extension String.UTF8View {
    /// Whether the octets `"id"` occur anywhere (a cheap test before the fast path, which would take a set line
    /// with an `id` as updates).
    fileprivate var containsIDKey: Bool {
        var matched = 0
        let key: [UInt8] = [0x22, 0x69, 0x64, 0x22]
        for byte in self {
            if byte == key[matched] {
                matched += 1
                if matched == key.count { return true }
            } else {
                matched = byte == key[0] ? 1 : 0
            }
        }
        return false
    }
}
