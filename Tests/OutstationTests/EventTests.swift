import Testing
import IEC104
@testable import Outstation
import TestSupport

private func started(_ points: [MonitorPointDefinition],
                     configure: (inout StationConfiguration) -> Void = { _ in }) throws -> (Harness, ConnectionID) {
    let harness = Harness(points: points, configure: configure)
    let id = harness.connect().id
    try harness.startDataTransfer(on: id)
    return (harness, id)
}

@Suite("Spontaneous events")
struct SpontaneousEventTests {
    @Test func updateBecomesASpontaneousEvent() throws {
        let (harness, id) = try started([.point(7, .float)])
        let events = try harness.apply([update(7, .float(12.5), quality: .substituted)])
        #expect(events == 1)
        let raw = try harness.exchangeRaw(on: id)
        // M_ME_NC_1, one object, COT 3, CA 47, IOA 7, 12.5f, SB.
        #expect(raw == [hex("0D 01 03 00 2F 00 07 00 00 00 00 48 41 20")])
        #expect(harness.station().statistics.eventsSent == 1)
    }

    @Test func timeTaggedPointCarriesTheUpdateTime() throws {
        let (harness, id) = try started([.point(1, .single, timeTagged: true), .point(2, .double, timeTagged: true)])
        let sourceTime = startWallTime - 1_234
        try harness.apply([update(1, .single(true), time: sourceTime)])
        let asdus = try harness.exchange(on: id)
        #expect(asdus.count == 1)
        #expect(asdus[0].typeID == .M_SP_TB_1)
        #expect(asdus[0].cot == .spontaneous)
        #expect(asdus[0].objects == [InformationObject(address: 1, element: .singlePoint(
            SinglePointInformation(isOn: true), time: CP56Time2a(unixMilliseconds: sourceTime)))])
        #expect(asdus[0].objects[0].element.time?.unixMilliseconds() == sourceTime)

        // Without a source time the event takes the wall time of the update.
        harness.advance(by: .milliseconds(250))
        try harness.apply([update(2, .double(.on))])
        let second = try harness.exchange(on: id)
        #expect(second.first?.typeID == .M_DP_TB_1)
        #expect(second.first?.objects.first?.element.time?.unixMilliseconds() == startWallTime + 250)
    }

    @Test(arguments: [(TimeTagPolicy.always, true, TypeID.M_ME_TF_1), (.always, false, .M_ME_TF_1),
                      (.never, true, .M_ME_NC_1), (.perPoint, true, .M_ME_TF_1), (.perPoint, false, .M_ME_NC_1)])
    func stationPolicyDecidesTheTimeTag(policy: TimeTagPolicy, pointTagged: Bool, expected: TypeID) throws {
        let (harness, id) = try started([.point(1, .float, timeTagged: pointTagged)]) { $0.timeTags = policy }
        try harness.apply([update(1, .float(3))])
        let asdus = try harness.exchange(on: id)
        #expect(asdus.map(\.typeID) == [expected])
    }

    @Test func timeTagsAreInvalidUntilTheFirstClockSynchronisation() throws {
        let (harness, id) = try started([.point(1, .single, timeTagged: true)]) { $0.invalidTimeUntilSynchronized = true }
        try harness.apply([update(1, .single(true))])
        #expect(try harness.exchange(on: id).first?.objects.first?.element.time?.isInvalid == true)
        let sync = ASDU(cause: CauseOfTransmission(.activation), commonAddress: 47, address: 0,
                        element: .clockSynchronization(CP56Time2a(unixMilliseconds: startWallTime)))
        try harness.request(sync, on: id)
        _ = try harness.exchange(on: id)
        try harness.apply([update(1, .single(false))])
        #expect(try harness.exchange(on: id).first?.objects.first?.element.time?.isInvalid == false)
    }

    @Test func eventsOfOneTypeArePackedIntoOneASDU() throws {
        // One priority class for all, so that only packing decides the order.
        let points: [MonitorPointDefinition] = (1...5).map { .point(UInt32($0), .float) }
            + [.point(20, .single, priority: .normal), .point(21, .single, timeTagged: true, priority: .normal),
               .point(22, .single, priority: .normal)]
        let (harness, id) = try started(points)
        let updates = (1...5).map { update(UInt32($0), .float(Float($0))) }
            + [update(20, .single(true)), update(21, .single(true)), update(22, .single(true)), update(3, .float(33))]
        #expect(try harness.apply(updates) == 9)
        let asdus = try harness.exchange(on: id)
        #expect(asdus.map(\.typeID) == [.M_ME_NC_1, .M_SP_NA_1, .M_SP_TB_1, .M_SP_NA_1, .M_ME_NC_1])
        #expect(asdus.allSatisfy { $0.cot == .spontaneous && !$0.isSequence })
        #expect(asdus[0].objects.map(\.element) == (1...5).map { .float(Float($0), []) })
        #expect(asdus[0].addresses == [1, 2, 3, 4, 5])
        #expect(asdus.map(\.addresses) == [[1, 2, 3, 4, 5], [20], [21], [22], [3]])
        #expect(harness.station().statistics.eventsSent == 9)
    }

    @Test func manyEventsFillASDUsToCapacity() throws {
        let points = (UInt32(1)...100).map { MonitorPointDefinition.point($0, .single) }
        let (harness, id) = try started(points)
        try harness.apply((UInt32(1)...100).map { update($0, .single(true)) })
        let raw = try harness.exchangeRaw(on: id)
        let capacity = ASDU.capacity(of: .M_SP_NA_1, sequence: false)
        #expect(capacity == 60)
        #expect(try raw.map { try ASDU(decoding: $0).objects.count } == [capacity, 100 - capacity])
        #expect(raw.allSatisfy { $0.count <= ASDU.maximumLength })
    }

    @Test func unchangedValueIsNotReported() throws {
        let (harness, id) = try started([.point(1, .float, value: .float(4)), .point(2, .single, value: .single(true))])
        #expect(try harness.apply([update(1, .float(4)), update(2, .single(true))]) == 0)
        #expect(try harness.exchange(on: id).isEmpty)
        #expect(harness.station().eventBuffer.isEmpty)
    }

    @Test func absoluteDeadbandSuppressesSmallChangesButNotQualityChanges() throws {
        let (harness, id) = try started([.point(1, .float, value: .float(0), deadband: .absolute(1))])
        var reported: [Float] = []
        for value: Float in [0.5, 0.75, 1.25, 1.5, 2.0, 2.5] {
            if try harness.apply([update(1, .float(value))]) == 1 { reported.append(value) }
        }
        #expect(reported == [1.25, 2.5], "measured from the last reported value, not the last stored one")
        // Same value, new quality: always reported.
        #expect(try harness.apply([update(1, .float(2.5), quality: .invalid)]) == 1)
        // A small change that restores the quality is reported too.
        #expect(try harness.apply([update(1, .float(2.75))]) == 1)
        let objects = try harness.exchange(on: id).flatMap(\.objects)
        #expect(objects.map(\.element) == [.float(1.25, []), .float(2.5, []), .float(2.5, .invalid), .float(2.75, [])])
        // The image holds the latest value even when it was not reported, and interrogation reports it.
        #expect(try harness.apply([update(1, .float(3.5))]) == 0)
        #expect(harness.outstation.image.state(at: address(1))?.value == .float(3.5))
        try harness.request(interrogation(), on: id)
        let gi = try harness.exchange(on: id)
        #expect(gi.filter { $0.cot == .interrogatedByStation }.flatMap(\.objects).map(\.element) == [.float(3.5, [])])
    }

    @Test func percentDeadbandIsRelativeToTheLastReportedValue() throws {
        let harness = Harness(points: [.point(1, .scaled, value: .scaled(100), deadband: .percent(10))])
        var reported: [Int16] = []
        for value: Int16 in [105, 109, 111, 115, 121, 123, 100, 95] {
            if try harness.apply([update(1, .scaled(value))]) == 1 { reported.append(value) }
        }
        // 111 moved 11 ≥ 10 % of 100; 121 moved 10 < 11.1 (10 % of 111); 123 moved 12;
        // 100 moved 23 ≥ 12.3; 95 moved 5 < 10.
        #expect(reported == [111, 123, 100])
        #expect(try harness.apply([update(1, .scaled(95), quality: .notTopical)]) == 1)
            }

    @Test func applyIsAllOrNothing() throws {
        let (harness, id) = try started([.point(1, .float), .point(2, .single)])
        #expect(throws: PointUpdateError.unknownPoint(address(3))) {
            try harness.apply([update(1, .float(1)), update(3, .float(3))])
        }
        #expect(throws: PointUpdateError.kindMismatch(address(2), expected: .single, found: .float)) {
            try harness.apply([update(1, .float(1)), update(2, .float(2))])
        }
        #expect(throws: PointUpdateError.unknownPoint(address(1, ca: 48))) {
            try harness.apply([update(1, .float(1)), update(1, .float(1), ca: 48)])
        }
        #expect(harness.outstation.image.state(at: address(1))?.value == .float(0))
        #expect(harness.outstation.image.state(at: address(1))?.changedAt == startWallTime)
        #expect(harness.station().eventBuffer.isEmpty)
        #expect(try harness.exchange(on: id).isEmpty)
    }

    @Test func eventsFanOutToEveryStationServingTheCommonAddress() throws {
        let harness = Harness(points: [.point(1, .single, ca: 47), .point(1, .single, ca: 48)],
                              stations: [Harness.configuration("a", commonAddresses: [47]),
                                         Harness.configuration("b", commonAddresses: [47, 48]),
                                         Harness.configuration("c", commonAddresses: [48])])
        try harness.apply([update(1, .single(true), ca: 47)])
        #expect(harness.station("a").eventBuffer.count == 1)
        #expect(harness.station("b").eventBuffer.count == 1)
        #expect(harness.station("c").eventBuffer.count == 0)
        try harness.apply([update(1, .single(true), ca: 48)])
        #expect(harness.station("a").eventBuffer.count == 1)
        #expect(harness.station("b").eventBuffer.count == 2)
        #expect(harness.station("c").eventBuffer.count == 1)
    }
}

@Suite("Event buffer across connections")
struct EventBufferScenarioTests {
    @Test func eventsBufferedWhileDisconnectedFollowTheNextStartDT() throws {
        let harness = Harness(points: [.point(1, .float), .point(2, .single)])
        try harness.apply([update(1, .float(1))])
        try harness.apply([update(2, .single(true))])
        try harness.apply([update(1, .float(2))])
        let id = harness.connect().id
        // Attached but not started: still buffered.
        harness.flush()
        #expect(harness.takeFrames(on: id).isEmpty)
        try harness.apply([update(1, .float(3))])
        #expect(harness.station().eventBuffer.count == 4)

        let frames = try harness.startDataTransfer(on: id)
        #expect(frames.first?.apci == .unnumbered(.startDTConfirmation))
        let asdus = try frames.dropFirst().filter { if case .information = $0.apci { true } else { false } }
            .map { try ASDU(decoding: $0.asdu) }
        #expect(asdus.first?.typeID == .M_EI_NA_1)
        let values = asdus.dropFirst().flatMap(\.objects).map(\.element)
        // The status point first (event priority), the measured values in order.
        #expect(values == [.singlePoint(SinglePointInformation(isOn: true)), .float(1, []), .float(2, []), .float(3, [])])
        #expect(harness.station().eventBuffer.isEmpty)
    }

    @Test(arguments: [EventOverflowPolicy.dropOldest, .dropNewest])
    func fullBufferDropsByPolicy(policy: EventOverflowPolicy) throws {
        let harness = Harness(points: [.point(1, .scaled)]) {
            $0.eventBufferSize = 5
            $0.overflowPolicy = policy
        }
        var caused = 0
        for value in Int16(1)...8 { caused += try harness.apply([update(1, .scaled(value))]) }
        #expect(caused == 8)
        let buffer = harness.station().eventBuffer
        #expect(buffer.count == 5)
        #expect(buffer.droppedCount == 3)
        let id = harness.connect().id
        let asdus = try informationASDUs(harness.startDataTransfer(on: id))
        let kept: [Int16] = policy == .dropOldest ? [4, 5, 6, 7, 8] : [1, 2, 3, 4, 5]
        #expect(asdus.filter { $0.cot == .spontaneous }.flatMap(\.objects)
                == kept.map { InformationObject(address: 1, element: .scaled($0, [])) })
        // The image always holds the latest value.
        #expect(harness.outstation.image.state(at: address(1))?.value == .scaled(8))
    }
}
