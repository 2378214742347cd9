/// QU: qualifier of command, IEC 60870-5-101 clause 7.2.6.26 (five bits inside SCO, DCO, RCO).
public struct CommandQualifier: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    /// Values above 31 are truncated to five bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x1F }

    public static let noAdditionalDefinition = CommandQualifier(rawValue: 0)
    public static let shortPulse = CommandQualifier(rawValue: 1)
    public static let longPulse = CommandQualifier(rawValue: 2)
    public static let persistent = CommandQualifier(rawValue: 3)

    public var name: String {
        switch rawValue {
        case 0: "default"
        case 1: "short pulse"
        case 2: "long pulse"
        case 3: "persistent"
        default: "qualifier \(rawValue)"
        }
    }
}

/// SCO: single command, clause 7.2.6.15.
public struct SingleCommand: Hashable, Sendable {
    public var isOn: Bool
    public var qualifier: CommandQualifier
    /// S/E: select (true) or execute (false).
    public var isSelect: Bool

    public init(isOn: Bool, qualifier: CommandQualifier = .noAdditionalDefinition, isSelect: Bool = false) {
        self.isOn = isOn
        self.qualifier = qualifier
        self.isSelect = isSelect
    }

    public var octet: UInt8 { (isOn ? 1 : 0) | qualifier.rawValue << 2 | (isSelect ? 0x80 : 0) }

    public init(octet: UInt8) {
        self.init(isOn: octet & 0x01 != 0, qualifier: CommandQualifier(rawValue: octet >> 2 & 0x1F),
                  isSelect: octet & 0x80 != 0)
    }
}

/// DCS: the state a double command asks for; 0 and 3 are not permitted.
public enum DoubleCommandState: UInt8, Hashable, Sendable, CaseIterable {
    case off = 1
    case on = 2
}

/// DCO: double command, clause 7.2.6.16.
public struct DoubleCommand: Hashable, Sendable {
    public var state: DoubleCommandState
    public var qualifier: CommandQualifier
    public var isSelect: Bool

    public init(state: DoubleCommandState, qualifier: CommandQualifier = .noAdditionalDefinition, isSelect: Bool = false) {
        self.state = state
        self.qualifier = qualifier
        self.isSelect = isSelect
    }

    public var octet: UInt8 { state.rawValue | qualifier.rawValue << 2 | (isSelect ? 0x80 : 0) }

    init(octet: UInt8) throws(ASDUError) {
        guard let state = DoubleCommandState(rawValue: octet & 0x03) else {
            throw .reservedValue(field: "DCS (double command state)", value: Int(octet & 0x03))
        }
        self.init(state: state, qualifier: CommandQualifier(rawValue: octet >> 2 & 0x1F), isSelect: octet & 0x80 != 0)
    }
}

/// RCS: the direction of a regulating step command; 0 and 3 are not permitted.
public enum StepDirection: UInt8, Hashable, Sendable, CaseIterable {
    case lower = 1
    case higher = 2
}

/// RCO: regulating step command, clause 7.2.6.17.
public struct RegulatingStepCommand: Hashable, Sendable {
    public var direction: StepDirection
    public var qualifier: CommandQualifier
    public var isSelect: Bool

    public init(direction: StepDirection, qualifier: CommandQualifier = .noAdditionalDefinition, isSelect: Bool = false) {
        self.direction = direction
        self.qualifier = qualifier
        self.isSelect = isSelect
    }

    public var octet: UInt8 { direction.rawValue | qualifier.rawValue << 2 | (isSelect ? 0x80 : 0) }

    init(octet: UInt8) throws(ASDUError) {
        guard let direction = StepDirection(rawValue: octet & 0x03) else {
            throw .reservedValue(field: "RCS (regulating step state)", value: Int(octet & 0x03))
        }
        self.init(direction: direction, qualifier: CommandQualifier(rawValue: octet >> 2 & 0x1F), isSelect: octet & 0x80 != 0)
    }
}

/// QOS: qualifier of set-point command, clause 7.2.6.39.
public struct SetpointQualifier: Hashable, Sendable {
    /// QL: 0 default, 1–63 reserved (compatible), 64–127 private.
    public var qualifier: UInt8
    public var isSelect: Bool

    public init(qualifier: UInt8 = 0, isSelect: Bool = false) {
        self.qualifier = qualifier & 0x7F
        self.isSelect = isSelect
    }

    public var octet: UInt8 { qualifier & 0x7F | (isSelect ? 0x80 : 0) }

    public init(octet: UInt8) { self.init(qualifier: octet & 0x7F, isSelect: octet & 0x80 != 0) }
}

/// QOI: qualifier of interrogation, clause 7.2.6.22.
public struct InterrogationQualifier: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// 20: station (general) interrogation.
    public static let station = InterrogationQualifier(rawValue: 20)

    /// 21–36: interrogation of group 1–16.
    public static func group(_ group: Int) -> InterrogationQualifier {
        precondition((1...16).contains(group), "interrogation group \(group) is outside 1...16")
        return InterrogationQualifier(rawValue: UInt8(20 + group))
    }

    /// The group 1…16, or nil for station interrogation and undefined values.
    public var group: Int? { (21...36).contains(rawValue) ? Int(rawValue) - 20 : nil }

    /// The cause of transmission that the replies to this interrogation carry, if the qualifier is defined.
    public var replyCause: Cause? {
        (20...36).contains(rawValue) ? Cause(rawValue: rawValue) : nil
    }

    public var name: String {
        switch rawValue {
        case 20: "station interrogation"
        case 21...36: "group \(rawValue - 20) interrogation"
        default: "qualifier \(rawValue)"
        }
    }
}

/// FRZ: what a counter interrogation does with the counters.
public enum CounterFreeze: UInt8, Hashable, Sendable, CaseIterable {
    case read = 0
    case freezeWithoutReset = 1
    case freezeWithReset = 2
    case reset = 3

    public var name: String {
        switch self {
        case .read: "read"
        case .freezeWithoutReset: "freeze without reset"
        case .freezeWithReset: "freeze with reset"
        case .reset: "reset"
        }
    }
}

/// QCC: qualifier of counter interrogation command, clause 7.2.6.23.
public struct CounterInterrogationQualifier: Hashable, Sendable {
    /// RQT: 0 none, 1–4 group 1–4, 5 general request; 6–31 reserved, 32–63 private.
    public var request: UInt8
    public var freeze: CounterFreeze

    public init(request: UInt8, freeze: CounterFreeze = .read) {
        self.request = request & 0x3F
        self.freeze = freeze
    }

    public static let general: UInt8 = 5

    public var octet: UInt8 { request & 0x3F | freeze.rawValue << 6 }

    public init(octet: UInt8) {
        // Two bits always map to one of the four freeze modes.
        self.init(request: octet & 0x3F, freeze: CounterFreeze(rawValue: octet >> 6) ?? .read)
    }

    /// The counter group 1…4, or nil for a general request and undefined values.
    public var group: Int? { (1...4).contains(request) ? Int(request) : nil }
}

/// QRP: qualifier of reset process command, clause 7.2.6.27.
public struct ResetProcessQualifier: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// 1: general reset of process.
    public static let general = ResetProcessQualifier(rawValue: 1)
    /// 2: reset of pending information with time tag of the event buffer.
    public static let eventBuffer = ResetProcessQualifier(rawValue: 2)
}

/// QPM: qualifier of parameter of measured values, clause 7.2.6.24.
public struct MeasuredParameterQualifier: Hashable, Sendable {
    /// KPA: 1 threshold, 2 smoothing factor, 3 low limit, 4 high limit; 5–31 reserved, 32–63 private.
    public var kind: UInt8
    /// LPC: local parameter change.
    public var localChange: Bool
    /// POP: parameter not in operation.
    public var notInOperation: Bool

    public init(kind: UInt8, localChange: Bool = false, notInOperation: Bool = false) {
        self.kind = kind & 0x3F
        self.localChange = localChange
        self.notInOperation = notInOperation
    }

    public var octet: UInt8 { kind & 0x3F | (localChange ? 0x40 : 0) | (notInOperation ? 0x80 : 0) }

    public init(octet: UInt8) {
        self.init(kind: octet & 0x3F, localChange: octet & 0x40 != 0, notInOperation: octet & 0x80 != 0)
    }
}

/// QPA: qualifier of parameter activation, clause 7.2.6.25.
public struct ParameterActivationQualifier: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
}
