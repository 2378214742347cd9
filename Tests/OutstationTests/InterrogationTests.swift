import Testing
import IEC104
@testable import Outstation
import TestSupport

/// A point table for CA 47 with runs and scattered addresses of several kinds, a counter, and a point of CA 48.
private func mixedTable() -> [MonitorPointDefinition] {
    var points: [MonitorPointDefinition] = [
        .point(1, .single, value: .single(true), timeTagged: true, groups: [1]),
        .point(2, .single, groups: [1, 2]),
        .point(3, .single, value: .single(true)),
        .point(10, .double, value: .double(.on), timeTagged: true, groups: [2]),
        .point(5000, .counter, value: .counter(BinaryCounterReading(value: 42)), counterGroup: 1),
        .point(1, .single, ca: 48, value: .single(true)),
    ]
    // 100 contiguous floats.
    for ioa in UInt32(100)..<200 { points.append(.point(ioa, .float, value: .float(Float(ioa) / 4), groups: ioa == 150 ? [16] : [])) }
    // 45 scattered scaled values.
    for n in UInt32(0)..<45 { points.append(.point(1000 + 10 * n, .scaled, value: .scaled(Int16(n)))) }
    return points
}

/// The information objects of the data ASDUs (between confirmations) as (IOA, element), checking the cause.
private func dataObjects(_ asdus: ArraySlice<ASDU>, cause: Cause) -> [UInt32: [InformationElement]] {
    var seen: [UInt32: [InformationElement]] = [:]
    for asdu in asdus {
        #expect(asdu.cot == cause)
        #expect(!asdu.cause.isNegative)
        for object in asdu.objects { seen[object.address, default: []].append(object.element) }
    }
    return seen
}

@Suite("Interrogation")
struct InterrogationTests {
    @Test func generalInterrogationRepliesWithEveryPointOnceAndPacksThem() throws {
        let harness = Harness(points: mixedTable(), commonAddresses: [47, 48])
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)

        let request = hex("64 01 06 00 2F 00 00 00 00 14")
        harness.request(request, on: id)
        let raw = try harness.exchangeRaw(on: id)
        #expect(raw.first == hex("64 01 07 00 2F 00 00 00 00 14"), "ACTCON mirrors the request but for COT")
        #expect(raw.last == hex("64 01 0A 00 2F 00 00 00 00 14"), "ACTTERM mirrors the request but for COT")
        #expect(raw.allSatisfy { $0.count <= ASDU.maximumLength })

        let asdus = try raw.map { try ASDU(decoding: $0) }
        let data = asdus.dropFirst().dropLast()
        #expect(data.allSatisfy { $0.commonAddress == 47 })
        let seen = dataObjects(data, cause: .interrogatedByStation)
        // Every non-counter point of CA 47 exactly once.
        let expected = Set([1, 2, 3, 10] + Array(100..<200) + (0..<45).map { 1000 + 10 * $0 }).map(UInt32.init)
        #expect(Set(seen.keys) == Set(expected))
        #expect(seen.values.allSatisfy { $0.count == 1 })
        #expect(seen[5000] == nil, "counters are not part of a station interrogation")
        // Time-tagged points answer without time tag.
        #expect(seen[1] == [.singlePoint(SinglePointInformation(isOn: true))])
        #expect(seen[10] == [.doublePoint(DoublePointInformation(state: .on))])
        #expect(seen[150] == [.float(37.5, [])])
        #expect(data.allSatisfy { !$0.typeID.hasTimeTag })

        // Packing: singles 1–3 as one sequence, the lone double, floats in full sequences, scaled values scattered.
        let shapes = data.map { "\($0.typeID.mnemonic) SQ=\($0.isSequence ? 1 : 0) \($0.objects.count)" }
        let floatCapacity = ASDU.capacity(of: .M_ME_NC_1, sequence: true)
        let scaledCapacity = ASDU.capacity(of: .M_ME_NB_1, sequence: false)
        #expect(floatCapacity == 48)
        #expect(scaledCapacity == 40)
        #expect(shapes == [
            "M_SP_NA_1 SQ=1 3", "M_DP_NA_1 SQ=0 1",
            "M_ME_NC_1 SQ=1 \(floatCapacity)", "M_ME_NC_1 SQ=1 \(floatCapacity)", "M_ME_NC_1 SQ=1 \(100 - 2 * floatCapacity)",
            "M_ME_NB_1 SQ=0 \(scaledCapacity)", "M_ME_NB_1 SQ=0 \(45 - scaledCapacity)",
        ])
        let statistics = harness.station().statistics
        #expect(statistics.interrogations == 1)
    }

    @Test func originatorAddressIsKeptInReplies() throws {
        let harness = Harness(points: [.point(1, .single), .point(2, .single)])
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        try harness.request(interrogation(originator: 7), on: id)
        let asdus = try harness.exchange(on: id)
        #expect(asdus.count == 3)
        #expect(asdus.allSatisfy { $0.cause.originator == 7 })
    }

    @Test func fullFloatRunsFillTheASDU() throws {
        // 100 contiguous floats alone: ⌈100 / capacity⌉ ASDUs, each at most 249 octets.
        let points = (UInt32(1)...100).map { MonitorPointDefinition.point($0, .float) }
        let harness = Harness(points: points)
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        try harness.request(interrogation(), on: id)
        let raw = try harness.exchangeRaw(on: id)
        let capacity = ASDU.capacity(of: .M_ME_NC_1, sequence: true)
        let data = Array(raw.dropFirst().dropLast())
        #expect(data.count == (100 + capacity - 1) / capacity)
        #expect(data[0].count == ASDU.headerLength + ASDU.addressLength + capacity * 5)
        #expect(data[0].count <= ASDU.maximumLength)
        let decoded = try data.map { try ASDU(decoding: $0) }
        #expect(decoded.map(\.isSequence) == [true, true, true])
        #expect(decoded.flatMap(\.addresses) == Array(1...100))
    }

    @Test func scatteredAddressesAreSentWithoutSequenceUpToCapacity() throws {
        let points = (UInt32(0)..<70).map { MonitorPointDefinition.point(2 * $0 + 1, .float) }
        let harness = Harness(points: points)
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        try harness.request(interrogation(), on: id)
        let data = try harness.exchange(on: id).dropFirst().dropLast()
        let capacity = ASDU.capacity(of: .M_ME_NC_1, sequence: false)
        #expect(data.map(\.objects.count) == [capacity, capacity, 70 - 2 * capacity])
        #expect(data.allSatisfy { !$0.isSequence })
        #expect(data.flatMap(\.addresses) == (0..<70).map { 2 * $0 + 1 })
    }

    @Test(arguments: [1, 2, 16])
    func groupInterrogationRepliesWithTheGroupOnly(group: Int) throws {
        let harness = Harness(points: mixedTable())
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        let request = interrogation(qoi: UInt8(20 + group))
        try harness.request(request, on: id)
        let asdus = try harness.exchange(on: id)
        let requestBytes = try request.encoded()
        #expect(try asdus.first?.encoded() == ASDU.confirmation(of: requestBytes, cause: .activationConfirmation, negative: false))
        #expect(try asdus.last?.encoded() == ASDU.confirmation(of: requestBytes, cause: .activationTermination, negative: false))
        let seen = dataObjects(asdus.dropFirst().dropLast(), cause: .interrogatedByGroup(group))
        let expected: Set<UInt32> = switch group {
        case 1: [1, 2]
        case 2: [2, 10]
        default: [150]
        }
        #expect(Set(seen.keys) == expected)
        #expect(seen.values.allSatisfy { $0.count == 1 })
    }

    @Test func emptyGroupStillConfirmsAndTerminates() throws {
        let harness = Harness(points: mixedTable())
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        try harness.request(interrogation(qoi: 25), on: id)
        let asdus = try harness.exchange(on: id)
        #expect(asdus.map(\.cot) == [.activationConfirmation, .activationTermination])
    }

    @Test func undefinedQualifierIsRefused() throws {
        let harness = Harness(points: mixedTable())
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        let request = try interrogation(qoi: 40).encoded()
        harness.request(request, on: id)
        let raw = try harness.exchangeRaw(on: id)
        #expect(raw == [ASDU.confirmation(of: request, cause: .activationConfirmation, negative: true)])
    }

    @Test func broadcastAnswersForEveryCommonAddressInTurn() throws {
        let points: [MonitorPointDefinition] = [
            .point(1, .single, ca: 47), .point(2, .single, ca: 47),
            .point(7, .float, ca: 48, value: .float(1)),
            .point(9, .float, ca: 49),
        ]
        let harness = Harness(points: points, commonAddresses: [47, 48])
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        let request = hex("64 01 06 00 FF FF 00 00 00 14")
        harness.request(request, on: id)
        let raw = try harness.exchangeRaw(on: id)
        let asdus = try raw.map { try ASDU(decoding: $0) }
        #expect(asdus.map(\.cot) == [.activationConfirmation, .interrogatedByStation, .activationTermination,
                                     .activationConfirmation, .interrogatedByStation, .activationTermination])
        #expect(asdus.map(\.commonAddress) == [47, 47, 47, 48, 48, 48])
        #expect(raw[0] == hex("64 01 07 00 2F 00 00 00 00 14"))
        #expect(raw[3] == hex("64 01 07 00 30 00 00 00 00 14"))
        #expect(raw[5] == hex("64 01 0A 00 30 00 00 00 00 14"))
        #expect(asdus[1].addresses == [1, 2])
        #expect(asdus[4].objects == [InformationObject(address: 7, element: .float(1, []))])
    }

    @Test func largeInterrogationCompletesThroughTheWindow() throws {
        // 20 000 points: 10 000 contiguous singles, then 10 000 floats in runs of 49 with gaps.
        var points = (UInt32(1)...10_000).map { MonitorPointDefinition.point($0, .single, value: .single($0 % 3 == 0)) }
        var ioa: UInt32 = 20_000
        while points.count < 20_000 {
            if ioa % 50 != 0 { points.append(.point(ioa, .float, value: .float(Float(ioa)))) }
            ioa += 1
        }
        let harness = Harness(points: points)
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        try harness.request(interrogation(), on: id)
        // Without acknowledgement the outstation stops at k = 12 I-frames.
        let firstBurst = try harness.exchangeRaw(on: id, acknowledge: false)
        #expect(firstBurst.count == 12)
        harness.flush()
        #expect(harness.takeFrames(on: id).isEmpty, "the window is full")
        harness.acknowledge(on: id)
        let rest = try harness.exchangeFrames(on: id, acknowledgeEvery: 3)
            .compactMap { frame -> [UInt8]? in if case .information = frame.apci { frame.asdu } else { nil } }
        let asdus = try (firstBurst + rest).map { try ASDU(decoding: $0) }
        #expect(asdus.first?.cot == .activationConfirmation)
        #expect(asdus.last?.cot == .activationTermination)
        let data = asdus.dropFirst().dropLast()
        var count = 0
        var addresses = Set<UInt32>()
        for asdu in data {
            #expect(asdu.cot == .interrogatedByStation)
            count += asdu.objects.count
            for object in asdu.objects {
                addresses.insert(object.address)
                switch object.element {
                case .singlePoint(let siq, nil): #expect(siq.isOn == (object.address % 3 == 0))
                case .float(let value, _, nil): #expect(value == Float(object.address))
                default: Issue.record("unexpected element \(object.element)")
                }
            }
        }
        #expect(count == 20_000)
        #expect(addresses.count == 20_000)
        #expect(!harness.station().hasPendingTransmission)
    }

    @Test func eventDuringInterrogationIsReportedAndWins() throws {
        let points = (UInt32(1)...2_000).map { MonitorPointDefinition.point($0, .float) }
        let harness = Harness(points: points)
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        try harness.request(interrogation(), on: id)
        let firstBurst = try harness.exchange(on: id, acknowledge: false)
        #expect(firstBurst.count == 12)
        let sentSoFar = Set(firstBurst.flatMap(\.addresses))
        #expect(sentSoFar.contains(5))
        #expect(!sentSoFar.contains(1_990))

        // One point already reported by the interrogation and one not yet.
        try harness.apply([update(5, .float(5)), update(1_990, .float(7))])
        harness.acknowledge(on: id)
        let rest = try harness.exchange(on: id)
        let all = firstBurst + rest
        #expect(all.last?.cot == .activationTermination, "events are interleaved with the replies, not held back")

        var last: [UInt32: Float] = [:]
        var spontaneous: [UInt32] = []
        for asdu in all where asdu.typeID == .M_ME_NC_1 {
            for object in asdu.objects { last[object.address] = object.element.floatValue }
            if asdu.cot == .spontaneous { spontaneous += asdu.addresses }
        }
        #expect(spontaneous.sorted() == [5, 1_990])
        #expect(last[5] == 5)
        #expect(last[1_990] == 7)
        #expect(last.count == 2_000)
        // The interrogation still reports every point exactly once.
        let interrogated = all.filter { $0.cot == .interrogatedByStation }.flatMap(\.addresses)
        #expect(interrogated.count == 2_000)
        #expect(Set(interrogated).count == 2_000)
    }

    @Test func deactivationCancelsARunningInterrogation() throws {
        let points = (UInt32(1)...2_000).map { MonitorPointDefinition.point($0, .float) }
        let harness = Harness(points: points)
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        try harness.request(interrogation(), on: id)
        let firstBurst = try harness.exchange(on: id, acknowledge: false)
        #expect(firstBurst.count == 12)
        let deactivation = try interrogation(cause: .deactivation).encoded()
        harness.request(deactivation, on: id)
        harness.acknowledge(on: id)
        let rest = try harness.exchangeRaw(on: id)
        #expect(rest == [ASDU.confirmation(of: deactivation, cause: .deactivationConfirmation, negative: false)])
        // Nothing to cancel any more: negative DEACTCON.
        harness.request(deactivation, on: id)
        #expect(try harness.exchangeRaw(on: id)
                == [ASDU.confirmation(of: deactivation, cause: .deactivationConfirmation, negative: true)])
    }
}

@Suite("Counter interrogation")
struct CounterInterrogationTests {
    static func counters() -> [MonitorPointDefinition] {
        [
            .point(200, .counter, value: .counter(BinaryCounterReading(value: 100)), counterGroup: 1),
            .point(201, .counter, value: .counter(BinaryCounterReading(value: 200)), counterGroup: 1),
            .point(205, .counter, value: .counter(BinaryCounterReading(value: 300, sequenceNumber: 31)), counterGroup: 2),
            .point(210, .counter, value: .counter(BinaryCounterReading(value: 400))),
            .point(1, .single, value: .single(true)),
            .point(2, .float),
        ]
    }

    @Test func generalCounterRequestReadsEveryCounter() throws {
        let harness = Harness(points: Self.counters())
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        let request = try counterInterrogation().encoded()
        harness.request(request, on: id)
        let raw = try harness.exchangeRaw(on: id)
        #expect(raw.first == ASDU.confirmation(of: request, cause: .activationConfirmation, negative: false))
        #expect(raw.last == ASDU.confirmation(of: request, cause: .activationTermination, negative: false))
        let data = try raw.dropFirst().dropLast().map { try ASDU(decoding: $0) }
        #expect(data.allSatisfy { $0.typeID == .M_IT_NA_1 && $0.cot == .requestedByGeneralCounter })
        #expect(data.flatMap(\.objects) == [
            InformationObject(address: 200, element: .integratedTotals(BinaryCounterReading(value: 100))),
            InformationObject(address: 201, element: .integratedTotals(BinaryCounterReading(value: 200))),
            InformationObject(address: 205, element: .integratedTotals(BinaryCounterReading(value: 300, sequenceNumber: 31))),
            InformationObject(address: 210, element: .integratedTotals(BinaryCounterReading(value: 400))),
        ])
    }

    @Test(arguments: [(1, [UInt32(200), 201]), (2, [205]), (3, []), (4, [])])
    func groupCounterRequestReadsTheGroup(group: Int, expected: [UInt32]) throws {
        let harness = Harness(points: Self.counters())
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        try harness.request(counterInterrogation(request: UInt8(group)), on: id)
        let asdus = try harness.exchange(on: id)
        #expect(asdus.first?.cot == .activationConfirmation)
        #expect(asdus.last?.cot == .activationTermination)
        let data = asdus.dropFirst().dropLast()
        #expect(data.allSatisfy { $0.cot == .requestedByCounterGroup(group) })
        #expect(data.flatMap(\.addresses) == expected)
    }

    @Test func freezeWithResetThenReadReturnsFrozenValues() throws {
        let harness = Harness(points: Self.counters())
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        let freeze = try counterInterrogation(freeze: .freezeWithReset).encoded()
        #expect(freeze.last == 0x85)
        harness.request(freeze, on: id)
        #expect(try harness.exchangeRaw(on: id) == [
            ASDU.confirmation(of: freeze, cause: .activationConfirmation, negative: false),
            ASDU.confirmation(of: freeze, cause: .activationTermination, negative: false),
        ])
        // The live counters restart from 0 with the next sequence number (modulo 32).
        let live = try #require(harness.outstation.image.state(at: address(200)))
        #expect(live.value == .counter(BinaryCounterReading(value: 0, sequenceNumber: 1)))
        #expect(live.frozen == BinaryCounterReading(value: 100))
        #expect(harness.outstation.image.state(at: address(205))?.value
                == .counter(BinaryCounterReading(value: 0, sequenceNumber: 0)))

        // The live counter moves on; a read still reports the frozen values.
        try harness.apply([update(200, .counter(BinaryCounterReading(value: 3, sequenceNumber: 1)))])
        _ = try harness.exchange(on: id)
        try harness.request(counterInterrogation(), on: id)
        let read = try harness.exchange(on: id).dropFirst().dropLast()
        #expect(read.flatMap(\.objects).map(\.element) == [
            .integratedTotals(BinaryCounterReading(value: 100)),
            .integratedTotals(BinaryCounterReading(value: 200)),
            .integratedTotals(BinaryCounterReading(value: 300, sequenceNumber: 31)),
            .integratedTotals(BinaryCounterReading(value: 400)),
        ])
        // A plain read of the point gives the live value.
        let readRequest = ASDU(cause: CauseOfTransmission(.request), commonAddress: 47, address: 200, element: .read)
        try harness.request(readRequest, on: id)
        #expect(try harness.exchange(on: id).flatMap(\.objects)
                == [InformationObject(address: 200, element: .integratedTotals(BinaryCounterReading(value: 3, sequenceNumber: 1)))])
    }

    @Test func freezeOfOneGroupLeavesTheOthers() throws {
        let harness = Harness(points: Self.counters())
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        try harness.request(counterInterrogation(request: 2, freeze: .freezeWithoutReset), on: id)
        #expect(try harness.exchange(on: id).map(\.cot) == [.activationConfirmation, .activationTermination])
        let image = harness.outstation.image
        #expect(image.state(at: address(205))?.frozen == BinaryCounterReading(value: 300, sequenceNumber: 31))
        #expect(image.state(at: address(205))?.value == .counter(BinaryCounterReading(value: 300, sequenceNumber: 31)))
        #expect(image.state(at: address(200))?.frozen == nil)
    }

    @Test func counterInterrogationWithoutRequestIsRefused() throws {
        let harness = Harness(points: Self.counters())
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        let request = try counterInterrogation(request: 0).encoded()
        harness.request(request, on: id)
        #expect(try harness.exchangeRaw(on: id) == [ASDU.confirmation(of: request, cause: .activationConfirmation, negative: true)])
    }
}

@Suite("Interrogation queue")
struct InterrogationQueueTests {
    @Test func interrogationsRunOneAfterTheOther() throws {
        let points: [MonitorPointDefinition] = [.point(1, .single, groups: [1]), .point(2, .float)]
        let harness = Harness(points: points)
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        try harness.request(interrogation(), on: id)
        try harness.request(interrogation(qoi: 21), on: id)
        let asdus = try harness.exchange(on: id)
        #expect(asdus.map(\.cot) == [.activationConfirmation, .interrogatedByStation, .interrogatedByStation,
                                     .activationTermination,
                                     .activationConfirmation, .interrogatedByGroup(1), .activationTermination])
        #expect(harness.station().statistics.interrogations == 2)
    }

    @Test func atMostSixteenInterrogationsWait() throws {
        let points = (UInt32(1)...2_000).map { MonitorPointDefinition.point($0, .float) }
        let harness = Harness(points: points)
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        // The first fills the window; fifteen more wait; the seventeenth is refused.
        try harness.request(interrogation(), on: id)
        for _ in 1..<16 { harness.request(try interrogation().encoded(), on: id, acknowledging: false) }
        let refused = try interrogation(qoi: 22).encoded()
        harness.request(refused, on: id, acknowledging: false)
        harness.acknowledge(on: id)
        let raw = try harness.exchangeRaw(on: id)
        let negative = ASDU.confirmation(of: refused, cause: .activationConfirmation, negative: true)
        #expect(raw.filter { $0 == negative }.count == 1)
        let asdus = try raw.map { try ASDU(decoding: $0) }
        #expect(asdus.filter { $0.cot == .activationTermination }.count == 16)
        #expect(asdus.filter { $0.cot == .interrogatedByGroup(2) }.isEmpty)
        #expect(harness.station().statistics.interrogations == 16)
    }
}
