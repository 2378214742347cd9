public import IEC104

/// Where a point lives: common address of ASDU and information object address.
public struct PointAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var commonAddress: UInt16
    public var objectAddress: UInt32

    public init(commonAddress: UInt16, objectAddress: UInt32) {
        self.commonAddress = commonAddress
        self.objectAddress = objectAddress
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.commonAddress, lhs.objectAddress) < (rhs.commonAddress, rhs.objectAddress)
    }

    /// `CA:IOA`, the notation the config files and the CLI use.
    public var description: String { "\(commonAddress):\(objectAddress)" }
}

/// A set of interrogation groups 1…16.
public struct InterrogationGroups: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public init(groups: some Sequence<Int>) {
        var raw: UInt16 = 0
        for group in groups where (1...16).contains(group) { raw |= 1 << UInt16(group - 1) }
        self.init(rawValue: raw)
    }

    public func contains(group: Int) -> Bool { (1...16).contains(group) && rawValue & 1 << UInt16(group - 1) != 0 }

    public var groups: [Int] { (1...16).filter { contains(group: $0) } }
}

/// When a change of a measured value is worth an event.
public enum Deadband: Hashable, Sendable {
    /// The value moved by at least this much since it was last reported.
    case absolute(Double)
    /// The value moved by at least this percentage of the last reported value's magnitude.
    case percent(Double)

    /// Whether going from `reported` to `new` crosses the deadband.
    public func isExceeded(from reported: Double, to new: Double) -> Bool {
        let change = abs(new - reported)
        switch self {
        case .absolute(let limit): return change >= limit
        case .percent(let percent): return change >= abs(reported) * percent / 100
        }
    }
}

/// When a monitor point is sent without being asked.
public enum PeriodicTransmission: Hashable, Sendable {
    /// COT 1, periodic/cyclic.
    case cyclic(Duration)
    /// COT 2, background scan.
    case background(Duration)

    public var period: Duration {
        switch self {
        case .cyclic(let period), .background(let period): period
        }
    }

    public var cause: Cause {
        switch self {
        case .cyclic: .periodic
        case .background: .background
        }
    }
}

/// A monitor point as configured in a point table.
///
/// The process image holds one per point (a million in a large RTU), so the layout is kept small: the
/// counter group in a byte and the settings few points have (deadband, periodic transmission) behind one
/// optional reference. That took the stride from 104 to 56 bytes; the properties read as before.
public struct MonitorPointDefinition: Hashable, Sendable {
    public var address: PointAddress
    public var name: String
    public var kind: PointKind
    public var initialValue: PointValue
    public var initialQuality: QualityDescriptor
    /// Whether spontaneous events carry a CP56Time2a time tag (the station may override it).
    public var timeTaggedEvents: Bool
    /// 0 for none, else 1…4.
    private var storedCounterGroup: UInt8
    public var groups: InterrogationGroups
    /// Keep the last value across restarts (integrated totals always are).
    public var retain: Bool
    /// Whether the point's events overtake others in a backed-up event buffer.
    public var priority: EventPriority
    private var rarelySet: RarelySetSettings?

    /// Settings most points leave unset, boxed (an indirect enum is one pointer, nil when none is set).
    private indirect enum RarelySetSettings: Hashable, Sendable {
        case settings(deadband: Deadband?, periodic: PeriodicTransmission?, staleAfter: Duration?, simulation: SimulationGenerator?)

        static func make(deadband: Deadband?, periodic: PeriodicTransmission?, staleAfter: Duration?,
                         simulation: SimulationGenerator?) -> Self? {
            deadband == nil && periodic == nil && staleAfter == nil && simulation == nil
                ? nil : .settings(deadband: deadband, periodic: periodic, staleAfter: staleAfter, simulation: simulation)
        }

        var deadband: Deadband? { if case .settings(let deadband, _, _, _) = self { deadband } else { nil } }
        var periodic: PeriodicTransmission? { if case .settings(_, let periodic, _, _) = self { periodic } else { nil } }
        var staleAfter: Duration? { if case .settings(_, _, let staleAfter, _) = self { staleAfter } else { nil } }
        var simulation: SimulationGenerator? { if case .settings(_, _, _, let simulation) = self { simulation } else { nil } }
    }

    /// Counter interrogation group 1…4 (integrated totals only).
    public var counterGroup: Int? {
        get { storedCounterGroup == 0 ? nil : Int(storedCounterGroup) }
        set { storedCounterGroup = newValue.map { UInt8(clamping: $0) } ?? 0 }
    }

    public var deadband: Deadband? {
        get { rarelySet?.deadband }
        set { rarelySet = .make(deadband: newValue, periodic: periodic, staleAfter: staleAfter, simulation: simulation) }
    }

    public var periodic: PeriodicTransmission? {
        get { rarelySet?.periodic }
        set { rarelySet = .make(deadband: deadband, periodic: newValue, staleAfter: staleAfter, simulation: simulation) }
    }

    /// With no update for this long (since the last one, or since start), the point's quality becomes not
    /// topical (NT; IV for integrated totals, whose BCR has no NT bit) until the next update. See
    /// ``StalenessWatch``; the configuration resolves a station's default into this value.
    public var staleAfter: Duration? {
        get { rarelySet?.staleAfter }
        set { rarelySet = .make(deadband: deadband, periodic: periodic, staleAfter: newValue, simulation: simulation) }
    }

    /// The built-in generator that sets the point's value (`simulate`); see ``SimulationSchedule``.
    public var simulation: SimulationGenerator? {
        get { rarelySet?.simulation }
        set { rarelySet = .make(deadband: deadband, periodic: periodic, staleAfter: staleAfter, simulation: newValue) }
    }

    /// `priority` nil takes the kind's default (``PointKind/defaultEventPriority``).
    public init(address: PointAddress, name: String = "", kind: PointKind, initialValue: PointValue? = nil,
                initialQuality: QualityDescriptor = [], timeTaggedEvents: Bool = false,
                groups: InterrogationGroups = [], counterGroup: Int? = nil, deadband: Deadband? = nil,
                periodic: PeriodicTransmission? = nil, retain: Bool = false, priority: EventPriority? = nil,
                staleAfter: Duration? = nil, simulation: SimulationGenerator? = nil) {
        self.address = address
        self.name = name
        self.kind = kind
        self.initialValue = initialValue ?? .zero(of: kind)
        self.initialQuality = initialQuality
        self.timeTaggedEvents = timeTaggedEvents
        self.groups = groups
        self.storedCounterGroup = counterGroup.map { UInt8(clamping: $0) } ?? 0
        self.rarelySet = .make(deadband: deadband, periodic: periodic, staleAfter: staleAfter, simulation: simulation)
        self.retain = retain
        self.priority = priority ?? kind.defaultEventPriority
    }

    /// Whether the point's value is written to the state file.
    public var isPersistent: Bool { retain || kind == .counter }
}

/// The command families a command point accepts.
public enum CommandKind: String, CaseIterable, Hashable, Sendable {
    case single
    case double
    case step
    case normalized
    case scaled
    case float
    case bitstring

    public var typeID: TypeID {
        switch self {
        case .single: .C_SC_NA_1
        case .double: .C_DC_NA_1
        case .step: .C_RC_NA_1
        case .normalized: .C_SE_NA_1
        case .scaled: .C_SE_NB_1
        case .float: .C_SE_NC_1
        case .bitstring: .C_BO_NA_1
        }
    }

    public var timeTaggedTypeID: TypeID { typeID.withTimeTag ?? typeID }

    public init?(typeID: TypeID) {
        guard let kind = CommandKind.allCases.first(where: { $0.typeID == typeID.withoutTimeTag }) else { return nil }
        self = kind
    }
}

/// Which command forms a point takes with respect to the time tag.
public enum CommandTimeTag: String, CaseIterable, Hashable, Sendable {
    /// Only the type without time tag (e.g. C_SC_NA_1).
    case without
    /// Only the type with CP56Time2a (e.g. C_SC_TA_1).
    case with
    /// Both.
    case both

    public func accepts(timeTagged: Bool) -> Bool {
        switch self {
        case .without: !timeTagged
        case .with: timeTagged
        case .both: true
        }
    }
}

/// Whether select-before-operate is used.
public enum SelectBeforeOperate: String, CaseIterable, Hashable, Sendable {
    /// A select is refused; only direct execute.
    case no
    /// Direct execute or select then execute.
    case optional
    /// Direct execute is refused.
    case required
}

/// A command point as configured in a point table.
public struct CommandPointDefinition: Hashable, Sendable {
    public var address: PointAddress
    public var name: String
    public var kind: CommandKind
    public var timeTag: CommandTimeTag
    public var selectBeforeOperate: SelectBeforeOperate
    /// The monitor point that reports the commanded state back.
    public var feedback: PointAddress?
    /// Send ACTTERM after a successful execution.
    public var sendsTermination: Bool

    public init(address: PointAddress, name: String = "", kind: CommandKind, timeTag: CommandTimeTag = .both,
                selectBeforeOperate: SelectBeforeOperate = .optional, feedback: PointAddress? = nil,
                sendsTermination: Bool = true) {
        self.address = address
        self.name = name
        self.kind = kind
        self.timeTag = timeTag
        self.selectBeforeOperate = selectBeforeOperate
        self.feedback = feedback
        self.sendsTermination = sendsTermination
    }

    /// Whether a command of `typeID` fits this point.
    public func accepts(_ typeID: TypeID) -> Bool {
        typeID.withoutTimeTag == kind.typeID && timeTag.accepts(timeTagged: typeID.hasTimeTag)
    }
}

/// Every point of an outstation, as read from its point tables.
public struct PointTable: Hashable, Sendable {
    public var monitorPoints: [MonitorPointDefinition]
    public var commandPoints: [CommandPointDefinition]

    public init(monitorPoints: [MonitorPointDefinition] = [], commandPoints: [CommandPointDefinition] = []) {
        self.monitorPoints = monitorPoints
        self.commandPoints = commandPoints
    }

    public var commonAddresses: Set<UInt16> {
        Set(monitorPoints.map(\.address.commonAddress)).union(commandPoints.map(\.address.commonAddress))
    }
}
