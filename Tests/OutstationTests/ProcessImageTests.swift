import Testing
import IEC104
@testable import Outstation
import TestSupport

private func event(_ index: Int32, _ value: Int16 = 0) -> PointEvent {
    PointEvent(pointIndex: index, value: .scaled(value), quality: [], time: Int64(index), cause: .spontaneous)
}

@Suite("EventBuffer")
struct EventBufferTests {
    @Test func keepsOrderWithinCapacity() {
        var buffer = EventBuffer(capacity: 3, overflowPolicy: .dropOldest)
        #expect(buffer.isEmpty)
        for index in Int32(0)..<3 {
            let kept = buffer.append(event(index))
            #expect(kept)
        }
        #expect(buffer.count == 3)
        #expect(buffer.droppedCount == 0)
        var order: [Int32] = []
        while let next = buffer.removeFirst() { order.append(next.pointIndex) }
        #expect(order == [0, 1, 2])
        #expect(buffer.isEmpty)
    }

    @Test(arguments: [(EventOverflowPolicy.dropOldest, [Int32(3), 4, 5, 6]), (.dropNewest, [0, 1, 2, 3])])
    func overflowFollowsThePolicy(policy: EventOverflowPolicy, kept: [Int32]) {
        var buffer = EventBuffer(capacity: 4, overflowPolicy: policy)
        var accepted: [Bool] = []
        for index in Int32(0)..<7 { accepted.append(buffer.append(event(index))) }
        #expect(accepted == [true, true, true, true, false, false, false])
        #expect(buffer.count == 4)
        #expect(buffer.droppedCount == 3)
        #expect(buffer.first?.pointIndex == kept.first)
        var order: [Int32] = []
        while let next = buffer.removeFirst() { order.append(next.pointIndex) }
        #expect(order == kept)
    }

    @Test func capacityIsAtLeastOne() {
        var buffer = EventBuffer(capacity: 0, overflowPolicy: .dropOldest)
        #expect(buffer.capacity == 1)
        buffer.append(event(1))
        buffer.append(event(2))
        #expect(buffer.count == 1)
        #expect(buffer.first?.pointIndex == 2)
        #expect(buffer.droppedCount == 1)
    }

    @Test func wrapsAroundItsRingManyTimes() {
        var buffer = EventBuffer(capacity: 8, overflowPolicy: .dropOldest)
        var received: [Int32] = []
        for index in Int32(0)..<1_000 {
            buffer.append(event(index))
            if index % 2 == 1 {
                while let next = buffer.removeFirst() { received.append(next.pointIndex) }
            }
        }
        #expect(received == Array(0..<1_000))
        #expect(buffer.droppedCount == 0)

        // Overflowing all the way round keeps the newest.
        for index in Int32(0)..<1_000 { buffer.append(event(index)) }
        var kept: [Int32] = []
        while let next = buffer.removeFirst() { kept.append(next.pointIndex) }
        #expect(kept == Array(992..<1_000))
        #expect(buffer.droppedCount == 992)
    }

    @Test func removeAllEmptiesWithoutCountingDrops() {
        var buffer = EventBuffer(capacity: 10, overflowPolicy: .dropNewest)
        for index in Int32(0)..<5 { buffer.append(event(index)) }
        buffer.removeAll()
        #expect(buffer.isEmpty)
        #expect(buffer.droppedCount == 0)
        buffer.append(event(9))
        #expect(buffer.first?.pointIndex == 9)
    }
}

@Suite("RingBuffer")
struct RingBufferTests {
    @Test func prependKeepsOrderAndGrows() {
        var ring = RingBuffer<Int>(initialCapacity: 2)
        ring.append(3)
        ring.append(4)
        ring.prepend(contentsOf: [0, 1, 2])
        ring.append(5)
        var all: [Int] = []
        while let next = ring.removeFirst() { all.append(next) }
        #expect(all == [0, 1, 2, 3, 4, 5])
        #expect(ring.isEmpty)
        #expect(ring.first == nil)
    }
}

@Suite("ProcessImage")
struct ProcessImageTests {
    static let table = PointTable(monitorPoints: [
        .point(30, .float, value: .float(1)),
        .point(10, .single, groups: [3]),
        .point(20, .counter, value: .counter(BinaryCounterReading(value: 5, sequenceNumber: 4)), counterGroup: 2),
        .point(21, .counter, value: .counter(BinaryCounterReading(value: 6, invalid: true)), counterGroup: 1),
        .point(1, .double, ca: 48, groups: [3]),
        .point(5, .step, ca: 46),
    ], commandPoints: [CommandPointDefinition(address: address(100), kind: .single)])

    @Test func pointsAreSortedByAddressWithInitialState() throws {
        let image = ProcessImage(table: Self.table, now: 1_000)
        #expect(image.points.map(\.definition.address) == [
            address(5, ca: 46), address(10), address(20), address(21), address(30), address(1, ca: 48),
        ])
        let single = try #require(image.state(at: address(10)))
        #expect(single.value == .single(false), "a point without initial value starts at zero")
        #expect(single.quality == [])
        #expect(single.changedAt == 1_000)
        #expect(single.frozen == nil)
        #expect(image.index(of: address(30)) == 4)
        #expect(image[4].value == .float(1))
        #expect(image.state(at: address(99)) == nil)
        #expect(image.commonAddresses == [46, 47, 48])
        #expect(image.commandPoints[address(100)]?.kind == .single)
    }

    @Test func scopes() throws {
        let image = ProcessImage(table: Self.table, now: 0)
        func addresses(_ indices: [Int32]) -> [UInt32] { indices.map { image[$0].definition.address.objectAddress } }
        #expect(addresses(image.interrogationPoints(commonAddress: 47, group: nil)) == [10, 30])
        #expect(addresses(image.interrogationPoints(commonAddress: 47, group: 3)) == [10])
        #expect(addresses(image.interrogationPoints(commonAddress: 48, group: 3)) == [1])
        #expect(image.interrogationPoints(commonAddress: 47, group: 4).isEmpty)
        #expect(image.interrogationPoints(commonAddress: 49, group: nil).isEmpty)
        #expect(addresses(image.counterPoints(commonAddress: 47, group: nil)) == [20, 21])
        #expect(addresses(image.counterPoints(commonAddress: 47, group: 1)) == [21])
        #expect(image.counterPoints(commonAddress: 47, group: 3).isEmpty)
    }

    @Test func applyStoresAndReportsChanges() throws {
        let image = ProcessImage(table: Self.table, now: 0)
        let event = try #require(try image.apply(update(30, .float(2), quality: .overflow, time: 77), now: 100))
        #expect(event.value == .float(2))
        #expect(event.quality == .overflow)
        #expect(event.time == 77)
        #expect(event.cause == .spontaneous)
        #expect(image[event.pointIndex].definition.address == address(30))
        let state = try #require(image.state(at: address(30)))
        #expect(state.value == .float(2))
        #expect(state.quality == .overflow)
        #expect(state.changedAt == 77)

        // No change: no event, but the time of the update is kept.
        let same = try image.apply(update(30, .float(2), quality: .overflow), now: 200)
        #expect(same == nil)
        #expect(image.state(at: address(30))?.changedAt == 200)

        let returned = try image.apply(update(10, .single(true)), now: 300, cause: .returnInformationRemote)
        #expect(returned?.cause == .returnInformationRemote)
        #expect(returned?.time == 300)
    }

    @Test func applyRefusesUnknownPointsAndOtherKinds() {
        let image = ProcessImage(table: Self.table, now: 0)
        #expect(throws: PointUpdateError.unknownPoint(address(11))) { try image.apply(update(11, .single(true)), now: 1) }
        #expect(throws: PointUpdateError.unknownPoint(address(10, ca: 48))) {
            try image.apply(update(10, .single(true), ca: 48), now: 1)
        }
        #expect(throws: PointUpdateError.kindMismatch(address(10), expected: .single, found: .double)) {
            try image.apply(update(10, .double(.on)), now: 1)
        }
        #expect(image.state(at: address(10))?.value == .single(false))
        #expect(PointUpdateError.unknownPoint(address(11)).description == "no monitor point 47:11")
        #expect(PointUpdateError.kindMismatch(address(10), expected: .single, found: .double).description
                == "point 47:10 is single, not double")
    }

    @Test(arguments: [
        (CounterFreeze.read, BinaryCounterReading?.none, BinaryCounterReading(value: 5, sequenceNumber: 4)),
        (.freezeWithoutReset, BinaryCounterReading(value: 5, sequenceNumber: 4), BinaryCounterReading(value: 5, sequenceNumber: 4)),
        (.freezeWithReset, BinaryCounterReading(value: 5, sequenceNumber: 4), BinaryCounterReading(value: 0, sequenceNumber: 5)),
        (.reset, nil, BinaryCounterReading(value: 0, sequenceNumber: 5)),
    ])
    func freezeCounters(mode: CounterFreeze, frozen: BinaryCounterReading?, live: BinaryCounterReading) throws {
        let image = ProcessImage(table: Self.table, now: 0)
        image.freezeCounters(image.counterPoints(commonAddress: 47, group: 2), mode: mode)
        let counter = try #require(image.state(at: address(20)))
        #expect(counter.frozen == frozen)
        #expect(counter.value == .counter(live))
        // Group 1 untouched.
        #expect(image.state(at: address(21))?.frozen == nil)
        #expect(image.state(at: address(21))?.value == .counter(BinaryCounterReading(value: 6, invalid: true)))
    }

    @Test func resetKeepsTheInvalidFlagAndWrapsTheSequenceNumber() throws {
        let image = ProcessImage(table: PointTable(monitorPoints: [
            .point(1, .counter, value: .counter(BinaryCounterReading(value: 9, sequenceNumber: 31, carry: true, invalid: true))),
        ]), now: 0)
        image.freezeCounters(image.counterPoints(commonAddress: 47, group: nil), mode: .freezeWithReset)
        let state = try #require(image.state(at: address(1)))
        #expect(state.value == .counter(BinaryCounterReading(value: 0, sequenceNumber: 0, invalid: true)))
        #expect(state.frozen == BinaryCounterReading(value: 9, sequenceNumber: 31, carry: true, invalid: true))
    }

    @Test func deadbands() {
        #expect(Deadband.absolute(2).isExceeded(from: 10, to: 12))
        #expect(!Deadband.absolute(2).isExceeded(from: 10, to: 11.5))
        #expect(Deadband.absolute(2).isExceeded(from: 10, to: 8))
        #expect(Deadband.percent(5).isExceeded(from: -100, to: -105))
        #expect(!Deadband.percent(5).isExceeded(from: -100, to: -96))
        #expect(Deadband.percent(5).isExceeded(from: 0, to: 0.001), "from zero any change counts")
    }

    @Test func counterElementCarriesThePointInvalidQuality() {
        let element = PointValue.counter(BinaryCounterReading(value: 3)).element(quality: .invalid, time: nil)
        #expect(element == .integratedTotals(BinaryCounterReading(value: 3, invalid: true)))
    }
}

@Suite("Point definitions")
struct PointDefinitionTests {
    @Test func commandPointAcceptsByKindAndTimeTag() {
        let both = CommandPointDefinition(address: address(1), kind: .single)
        #expect(both.accepts(.C_SC_NA_1))
        #expect(both.accepts(.C_SC_TA_1))
        #expect(!both.accepts(.C_DC_NA_1))
        let without = CommandPointDefinition(address: address(1), kind: .float, timeTag: .without)
        #expect(without.accepts(.C_SE_NC_1))
        #expect(!without.accepts(.C_SE_TC_1))
        let with = CommandPointDefinition(address: address(1), kind: .step, timeTag: .with)
        #expect(!with.accepts(.C_RC_NA_1))
        #expect(with.accepts(.C_RC_TA_1))
    }

    @Test(arguments: PointKind.allCases)
    func everyKindHasATimeTaggedTwin(kind: PointKind) {
        #expect(kind.timeTaggedTypeID != kind.typeID)
        #expect(kind.timeTaggedTypeID.withoutTimeTag == kind.typeID)
        #expect(PointValue.zero(of: kind).kind == kind)
    }

    @Test func interrogationGroupsIgnoreOutOfRange() {
        let groups = InterrogationGroups(groups: [0, 1, 16, 17])
        #expect(groups.groups == [1, 16])
        #expect(!groups.contains(group: 0))
        #expect(!groups.contains(group: 17))
    }
}
