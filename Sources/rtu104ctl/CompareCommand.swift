import ArgumentParser
import IEC104
import Master

/// One way the station differs from the point table.
struct PointDifference: Hashable, Sendable {
    enum Kind: String, Sendable {
        case missing = "missing"
        case extra = "extra"
        case wrongType = "wrong type"
        case wrongValue = "wrong value"
        case wrongQuality = "wrong quality"
    }

    var kind: Kind
    var commonAddress: UInt16
    var address: UInt32
    var expected: String
    var received: String

    /// `wrong value    47:500     expected 0.5, received 0.25`
    var text: String {
        let head = PointRowFormatter.pad(kind.rawValue, 14) + " " + PointRowFormatter.pad("\(commonAddress):\(address)", 12)
        switch kind {
        case .missing: return head + " expected \(expected), not received"
        case .extra: return head + " not in the table, received \(received)"
        default: return head + " expected \(expected), received \(received)"
        }
    }

    var json: JSONValue {
        .object([("difference", .string(kind.rawValue)), ("ca", .int(Int(commonAddress))), ("ioa", .int(Int(address))),
                 ("expected", kind == .extra ? .null : .string(expected)),
                 ("received", kind == .missing ? .null : .string(received))])
    }
}

/// The commissioning check as a pure function: the table against what the interrogations returned.
enum PointComparison {
    static func compare(expected: [ExpectedPoint], received: [PointRow], values: Bool = true,
                        quality: Bool = true) -> [PointDifference] {
        struct Key: Hashable { var ca: UInt16; var ioa: UInt32 }
        var seen: [Key: PointRow] = [:]
        var order: [Key] = []
        for row in received {
            let key = Key(ca: row.commonAddress, ioa: row.object.address)
            if seen.updateValue(row, forKey: key) == nil { order.append(key) }
        }
        var differences: [PointDifference] = []
        var tableKeys = Set<Key>()
        for point in expected {
            let key = Key(ca: point.commonAddress, ioa: point.address)
            tableKeys.insert(key)
            func difference(_ kind: PointDifference.Kind, _ expectedText: String, _ receivedText: String) {
                differences.append(PointDifference(kind: kind, commonAddress: point.commonAddress, address: point.address,
                                                   expected: expectedText, received: receivedText))
            }
            guard let row = seen[key] else {
                difference(.missing, "\(point.kind.rawValue) \(describe(point.value))", "")
                continue
            }
            let element = row.object.element
            guard row.typeID.withoutTimeTag == point.kind.typeID else {
                difference(.wrongType, "\(point.kind.rawValue) (\(point.kind.typeID.mnemonic))",
                           "\(row.typeID.mnemonic) \(PointRowFormatter.valueText(element))")
                continue
            }
            if values, !matches(point.value, element) {
                difference(.wrongValue, describe(point.value), PointRowFormatter.valueText(element))
            }
            if quality, let flags = PointRowFormatter.qualityFlags(element), flags.sorted() != point.quality {
                difference(.wrongQuality, point.quality.isEmpty ? "good" : point.quality.joined(separator: ","),
                           flags.isEmpty ? "good" : flags.sorted().joined(separator: ","))
            }
        }
        for key in order where !tableKeys.contains(key) {
            guard let row = seen[key] else { continue }
            differences.append(PointDifference(kind: .extra, commonAddress: key.ca, address: key.ioa, expected: "",
                                               received: "\(row.typeID.mnemonic) \(PointRowFormatter.valueText(row.object.element))"))
        }
        return differences
    }

    static func matches(_ value: ExpectedPoint.Value, _ element: InformationElement) -> Bool {
        switch (value, element) {
        case (.single(let on), .singlePoint(let siq, _)): siq.isOn == on
        case (.double(let state), .doublePoint(let diq, _)): diq.state == state
        case (.step(let position, let transient), .stepPosition(let vti, _, _)):
            vti.value == position && vti.isTransient == transient
        case (.bitstring(let bits), .bitstring(let received, _, _)): bits == received
        case (.normalized(let expected), .normalized(let received, _, _)): expected == received
        case (.scaled(let expected), .scaled(let received, _, _)): expected == received
        case (.float(let expected), .float(let received, _, _)): expected == received || (expected.isNaN && received.isNaN)
        case (.counter(let expected), .integratedTotals(let bcr, _)): bcr.value == expected
        default: false
        }
    }

    static func describe(_ value: ExpectedPoint.Value) -> String {
        switch value {
        case .single(let on): on ? "on" : "off"
        case .double(let state): state.name
        case .step(let position, let transient): "\(position)" + (transient ? " transient" : "")
        case .bitstring(let bits): ElementNames.hex(bits)
        case .normalized(let value): "\(value.doubleValue)"
        case .scaled(let value): "\(value)"
        case .float(let value): "\(value)"
        case .counter(let value): "\(value)"
        }
    }
}

/// `rtu104ctl compare HOST --table points.json`: the commissioning check.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Interrogate a station and report, point by point, how it differs from a point table.",
        discussion: """
        Reads the monitor points of a point table (--table, JSON or INI, as rtu104d reads it; command points \
        are skipped) or of every table a daemon config names (--config), sends a station interrogation to \
        every common address in them, and a counter interrogation where there are counters, and lists:
          missing        in the table, not received
          extra          received, not in the table
          wrong type     e.g. a double point where the table has a single point
          wrong value    the received value is not the table's value
          wrong quality  the quality flags differ (--ignore-quality skips this)
        The table's values are the initial values; --ignore-values checks only presence and type.

        Exit status: 0 when everything matches; 1 on differences, an incomplete interrogation or errors in \
        the table; 2 when the connection failed; 64 usage error.
        """)

    @OptionGroup var master: MasterOptions

    @Option(help: ArgumentHelp("A point table (JSON, CSV or INI).", valueName: "path"))
    var table: String?

    @Option(help: ArgumentHelp("A daemon config: compare with every point table it names.", valueName: "path"))
    var config: String?

    @Flag(help: "Do not compare values.")
    var ignoreValues = false

    @Flag(help: "Do not compare quality flags.")
    var ignoreQuality = false

    @Flag(help: "Print the differences as JSON lines.")
    var json = false

    func validate() throws {
        guard (table == nil) != (config == nil) else {
            throw ValidationError("give the points to compare with: --table FILE or --config FILE (one of them)")
        }
    }

    func run() throws {
        let expected: [ExpectedPoint]
        let source = table ?? config ?? ""
        do throws(PointTableError) {
            if let table {
                expected = try ExpectedPoints.load(table: table)
            } else {
                expected = try ExpectedPoints.load(config: source)
            }
        } catch {
            // A table with errors is a failed check (1); 2 stays "no connection".
            for line in error.description.split(separator: "\n") { reportError(String(line)) }
            throw ExitCode(MasterExit.refused)
        }
        guard !expected.isEmpty else {
            reportError("\(source): no monitor points to compare")
            throw ExitCode(MasterExit.refused)
        }
        try runMaster(master) { session in
            var received: [PointRow] = []
            var incomplete = false
            let commonAddresses = Set(expected.map(\.commonAddress)).sorted()
            for ca in commonAddresses {
                var requests = [("interrogation", try Interrogation.generalRequest(group: nil, commonAddress: ca,
                                                                                   originator: master.originator))]
                if expected.contains(where: { $0.commonAddress == ca && $0.kind == .counter }) {
                    requests.append(("counter interrogation",
                                     try Interrogation.counterRequest(group: nil, freeze: .read, commonAddress: ca,
                                                                      originator: master.originator)))
                }
                for (what, request) in requests {
                    let outcome = try Interrogation.run(session, request: request, timeout: master.timeoutDuration) { row in
                        let cause = row.cause.cause.rawValue
                        if row.commonAddress == ca, (20...41).contains(cause) { received.append(row) }
                    }
                    master.progress("CA \(ca) \(what): \(outcome.summary)")
                    if !outcome.complete {
                        incomplete = true
                        reportError("CA \(ca): the \(what) did not complete"
                                    + (outcome.refusals.isEmpty ? "" : ": " + outcome.refusals.map(\.text).joined(separator: "; ")))
                    }
                }
            }
            let differences = PointComparison.compare(expected: expected, received: received, values: !ignoreValues,
                                                      quality: !ignoreQuality)
            for difference in differences {
                writeStandardOutput((json ? render(difference.json) : difference.text) + "\n")
            }
            let differing = Set(differences.map { "\($0.commonAddress):\($0.address)" }).count
            let summary = "\(expected.count) point(s) in the table, \(received.count) received, "
                + (differences.isEmpty ? "everything matches" : "\(differences.count) difference(s) at \(differing) point(s)")
            if json {
                master.progress(summary)
            } else {
                writeStandardOutput(summary + "\n")
            }
            return differences.isEmpty && !incomplete ? MasterExit.success : MasterExit.refused
        }
    }
}
