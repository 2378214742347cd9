public import IEC104

/// The kinds of monitor point a process image holds.
public enum PointKind: String, CaseIterable, Hashable, Sendable {
    case single
    case double
    case step
    case bitstring
    case normalized
    case scaled
    case float
    case counter

    /// The type ID of interrogation replies and of events without time tag.
    public var typeID: TypeID {
        switch self {
        case .single: .M_SP_NA_1
        case .double: .M_DP_NA_1
        case .step: .M_ST_NA_1
        case .bitstring: .M_BO_NA_1
        case .normalized: .M_ME_NA_1
        case .scaled: .M_ME_NB_1
        case .float: .M_ME_NC_1
        case .counter: .M_IT_NA_1
        }
    }

    /// The type ID of events with a CP56Time2a time tag.
    public var timeTaggedTypeID: TypeID {
        // Every monitor kind here has a time-tagged twin in the 104 selection.
        typeID.withTimeTag ?? typeID
    }

    /// Measured values, for which deadbands apply.
    public var isMeasurement: Bool { self == .normalized || self == .scaled || self == .float }
}

/// The current value of a monitor point, without its quality.
public enum PointValue: Hashable, Sendable {
    case single(Bool)
    case double(DoublePointState)
    case step(StepPosition)
    case bitstring(UInt32)
    case normalized(NormalizedValue)
    case scaled(Int16)
    case float(Float)
    case counter(BinaryCounterReading)

    public var kind: PointKind {
        switch self {
        case .single: .single
        case .double: .double
        case .step: .step
        case .bitstring: .bitstring
        case .normalized: .normalized
        case .scaled: .scaled
        case .float: .float
        case .counter: .counter
        }
    }

    /// The value as a number, for deadbands and for display.
    public var numericValue: Double {
        switch self {
        case .single(let on): on ? 1 : 0
        case .double(let state): Double(state.rawValue)
        case .step(let position): Double(position.value)
        case .bitstring(let bits): Double(bits)
        case .normalized(let value): value.doubleValue
        case .scaled(let value): Double(value)
        case .float(let value): Double(value)
        case .counter(let reading): Double(reading.value)
        }
    }

    /// The zero value of a kind, for points without an initial value.
    public static func zero(of kind: PointKind) -> PointValue {
        switch kind {
        case .single: .single(false)
        case .double: .double(.off)
        case .step: .step(StepPosition(value: 0))
        case .bitstring: .bitstring(0)
        case .normalized: .normalized(NormalizedValue(rawValue: 0))
        case .scaled: .scaled(0)
        case .float: .float(0)
        case .counter: .counter(BinaryCounterReading(value: 0))
        }
    }

    /// The information element for this value, with or without time tag.
    public func element(quality: QualityDescriptor, time: CP56Time2a?) -> InformationElement {
        switch self {
        case .single(let on):
            return .singlePoint(SinglePointInformation(isOn: on, quality: quality), time: time)
        case .double(let state):
            return .doublePoint(DoublePointInformation(state: state, quality: quality), time: time)
        case .step(let position):
            return .stepPosition(position, quality, time: time)
        case .bitstring(let bits):
            return .bitstring(bits, quality, time: time)
        case .normalized(let value):
            return .normalized(value, quality, time: time)
        case .scaled(let value):
            return .scaled(value, quality, time: time)
        case .float(let value):
            return .float(value, quality, time: time)
        case .counter(var reading):
            // A counter's own IV bit carries the point's invalid quality.
            reading.invalid = reading.invalid || quality.contains(.invalid)
            return .integratedTotals(reading, time: time)
        }
    }
}

extension PointKind {
    /// The quality flag for a value that lapsed (stale, or its source gone): NT, not topical, IEC 60870-5-101
    /// 7.2.6.3; IV for integrated totals, whose BCR (7.2.6.9) has no NT bit.
    public var lapseFlag: QualityDescriptor { self == .counter ? .invalid : .notTopical }
}
