import IEC104
import Testing
@testable import Master

@Suite struct InterrogationProgressTests {
    /// The ASDUs of `frames` as a station sends them, through the core, into the progress.
    private func run(_ asdus: [[UInt8]], request: [UInt8], clock: inout ManualClock) throws -> InterrogationProgress {
        var core = try startedCore(clock: clock)
        let sent = core.send(asdu: request, now: clock.now)
        #expect(sent)
        var progress = InterrogationProgress(request: request, silence: .seconds(10), now: clock.now)
        for (sequence, asdu) in asdus.enumerated() where !progress.isDone {
            clock.advance(.milliseconds(10))
            for event in try core.receive(Frames.information(send: UInt16(sequence), receive: 1, asdu), now: clock.now) {
                guard case .information(let apdu) = event else { continue }
                if progress.received(apdu.asdu, now: clock.now) == nil { progress.pointsReceived(1, now: clock.now) }
            }
        }
        return progress
    }

    @Test func completesFromActconToActterm() throws {
        var clock = ManualClock()
        let progress = try run([Interrogation47.actcon, Interrogation47.point(1), Interrogation47.point(2),
                                Interrogation47.actterm], request: Interrogation47.request, clock: &clock)
        #expect(progress.isDone)
        #expect(progress.complete)
        #expect(progress.confirmed == [47])
        #expect(progress.terminated == [47])
        #expect(progress.points == 2)
        #expect(progress.seconds == 0.04)
    }

    @Test func pointsWithoutActtermTimeOutIncomplete() throws {
        var clock = ManualClock()
        var progress = try run([Interrogation47.actcon, Interrogation47.point(1)],
                               request: Interrogation47.request, clock: &clock)
        #expect(!progress.isDone)
        #expect(progress.deadline == clock.now + .seconds(10), "silence restarts with every frame")
        progress.deadlineReached()
        #expect(progress.isDone)
        #expect(!progress.complete)
    }

    @Test func negativeConfirmationEndsTheInterrogation() throws {
        var clock = ManualClock()
        let progress = try run([Interrogation47.negativeActcon, Interrogation47.point(1)],
                               request: Interrogation47.request, clock: &clock)
        #expect(progress.isDone)
        #expect(!progress.complete)
        #expect(progress.refusals.count == 1)
        #expect(progress.refusals.first?.text == "ACTCON negative (P/N=1)")
        #expect(progress.points == 0, "nothing after the refusal is counted")
    }

    @Test func unknownCommonAddressIsANegativeReply() throws {
        let reply = Interrogation47.interrogation(cause: 46 | 0x40)
        let confirmation = try #require(Confirmation.match(reply, request: Interrogation47.request))
        #expect(confirmation.isNegative)
        #expect(confirmation.text == "negative: unknown common address of ASDU (COT 46)")
    }

    @Test func broadcastWaitsForFurtherCommonAddressesBeforeCompleting() throws {
        var clock = ManualClock()
        var progress = try run([Interrogation47.interrogation(cause: 7), Interrogation47.point(1),
                                Interrogation47.interrogation(cause: 10)],
                               request: Interrogation47.broadcastRequest, clock: &clock)
        #expect(!progress.isDone, "another common address may still start")
        #expect(progress.deadline == clock.now + .milliseconds(300))
        progress.deadlineReached()
        #expect(progress.complete)
    }
}
