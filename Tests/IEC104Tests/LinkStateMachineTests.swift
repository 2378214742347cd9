import Testing
import IEC104

/// Seconds on the fake clock the tests drive the link with.
private func at(_ seconds: Double) -> LinkInstant { LinkInstant(nanoseconds: UInt64(seconds * 1_000_000_000)) }

/// Splits what the link wrote into APDUs and clears it.
private func drain(_ link: inout LinkStateMachine) -> [APDU] {
    var framer = StreamFramer()
    framer.append(link.output)
    link.clearOutput()
    var frames: [APDU] = []
    while let frame = try? framer.next() { frames.append(frame) }
    #expect(framer.bufferedByteCount == 0, "the link wrote a partial frame")
    return frames
}

private let sampleASDU: [UInt8] = [0x01, 0x01, 0x03, 0x00, 0x2F, 0x00, 0x01, 0x00, 0x00, 0x01]

private func startedOutstation(_ parameters: APCIParameters = .standard) -> LinkStateMachine {
    var link = LinkStateMachine(role: .controlledStation, parameters: parameters, now: at(0))
    #expect(link.receive(.unnumbered(.startDTActivation), now: at(0)) == .dataTransferStarted)
    link.clearOutput()
    return link
}

@Suite("Link state machine, controlled station")
struct ControlledStationLinkTests {
    @Test func startDTIsConfirmedAndOpensTheWindow() {
        var link = LinkStateMachine(role: .controlledStation, now: at(0))
        #expect(!link.canSend)
        #expect(link.receive(.unnumbered(.startDTActivation), now: at(1)) == .dataTransferStarted)
        #expect(drain(&link).map(\.apci) == [.unnumbered(.startDTConfirmation)])
        #expect(link.canSend)
        #expect(link.sendWindow == 12)
        // A repeated STARTDT act is confirmed again without a second "started".
        #expect(link.receive(.unnumbered(.startDTActivation), now: at(2)) == .handled)
        #expect(drain(&link).map(\.apci) == [.unnumbered(.startDTConfirmation)])
    }

    @Test func informationFrameBeforeStartDTCloses() {
        var link = LinkStateMachine(role: .controlledStation, now: at(0))
        #expect(link.receive(.information(send: 0, receive: 0), now: at(1)) == .close(.informationFrameWhileStopped))
        let accepted = link.send(asdu: sampleASDU, now: at(1))
        #expect(!accepted, "nothing may be sent before STARTDT")
        #expect(link.output.isEmpty)
    }

    @Test func kWindowStallsAndResumesOnAcknowledgement() {
        var link = startedOutstation()
        for index in 0..<12 {
            let accepted = link.send(asdu: sampleASDU, now: at(1))
            #expect(accepted, "frame \(index) fits the window")
        }
        #expect(!link.canSend)
        let overflowAccepted = link.send(asdu: sampleASDU, now: at(1))
        #expect(!overflowAccepted)
        let sent = drain(&link)
        #expect(sent.count == 12)
        #expect(sent.map(\.apci) == (0..<12).map { APCI.information(send: UInt16($0), receive: 0) })
        #expect(sent.allSatisfy { $0.asdu == sampleASDU })

        #expect(link.receive(.supervisory(receive: 5), now: at(2)) == .handled)
        #expect(link.sendWindow == 5)
        #expect(link.unacknowledgedCount == 7)
        let resumed = link.send(asdu: sampleASDU, now: at(2))
        #expect(resumed)
        #expect(drain(&link).map(\.apci) == [.information(send: 12, receive: 0)])
    }

    @Test func acknowledgesAfterWReceivedFrames() {
        var link = startedOutstation()
        for sequence in 0..<7 {
            #expect(link.receive(.information(send: UInt16(sequence), receive: 0), now: at(1)) == .deliver)
        }
        #expect(link.output.isEmpty, "no acknowledgement before w = 8 frames")
        #expect(link.receive(.information(send: 7, receive: 0), now: at(1)) == .deliver)
        #expect(drain(&link).map(\.apci) == [.supervisory(receive: 8)])
    }

    @Test func t2AcknowledgesWhenNoIFrameCarriesTheAcknowledgement() {
        var link = startedOutstation()
        #expect(link.receive(.information(send: 0, receive: 0), now: at(1)) == .deliver)
        #expect(link.nextDeadline == at(11))
        #expect(link.handleTimeout(now: at(10.9)) == nil)
        #expect(link.output.isEmpty)
        #expect(link.handleTimeout(now: at(11)) == nil)
        #expect(drain(&link).map(\.apci) == [.supervisory(receive: 1)])
        // After acknowledging, only t3 remains: 20 s after the last reception.
        #expect(link.nextDeadline == at(21))
    }

    @Test func sentIFrameCarriesTheAcknowledgement() {
        var link = startedOutstation()
        for sequence in 0..<3 {
            _ = link.receive(.information(send: UInt16(sequence), receive: 0), now: at(1))
        }
        link.send(asdu: sampleASDU, now: at(2))
        #expect(drain(&link).map(\.apci) == [.information(send: 0, receive: 3)])
        #expect(link.handleTimeout(now: at(12)) == nil)
        #expect(link.output.isEmpty, "no S-frame: the I-frame acknowledged already")
    }

    @Test func t1ClosesWhenSentFramesAreNotAcknowledged() {
        var link = startedOutstation()
        link.send(asdu: sampleASDU, now: at(2))
        #expect(link.nextDeadline == at(17))
        #expect(link.handleTimeout(now: at(16.99)) == nil)
        #expect(link.handleTimeout(now: at(17)) == .timeout(.acknowledgement))
    }

    @Test func t3SendsTestFrameAndT1ClosesWithoutConfirmation() {
        var link = startedOutstation()
        #expect(link.nextDeadline == at(20))
        #expect(link.handleTimeout(now: at(20)) == nil)
        #expect(drain(&link).map(\.apci) == [.unnumbered(.testFRActivation)])
        #expect(link.nextDeadline == at(35))
        #expect(link.handleTimeout(now: at(35)) == .timeout(.testFrame))
    }

    @Test func testFrameConfirmationKeepsTheLinkAlive() {
        var link = startedOutstation()
        _ = link.handleTimeout(now: at(20))
        link.clearOutput()
        #expect(link.receive(.unnumbered(.testFRConfirmation), now: at(21)) == .handled)
        #expect(link.nextDeadline == at(41))
        #expect(link.handleTimeout(now: at(36)) == nil)
    }

    @Test func testFrameActivationIsAnsweredInAnyState() {
        var link = LinkStateMachine(role: .controlledStation, now: at(0))
        #expect(link.receive(.unnumbered(.testFRActivation), now: at(1)) == .handled)
        #expect(drain(&link).map(\.apci) == [.unnumbered(.testFRConfirmation)])
    }

    @Test func wrongSendSequenceCloses() {
        var link = startedOutstation()
        #expect(link.receive(.information(send: 0, receive: 0), now: at(1)) == .deliver)
        #expect(link.receive(.information(send: 2, receive: 0), now: at(1)) == .close(.sequenceError(expected: 1, received: 2)))
    }

    @Test func acknowledgingAnUnsentFrameCloses() {
        var link = startedOutstation()
        link.send(asdu: sampleASDU, now: at(1))
        link.send(asdu: sampleASDU, now: at(1))
        #expect(link.receive(.supervisory(receive: 3), now: at(2))
                == .close(.invalidAcknowledgement(received: 3, oldestUnacknowledged: 0, nextToSend: 2)))
        var fresh = startedOutstation()
        #expect(fresh.receive(.information(send: 0, receive: 1), now: at(1))
                == .close(.invalidAcknowledgement(received: 1, oldestUnacknowledged: 0, nextToSend: 0)))
    }

    @Test func stopDTWaitsForOutstandingAcknowledgements() {
        var link = startedOutstation()
        for _ in 0..<3 { link.send(asdu: sampleASDU, now: at(1)) }
        link.clearOutput()
        _ = link.receive(.information(send: 0, receive: 0), now: at(1))
        #expect(link.receive(.unnumbered(.stopDTActivation), now: at(2)) == .dataTransferStopped)
        #expect(link.output.isEmpty, "STOPDT con waits for the three frames to be acknowledged")
        #expect(!link.canSend)
        #expect(link.dataTransfer == .stopPending)
        #expect(link.receive(.supervisory(receive: 2), now: at(3)) == .handled)
        #expect(link.output.isEmpty)
        #expect(link.receive(.supervisory(receive: 3), now: at(3)) == .handled)
        // The received I-frame is acknowledged before the confirmation.
        #expect(drain(&link).map(\.apci) == [.supervisory(receive: 1), .unnumbered(.stopDTConfirmation)])
        #expect(link.dataTransfer == .stopped)
    }

    @Test func stopDTWithNothingOutstandingIsConfirmedAtOnce() {
        var link = startedOutstation()
        #expect(link.receive(.unnumbered(.stopDTActivation), now: at(1)) == .dataTransferStopped)
        #expect(drain(&link).map(\.apci) == [.unnumbered(.stopDTConfirmation)])
        #expect(link.receive(.information(send: 0, receive: 0), now: at(2)) == .close(.informationFrameWhileStopped))
    }

    @Test func unacknowledgedASDUsAreKeptInOrderForResending() {
        var link = startedOutstation()
        for index in 0..<5 { link.send(asdu: [0x01, 0x01, 0x03, 0x00, 0x2F, 0x00, UInt8(index), 0, 0, 1], now: at(1)) }
        _ = link.receive(.supervisory(receive: 2), now: at(2))
        #expect(link.unacknowledgedASDUs.map { $0[6] } == [2, 3, 4])
    }

    @Test func sequenceNumbersWrapAt32768() {
        var link = startedOutstation()
        for round in 0..<(32768 / 8 + 2) {
            for _ in 0..<8 {
                let accepted = link.send(asdu: sampleASDU, now: at(1))
                #expect(accepted)
            }
            let acknowledged = UInt16((round + 1) * 8 % 32768)
            #expect(link.receive(.supervisory(receive: acknowledged), now: at(1)) == .handled)
            link.clearOutput()
        }
        #expect(link.sendSequence == 16)
        link.send(asdu: sampleASDU, now: at(1))
        #expect(drain(&link).map(\.apci) == [.information(send: 16, receive: 0)])
    }

    @Test func confirmationsAreUnexpectedByAnOutstation() {
        var link = LinkStateMachine(role: .controlledStation, now: at(0))
        #expect(link.receive(.unnumbered(.startDTConfirmation), now: at(1)) == .close(.unexpectedFunction(.startDTConfirmation)))
    }
}

@Suite("Link state machine, controlling station")
struct ControllingStationLinkTests {
    @Test func startDTHandshake() {
        var link = LinkStateMachine(role: .controllingStation, now: at(0))
        link.startDataTransfer(now: at(0))
        #expect(drain(&link).map(\.apci) == [.unnumbered(.startDTActivation)])
        #expect(link.dataTransfer == .startPending)
        #expect(!link.canSend)
        #expect(link.receive(.unnumbered(.startDTConfirmation), now: at(1)) == .dataTransferStarted)
        #expect(link.canSend)
    }

    @Test func startDTWithoutConfirmationTimesOut() {
        var link = LinkStateMachine(role: .controllingStation, now: at(0))
        link.startDataTransfer(now: at(0))
        #expect(link.nextDeadline == at(15))
        #expect(link.handleTimeout(now: at(15)) == .timeout(.startDataTransfer))
    }

    @Test func receivesMonitorDataAndStopsCleanly() {
        var link = LinkStateMachine(role: .controllingStation, now: at(0))
        link.startDataTransfer(now: at(0))
        _ = link.receive(.unnumbered(.startDTConfirmation), now: at(0))
        link.clearOutput()
        for sequence in 0..<3 {
            #expect(link.receive(.information(send: UInt16(sequence), receive: 0), now: at(1)) == .deliver)
        }
        link.stopDataTransfer(now: at(2))
        #expect(drain(&link).map(\.apci) == [.supervisory(receive: 3), .unnumbered(.stopDTActivation)])
        #expect(link.receive(.unnumbered(.stopDTConfirmation), now: at(3)) == .dataTransferStopped)
        #expect(link.dataTransfer == .stopped)
    }

    @Test func activationsAreUnexpectedByAMaster() {
        var link = LinkStateMachine(role: .controllingStation, now: at(0))
        #expect(link.receive(.unnumbered(.startDTActivation), now: at(1)) == .close(.unexpectedFunction(.startDTActivation)))
    }
}

@Suite("APCI parameters")
struct APCIParameterTests {
    @Test func standardValues() {
        let parameters = APCIParameters.standard
        #expect(parameters.k == 12 && parameters.w == 8)
        #expect(parameters.t1 == .seconds(15) && parameters.t2 == .seconds(10) && parameters.t3 == .seconds(20))
    }

    @Test func wAboveTwoThirdsOfKIsRejected() {
        #expect(throws: APCIParameterError.windowTooLarge(k: 12, w: 9)) { try APCIParameters(k: 12, w: 9) }
        #expect(throws: Never.self) { try APCIParameters(k: 3, w: 2) }
    }

    @Test func t2MustBeBelowT1() {
        #expect(throws: APCIParameterError.t2NotBelowT1(t1: .seconds(10), t2: .seconds(10))) {
            try APCIParameters(t1: .seconds(10), t2: .seconds(10))
        }
    }

    @Test(arguments: [0, 32768])
    func kOutOfRange(k: Int) {
        #expect(throws: APCIParameterError.self) { try APCIParameters(k: k, w: 1) }
    }
}
