import Testing
import IEC104
@testable import Outstation
import TestSupport

@Suite("Session start, timers and periodic transmission")
struct SessionTests {
    @Test func startDTIsConfirmedThenEndOfInitializationPerCommonAddress() throws {
        let harness = Harness(points: [.point(1, .single)], commonAddresses: [47, 48])
        let (id, replaced) = harness.connect()
        #expect(replaced.isEmpty)
        // Nothing before STARTDT.
        harness.flush()
        #expect(harness.takeFrames(on: id).isEmpty)

        let frames = try harness.startDataTransfer(on: id)
        #expect(frames.first?.apci == .unnumbered(.startDTConfirmation))
        let asdus = try frames.filter { if case .information = $0.apci { true } else { false } }.map { try ASDU(decoding: $0.asdu) }
        #expect(asdus.map(\.typeID) == [.M_EI_NA_1, .M_EI_NA_1])
        #expect(asdus.map(\.commonAddress) == [47, 48])
        for asdu in asdus {
            #expect(asdu.cot == .initialized)
            #expect(!asdu.cause.isNegative)
            #expect(asdu.objects == [InformationObject(address: 0, element: .endOfInitialization(.localPowerOn))])
        }
        // Byte layout of the first: M_EI_NA_1, one object, COT 4, CA 47, IOA 0, COI 0.
        let raw = frames[1].asdu
        #expect(raw == hex("46 01 04 00 2F 00 00 00 00 00"))
    }

    @Test func endOfInitializationOnlyOnTheFirstStartDT() throws {
        let harness = Harness(points: [.point(1, .single)])
        let first = harness.connect().id
        let initial = try harness.exchange(on: first)
        #expect(initial.isEmpty)
        try harness.startDataTransfer(on: first)
        // A repeated STARTDT act on the same connection: confirmed, no second M_EI_NA_1.
        let again = try harness.startDataTransfer(on: first)
        #expect(again.map(\.apci) == [.unnumbered(.startDTConfirmation)])

        harness.disconnect(first)
        let second = harness.connect().id
        let frames = try harness.startDataTransfer(on: second)
        #expect(frames.map(\.apci) == [.unnumbered(.startDTConfirmation)])
    }

    @Test func connectionWithoutStartDTIsClosedAfterTheStartTimeout() throws {
        let harness = Harness(points: [.point(1, .single)]) { $0.startTimeout = .seconds(5) }
        let id = harness.connect().id
        harness.advance(by: .seconds(4))
        #expect(harness.isOpen(id))
        #expect(harness.armedTimer() == LinkInstant(nanoseconds: 6_000_000_000))
        harness.advance(by: .seconds(1))
        #expect(!harness.isOpen(id))
        let closes = harness.actions.compactMap { action -> ConnectionID? in
            if case .close(let id, _) = action { id } else { nil }
        }
        #expect(closes == [id])
        #expect(harness.station().connectionCount == 0)
    }

    @Test func startedConnectionIsNotClosedByTheStartTimeout() throws {
        let harness = Harness(points: [.point(1, .single)]) { $0.startTimeout = .seconds(5) }
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        harness.advance(by: .seconds(6))
        #expect(harness.isOpen(id))
        #expect(harness.closed.isEmpty)
    }

    @Test func testFrameActIsConfirmed() throws {
        let harness = Harness(points: [.point(1, .single)])
        let id = harness.connect().id
        harness.send(.unnumbered(.testFRActivation), on: id)
        #expect(harness.takeFrames(on: id).map(\.apci) == [.unnumbered(.testFRConfirmation)])
    }

    @Test(arguments: [PeriodicTransmission.cyclic(.seconds(5)), .background(.seconds(5))])
    func periodicPointsAreSentAfterTheirPeriodWhileStarted(_ periodic: PeriodicTransmission) throws {
        let points: [MonitorPointDefinition] = [
            .point(1, .float, value: .float(1.5), periodic: periodic),
            .point(2, .float, value: .float(2.5), periodic: periodic),
            .point(3, .single, value: .single(true)),
        ]
        let harness = Harness(points: points)
        // Not while no connection is started.
        harness.advance(by: .seconds(5))
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        harness.advance(by: .seconds(4))
        #expect(try harness.exchange(on: id).isEmpty, "the next scan is due 5 s after the last one")
        harness.advance(by: .seconds(1))
        let asdus = try harness.exchange(on: id)
        #expect(asdus.count == 1)
        let asdu = try #require(asdus.first)
        #expect(asdu.typeID == .M_ME_NC_1)
        #expect(asdu.cot == periodic.cause)
        #expect(asdu.isSequence)
        #expect(asdu.objects == [
            InformationObject(address: 1, element: .float(1.5, [])),
            InformationObject(address: 2, element: .float(2.5, [])),
        ])
        // And again one period later, with the current value.
        try harness.apply([update(2, .float(9))])
        let event = try harness.exchange(on: id)
        #expect(event.map(\.cot) == [.spontaneous])
        harness.advance(by: .seconds(5))
        let second = try harness.exchange(on: id)
        #expect(second.flatMap(\.objects).map(\.element) == [.float(1.5, []), .float(9, [])])
    }
}
