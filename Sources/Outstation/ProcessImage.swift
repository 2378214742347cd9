public import IEC104

/// The current state of one monitor point.
public struct MonitorPointState: Sendable {
    public let definition: MonitorPointDefinition
    public internal(set) var value: PointValue
    public internal(set) var quality: QualityDescriptor
    /// Source time of the last change, milliseconds since the Unix epoch.
    public internal(set) var changedAt: Int64
    /// The value last reported as an event, against which deadbands are measured.
    var reportedValue: Double
    /// The counter reading at the last freeze, reported by counter interrogation.
    public internal(set) var frozen: BinaryCounterReading?
}

/// A new value for a monitor point, as a feeder, a handler or the control socket supplies it.
public struct PointUpdate: Hashable, Sendable {
    public var address: PointAddress
    public var value: PointValue
    public var quality: QualityDescriptor
    /// Source timestamp in milliseconds since the Unix epoch; nil means "now".
    public var time: Int64?

    public init(address: PointAddress, value: PointValue, quality: QualityDescriptor = [], time: Int64? = nil) {
        self.address = address
        self.value = value
        self.quality = quality
        self.time = time
    }
}

/// Why an update was not taken.
public enum PointUpdateError: Error, Hashable, Sendable, CustomStringConvertible {
    case unknownPoint(PointAddress)
    case kindMismatch(PointAddress, expected: PointKind, found: PointKind)

    public var description: String {
        switch self {
        case .unknownPoint(let address): "no monitor point \(address)"
        case .kindMismatch(let address, let expected, let found):
            "point \(address) is \(expected.rawValue), not \(found.rawValue)"
        }
    }
}

/// A change worth reporting: the point and its state at the time of the change.
public struct PointEvent: Sendable {
    public var pointIndex: Int32
    public var value: PointValue
    public var quality: QualityDescriptor
    public var time: Int64
    public var cause: Cause
    /// The point's class, carried so that queueing an event needs no look-up in the process image.
    public var priority: EventPriority

    /// `priority` nil takes the default of the value's kind.
    init(pointIndex: Int32, value: PointValue, quality: QualityDescriptor, time: Int64, cause: Cause,
         priority: EventPriority? = nil) {
        self.pointIndex = pointIndex
        self.value = value
        self.quality = quality
        self.time = time
        self.cause = cause
        self.priority = priority ?? value.kind.defaultEventPriority
    }
}

/// All points of the outstation, keyed by common address and information object address.
///
/// Owned by one serial executor together with the stations, so updates need no locks.
public final class ProcessImage {
    public private(set) var points: [MonitorPointState]
    public let commandPoints: [PointAddress: CommandPointDefinition]
    private let indexByAddress: [PointAddress: Int32]
    /// Per common address, monitor point indices in IOA order, counters excluded: the station interrogation scope.
    private let interrogationScope: [UInt16: [Int32]]
    /// Per common address and group 1…16, the indices in IOA order.
    private let groupScopes: [UInt16: [Int: [Int32]]]
    /// Per common address, counter indices in IOA order with their counter group.
    private let counterScope: [UInt16: [Int32]]

    public init(table: PointTable, now: Int64) {
        let sorted = table.monitorPoints.sorted { $0.address < $1.address }
        points = sorted.map {
            MonitorPointState(definition: $0, value: $0.initialValue, quality: $0.initialQuality, changedAt: now,
                              reportedValue: $0.initialValue.numericValue, frozen: nil)
        }
        var indexByAddress: [PointAddress: Int32] = [:]
        var interrogationScope: [UInt16: [Int32]] = [:]
        var groupScopes: [UInt16: [Int: [Int32]]] = [:]
        var counterScope: [UInt16: [Int32]] = [:]
        for (index, point) in sorted.enumerated() {
            let index = Int32(index)
            let ca = point.address.commonAddress
            indexByAddress[point.address] = index
            if point.kind == .counter {
                counterScope[ca, default: []].append(index)
                continue
            }
            interrogationScope[ca, default: []].append(index)
            for group in point.groups.groups { groupScopes[ca, default: [:]][group, default: []].append(index) }
        }
        self.indexByAddress = indexByAddress
        self.interrogationScope = interrogationScope
        self.groupScopes = groupScopes
        self.counterScope = counterScope
        var commands: [PointAddress: CommandPointDefinition] = [:]
        for command in table.commandPoints { commands[command.address] = command }
        commandPoints = commands
    }

    public var commonAddresses: Set<UInt16> {
        Set(points.map(\.definition.address.commonAddress)).union(commandPoints.keys.map(\.commonAddress))
    }

    public func index(of address: PointAddress) -> Int32? { indexByAddress[address] }

    public subscript(index: Int32) -> MonitorPointState { points[Int(index)] }

    public func state(at address: PointAddress) -> MonitorPointState? {
        indexByAddress[address].map { points[Int($0)] }
    }

    /// The kind of the monitor point at `address`, without copying its state (the hot path of every update).
    public func kind(at address: PointAddress) -> PointKind? {
        guard let index = indexByAddress[address] else { return nil }
        return points[Int(index)].definition.kind
    }

    /// The points a (group) interrogation of `commonAddress` reports, in IOA order.
    func interrogationPoints(commonAddress: UInt16, group: Int?) -> [Int32] {
        guard let group else { return interrogationScope[commonAddress] ?? [] }
        return groupScopes[commonAddress]?[group] ?? []
    }

    /// The counters a counter interrogation of `commonAddress` reports; `group` nil means all.
    func counterPoints(commonAddress: UInt16, group: Int?) -> [Int32] {
        let all = counterScope[commonAddress] ?? []
        guard let group else { return all }
        return all.filter { points[Int($0)].definition.counterGroup == group }
    }

    /// Stores a new value. Returns the event to report, or nil when nothing changed enough to report.
    public func apply(_ update: PointUpdate, now: Int64, cause: Cause = .spontaneous) throws(PointUpdateError) -> PointEvent? {
        guard let index = indexByAddress[update.address] else { throw .unknownPoint(update.address) }
        return try apply(update, at: index, now: now, cause: cause)
    }

    func apply(_ update: PointUpdate, at index: Int32, now: Int64, cause: Cause) throws(PointUpdateError) -> PointEvent? {
        let slot = Int(index)
        // Only the few hot fields are read: copying the whole state (names, groups) per update cost a
        // retain/release of each of its strings and arrays.
        let kind = points[slot].definition.kind
        guard update.value.kind == kind else {
            throw .kindMismatch(update.address, expected: kind, found: update.value.kind)
        }
        let previousValue = points[slot].value
        let previousQuality = points[slot].quality
        let time = update.time ?? now
        points[slot].value = update.value
        points[slot].quality = update.quality
        points[slot].changedAt = time
        guard update.value != previousValue || update.quality != previousQuality else { return nil }
        let numeric = update.value.numericValue
        if update.quality == previousQuality, let deadband = points[slot].definition.deadband,
           !deadband.isExceeded(from: points[slot].reportedValue, to: numeric) {
            return nil
        }
        points[slot].reportedValue = numeric
        return PointEvent(pointIndex: index, value: update.value, quality: update.quality, time: time, cause: cause,
                          priority: points[slot].definition.priority)
    }

    /// Counter interrogation with a freeze qualifier: freezes (and resets) the counters of the scope.
    func freezeCounters(_ indices: [Int32], mode: CounterFreeze) {
        for index in indices {
            let slot = Int(index)
            guard case .counter(let reading) = points[slot].value else { continue }
            if mode == .freezeWithoutReset || mode == .freezeWithReset { points[slot].frozen = reading }
            if mode == .freezeWithReset || mode == .reset {
                var next = BinaryCounterReading(value: 0, sequenceNumber: (reading.sequenceNumber + 1) & 0x1F)
                next.invalid = reading.invalid
                points[slot].value = .counter(next)
            }
        }
    }

    /// Takes over the state of every point that keeps its address and kind across a reload.
    /// Returns the old→new index map and the indices of points that are new (or changed kind).
    func carryOver(from old: ProcessImage) -> (indexMap: [Int32: Int32], added: [Int32]) {
        var indexMap: [Int32: Int32] = [:]
        var added: [Int32] = []
        for index in points.indices {
            let address = points[index].definition.address
            guard let oldIndex = old.index(of: address), old[oldIndex].definition.kind == points[index].definition.kind else {
                added.append(Int32(index))
                continue
            }
            let previous = old[oldIndex]
            points[index].value = previous.value
            points[index].quality = previous.quality
            points[index].changedAt = previous.changedAt
            points[index].reportedValue = previous.reportedValue
            points[index].frozen = previous.frozen
            indexMap[oldIndex] = Int32(index)
        }
        return (indexMap, added)
    }

    /// Puts back a value saved before a restart, without reporting it as an event.
    /// Returns false for a point that is gone, changed kind, or is not persistent.
    @discardableResult
    public func restore(_ update: PointUpdate) -> Bool {
        guard let index = indexByAddress[update.address] else { return false }
        let slot = Int(index)
        guard points[slot].definition.isPersistent, points[slot].definition.kind == update.value.kind else { return false }
        points[slot].value = update.value
        points[slot].quality = update.quality
        if let time = update.time { points[slot].changedAt = time }
        points[slot].reportedValue = update.value.numericValue
        return true
    }

    /// The points whose values survive a restart, as updates to restore them with.
    public var persistentState: [PointUpdate] {
        points.filter(\.definition.isPersistent).map {
            PointUpdate(address: $0.definition.address, value: $0.value, quality: $0.quality, time: $0.changedAt)
        }
    }
}
