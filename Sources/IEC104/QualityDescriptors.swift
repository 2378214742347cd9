/// Quality descriptor QDS, IEC 60870-5-101 clause 7.2.6.3; also the quality bits of SIQ and DIQ.
public struct QualityDescriptor: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// OV: the value is beyond a predefined range (measured values only, not in SIQ/DIQ).
    public static let overflow = QualityDescriptor(rawValue: 0x01)
    /// BL: the value is blocked for transmission.
    public static let blocked = QualityDescriptor(rawValue: 0x10)
    /// SB: the value was provided by an operator or an automatic source, not the process.
    public static let substituted = QualityDescriptor(rawValue: 0x20)
    /// NT: the most recent update was not successful; the value is not topical.
    public static let notTopical = QualityDescriptor(rawValue: 0x40)
    /// IV: the value is invalid.
    public static let invalid = QualityDescriptor(rawValue: 0x80)

    static let defined: UInt8 = 0xF1
    /// The bits that SIQ and DIQ carry (no overflow there).
    static let pointBits: UInt8 = 0xF0

    /// Keeps only the defined bits; reserved bits are ignored as the standard's receivers do.
    init(masking rawValue: UInt8) { self.rawValue = rawValue & Self.defined }

    public var flagNames: [String] {
        var names: [String] = []
        if contains(.overflow) { names.append("OV") }
        if contains(.blocked) { names.append("BL") }
        if contains(.substituted) { names.append("SB") }
        if contains(.notTopical) { names.append("NT") }
        if contains(.invalid) { names.append("IV") }
        return names
    }
}

/// SIQ: single-point information with quality descriptor, clause 7.2.6.1.
public struct SinglePointInformation: Hashable, Sendable {
    public var isOn: Bool
    /// Only BL, SB, NT and IV; an overflow bit is not carried.
    public var quality: QualityDescriptor

    public init(isOn: Bool, quality: QualityDescriptor = []) {
        self.isOn = isOn
        self.quality = quality
    }

    public var octet: UInt8 { (isOn ? 1 : 0) | quality.rawValue & QualityDescriptor.pointBits }

    public init(octet: UInt8) {
        self.init(isOn: octet & 0x01 != 0, quality: QualityDescriptor(rawValue: octet & QualityDescriptor.pointBits))
    }
}

/// The double-point state DPI, clause 7.2.6.2.
public enum DoublePointState: UInt8, Hashable, Sendable, CaseIterable {
    case intermediate = 0
    case off = 1
    case on = 2
    case indeterminate = 3

    public var name: String {
        switch self {
        case .intermediate: "intermediate"
        case .off: "off"
        case .on: "on"
        case .indeterminate: "indeterminate"
        }
    }
}

/// DIQ: double-point information with quality descriptor, clause 7.2.6.2.
public struct DoublePointInformation: Hashable, Sendable {
    public var state: DoublePointState
    public var quality: QualityDescriptor

    public init(state: DoublePointState, quality: QualityDescriptor = []) {
        self.state = state
        self.quality = quality
    }

    public var octet: UInt8 { state.rawValue | quality.rawValue & QualityDescriptor.pointBits }

    public init(octet: UInt8) {
        // Two bits always map to one of the four states.
        self.init(state: DoublePointState(rawValue: octet & 0x03) ?? .indeterminate,
                  quality: QualityDescriptor(rawValue: octet & QualityDescriptor.pointBits))
    }
}

/// VTI: value with transient state indication, clause 7.2.6.5 (a 7-bit signed value, −64…+63).
public struct StepPosition: Hashable, Sendable {
    public static let range: ClosedRange<Int8> = -64...63

    public var value: Int8
    /// The equipment is moving between positions.
    public var isTransient: Bool

    /// A value outside −64…+63 is clamped to that range.
    public init(value: Int8, isTransient: Bool = false) {
        self.value = min(max(value, Self.range.lowerBound), Self.range.upperBound)
        self.isTransient = isTransient
    }

    public var octet: UInt8 { UInt8(bitPattern: value) & 0x7F | (isTransient ? 0x80 : 0) }

    public init(octet: UInt8) {
        // Sign-extend bit 7 of the seven-bit value.
        let sevenBits = octet & 0x7F
        self.init(value: Int8(bitPattern: sevenBits & 0x40 != 0 ? sevenBits | 0x80 : sevenBits),
                  isTransient: octet & 0x80 != 0)
    }
}

/// NVA: normalized value, clause 7.2.6.6; the 16-bit fraction −1 … +1−2⁻¹⁵.
public struct NormalizedValue: Hashable, Sendable, Comparable {
    public var rawValue: Int16

    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// Rounds to the nearest representable value and clamps to −1 … +1−2⁻¹⁵; NaN becomes 0.
    public init(_ value: Double) {
        guard !value.isNaN else { self.rawValue = 0; return }
        let scaled = (value * 32768).rounded()
        self.rawValue = Int16(min(max(scaled, -32768), 32767))
    }

    public var doubleValue: Double { Double(rawValue) / 32768 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// BCR: binary counter reading, clause 7.2.6.9.
public struct BinaryCounterReading: Hashable, Sendable {
    public var value: Int32
    /// SQ: sequence notation, 0…31.
    public var sequenceNumber: UInt8
    /// CY: the counter overflowed in the integration period.
    public var carry: Bool
    /// CA: the counter was adjusted since the last reading.
    public var adjusted: Bool
    /// IV: the reading is invalid.
    public var invalid: Bool

    public init(value: Int32, sequenceNumber: UInt8 = 0, carry: Bool = false, adjusted: Bool = false, invalid: Bool = false) {
        self.value = value
        self.sequenceNumber = sequenceNumber & 0x1F
        self.carry = carry
        self.adjusted = adjusted
        self.invalid = invalid
    }

    public var flagsOctet: UInt8 {
        sequenceNumber & 0x1F | (carry ? 0x20 : 0) | (adjusted ? 0x40 : 0) | (invalid ? 0x80 : 0)
    }

    public init(value: Int32, flagsOctet: UInt8) {
        self.init(value: value, sequenceNumber: flagsOctet & 0x1F, carry: flagsOctet & 0x20 != 0,
                  adjusted: flagsOctet & 0x40 != 0, invalid: flagsOctet & 0x80 != 0)
    }
}

/// SCD: status and status change detection, clause 7.2.6.40 (16 points and their change flags).
public struct StatusChangeDetection: Hashable, Sendable {
    public var status: UInt16
    public var changed: UInt16

    public init(status: UInt16, changed: UInt16) {
        self.status = status
        self.changed = changed
    }
}

/// QDP: quality descriptor for events of protection equipment, clause 7.2.6.4.
public struct ProtectionQuality: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// EI: the elapsed time is invalid.
    public static let elapsedTimeInvalid = ProtectionQuality(rawValue: 0x08)
    public static let blocked = ProtectionQuality(rawValue: 0x10)
    public static let substituted = ProtectionQuality(rawValue: 0x20)
    public static let notTopical = ProtectionQuality(rawValue: 0x40)
    public static let invalid = ProtectionQuality(rawValue: 0x80)

    static let defined: UInt8 = 0xF8

    init(masking rawValue: UInt8) { self.rawValue = rawValue & Self.defined }

    public var flagNames: [String] {
        var names: [String] = []
        if contains(.elapsedTimeInvalid) { names.append("EI") }
        if contains(.blocked) { names.append("BL") }
        if contains(.substituted) { names.append("SB") }
        if contains(.notTopical) { names.append("NT") }
        if contains(.invalid) { names.append("IV") }
        return names
    }
}

/// SEP: single event of protection equipment, clause 7.2.6.10.
public struct SingleEventOfProtection: Hashable, Sendable {
    /// ES: the event state, with the same four values as a double point.
    public var state: DoublePointState
    public var quality: ProtectionQuality

    public init(state: DoublePointState, quality: ProtectionQuality = []) {
        self.state = state
        self.quality = quality
    }

    public var octet: UInt8 { state.rawValue | quality.rawValue & ProtectionQuality.defined }

    public init(octet: UInt8) {
        self.init(state: DoublePointState(rawValue: octet & 0x03) ?? .indeterminate,
                  quality: ProtectionQuality(masking: octet))
    }
}

/// SPE: start events of protection equipment, clause 7.2.6.11.
public struct StartEventsOfProtection: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x3F }

    public static let general = StartEventsOfProtection(rawValue: 0x01)
    public static let phaseL1 = StartEventsOfProtection(rawValue: 0x02)
    public static let phaseL2 = StartEventsOfProtection(rawValue: 0x04)
    public static let phaseL3 = StartEventsOfProtection(rawValue: 0x08)
    public static let earthCurrent = StartEventsOfProtection(rawValue: 0x10)
    public static let reverseDirection = StartEventsOfProtection(rawValue: 0x20)
}

/// OCI: output circuit information of protection equipment, clause 7.2.6.12.
public struct OutputCircuitInformation: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    public static let general = OutputCircuitInformation(rawValue: 0x01)
    public static let phaseL1 = OutputCircuitInformation(rawValue: 0x02)
    public static let phaseL2 = OutputCircuitInformation(rawValue: 0x04)
    public static let phaseL3 = OutputCircuitInformation(rawValue: 0x08)
}

/// COI: cause of initialization, clause 7.2.6.21.
public struct CauseOfInitialization: Hashable, Sendable {
    /// 0 local power on, 1 local manual reset, 2 remote reset; 3–31 reserved (compatible), 32–127 private.
    public var cause: UInt8
    /// BS: initialization after a change of local parameters.
    public var afterParameterChange: Bool

    public init(cause: UInt8, afterParameterChange: Bool = false) {
        self.cause = cause & 0x7F
        self.afterParameterChange = afterParameterChange
    }

    public static let localPowerOn = CauseOfInitialization(cause: 0)
    public static let localManualReset = CauseOfInitialization(cause: 1)
    public static let remoteReset = CauseOfInitialization(cause: 2)

    public var octet: UInt8 { cause | (afterParameterChange ? 0x80 : 0) }

    public init(octet: UInt8) { self.init(cause: octet & 0x7F, afterParameterChange: octet & 0x80 != 0) }
}
