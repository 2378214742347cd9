import IEC104
import Outstation

/// Reads point tables in either format into point definitions and the places they were written.
struct PointTableReader {
    struct LocatedCommand {
        var definition: CommandPointDefinition
        var location: SourceLocation
        var feedbackLocation: SourceLocation?
        /// The `[handler NAME]` the point names, and where.
        var handler: String?
        var handlerLocation: SourceLocation?
        var timeout: Duration?
        var subject: String { "command \(definition.address)" }
    }

    static let commonKeys = ["ca", "ioa", "name", "comment"]
    static let monitorKeys = ["type", "value", "quality", "time_tag", "groups", "counter_group", "deadband",
                              "cyclic", "background", "transient", "retain", "priority", "stale_after",
                              "simulate"]
    static let commandKeys = ["command", "time_tag", "sbo", "feedback", "actterm", "handler", "timeout"]

    static let pointKinds: [(String, PointKind)] = PointKind.allCases.map { ($0.rawValue, $0) }
    static let pointKindAliases: [(String, PointKind)] = [("integrated_totals", .counter), ("integrated-totals", .counter)]
    static let qualityFlags: [(String, QualityDescriptor)] = [
        ("overflow", .overflow), ("blocked", .blocked), ("substituted", .substituted),
        ("not_topical", .notTopical), ("invalid", .invalid),
    ]

    /// Monitor points in the order read, and where each was written (kept apart: a million points).
    private(set) var monitors: [MonitorPointDefinition] = []
    private(set) var monitorPlaces = PointPlaces()
    /// Whether every monitor address so far is above the one before: then there are no duplicates among
    /// them and the table needs no sorting, which is the usual case and spares the validator a look-up table.
    private(set) var monitorsAscending = true
    var commands: [LocatedCommand] = []
    private(set) var diagnostics: Diagnostics
    /// Whether plain JSON entries may be read straight from the bytes (tests compare both ways).
    var usesFastPath = true
    /// How many entries the fast path read (for tests).
    private(set) var fastEntries = 0

    init(diagnostics: Diagnostics) {
        self.diagnostics = diagnostics
    }

    private mutating func recordMonitor(_ definition: MonitorPointDefinition, at location: SourceLocation) {
        if let last = monitors.last, !(last.address < definition.address) { monitorsAscending = false }
        monitors.append(definition)
        monitorPlaces.append(location)
    }

    // MARK: Files

    /// Reads the entries of `"points"` as the parser meets them, so that only one entry at a time exists as a
    /// located tree. Their messages are held back until the file is read: a syntax error anywhere makes the
    /// file's only message (and its points are dropped), and messages about the top level come first.
    mutating func readJSON(_ text: String, file: String) {
        let fileDiagnostics = diagnostics
        let entryDiagnostics = Diagnostics()
        let monitorCount = monitors.count, commandCount = commands.count
        diagnostics = entryDiagnostics
        let root: ConfigValue
        do throws(ConfigError) {
            if usesFastPath {
                root = try JSONReader.parse(text, file: file, streamingItemsOf: "points", fast: { bytes, start, location in
                    guard let (definition, end) = FastPointEntryParser.parse(bytes, at: start, location: location) else { return nil }
                    recordMonitor(definition, at: location)
                    fastEntries += 1
                    return end
                }, to: { readJSONEntry($0) })
            } else {
                root = try JSONReader.parse(text, file: file, streamingItemsOf: "points") { readJSONEntry($0) }
            }
            diagnostics = fileDiagnostics
        } catch {
            diagnostics = fileDiagnostics
            dropMonitors(from: monitorCount)
            commands.removeLast(commands.count - commandCount)
            diagnostics.append(error)
            return
        }
        defer {
            diagnostics.append(contentsOf: entryDiagnostics.errors)
            diagnostics.append(contentsOf: entryDiagnostics.warnings)
        }
        guard case .object(let members) = root.content else {
            diagnostics.error(root.location, "a point table is a JSON object: { \"points\": [ ... ] }, found \(root.display)")
            return
        }
        let top = FieldReader(subject: "point table", location: root.location, members: members, diagnostics: diagnostics)
        _ = top.value("comment")
        guard let points = top.value("points") else {
            top.missing("points", " (a list of point objects: { \"points\": [ ... ] })")
            top.reportUnknownKeys(known: ["points", "comment"])
            return
        }
        top.reportUnknownKeys(known: ["points", "comment"])
        guard case .array = points.content else {
            diagnostics.error(points.location, subject: "point table", key: "points", "expected a list [ ... ], found \(points.display)")
            return
        }
    }

    private mutating func dropMonitors(from count: Int) {
        guard monitors.count > count else { return }
        monitorPlaces.removeLast(monitors.count - count)
        monitors.removeLast(monitors.count - count)
        monitorsAscending = zip(monitors, monitors.dropFirst()).allSatisfy { $0.address < $1.address }
    }

    /// One item of `"points"`.
    mutating func readJSONEntry(_ item: ConfigValue) {
        guard case .object(let fields) = item.content else {
            diagnostics.error(item.location, "each entry of \"points\" is an object { \"ca\": ..., \"ioa\": ... }, found \(item.display)")
            return
        }
        // An entry with nothing but a comment documents the table.
        if !fields.isEmpty, fields.allSatisfy({ $0.key == "comment" }) { return }
        readJSONPoint(fields, at: item.location)
    }

    /// One point from its members (a JSON object, or a CSV row's non-empty cells).
    mutating func readJSONPoint(_ members: [ConfigMember], at location: SourceLocation) {
        // Read the address first so that messages can name the point (the first "ca" and "ioa" count, as in FieldReader).
        let ca = members.first { $0.key == "ca" }.flatMap { report(ValueParsers.int($0.value, in: 1...65534), $0) }
        let ioa = members.first { $0.key == "ioa" }.flatMap { report(ValueParsers.int($0.value, in: 1...16_777_215), $0) }
        let isCommand = members.contains { $0.key == "command" }
        let noun = isCommand ? "command" : "point"
        let subject = "\(noun) \(ca.map(String.init) ?? "?"):\(ioa.map(String.init) ?? "?")"
        let fields = FieldReader(subject: subject, location: location, members: members, diagnostics: diagnostics)
        _ = fields.value("ca")
        _ = fields.value("ioa")
        if !fields.has("ca") { fields.missing("ca", " (the common address, 1…65534)") }
        if !fields.has("ioa") { fields.missing("ioa", " (the information object address, 1…16777215)") }
        guard let ca, let ioa else {
            // Still check the rest for errors.
            readPoint(fields, address: PointAddress(commonAddress: 0, objectAddress: 0), isCommand: isCommand, record: false)
            return
        }
        readPoint(fields, address: PointAddress(commonAddress: UInt16(ca), objectAddress: UInt32(ioa)), isCommand: isCommand, record: true)
    }

    private func report<T>(_ result: Result<T, ValueError>, _ member: ConfigMember) -> T? {
        switch result {
        case .success(let value): return value
        case .failure(let problem):
            diagnostics.error(member.value.location, subject: "point", key: member.key, problem.message)
            return nil
        }
    }

    mutating func readINI(_ text: String, file: String) {
        let (document, errors) = INIReader.parse(text, file: file)
        diagnostics.append(contentsOf: errors)
        for section in document.sections {
            guard section.kind == "point" || section.kind == "command" else {
                diagnostics.error(section.location, "unknown section [\(section.kind)\(section.name.map { " \($0)" } ?? "")]"
                                  + Suggestions.hint(for: section.kind, in: ["point", "command"])
                                  + "; a point table has [point CA:IOA] and [command CA:IOA] sections")
                continue
            }
            guard let name = section.name, let address = Self.parseAddress(name) else {
                diagnostics.error(section.location, "[\(section.kind)\(section.name.map { " \($0)" } ?? "")] needs an address "
                                  + "CA:IOA with CA in 1…65534 and IOA in 1…16777215, e.g. [\(section.kind) 47:1001]")
                continue
            }
            let fields = FieldReader(subject: section.subject, location: section.location, members: section.members,
                                     diagnostics: diagnostics)
            for key in ["ca", "ioa"] where fields.has(key) {
                _ = fields.value(key)
                fields.error(key, "the address is in the section header [\(section.kind) \(name)]; remove this key")
            }
            readPoint(fields, address: address, isCommand: section.kind == "command", record: true)
        }
    }

    /// `47:1001`.
    static func parseAddress(_ text: String) -> PointAddress? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let ca = Int(parts[0].trimmed), let ioa = Int(parts[1].trimmed),
              (1...65534).contains(ca), (1...16_777_215).contains(ioa) else { return nil }
        return PointAddress(commonAddress: UInt16(ca), objectAddress: UInt32(ioa))
    }

    // MARK: Points

    private mutating func readPoint(_ fields: FieldReader, address: PointAddress, isCommand: Bool, record: Bool) {
        if isCommand {
            if fields.has("type") {
                _ = fields.value("type")
                fields.error("type", "an entry has either 'type' (a monitor point) or 'command' (a command point), not both")
            }
            if let command = readCommand(fields, address: address), record { commands.append(command) }
        } else {
            if let monitor = readMonitor(fields, address: address), record { recordMonitor(monitor, at: fields.location) }
        }
    }

    private func readMonitor(_ fields: FieldReader, address: PointAddress) -> MonitorPointDefinition? {
        let kind = fields.read("type") { ValueParsers.keyword($0, Self.pointKinds, aliases: Self.pointKindAliases) }
        if !fields.has("type") {
            fields.missing("type", " (single, double, step, bitstring, normalized, scaled, float or counter; or 'command' for a command point)")
        }
        let name = fields.string("name") ?? ""
        _ = fields.value("comment")
        let timeTag = fields.bool("time_tag") ?? false
        var quality: QualityDescriptor = []
        if let flags = fields.list("quality") {
            for flag in flags {
                switch ValueParsers.keyword(flag, Self.qualityFlags) {
                case .success(let bit): quality.insert(bit)
                case .failure(let problem): fields.diagnostics.error(flag.location, subject: fields.subject, key: "quality", problem.message)
                }
            }
        }
        var groups: [Int] = []
        if fields.has("groups") { groups = fields.read("groups") { ValueParsers.intList($0, in: 1...16) } ?? [] }
        let counterGroup = fields.int("counter_group", in: 1...4)
        let deadband = fields.read("deadband", Self.parseDeadband)
        let cyclic = fields.duration("cyclic")
        let background = fields.duration("background")
        let transient = fields.bool("transient")
        let retain = fields.bool("retain")
        let priority = fields.keyword("priority", EventPriority.allCases.map { ($0.rawValue, $0) })
        // 0 turns a station's default off for this point.
        let staleAfter = fields.duration("stale_after", allowZero: true, max: .seconds(30 * 86_400))
        let valueNode = fields.value("value")
        let simulation = fields.read("simulate", Self.parseSimulation)
        fields.reportUnknownKeys(known: Self.commonKeys + Self.monitorKeys, elsewhere: Self.commandOnly)

        guard let kind else { return nil }
        let kindName = "a \(kind.rawValue) point"
        // Impossible combinations.
        if counterGroup != nil, kind != .counter {
            fields.error("counter_group", "counter_group applies to counters (type counter) only, not to \(kindName)")
        }
        if kind == .counter, fields.has("groups") {
            fields.error("groups", "counters answer counter interrogation (C_CI_NA_1), not station interrogation; use counter_group 1…4 instead of groups")
        }
        if deadband != nil, !kind.isMeasurement {
            fields.error("deadband", "deadband applies to measured values (normalized, scaled, float) only, not to \(kindName)")
        }
        if fields.has("cyclic"), fields.has("background") {
            fields.error("background", "cyclic and background are both set; a point is sent either cyclically (COT 1) or by background scan (COT 2)")
        }
        if kind == .counter, cyclic != nil || background != nil {
            fields.error(fields.has("cyclic") ? "cyclic" : "background",
                         "counters are reported by counter interrogation or spontaneously, not cyclically or by background scan")
        }
        if transient != nil, kind != .step {
            fields.error("transient", "transient applies to step positions (type step) only, not to \(kindName)")
        }
        if quality.contains(.overflow), kind == .single || kind == .double {
            fields.error("quality", "\(kindName) has no overflow flag (SIQ/DIQ carry only blocked, substituted, not_topical and invalid)")
        }
        if kind == .counter, !quality.subtracting(.invalid).isEmpty {
            fields.error("quality", "integrated totals carry only the invalid flag (the IV bit of BCR)")
        }
        if kind == .counter, retain == false {
            fields.warning("retain", "integrated totals are always kept across restarts; retain = false has no effect")
        }
        if let simulation, let problem = Self.simulationKindProblem(simulation, kind: kind) { fields.error("simulate", problem) }
        if let simulation, let clamped = Self.simulationRangeWarning(simulation, kind: kind) { fields.warning("simulate", clamped) }
        if kind.isMeasurement, case .percent(let percent)? = deadband, percent > 100 {
            fields.warning("deadband", "a deadband of \(percent)% means hardly any change is ever reported")
        }

        var value: PointValue?
        if let valueNode {
            switch Self.parseValue(valueNode, kind: kind, transient: transient ?? false) {
            case .success(let parsed): value = parsed
            case .failure(let problem): fields.diagnostics.error(valueNode.location, subject: fields.subject, key: "value", problem.message)
            }
        } else if let transient, kind == .step {
            value = .step(StepPosition(value: 0, isTransient: transient))
        }
        let periodic: PeriodicTransmission? = cyclic.map { .cyclic($0) } ?? background.map { .background($0) }
        return MonitorPointDefinition(
            address: address, name: name, kind: kind, initialValue: value, initialQuality: quality,
            timeTaggedEvents: timeTag, groups: InterrogationGroups(groups: groups),
            counterGroup: kind == .counter ? counterGroup : nil, deadband: kind.isMeasurement ? deadband : nil,
            periodic: kind == .counter ? nil : periodic, retain: retain ?? false, priority: priority, staleAfter: staleAfter,
            simulation: simulation.flatMap { $0.fits(kind) ? $0 : nil })
    }

    private func readCommand(_ fields: FieldReader, address: PointAddress) -> LocatedCommand? {
        let kind = fields.keyword("command", CommandKind.allCases.map { ($0.rawValue, $0) })
        let name = fields.string("name") ?? ""
        _ = fields.value("comment")
        let timeTag = fields.read("time_tag") { value -> Result<CommandTimeTag, ValueError> in
            if case .bool(let flag) = value.content { return .success(flag ? .with : .without) }
            let choices: [(String, CommandTimeTag)] = CommandTimeTag.allCases.map { ($0.rawValue, $0) }
            return ValueParsers.keyword(value, choices, aliases: [("true", .with), ("yes", .with), ("false", .without), ("no", .without)])
        }
        let sbo = fields.read("sbo") { value -> Result<SelectBeforeOperate, ValueError> in
            if case .bool(let flag) = value.content { return .success(flag ? .required : .no) }
            let choices: [(String, SelectBeforeOperate)] = SelectBeforeOperate.allCases.map { ($0.rawValue, $0) }
            return ValueParsers.keyword(value, choices, aliases: [("true", .required), ("yes", .required), ("false", .no)])
        }
        let feedback = fields.read("feedback") { value -> Result<PointAddress, ValueError> in
            if let ioa = try? ValueParsers.int(value, in: 1...16_777_215).get() {
                return .success(PointAddress(commonAddress: address.commonAddress, objectAddress: UInt32(ioa)))
            }
            if let text = value.scalarText, let parsed = Self.parseAddress(text) { return .success(parsed) }
            return .failure(ValueError("\(value.display) is not a point address; write an IOA (1001) or CA:IOA (47:1001)"))
        }
        let actterm = fields.bool("actterm")
        let handler = fields.read("handler") { value -> Result<String, ValueError> in
            guard let text = value.scalarText, !text.isEmpty else {
                return .failure(ValueError("\(value.display) is not a handler name; name a [handler NAME] of the daemon config"))
            }
            return .success(text)
        }
        let timeout = fields.duration("timeout", max: .seconds(3600))
        if timeout != nil, !fields.has("handler") {
            fields.error("timeout", "timeout applies to points with a handler; the built-in handler answers at once")
        }
        fields.reportUnknownKeys(known: Self.commonKeys + Self.commandKeys, elsewhere: Self.monitorOnly)
        guard let kind else { return nil }
        if kind == .bitstring, sbo == .required {
            // C_BO_NA_1 has no select/execute bit, so such a point could never be executed.
            fields.error("sbo", "a bitstring command (C_BO) has no select/execute bit, so it cannot be select-before-operate; use sbo = no or optional")
            return nil
        }
        let definition = CommandPointDefinition(address: address, name: name, kind: kind, timeTag: timeTag ?? .both,
                                                selectBeforeOperate: sbo ?? .optional, feedback: feedback,
                                                sendsTermination: actterm ?? true)
        return LocatedCommand(definition: definition, location: fields.location, feedbackLocation: fields.keyLocation("feedback"),
                              handler: handler, handlerLocation: fields.keyLocation("handler"), timeout: timeout)
    }

    static let commandOnly: [String: String] = Dictionary(uniqueKeysWithValues: ["command", "sbo", "feedback", "actterm", "handler", "timeout"].map {
        ($0, "'\($0)' applies to command points only; write a command point as [command CA:IOA] in INI or with \"command\" in JSON")
    })
    static let monitorOnly: [String: String] = Dictionary(uniqueKeysWithValues: (monitorKeys.filter { $0 != "time_tag" && $0 != "type" }).map {
        ($0, "'\($0)' applies to monitor points only; a command reports back through its 'feedback' point")
    } + [("type", "a command point takes 'command' (its command type), not 'type'")])
}
