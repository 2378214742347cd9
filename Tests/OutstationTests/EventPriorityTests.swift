import Testing
import IEC104
@testable import Outstation
import TestSupport

/// An event of point `index` whose value numbers it, so that tests can follow each point's order.
private func event(_ index: Int32, _ priority: EventPriority, _ value: Int16 = 0) -> PointEvent {
    PointEvent(pointIndex: index, value: .scaled(value), quality: [], time: 0, cause: .spontaneous, priority: priority)
}

private func drain(_ buffer: inout EventBuffer) -> [PointEvent] {
    var all: [PointEvent] = []
    while let next = buffer.removeFirst() { all.append(next) }
    return all
}

/// What `append` returned for each event (false: the overflow policy dropped one).
private func append(_ events: [PointEvent], to buffer: inout EventBuffer) -> [Bool] {
    events.map { buffer.append($0) }
}

/// `index.value` of each event, e.g. 3.1 for the first event of point 3.
private func labels(_ events: [PointEvent]) -> [String] {
    events.map { event in
        guard case .scaled(let value) = event.value else { return "\(event.pointIndex)" }
        return "\(event.pointIndex).\(value)"
    }
}

@Suite("Event priority")
struct EventPriorityTests {
    @Test func defaultsByKind() {
        #expect(PointKind.allCases.filter { $0.defaultEventPriority == .high } == [.single, .double, .step, .bitstring])
        #expect(PointKind.allCases.filter { $0.defaultEventPriority == .normal } == [.normalized, .scaled, .float, .counter])
        #expect(MonitorPointDefinition.point(1, .double).priority == .high)
        #expect(MonitorPointDefinition.point(1, .float).priority == .normal)
        let lowered = MonitorPointDefinition(address: address(1), kind: .single, priority: .low)
        #expect(lowered.priority == .low)
        #expect(EventPriority.high > .normal && EventPriority.normal > .low)
    }

    @Test func highestClassFirstAndOldestFirstWithinAClass() {
        var buffer = EventBuffer(capacity: 10, overflowPolicy: .dropOldest)
        for next in [event(1, .normal), event(2, .low), event(3, .high), event(4, .normal), event(5, .high), event(6, .low)] {
            buffer.append(next)
        }
        #expect(buffer.count == 6)
        #expect(EventPriority.allCases.map { buffer.count(of: $0) } == [2, 2, 2])
        var order: [Int32] = []
        while let first = buffer.first {
            let removed = buffer.removeFirst()
            #expect(removed?.pointIndex == first.pointIndex)
            order.append(first.pointIndex)
        }
        #expect(order == [3, 5, 1, 4, 2, 6])
        #expect(buffer.isEmpty)
        #expect(buffer.droppedCount == 0)
    }

    @Test func aLaterHigherEventOvertakesButEachPointKeepsItsOrder() {
        var buffer = EventBuffer(capacity: 100, overflowPolicy: .dropOldest)
        // Points 1 and 2 measured, 3 a status point, interleaved.
        for value in Int16(1)...10 {
            buffer.append(event(1, .normal, value))
            buffer.append(event(2, .low, value))
            if value.isMultiple(of: 3) { buffer.append(event(3, .high, value)) }
        }
        let all = drain(&buffer)
        #expect(all.prefix(3).map(\.pointIndex) == [3, 3, 3])
        for point in Int32(1)...3 {
            let values = all.filter { $0.pointIndex == point }.map(\.value)
            let expected: [Int16] = point == 3 ? [3, 6, 9] : Array(1...10)
            #expect(values == expected.map { .scaled($0) })
        }
    }

    @Test func dropOldestGivesUpTheLowestClassFirst() {
        var buffer = EventBuffer(capacity: 4, overflowPolicy: .dropOldest)
        let filled = append([event(1, .low, 1), event(2, .normal, 1), event(2, .normal, 2), event(3, .high, 1)], to: &buffer)
        #expect(filled == [true, true, true, true])
        // Full: a normal event pushes out the oldest low one; with no low left a high event pushes out the
        // oldest normal one; a low event finds only higher classes queued and is the one dropped.
        let overflowed = append([event(2, .normal, 3), event(3, .high, 2), event(1, .low, 2)], to: &buffer)
        #expect(overflowed == [false, false, false])
        #expect(buffer.count == 4)
        #expect(buffer.droppedCount == 3)
        #expect(labels(drain(&buffer)) == ["3.1", "3.2", "2.2", "2.3"])
    }

    @Test func dropNewestKeepsTheNewEventOverALowerClass() {
        var buffer = EventBuffer(capacity: 4, overflowPolicy: .dropNewest)
        let filled = append([event(1, .low, 1), event(1, .low, 2), event(2, .normal, 1), event(3, .high, 1)], to: &buffer)
        #expect(filled == [true, true, true, true])
        // A lower class is queued: its newest event goes (1.2, then 1.1), the new one stays.
        let displacing = append([event(2, .normal, 2), event(3, .high, 2)], to: &buffer)
        #expect(displacing == [false, false])
        #expect(buffer.count(of: .low) == 0)
        // Only normal is below high now: its newest event (2.2) goes.
        let overHigh = append([event(3, .high, 3)], to: &buffer)
        #expect(overHigh == [false])
        // Nothing below normal is queued: the new normal event is dropped, as is a new low one.
        let refused = append([event(2, .normal, 3), event(1, .low, 3)], to: &buffer)
        #expect(refused == [false, false])
        #expect(buffer.count == 4)
        #expect(buffer.droppedCount == 5)
        #expect(labels(drain(&buffer)) == ["3.1", "3.2", "3.3", "2.1"])
    }

    @Test(arguments: [EventOverflowPolicy.dropOldest, .dropNewest])
    func aFullBufferOfStatusEventsLosesNoneToMeasuredValues(policy: EventOverflowPolicy) {
        var buffer = EventBuffer(capacity: 3, overflowPolicy: policy)
        for value in Int16(1)...3 { buffer.append(event(9, .high, value)) }
        let accepted = append((1...10).flatMap { [event(1, .normal, $0), event(2, .low, $0)] }, to: &buffer)
        #expect(accepted == Array(repeating: false, count: 20))
        #expect(buffer.droppedCount == 20)
        #expect(labels(drain(&buffer)) == ["9.1", "9.2", "9.3"])
    }

    @Test func remapKeepsEachClassInOrderAndMovesAPointWhole() {
        var buffer = EventBuffer(capacity: 10, overflowPolicy: .dropNewest)
        for next in [event(1, .normal, 1), event(2, .high, 1), event(1, .normal, 2), event(3, .low, 1),
                     event(2, .high, 2), event(4, .low, 1)] {
            buffer.append(next)
        }
        // Point 3 is gone, point 1 became high priority, every index moves up by 10.
        buffer.remap { event in
            guard event.pointIndex != 3 else { return nil }
            var moved = event
            moved.pointIndex += 10
            if event.pointIndex == 1 { moved.priority = .high }
            return moved
        }
        #expect(buffer.droppedCount == 0)
        #expect(EventPriority.allCases.map { buffer.count(of: $0) } == [4, 0, 1])
        #expect(labels(drain(&buffer)) == ["12.1", "12.2", "11.1", "11.2", "14.1"])
    }

    @Test func removeAllEmptiesEveryClass() {
        var buffer = EventBuffer(capacity: 10, overflowPolicy: .dropOldest)
        for priority in EventPriority.allCases { buffer.append(event(1, priority)) }
        buffer.removeAll()
        #expect(buffer.isEmpty)
        #expect(buffer.first == nil)
        #expect(buffer.count == 0)
    }

    @Test func ringRemoveLastAcrossTheWrap() {
        var ring = RingBuffer<Int>(initialCapacity: 4)
        for value in 0..<4 { ring.append(value) }
        ring.removeFirst()
        ring.removeFirst()
        ring.append(4)
        ring.append(5)
        let last = ring.removeLast(), beforeIt = ring.removeLast()
        #expect(last == 5)
        #expect(beforeIt == 4)
        ring.append(6)
        var all: [Int] = []
        while let next = ring.removeFirst() { all.append(next) }
        #expect(all == [2, 3, 6])
        let none = ring.removeLast()
        #expect(none == nil)
    }
}

@Suite("Event priority on the link")
struct EventPriorityScenarioTests {
    static let floats: [UInt32] = Array(101...110)

    /// Issue 12: with the master's k window full and 1,000 measured values queued, a breaker change
    /// goes out in the first I-frame after the master acknowledges; the measured values follow, in order.
    @Test(arguments: [true, false])
    func aBreakerChangeOvertakesAThousandQueuedMeasuredValues(timeTagged: Bool) throws {
        let points = Self.floats.map { MonitorPointDefinition.point($0, .float) } + [.point(200, .double, timeTagged: timeTagged)]
        let harness = Harness(points: points)
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)

        // 100 values for each of 10 points, interleaved; the master acknowledges nothing.
        var updates: [PointUpdate] = []
        for value in 1...100 {
            for ioa in Self.floats { updates.append(update(ioa, .float(Float(value)))) }
        }
        #expect(try harness.apply(updates) == 1_000)
        harness.flush()
        let windowFull = try informationASDUs(harness.takeFrames(on: id))
        #expect(windowFull.count == 12)
        #expect(windowFull.allSatisfy { $0.typeID == .M_ME_NC_1 })

        try harness.apply([update(200, .double(.on))])
        harness.flush()
        #expect(harness.takeFrames(on: id).isEmpty)
        #expect(harness.station().eventBuffer.count(of: .high) == 1)

        harness.acknowledge(on: id)
        let afterAcknowledgement = try informationASDUs(harness.takeFrames(on: id))
        let breaker = try #require(afterAcknowledgement.first)
        #expect(breaker.typeID == (timeTagged ? .M_DP_TB_1 : .M_DP_NA_1))
        #expect(breaker.cot == .spontaneous)
        #expect(breaker.addresses == [200])
        guard case .doublePoint(let information, _)? = breaker.objects.first?.element else {
            Issue.record("expected a double point, got \(breaker.objects)")
            return
        }
        #expect(information.state == .on)

        harness.acknowledge(on: id)
        let rest = try informationASDUs(harness.exchangeFrames(on: id))
        let measured = (windowFull + afterAcknowledgement.dropFirst() + rest).flatMap(\.objects)
        #expect(measured.count == 1_000)
        for ioa in Self.floats {
            let values = measured.filter { $0.address == ioa }.compactMap(\.element.floatValue)
            #expect(values == (1...100).map(Float.init), "IOA \(ioa)")
        }
        #expect(harness.station().eventBuffer.isEmpty)
        #expect(harness.station().eventBuffer.droppedCount == 0)
    }

    @Test func aPointsPriorityKeyOrdersItsEvents() throws {
        var urgent = MonitorPointDefinition.point(1, .float)
        urgent.priority = .high
        var background = MonitorPointDefinition.point(3, .float)
        background.priority = .low
        let harness = Harness(points: [urgent, .point(2, .float), background])
        // Queued while no master is connected, the low point first.
        try harness.apply([update(3, .float(31)), update(3, .float(32))])
        try harness.apply([update(2, .float(21))])
        try harness.apply([update(1, .float(11))])
        try harness.apply([update(2, .float(22))])

        let id = harness.connect().id
        let asdus = try informationASDUs(harness.startDataTransfer(on: id))
        #expect(asdus.first?.typeID == .M_EI_NA_1)
        let events = asdus.filter { $0.cot == .spontaneous }.flatMap(\.objects)
        #expect(events.map(\.address) == [1, 2, 2, 3, 3])
        #expect(events.compactMap(\.element.floatValue) == [11, 21, 22, 31, 32])
    }

    /// Both reload paths: a kept station rebinds its buffer, a replaced one (new settings) adopts the old buffer.
    @Test(arguments: [false, true])
    func aReloadThatChangesAPointsPriorityMovesItsQueuedEvents(stationReplaced: Bool) throws {
        let harness = Harness(points: [.point(1, .float), .point(2, .float)])
        try harness.apply([update(1, .float(1)), update(2, .float(1)), update(1, .float(2))])
        var raised = MonitorPointDefinition.point(2, .float)
        raised.priority = .high
        var configuration = Harness.configuration("s1", commonAddresses: [47])
        if stationReplaced { configuration.eventBufferSize = 50 }
        let report = harness.outstation.reconfigure(points: PointTable(monitorPoints: [.point(1, .float), raised]),
                                                    stations: [configuration], now: harness.now, wallTime: harness.wallTime).report
        #expect(report.stationsReplaced == (stationReplaced ? ["s1"] : []))
        let buffer = harness.station().eventBuffer
        #expect(buffer.count(of: .high) == 1)
        #expect(buffer.count(of: .normal) == 2)

        let id = harness.connect().id
        let events = try informationASDUs(harness.startDataTransfer(on: id)).filter { $0.cot == .spontaneous }.flatMap(\.objects)
        #expect(events.map(\.address) == [2, 1, 1])
    }
}
