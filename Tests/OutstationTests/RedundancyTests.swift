import Testing
import IEC104
@testable import Outstation
import TestSupport

private func isSpontaneous(_ asdu: [UInt8]) -> Bool { Cause(rawValue: asdu[2]) == .spontaneous }

@Suite("Reconnect, takeover and redundancy")
struct RedundancyTests {
    @Test func newConnectionReplacesTheOldOneAndGetsItsUnacknowledgedEvents() throws {
        let harness = Harness(points: [.point(1, .float), .point(2, .single), .point(3, .single)])
        let old = harness.connect(peer: "192.0.2.1:1").id
        try harness.startDataTransfer(on: old)
        try harness.request(interrogation(), on: old)
        try harness.apply([update(1, .float(1)), update(2, .single(true))])
        let sentOnOld = try harness.exchangeRaw(on: old, acknowledge: false)
        #expect(try sentOnOld.map { try ASDU(decoding: $0).cot }
                == [.activationConfirmation, .interrogatedByStation, .interrogatedByStation, .activationTermination,
                    .spontaneous, .spontaneous])
        // Still buffered, not sent yet.
        try harness.apply([update(3, .single(true))])

        let (new, replaced) = harness.connect(peer: "192.0.2.1:2")
        #expect(replaced == [old], "redundancy 1: the old connection is given up, to be closed")
        #expect(harness.station().connectionCount == 1)
        #expect(harness.station().statistics.connectionsReplaced == 1)
        harness.flush()
        #expect(harness.takeFrames(on: new).isEmpty, "nothing before STARTDT")

        let frames = try harness.startDataTransfer(on: new)
        #expect(frames.first?.apci == .unnumbered(.startDTConfirmation))
        let resent = frames.compactMap { frame -> [UInt8]? in if case .information = frame.apci { frame.asdu } else { nil } }
        // The spontaneous ASDUs again, byte for byte, then what was still buffered; no M_EI_NA_1, no interrogation replies.
        #expect(Array(resent.prefix(2)) == sentOnOld.filter(isSpontaneous))
        #expect(resent.count == 3)
        let last = try ASDU(decoding: resent[2])
        #expect(last.objects == [InformationObject(address: 3, element: .singlePoint(SinglePointInformation(isOn: true)))])
    }

    @Test func acknowledgedEventsAreNotSentAgain() throws {
        // 20 events that cannot share an ASDU (alternating types, one priority class): 12 fill the window.
        let points: [MonitorPointDefinition] = (UInt32(1)...20).map {
            $0 % 2 == 0 ? .point($0, .single, priority: .normal) : .point($0, .float)
        }
        let harness = Harness(points: points)
        let old = harness.connect().id
        try harness.startDataTransfer(on: old)
        try harness.apply((UInt32(1)...20).map { $0 % 2 == 0 ? update($0, .single(true)) : update($0, .float(Float($0))) })
        let firstWindow = try harness.exchangeRaw(on: old, acknowledge: false)
        #expect(firstWindow.count == 12)
        // The master acknowledges the first five (N(R) = EI + 5 = 6).
        harness.send(.supervisory(receive: 6), on: old)
        let afterPartialAck = try harness.exchangeRaw(on: old, acknowledge: false)
        #expect(afterPartialAck.count == 5, "five more fit the window")

        let new = harness.connect().id
        let resent = try informationASDUs(harness.startDataTransfer(on: new))
        let addresses = resent.flatMap(\.addresses)
        #expect(addresses == Array(6...20), "unacknowledged ones again, in order, then the rest; nothing lost")
    }

    @Test func disconnectKeepsUnacknowledgedEventsForTheNextMaster() throws {
        let harness = Harness(points: [.point(1, .float)])
        let first = harness.connect().id
        try harness.startDataTransfer(on: first)
        try harness.apply([update(1, .float(1))])
        let sent = try harness.exchangeRaw(on: first, acknowledge: false)
        #expect(sent.count == 1)
        harness.disconnect(first)
        #expect(harness.station().hasPendingTransmission)
        let second = harness.connect().id
        let again = try informationASDUs(harness.startDataTransfer(on: second))
        #expect(try again.map { try $0.encoded() } == sent)
    }

    @Test func unacknowledgedRepliesAreNotSentAgain() throws {
        let harness = Harness(points: [.point(1, .float)])
        let first = harness.connect().id
        try harness.startDataTransfer(on: first)
        try harness.request(interrogation(), on: first)
        harness.request(hex("66 01 05 00 2F 00 01 00 00"), on: first)
        let sent = try harness.exchange(on: first, acknowledge: false)
        #expect(sent.map(\.cot) == [.activationConfirmation, .interrogatedByStation, .activationTermination, .request])
        harness.disconnect(first)
        let second = harness.connect().id
        let frames = try harness.startDataTransfer(on: second)
        #expect(frames.map(\.apci) == [.unnumbered(.startDTConfirmation)])
        #expect(!harness.station().hasPendingTransmission)
    }

    @Test func redundancyGroupSendsOnlyOnTheStartedConnection() throws {
        let harness = Harness(points: [.point(1, .float), .point(2, .single)]) { $0.redundancy = 2 }
        let a = harness.connect(peer: "a").id
        let b = harness.connect(peer: "b").id
        #expect(harness.closed.isEmpty)
        #expect(harness.station().connectionCount == 2)
        try harness.startDataTransfer(on: a)
        #expect(harness.station().activeConnection == a)
        try harness.apply([update(1, .float(1))])
        #expect(try harness.exchange(on: a).flatMap(\.addresses) == [1])
        harness.flush()
        #expect(harness.takeFrames(on: b).isEmpty, "the standby connection gets no data")
        // The standby one answers TESTFR.
        harness.send(.unnumbered(.testFRActivation), on: b)
        #expect(harness.takeFrames(on: b).map(\.apci) == [.unnumbered(.testFRConfirmation)])

        // An event a sent but that was not acknowledged, then b takes over.
        try harness.apply([update(2, .single(true))])
        let unacknowledged = try harness.exchangeRaw(on: a, acknowledge: false)
        #expect(unacknowledged.count == 1)
        let actions = harness.send(.unnumbered(.startDTActivation), on: b)
        let closes = actions.compactMap { action -> ConnectionID? in if case .close(let id, _) = action { id } else { nil } }
        #expect(closes == [a])
        #expect(harness.station().activeConnection == b)
        #expect(harness.station().connectionCount == 1)
        let frames = try harness.exchangeFrames(on: b)
        #expect(frames.first?.apci == .unnumbered(.startDTConfirmation))
        #expect(try informationASDUs(frames).map { try $0.encoded() } == unacknowledged)
    }

    @Test func thirdConnectionReplacesTheOldestOfARedundancyPair() throws {
        let harness = Harness(points: [.point(1, .float)]) { $0.redundancy = 2 }
        let a = harness.connect().id
        let b = harness.connect().id
        let (c, replaced) = harness.connect()
        #expect(replaced == [a])
        #expect(harness.station().connections.map(\.id) == [b, c])
        #expect(harness.station().statistics.connectionsAccepted == 3)
    }

    @Test func stopDTHoldsEventsUntilTheNextStartDT() throws {
        let harness = Harness(points: [.point(1, .float)])
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        harness.send(.unnumbered(.stopDTActivation), on: id)
        #expect(harness.takeFrames(on: id).map(\.apci) == [.unnumbered(.stopDTConfirmation)])
        #expect(harness.station().activeConnection == nil)
        try harness.apply([update(1, .float(4))])
        #expect(try harness.exchange(on: id).isEmpty)
        #expect(harness.station().eventBuffer.count == 1)
        let frames = try harness.startDataTransfer(on: id)
        #expect(frames.first?.apci == .unnumbered(.startDTConfirmation))
        #expect(try informationASDUs(frames).flatMap(\.objects) == [InformationObject(address: 1, element: .float(4, []))])
    }
}

@Suite("Events survive the end of a connection")
struct EventSurvivalTests {
    @Test func acknowledgementTimeoutClosesAndTheNextMasterGetsTheEvents() throws {
        let harness = Harness(points: [.point(1, .float)])
        let first = harness.connect().id
        try harness.startDataTransfer(on: first)
        try harness.apply([update(1, .float(1))])
        let sent = try harness.exchangeRaw(on: first, acknowledge: false)
        #expect(sent.count == 1)
        harness.advance(by: .seconds(14))
        #expect(harness.isOpen(first))
        harness.advance(by: .seconds(1))
        #expect(!harness.isOpen(first), "t1 = 15 s without acknowledgement closes the connection")
        let second = harness.connect().id
        #expect(try informationASDUs(harness.startDataTransfer(on: second)).map { try $0.encoded() } == sent)
    }

    @Test func eventsUnacknowledgedAtStopDTAreNotLostWhenThatConnectionCloses() throws {
        // Switch-over in a redundancy group: STOPDT on a (whose last event is not acknowledged),
        // STARTDT on b, then a goes away.
        let harness = Harness(points: [.point(1, .float), .point(2, .float)]) { $0.redundancy = 2 }
        let a = harness.connect().id
        let b = harness.connect().id
        try harness.startDataTransfer(on: a)
        try harness.apply([update(1, .float(1))])
        let unacknowledged = try harness.exchangeRaw(on: a, acknowledge: false)
        #expect(unacknowledged.count == 1)
        harness.send(.unnumbered(.stopDTActivation), on: a)
        #expect(harness.takeFrames(on: a).isEmpty, "STOPDT con waits for the acknowledgement")
        try harness.startDataTransfer(on: b)
        harness.disconnect(a)
        try harness.apply([update(2, .float(2))])
        let received = try harness.exchange(on: b)
        #expect(received.flatMap(\.objects).map(\.address).sorted() == [1, 2])
    }
}
