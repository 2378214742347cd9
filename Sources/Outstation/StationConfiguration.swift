public import IEC104

/// Which spontaneous events carry a CP56Time2a time tag.
public enum TimeTagPolicy: String, CaseIterable, Hashable, Sendable {
    /// As each point's table entry says.
    case perPoint = "per-point"
    case always
    case never

    public func timeTagged(_ point: MonitorPointDefinition) -> Bool {
        timeTagged(pointSetting: point.timeTaggedEvents)
    }

    /// `pointSetting`: the point's own `time_tag`.
    public func timeTagged(pointSetting: Bool) -> Bool {
        switch self {
        case .perPoint: pointSetting
        case .always: true
        case .never: false
        }
    }
}

/// What a full event buffer gives up.
public enum EventOverflowPolicy: String, CaseIterable, Hashable, Sendable {
    /// Drop the oldest buffered event to make room (counted and logged).
    case dropOldest = "drop-oldest"
    /// Keep the buffer and drop the new event (counted and logged).
    case dropNewest = "drop-newest"
}

/// One station: the session a master (or redundancy group of masters) has with the outstation.
public struct StationConfiguration: Hashable, Sendable {
    public var name: String
    /// The listener whose connections this station takes.
    public var listener: String
    public var filter: AddressFilter
    /// The common addresses this station serves; a request to another gets COT 46.
    public var commonAddresses: [UInt16]
    public var parameters: APCIParameters
    public var eventBufferSize: Int
    public var overflowPolicy: EventOverflowPolicy
    public var timeTags: TimeTagPolicy
    /// Connections the station holds at once; only the one in data transfer receives data.
    public var redundancy: Int
    /// Answer C_TS_NA_1 (IEC 60870-5-101's test command) instead of refusing it with COT 44.
    public var acceptTestCommandWithoutTime: Bool
    /// Close a connection that has not sent STARTDT act within this time (nil: never).
    public var startTimeout: Duration?
    /// Mark time tags invalid (IV) until the first clock synchronisation.
    public var invalidTimeUntilSynchronized: Bool
    /// How long a select (select-before-operate) waits for its execute.
    public var selectTimeout: Duration
    /// Whether producers wait for this station's master while it keeps up (instead of the station's
    /// event buffer overflowing); see ``Station/producerRoom(now:)``.
    public var backpressure: Bool
    /// How long a master may leave its oldest frame unacknowledged and still hold producers back. Not a
    /// configuration key: one second suits every master; tests on a loaded machine lengthen it.
    public var stallLimit: Duration
    /// Whether every event this station accepts is kept in the persistent journal until its master acknowledged
    /// it, so that a restart re-sends what was never confirmed (`event_journal`).
    public var eventJournal: Bool

    public init(name: String, listener: String, filter: AddressFilter, commonAddresses: [UInt16],
                parameters: APCIParameters = .standard, eventBufferSize: Int = 10_000,
                overflowPolicy: EventOverflowPolicy = .dropOldest, timeTags: TimeTagPolicy = .perPoint,
                redundancy: Int = 1, acceptTestCommandWithoutTime: Bool = false, startTimeout: Duration? = nil,
                invalidTimeUntilSynchronized: Bool = false, selectTimeout: Duration = .seconds(10),
                backpressure: Bool = true, stallLimit: Duration = Station.defaultStallLimit,
                eventJournal: Bool = false) {
        self.name = name
        self.listener = listener
        self.filter = filter
        self.commonAddresses = commonAddresses
        self.parameters = parameters
        self.eventBufferSize = eventBufferSize
        self.overflowPolicy = overflowPolicy
        self.timeTags = timeTags
        self.redundancy = redundancy
        self.acceptTestCommandWithoutTime = acceptTestCommandWithoutTime
        self.startTimeout = startTimeout
        self.invalidTimeUntilSynchronized = invalidTimeUntilSynchronized
        self.selectTimeout = selectTimeout
        self.backpressure = backpressure
        self.stallLimit = stallLimit
        self.eventJournal = eventJournal
    }

    public func serves(_ commonAddress: UInt16) -> Bool {
        commonAddress == ASDU.broadcastAddress || commonAddresses.contains(commonAddress)
    }
}
