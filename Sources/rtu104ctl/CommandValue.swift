import ArgumentParser
import IEC104

/// The command types of `rtu104ctl command --type`.
enum CommandKind: String, ExpressibleByArgument, CaseIterable, Sendable {
    case single, double, step, normalized, scaled, float, bitstring

    /// The type ID without and with CP56Time2a.
    func typeID(timeTagged: Bool) -> TypeID {
        switch (self, timeTagged) {
        case (.single, false): .C_SC_NA_1
        case (.single, true): .C_SC_TA_1
        case (.double, false): .C_DC_NA_1
        case (.double, true): .C_DC_TA_1
        case (.step, false): .C_RC_NA_1
        case (.step, true): .C_RC_TA_1
        case (.normalized, false): .C_SE_NA_1
        case (.normalized, true): .C_SE_TA_1
        case (.scaled, false): .C_SE_NB_1
        case (.scaled, true): .C_SE_TB_1
        case (.float, false): .C_SE_NC_1
        case (.float, true): .C_SE_TC_1
        case (.bitstring, false): .C_BO_NA_1
        case (.bitstring, true): .C_BO_TA_1
        }
    }

    /// Whether the command has a qualifier of command (QU) rather than a set-point qualifier (QL).
    var hasCommandQualifier: Bool { self == .single || self == .double || self == .step }
}

/// A parsed command value, checked against the type's range.
enum CommandValue: Hashable, Sendable {
    case single(Bool)
    case double(DoubleCommandState)
    case step(StepDirection)
    case normalized(NormalizedValue)
    case scaled(Int16)
    case float(Float)
    case bitstring(UInt32)

    /// Parses `text` for `kind`; the error message names the accepted forms.
    static func parse(_ text: String, as kind: CommandKind) throws -> CommandValue {
        let word = text.lowercased()
        switch kind {
        case .single:
            switch word {
            case "on", "true", "1", "close": return .single(true)
            case "off", "false", "0", "open": return .single(false)
            default: throw ValidationError("'\(text)' is not a single command value; use on/off, true/false or 1/0")
            }
        case .double:
            switch word {
            case "on", "true", "2", "close": return .double(.on)
            case "off", "false", "1", "open": return .double(.off)
            default: throw ValidationError("'\(text)' is not a double command value; use on or off (DCS 2 or 1)")
            }
        case .step:
            switch word {
            case "higher", "raise", "up", "+", "2": return .step(.higher)
            case "lower", "down", "-", "1": return .step(.lower)
            default: throw ValidationError("'\(text)' is not a regulating step; use higher/raise/up or lower/down")
            }
        case .normalized:
            guard let number = Double(text), number.isFinite, (-1...1).contains(number) else {
                throw ValidationError("'\(text)' is not a normalized value; use a number from -1 to 1")
            }
            return .normalized(NormalizedValue(number))
        case .scaled:
            guard let number = Int16(text) else {
                throw ValidationError("'\(text)' is not a scaled value; use an integer from -32768 to 32767")
            }
            return .scaled(number)
        case .float:
            guard let number = Float(text), number.isFinite else {
                throw ValidationError("'\(text)' is not a short floating point number")
            }
            return .float(number)
        case .bitstring:
            let parsed: UInt32? = word.hasPrefix("0x") ? UInt32(word.dropFirst(2), radix: 16)
                : word.hasPrefix("0b") ? UInt32(word.dropFirst(2), radix: 2) : UInt32(word)
            guard let bits = parsed else {
                throw ValidationError("'\(text)' is not a 32-bit string; use 0...4294967295, 0x… or 0b…")
            }
            return .bitstring(bits)
        }
    }

    /// The element to send; `qualifier` is QU (0–31) for single, double and step, QL (0–127) for set-points.
    func element(select: Bool, qualifier: UInt8, time: CP56Time2a?) -> InformationElement {
        let qu = CommandQualifier(rawValue: qualifier)
        switch self {
        case .single(let on):
            return .singleCommand(SingleCommand(isOn: on, qualifier: qu, isSelect: select), time: time)
        case .double(let state):
            return .doubleCommand(DoubleCommand(state: state, qualifier: qu, isSelect: select), time: time)
        case .step(let direction):
            return .regulatingStepCommand(RegulatingStepCommand(direction: direction, qualifier: qu, isSelect: select), time: time)
        case .normalized(let value):
            return .setpointNormalized(value, SetpointQualifier(qualifier: qualifier, isSelect: select), time: time)
        case .scaled(let value):
            return .setpointScaled(value, SetpointQualifier(qualifier: qualifier, isSelect: select), time: time)
        case .float(let value):
            return .setpointFloat(value, SetpointQualifier(qualifier: qualifier, isSelect: select), time: time)
        case .bitstring(let bits):
            return .bitstringCommand(bits, time: time)
        }
    }

    /// `on`, `off`, `higher`, `0.5`, `-1234`, `230.5`, `0x0000FFFF`.
    var text: String {
        switch self {
        case .single(let on): on ? "on" : "off"
        case .double(let state): ElementNames.doubleCommand(state)
        case .step(let direction): ElementNames.stepDirection(direction)
        case .normalized(let value): "\(value.doubleValue)"
        case .scaled(let value): "\(value)"
        case .float(let value): "\(value)"
        case .bitstring(let bits): ElementNames.hex(bits)
        }
    }
}

/// `--qualifier`: QU names for single, double and step commands, or a number (QU 0–31, QL 0–127).
enum QualifierOption {
    static func parse(_ text: String?, for kind: CommandKind) throws -> UInt8 {
        guard let text else { return 0 }
        if kind == .bitstring {
            guard ["default", "none", "0"].contains(text.lowercased()) else {
                throw ValidationError("bitstring commands have no qualifier")
            }
            return 0
        }
        let limit: UInt8 = kind.hasCommandQualifier ? 31 : 127
        switch text.lowercased() {
        case "default", "none": return 0
        case "short", "short-pulse": if kind.hasCommandQualifier { return 1 }
        case "long", "long-pulse": if kind.hasCommandQualifier { return 2 }
        case "persistent": if kind.hasCommandQualifier { return 3 }
        default:
            if let number = UInt8(text), number <= limit { return number }
        }
        throw ValidationError(kind.hasCommandQualifier
            ? "'\(text)' is not a qualifier of command; use short, long, persistent, default or 0...31"
            : "'\(text)' is not a set-point qualifier (QL); use 0...127")
    }
}
