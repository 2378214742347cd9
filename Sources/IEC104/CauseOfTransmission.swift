/// The six-bit cause of transmission, IEC 60870-5-101 clause 7.2.3.
///
/// A struct rather than an enum so that causes the station does not know still decode
/// and can be answered with "unknown cause of transmission" (COT 45).
public struct Cause: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8

    /// Values above 63 are truncated to six bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x3F }

    public static let periodic = Cause(rawValue: 1)
    public static let background = Cause(rawValue: 2)
    public static let spontaneous = Cause(rawValue: 3)
    public static let initialized = Cause(rawValue: 4)
    public static let request = Cause(rawValue: 5)
    public static let activation = Cause(rawValue: 6)
    public static let activationConfirmation = Cause(rawValue: 7)
    public static let deactivation = Cause(rawValue: 8)
    public static let deactivationConfirmation = Cause(rawValue: 9)
    public static let activationTermination = Cause(rawValue: 10)
    public static let returnInformationRemote = Cause(rawValue: 11)
    public static let returnInformationLocal = Cause(rawValue: 12)
    public static let fileTransfer = Cause(rawValue: 13)
    public static let interrogatedByStation = Cause(rawValue: 20)
    public static let requestedByGeneralCounter = Cause(rawValue: 37)
    public static let unknownTypeID = Cause(rawValue: 44)
    public static let unknownCause = Cause(rawValue: 45)
    public static let unknownCommonAddress = Cause(rawValue: 46)
    public static let unknownObjectAddress = Cause(rawValue: 47)

    /// "Interrogated by group n", n = 1…16 (COT 21–36).
    public static func interrogatedByGroup(_ group: Int) -> Cause {
        precondition((1...16).contains(group), "interrogation group \(group) is outside 1...16")
        return Cause(rawValue: UInt8(20 + group))
    }

    /// "Requested by group n counter request", n = 1…4 (COT 38–41).
    public static func requestedByCounterGroup(_ group: Int) -> Cause {
        precondition((1...4).contains(group), "counter group \(group) is outside 1...4")
        return Cause(rawValue: UInt8(37 + group))
    }

    /// The interrogation group (1…16) of COT 21–36, else nil.
    public var interrogationGroup: Int? { (21...36).contains(rawValue) ? Int(rawValue) - 20 : nil }

    /// The counter group (1…4) of COT 38–41, else nil.
    public var counterGroup: Int? { (38...41).contains(rawValue) ? Int(rawValue) - 37 : nil }

    /// A short name, e.g. `spont` or `inrogen`, as the standard abbreviates it.
    public var name: String {
        switch rawValue {
        case 1: "per/cyc"
        case 2: "back"
        case 3: "spont"
        case 4: "init"
        case 5: "req"
        case 6: "act"
        case 7: "actcon"
        case 8: "deact"
        case 9: "deactcon"
        case 10: "actterm"
        case 11: "retrem"
        case 12: "retloc"
        case 13: "file"
        case 20: "inrogen"
        case 21...36: "inro\(rawValue - 20)"
        case 37: "reqcogen"
        case 38...41: "reqco\(rawValue - 37)"
        case 44: "unknown type identification"
        case 45: "unknown cause of transmission"
        case 46: "unknown common address of ASDU"
        case 47: "unknown information object address"
        default: "cause \(rawValue)"
        }
    }
}

extension Cause: CustomStringConvertible {
    public var description: String { "\(name) (\(rawValue))" }
}

/// The two-octet cause of transmission field of IEC 60870-5-104: cause, P/N, T and originator address.
public struct CauseOfTransmission: Hashable, Sendable {
    public var cause: Cause
    /// P/N bit: the confirmation is negative.
    public var isNegative: Bool
    /// T bit: the ASDU was generated for test purposes.
    public var isTest: Bool
    /// Originator address (0 = default), IEC 60870-5-104 clause 9.
    public var originator: UInt8

    public init(_ cause: Cause, isNegative: Bool = false, isTest: Bool = false, originator: UInt8 = 0) {
        self.cause = cause
        self.isNegative = isNegative
        self.isTest = isTest
        self.originator = originator
    }

    /// The first octet: cause in bits 1–6, P/N in bit 7, T in bit 8.
    public var firstOctet: UInt8 {
        cause.rawValue | (isNegative ? 0x40 : 0) | (isTest ? 0x80 : 0)
    }

    public init(firstOctet: UInt8, originator: UInt8) {
        self.init(Cause(rawValue: firstOctet), isNegative: firstOctet & 0x40 != 0,
                  isTest: firstOctet & 0x80 != 0, originator: originator)
    }
}
