import ArgumentParser
import IEC104

/// How the master subcommands print points.
enum PointFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Aligned columns for people.
    case table
    /// Comma-separated values with a header line.
    case csv
    /// One JSON object per point per line.
    case json
}

/// One information object as received, with the header fields that place it.
struct PointRow: Sendable {
    var commonAddress: UInt16
    var typeID: TypeID
    var cause: CauseOfTransmission
    var object: InformationObject
    /// The whole APDU, for `--raw`.
    var raw: [UInt8]?

    /// Every object of a decoded ASDU.
    static func rows(of asdu: ASDU, raw: [UInt8]? = nil) -> [PointRow] {
        asdu.objects.map { PointRow(commonAddress: asdu.commonAddress, typeID: asdu.typeID, cause: asdu.cause,
                                    object: $0, raw: raw) }
    }
}

/// Point rows as a table, CSV or JSON lines.
///
/// - table: `CA     IOA      TYPE       VALUE            QUALITY      TIME                     COT`
/// - csv: `ca,ioa,type,value,quality,time,cot,cot_name` (quality flags joined by `|`, empty time when none)
/// - json: `{"ca":47,"ioa":100,"type":"M_SP_NA_1","typeId":1,"value":false,"quality":[],"cot":20,"cotName":"inrogen"}`
///   with the per-type keys of `decode --json` between `value` and `quality`; `negative`/`test` only when set.
/// With raw, table and CSV get a last column `raw` and JSON a key `raw`: the APDU in hex.
enum PointRowFormatter {
    static func header(_ format: PointFormat, raw: Bool) -> String? {
        switch format {
        case .table:
            let line = pad("CA", 5) + " " + pad("IOA", 8) + " " + pad("TYPE", 10) + " " + pad("VALUE", 16) + " "
                + pad("QUALITY", 12) + " " + pad("TIME", 24) + " COT"
            return raw ? pad(line, 99) + " RAW" : line
        case .csv:
            return "ca,ioa,type,value,quality,time,cot,cot_name" + (raw ? ",raw" : "")
        case .json:
            return nil
        }
    }

    static func format(_ row: PointRow, _ format: PointFormat, raw: Bool = false) -> String {
        switch format {
        case .table:
            let quality = qualityFlags(row.object.element).map { $0.isEmpty ? "good" : $0.joined(separator: ",") } ?? "-"
            let line = pad("\(row.commonAddress)", 5) + " " + pad("\(row.object.address)", 8) + " "
                + pad(row.typeID.mnemonic, 10) + " " + pad(valueText(row.object.element), 16) + " "
                + pad(quality, 12) + " " + pad(timeText(row.object.element) ?? "-", 24) + " " + causeText(row.cause)
            return raw ? pad(line, 99) + " " + hex(row.raw ?? []) : line
        case .csv:
            var fields = [
                "\(row.commonAddress)", "\(row.object.address)", row.typeID.mnemonic, valueText(row.object.element),
                qualityFlags(row.object.element)?.joined(separator: "|") ?? "", timeText(row.object.element) ?? "",
                "\(row.cause.cause.rawValue)", causeName(row.cause),
            ]
            if raw { fields.append(hex(row.raw ?? [])) }
            return fields.map(csvField).joined(separator: ",")
        case .json:
            return render(json(row, raw: raw))
        }
    }

    static func json(_ row: PointRow, raw: Bool) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("ca", .int(Int(row.commonAddress))), ("ioa", .int(Int(row.object.address))),
            ("type", .string(row.typeID.mnemonic)), ("typeId", .int(Int(row.typeID.rawValue))),
        ]
        if case .object(let objectFields) = APDUJSONFormatter.object(row.object) {
            fields += objectFields.filter { $0.0 != "ioa" }
        }
        fields += [("cot", .int(Int(row.cause.cause.rawValue))), ("cotName", .string(row.cause.cause.name))]
        if row.cause.isNegative { fields.append(("negative", .bool(true))) }
        if row.cause.isTest { fields.append(("test", .bool(true))) }
        if raw { fields.append(("raw", .string(hex(row.raw ?? [])))) }
        return .object(fields)
    }

    /// The value in few characters: `on`, `intermediate`, `-5 transient`, `0xDEADBEEF`, `0.5`, `-1234`, `230.5`.
    static func valueText(_ element: InformationElement) -> String {
        switch element {
        case .singlePoint(let siq, _): siq.isOn ? "on" : "off"
        case .doublePoint(let diq, _): diq.state.name
        case .stepPosition(let vti, _, _): "\(vti.value)" + (vti.isTransient ? " transient" : "")
        case .bitstring(let bits, _, _): ElementNames.hex(bits)
        case .normalized(let value, _, _): "\(value.doubleValue)"
        case .normalizedWithoutQuality(let value): "\(value.doubleValue)"
        case .scaled(let value, _, _): "\(value)"
        case .float(let value, _, _): "\(value)"
        case .integratedTotals(let bcr, _): "\(bcr.value)"
        case .packedSinglePoints(let scd, _):
            "status=\(ElementNames.hex(scd.status)) changed=\(ElementNames.hex(scd.changed))"
        default:
            // Protection events, end of initialization, mirrored requests: the decoder's wording without the time.
            withoutTime(APDUTextFormatter.element(element))
        }
    }

    static func withoutTime(_ text: String) -> String {
        guard let range = text.firstRange(of: " time=") else { return text }
        return String(text[..<range.lowerBound])
    }

    /// Quality flag abbreviations (OV, BL, SB, NT, IV; CY, CA, IV for counters; EI for protection);
    /// nil for elements without quality.
    static func qualityFlags(_ element: InformationElement) -> [String]? {
        switch element {
        case .singlePoint(let siq, _): siq.quality.flagNames
        case .doublePoint(let diq, _): diq.quality.flagNames
        case .stepPosition(_, let qds, _), .bitstring(_, let qds, _), .normalized(_, let qds, _),
             .scaled(_, let qds, _), .float(_, let qds, _), .packedSinglePoints(_, let qds):
            qds.flagNames
        case .integratedTotals(let bcr, _): ElementNames.counterFlags(bcr)
        case .protectionEvent(let sep, _, _): sep.quality.flagNames
        case .protectionStartEvents(_, let qdp, _, _), .protectionOutputCircuit(_, let qdp, _, _): qdp.flagNames
        default: nil
        }
    }

    /// `2026-11-22T04:57:51.123`, with ` IV`/` SU`/` SB` when flagged; nil without a time tag.
    static func timeText(_ element: InformationElement) -> String? {
        guard let time = element.time else { return nil }
        let flags = ElementNames.timeFlags(time)
        return ElementNames.isoTime(time) + (flags.isEmpty ? "" : " " + flags.joined(separator: ","))
    }

    /// `inrogen (20)`, `spont (3)`, with ` P/N=1` and ` T=1` when set.
    static func causeText(_ cause: CauseOfTransmission) -> String {
        "\(cause.cause.name) (\(cause.cause.rawValue))" + (cause.isNegative ? " P/N=1" : "") + (cause.isTest ? " T=1" : "")
    }

    static func causeName(_ cause: CauseOfTransmission) -> String {
        cause.cause.name + (cause.isNegative ? " negative" : "") + (cause.isTest ? " test" : "")
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingAll("\"", with: "\"\"") + "\""
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// `68 0E 00 00 …`
    static func hex(_ bytes: [UInt8]) -> String {
        let digits: [Character] = Array("0123456789ABCDEF")
        var text = ""
        text.reserveCapacity(bytes.count * 3)
        for (index, byte) in bytes.enumerated() {
            if index > 0 { text.append(" ") }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}

/// Prints rows as they come: the header before the first row (table and CSV).
struct PointPrinter {
    let format: PointFormat
    let raw: Bool
    private(set) var printed = 0

    init(format: PointFormat, raw: Bool = false) {
        self.format = format
        self.raw = raw
    }

    mutating func print(_ row: PointRow) {
        var text = ""
        if printed == 0, let header = PointRowFormatter.header(format, raw: raw) { text = header + "\n" }
        text += PointRowFormatter.format(row, format, raw: raw) + "\n"
        writeStandardOutput(text)
        printed += 1
    }
}
