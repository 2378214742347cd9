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
    /// The station's journal sequence number once a journaling station queued it; 0 otherwise.
    public var journalSequence: Int64 = 0

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

/// The fields of a point that every update and every interrogation reads, kept apart from its
/// definition: the record holds no strings or arrays, so reading or copying it costs no reference
/// counting (a general interrogation reads 100,000 of them in a few milliseconds).
struct PointRecord {
    let kind: PointKind
    let commonAddress: UInt16
    let objectAddress: UInt32
    let priority: EventPriority
    let timeTaggedEvents: Bool
    var value: PointValue
    var quality: QualityDescriptor
    /// The bits of `quality` the daemon set on its own (stale, source gone, start quality), not the source: they
    /// are not saved in the state file, and the next update replaces them.
    var imposed: QualityDescriptor = []
    /// Source time of the last change, milliseconds since the Unix epoch.
    var changedAt: Int64
    /// The value last reported as an event, against which deadbands are measured.
    var reportedValue: Double
    /// The counter reading at the last freeze, reported by counter interrogation.
    var frozen: BinaryCounterReading?

    init(definition: MonitorPointDefinition, now: Int64) {
        kind = definition.kind
        commonAddress = definition.address.commonAddress
        objectAddress = definition.address.objectAddress
        priority = definition.priority
        timeTaggedEvents = definition.timeTaggedEvents
        value = definition.initialValue
        quality = definition.initialQuality
        changedAt = now
        reportedValue = definition.initialValue.numericValue
        frozen = nil
    }
}

/// All points of the outstation, keyed by common address and information object address.
///
/// Owned by one serial executor together with the stations, so updates need no locks.
public final class ProcessImage {
    /// The hot state of each point, by index; ``definitions`` holds the configuration at the same index.
    private(set) var records: [PointRecord]
    public let definitions: [MonitorPointDefinition]
    public let commandPoints: [PointAddress: CommandPointDefinition]
    private let indexByAddress: [PointAddress: Int32]
    /// Per common address, monitor point indices in IOA order, counters excluded: the station interrogation scope.
    private let interrogationScope: [UInt16: [Int32]]
    /// Per common address and group 1…16, the indices in IOA order.
    private let groupScopes: [UInt16: [Int: [Int32]]]
    /// Per common address, counter indices in IOA order with their counter group.
    private let counterScope: [UInt16: [Int32]]

    public init(table: PointTable, now: Int64) {
        // The loader hands the points over sorted: then the array is shared with the table, not copied (56 MB at a
        // million points, at the peak of a start and of a reload).
        let points = table.monitorPoints
        let ascending = zip(points, points.dropFirst()).allSatisfy { $0.address < $1.address }
        let sorted = ascending ? points : points.sorted { $0.address < $1.address }
        definitions = sorted
        records = sorted.map { PointRecord(definition: $0, now: now) }
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
        Set(definitions.map(\.address.commonAddress)).union(commandPoints.keys.map(\.commonAddress))
    }

    public func index(of address: PointAddress) -> Int32? { indexByAddress[address] }

    public var count: Int { records.count }

    /// The state of the point at `index` with its definition (for status and the control socket, not hot paths).
    public subscript(index: Int32) -> MonitorPointState { state(at: Int(index)) }

    public func state(at address: PointAddress) -> MonitorPointState? {
        indexByAddress[address].map { state(at: Int($0)) }
    }

    /// Every point's state, in address order.
    public var points: [MonitorPointState] { records.indices.map(state(at:)) }

    private func state(at slot: Int) -> MonitorPointState {
        let record = records[slot]
        return MonitorPointState(definition: definitions[slot], value: record.value, quality: record.quality,
                                 changedAt: record.changedAt, reportedValue: record.reportedValue, frozen: record.frozen)
    }

    public func definition(at index: Int32) -> MonitorPointDefinition { definitions[Int(index)] }

    func record(at index: Int32) -> PointRecord { records[Int(index)] }

    /// The kind of the monitor point at `address` (the hot path of every update).
    public func kind(at address: PointAddress) -> PointKind? {
        guard let index = indexByAddress[address] else { return nil }
        return records[Int(index)].kind
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
        return all.filter { definitions[Int($0)].counterGroup == group }
    }

    /// Stores a new value. Returns the event to report, or nil when nothing changed enough to report.
    public func apply(_ update: PointUpdate, now: Int64, cause: Cause = .spontaneous) throws(PointUpdateError) -> PointEvent? {
        guard let index = indexByAddress[update.address] else { throw .unknownPoint(update.address) }
        return try apply(update, at: index, now: now, cause: cause)
    }

    func apply(_ update: PointUpdate, at index: Int32, now: Int64, cause: Cause) throws(PointUpdateError) -> PointEvent? {
        let slot = Int(index)
        let kind = records[slot].kind
        guard update.value.kind == kind else {
            throw .kindMismatch(update.address, expected: kind, found: update.value.kind)
        }
        let previousValue = records[slot].value
        let previousQuality = records[slot].quality
        let time = update.time ?? now
        records[slot].value = update.value
        records[slot].quality = update.quality
        records[slot].imposed = []
        records[slot].changedAt = time
        guard update.value != previousValue || update.quality != previousQuality else { return nil }
        let numeric = update.value.numericValue
        if update.quality == previousQuality, let deadband = definitions[slot].deadband,
           !deadband.isExceeded(from: records[slot].reportedValue, to: numeric) {
            return nil
        }
        records[slot].reportedValue = numeric
        return PointEvent(pointIndex: index, value: update.value, quality: update.quality, time: time, cause: cause,
                          priority: records[slot].priority)
    }

    /// Adds a quality flag the daemon decides on its own (the point went stale, its feeder stopped) while the value
    /// stays. Returns the spontaneous event to report, or nil when the point already carried the flag. The next
    /// update replaces the quality, and since it then differs it is reported even with the same value.
    func impose(_ flag: QualityDescriptor, at index: Int32, wallTime: Int64) -> PointEvent? {
        let slot = Int(index)
        guard !records[slot].quality.isSuperset(of: flag) else { return nil }
        records[slot].imposed.formUnion(flag.subtracting(records[slot].quality))
        records[slot].quality.formUnion(flag)
        let record = records[slot]
        return PointEvent(pointIndex: index, value: record.value, quality: record.quality, time: wallTime,
                          cause: .spontaneous, priority: record.priority)
    }

    /// At start with `start_quality = not_topical`: every point is not topical (counters invalid) until its first
    /// update, without events (no master is connected yet). ``restore(_:)`` afterwards puts back saved qualities.
    func markAllNotTopical() {
        for slot in records.indices {
            let flag = records[slot].kind.lapseFlag
            records[slot].imposed.formUnion(flag.subtracting(records[slot].quality))
            records[slot].quality.formUnion(flag)
        }
    }

    /// Counter interrogation with a freeze qualifier: freezes (and resets) the counters of the scope.
    func freezeCounters(_ indices: [Int32], mode: CounterFreeze) {
        for index in indices {
            let slot = Int(index)
            guard case .counter(let reading) = records[slot].value else { continue }
            if mode == .freezeWithoutReset || mode == .freezeWithReset { records[slot].frozen = reading }
            if mode == .freezeWithReset || mode == .reset {
                var next = BinaryCounterReading(value: 0, sequenceNumber: (reading.sequenceNumber + 1) & 0x1F)
                next.invalid = reading.invalid
                records[slot].value = .counter(next)
            }
        }
    }

    /// Takes over the state of every point that keeps its address and kind across a reload.
    /// Returns the old→new index map and the indices of points that are new (or changed kind).
    func carryOver(from old: ProcessImage) -> (indexMap: [Int32: Int32], added: [Int32]) {
        var indexMap: [Int32: Int32] = [:]
        var added: [Int32] = []
        for index in records.indices {
            let address = definitions[index].address
            guard let oldIndex = old.index(of: address), old.records[Int(oldIndex)].kind == records[index].kind else {
                added.append(Int32(index))
                continue
            }
            let previous = old.records[Int(oldIndex)]
            records[index].value = previous.value
            records[index].quality = previous.quality
            records[index].imposed = previous.imposed
            records[index].changedAt = previous.changedAt
            records[index].reportedValue = previous.reportedValue
            records[index].frozen = previous.frozen
            indexMap[oldIndex] = Int32(index)
        }
        return (indexMap, added)
    }

    /// ``carryOver(from:)`` with the correspondence already worked out (``Outstation/prepareImage(points:basis:wallTime:)``):
    /// only the copying of values is left for the event loop.
    /// Runs on the event loop during the swap: over buffers, without an access check per point (that halved it).
    func carryValues(from old: ProcessImage, oldIndexForNew: [Int32]) {
        let previousRecords = old.records
        previousRecords.withUnsafeBufferPointer { previous in
            oldIndexForNew.withUnsafeBufferPointer { oldIndexForNew in
                records.withUnsafeMutableBufferPointer { records in
                    for index in records.indices {
                        let oldIndex = Int(oldIndexForNew[index])
                        guard oldIndex >= 0 else { continue }
                        records[index].value = previous[oldIndex].value
                        records[index].quality = previous[oldIndex].quality
                        records[index].imposed = previous[oldIndex].imposed
                        records[index].changedAt = previous[oldIndex].changedAt
                        records[index].reportedValue = previous[oldIndex].reportedValue
                        records[index].frozen = previous[oldIndex].frozen
                    }
                }
            }
        }
    }

    /// Puts back a value saved before a restart, without reporting it as an event.
    /// Returns false for a point that is gone, changed kind, or is not persistent.
    @discardableResult
    public func restore(_ update: PointUpdate) -> Bool {
        guard let index = indexByAddress[update.address] else { return false }
        let slot = Int(index)
        guard definitions[slot].isPersistent, records[slot].kind == update.value.kind else { return false }
        records[slot].value = update.value
        records[slot].quality = update.quality
        records[slot].imposed = []
        if let time = update.time { records[slot].changedAt = time }
        records[slot].reportedValue = update.value.numericValue
        return true
    }

    /// The points whose values survive a restart, as updates to restore them with: with the quality their source
    /// gave them, without the flags the daemon set (staleness is judged afresh after the restart).
    public var persistentState: [PointUpdate] {
        records.indices.filter { definitions[$0].isPersistent }.map {
            PointUpdate(address: definitions[$0].address, value: records[$0].value,
                        quality: records[$0].quality.subtracting(records[$0].imposed), time: records[$0].changedAt)
        }
    }
}
