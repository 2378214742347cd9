/// Text for log lines and status output, written the way an engineer writes it in a profile or a
/// capture note: type mnemonics, causes by their abbreviations, `QU=`/`QL=` qualifiers and CP56Time2a
/// as ISO 8601 UTC. The `description`s elsewhere in this module may change for debugging; these do not.

extension CP56Time2a {
    /// ISO 8601 in UTC, e.g. `2026-12-04T15:34:23.331Z`, with ` IV`, ` SU`, ` SB` after it where set.
    /// The time tag carries no zone; the daemon sends and expects UTC (IEC 60870-5-104 clause 9.1 leaves it local or UTC).
    public var iso8601: String {
        var text = "20\(pad(year, 2))-\(pad(month, 2))-\(pad(dayOfMonth, 2))T"
            + "\(pad(hour, 2)):\(pad(minute, 2)):\(pad(milliseconds / 1000, 2)).\(pad(milliseconds % 1000, 3))Z"
        if isInvalid { text += " IV" }
        if isSummerTime { text += " SU" }
        if isSubstituted { text += " SB" }
        return text
    }
}

private func pad(_ value: some BinaryInteger, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

extension InformationElement {
    /// The element as an engineer writes it: `C_DC_NA_1 select on, QU=0`, `C_SE_NC_1 231.0`,
    /// `C_SC_TA_1 off, QU=0 at 2026-12-04T15:34:23.331Z`.
    public var operatorText: String {
        var text = typeID.mnemonic
        let value = operatorValue
        if !value.isEmpty { text += " " + value }
        if let time = operatorTime { text += " at " + time.iso8601 }
        return text
    }

    /// Whether the element is the select half of a select-before-operate command.
    public var isSelectCommand: Bool {
        switch self {
        case .singleCommand(let command, _): command.isSelect
        case .doubleCommand(let command, _): command.isSelect
        case .regulatingStepCommand(let command, _): command.isSelect
        case .setpointNormalized(_, let qualifier, _), .setpointScaled(_, let qualifier, _),
             .setpointFloat(_, let qualifier, _): qualifier.isSelect
        default: false
        }
    }

    /// The value without type or time, e.g. `select on, QU=0`; empty for elements without one.
    public var operatorValue: String {
        func command(_ isSelect: Bool, _ state: String, _ qualifier: CommandQualifier) -> String {
            (isSelect ? "select " : "") + "\(state), QU=\(qualifier.rawValue)"
        }
        func setpoint(_ value: String, _ qualifier: SetpointQualifier) -> String {
            (qualifier.isSelect ? "select " : "") + value + (qualifier.qualifier == 0 ? "" : ", QL=\(qualifier.qualifier)")
        }
        switch self {
        case .singleCommand(let c, _): return command(c.isSelect, c.isOn ? "on" : "off", c.qualifier)
        case .doubleCommand(let c, _): return command(c.isSelect, c.state == .on ? "on" : "off", c.qualifier)
        case .regulatingStepCommand(let c, _): return command(c.isSelect, c.direction == .higher ? "higher" : "lower", c.qualifier)
        case .setpointNormalized(let value, let q, _): return setpoint("\(value.doubleValue)", q)
        case .setpointScaled(let value, let q, _): return setpoint("\(value)", q)
        case .setpointFloat(let value, let q, _): return setpoint("\(value)", q)
        case .bitstringCommand(let bits, _): return "0x" + bits.paddedHex
        case .singlePoint(let value, _): return value.isOn ? "on" : "off"
        case .scaled(let value, _, _): return "\(value)"
        case .float(let value, _, _): return "\(value)"
        case .normalized(let value, _, _): return "\(value.doubleValue)"
        case .bitstring(let bits, _, _): return "0x" + bits.paddedHex
        case .integratedTotals(let reading, _): return "\(reading.value)"
        case .interrogation(let qualifier): return "QOI=\(qualifier.rawValue)"
        case .counterInterrogation(let qualifier): return "QCC=\(qualifier.octet)"
        case .resetProcess(let qualifier): return "QRP=\(qualifier.rawValue)"
        case .clockSynchronization(let time): return time.iso8601
        default: return ""
        }
    }

    /// A command's own time tag (types 58–64) or a monitor element's; nil for elements without one.
    var operatorTime: CP56Time2a? {
        switch self {
        case .singleCommand(_, let time), .doubleCommand(_, let time), .regulatingStepCommand(_, let time),
             .setpointNormalized(_, _, let time), .setpointScaled(_, _, let time), .setpointFloat(_, _, let time),
             .bitstringCommand(_, let time), .singlePoint(_, let time), .doublePoint(_, let time),
             .stepPosition(_, _, let time), .bitstring(_, _, let time), .normalized(_, _, let time),
             .scaled(_, _, let time), .float(_, _, let time), .integratedTotals(_, let time): time
        default: nil
        }
    }
}

extension FixedWidthInteger where Self: UnsignedInteger {
    /// Every hex digit of the value, upper case, zero-padded to the type's width: `0000ABCD` for a `UInt32`,
    /// `0F` for a `UInt8`.
    public var paddedHex: String {
        let digits = String(self, radix: 16, uppercase: true)
        return String(repeating: "0", count: Swift.max(0, Self.bitWidth / 4 - digits.count)) + digits
    }
}
