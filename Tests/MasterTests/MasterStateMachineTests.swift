import IEC104
import Testing
@testable import Master

@Suite struct MasterStateMachineTests {
    @Test func startDataTransferHandshake() throws {
        let clock = ManualClock()
        var core = MasterStateMachine(parameters: .standard, now: clock.now)
        core.startDataTransfer(now: clock.now)
        #expect(core.output == [0x68, 0x04, 0x07, 0x00, 0x00, 0x00])
        #expect(core.dataTransfer == .startPending)
        #expect(!core.canSend)
        core.clearOutput()
        let events = try core.receive([0x68, 0x04, 0x0B, 0x00, 0x00, 0x00], now: clock.now)
        #expect(events == [.control(APDU(apci: .unnumbered(.startDTConfirmation)), .dataTransferStarted)])
        #expect(core.dataTransfer == .started)
        #expect(core.canSend)
        #expect(core.output.isEmpty)
    }

    @Test func noStartConfirmationWithinT1Closes() throws {
        var clock = ManualClock()
        var core = MasterStateMachine(parameters: .standard, now: clock.now)
        core.startDataTransfer(now: clock.now)
        #expect(core.nextDeadline == clock.now + .seconds(15))
        clock.advance(.seconds(15))
        #expect(throws: MasterError.self) { try core.handleTimeout(now: clock.now) }
    }

    @Test func receivedIFramesAreAcknowledgedEveryWFrames() throws {
        let clock = ManualClock()
        var core = try startedCore(clock: clock)
        for sequence in 0..<7 {
            let events = try core.receive(Frames.information(send: UInt16(sequence), Interrogation47.point(1)), now: clock.now)
            #expect(events == [.information(APDU(apci: .information(send: UInt16(sequence), receive: 0),
                                                 asdu: Interrogation47.point(1)))])
        }
        #expect(core.output.isEmpty)
        #expect(core.unacknowledgedReceptions == 7)
        _ = try core.receive(Frames.information(send: 7, Interrogation47.point(1)), now: clock.now)
        #expect(core.output == Frames.supervisory(8))
        #expect(core.supervisoryFramesSent == 1)
        #expect(core.unacknowledgedReceptions == 0)
        core.clearOutput()
        _ = try core.receive(Frames.information(send: 8, Interrogation47.point(1)), now: clock.now)
        core.acknowledgeReceived()
        #expect(core.output == Frames.supervisory(9))
        core.clearOutput()
        core.acknowledgeReceived()
        #expect(core.output.isEmpty, "nothing left to acknowledge")
    }

    @Test func unacknowledgedReceptionsAreAcknowledgedAtT2() throws {
        var clock = ManualClock()
        var core = try startedCore(clock: clock)
        _ = try core.receive(Frames.information(send: 0, Interrogation47.point(1)), now: clock.now)
        #expect(core.nextDeadline == clock.now + .seconds(10))
        clock.advance(.seconds(10))
        try core.handleTimeout(now: clock.now)
        #expect(core.output == Frames.supervisory(1))
        #expect(core.unacknowledgedReceptions == 0)
    }

    @Test func sendWindowClosesAtKAndOpensOnAcknowledgement() throws {
        let clock = ManualClock()
        let parameters = try APCIParameters(k: 3, w: 2, t0: .seconds(30), t1: .seconds(15), t2: .seconds(10), t3: .seconds(20))
        var core = try startedCore(parameters, clock: clock)
        for _ in 0..<3 {
            let sent = core.send(asdu: Interrogation47.request, now: clock.now)
            #expect(sent)
        }
        #expect(!core.canSend)
        let refused = core.send(asdu: Interrogation47.request, now: clock.now)
        #expect(!refused)
        #expect(core.output.count == 3 * (6 + Interrogation47.request.count))
        #expect(Array(core.output.prefix(6)) == [0x68, 0x0E, 0x00, 0x00, 0x00, 0x00])
        _ = try core.receive(Frames.supervisory(1), now: clock.now)
        #expect(core.canSend)
        let sentAgain = core.send(asdu: Interrogation47.request, now: clock.now)
        #expect(sentAgain)
        #expect(!core.canSend)
    }

    @Test func unacknowledgedIFrameClosesAtT1() throws {
        var clock = ManualClock()
        var core = try startedCore(clock: clock)
        core.send(asdu: Interrogation47.request, now: clock.now)
        clock.advance(.seconds(14))
        _ = try core.receive(Frames.unnumbered(.testFRActivation), now: clock.now)
        #expect(core.output.suffix(6) == ArraySlice(Frames.unnumbered(.testFRConfirmation)))
        clock.advance(.seconds(1))
        #expect(core.nextDeadline == clock.now)
        #expect {
            try core.handleTimeout(now: clock.now)
        } throws: { error in
            guard case MasterError.link(.timeout(.acknowledgement)) = error else { return false }
            return true
        }
    }

    @Test func framesSplitAtEveryOctetGiveTheSameEvents() throws {
        let clock = ManualClock()
        let stream = Frames.information(send: 0, Interrogation47.actcon) + Frames.unnumbered(.testFRActivation)
            + Frames.information(send: 1, Interrogation47.actterm)
        var whole = try startedCore(clock: clock)
        let expected = try whole.receive(stream, now: clock.now)
        #expect(expected.count == 3)
        for split in 1..<stream.count {
            var core = try startedCore(clock: clock)
            let events = try core.receive(stream[..<split], now: clock.now) + core.receive(stream[split...], now: clock.now)
            #expect(events == expected, "split at \(split)")
        }
    }

    @Test func outOfSequenceIFrameAndBadStartOctetClose() throws {
        let clock = ManualClock()
        var core = try startedCore(clock: clock)
        #expect {
            _ = try core.receive(Frames.information(send: 5, Interrogation47.actcon), now: clock.now)
        } throws: { error in
            guard case MasterError.link(.sequenceError(expected: 0, received: 5)) = error else { return false }
            return true
        }
        var other = try startedCore(clock: clock)
        #expect {
            _ = try other.receive([0x69, 0x04, 0x01, 0x00, 0x00, 0x00], now: clock.now)
        } throws: { error in
            guard case MasterError.frame = error else { return false }
            return true
        }
    }

    @Test func framesAreVisitedInPlaceAndOctetsCounted() throws {
        let clock = ManualClock()
        var core = try startedCore(clock: clock)
        let stream = Frames.information(send: 0, Interrogation47.point(7)) + [0x68, 0x0E]
        var asdus: [[UInt8]] = []
        let consumed = try stream.withUnsafeBytes { raw in
            try core.receiveFrames(in: raw, now: clock.now) { frame in
                if frame.isInformation { asdus.append(Array(frame.asdu)) }
            }
        }
        #expect(consumed == 16)
        #expect(asdus == [Interrogation47.point(7)])
        #expect(core.octetsReceived == 16 + 6)
    }

    @Test func aBatchIsAcknowledgedWholeWhenAskedTo() throws {
        let clock = ManualClock()
        var core = try startedCore(clock: clock)
        var stream: [UInt8] = []
        for sequence in 0..<12 { stream += Frames.information(send: UInt16(sequence), Interrogation47.point(1)) }
        stream += Frames.unnumbered(.testFRActivation)
        var delivered = 0
        _ = try stream.withUnsafeBytes { raw in
            try core.receiveFrames(in: raw, now: clock.now, acknowledgingWholeBatch: true) { frame in
                if frame.isInformation { delivered += 1 }
            }
        }
        #expect(delivered == 12)
        #expect(core.output == Frames.unnumbered(.testFRConfirmation) + Frames.supervisory(12))
        #expect(core.supervisoryFramesSent == 1)
        #expect(core.unacknowledgedReceptions == 0)

        // Fewer than w frames: nothing yet, as without batching.
        core.clearOutput()
        let few = Frames.information(send: 12, Interrogation47.point(1))
        _ = try few.withUnsafeBytes { try core.receiveFrames(in: $0, now: clock.now, acknowledgingWholeBatch: true) { _ in } }
        #expect(core.output.isEmpty)
        #expect(core.unacknowledgedReceptions == 1)
    }
}
