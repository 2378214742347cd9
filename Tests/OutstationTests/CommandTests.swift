import Testing
import IEC104
@testable import Outstation
import TestSupport

private let monitorPoints: [MonitorPointDefinition] = [
    .point(1, .single), .point(2, .double, value: .double(.off)), .point(3, .single), .point(4, .float),
    .point(5, .single, timeTagged: true),
]

private let commandPoints: [CommandPointDefinition] = [
    CommandPointDefinition(address: address(100), kind: .single, selectBeforeOperate: .optional, feedback: address(1)),
    CommandPointDefinition(address: address(101), kind: .double, selectBeforeOperate: .required, feedback: address(2)),
    CommandPointDefinition(address: address(102), kind: .single, selectBeforeOperate: .no, feedback: address(3)),
    CommandPointDefinition(address: address(103), kind: .float, timeTag: .without, feedback: address(4)),
    CommandPointDefinition(address: address(104), kind: .single, feedback: address(5), sendsTermination: false),
    CommandPointDefinition(address: address(105), kind: .single, timeTag: .with),
]

/// Station s1 (CA 47) commands; s2 also serves CA 47, s3 serves CA 48 only.
private func commandHarness() throws -> (Harness, ConnectionID) {
    let harness = Harness(points: monitorPoints + [.point(1, .single, ca: 48)], commands: commandPoints,
                          stations: [Harness.configuration("s1", commonAddresses: [47]),
                                     Harness.configuration("s2", commonAddresses: [47]),
                                     Harness.configuration("s3", commonAddresses: [48])])
    let id = harness.connect().id
    try harness.startDataTransfer(on: id)
    return (harness, id)
}

private func single(_ on: Bool, select: Bool = false, time: CP56Time2a? = nil) -> InformationElement {
    .singleCommand(SingleCommand(isOn: on, isSelect: select), time: time)
}

private func double(_ state: DoubleCommandState, select: Bool = false) -> InformationElement {
    .doubleCommand(DoubleCommand(state: state, isSelect: select))
}

private func confirmation(_ request: [UInt8], _ cause: Cause, negative: Bool = false) -> [UInt8] {
    ASDU.confirmation(of: request, cause: cause, negative: negative)
}

@Suite("Commands")
struct CommandTests {
    @Test func directExecuteRunsTheHandlerAndReturnsFeedback() async throws {
        let (harness, id) = try commandHarness()
        let request = try command(single(true), ioa: 100).encoded()
        let actions = harness.request(request, on: id)
        let commands = harness.commandRequests(in: actions)
        #expect(commands.count == 1)
        let execute = try #require(commands.first)
        #expect(!execute.isSelect)
        #expect(execute.station == "s1")
        #expect(execute.point.address == address(100))
        #expect(execute.element == single(true))
        #expect(execute.suggestedFeedback == update(1, .single(true)))
        // Nothing is confirmed before the handler has finished.
        #expect(try harness.exchangeRaw(on: id).isEmpty)

        let problems = await harness.complete(execute)
        #expect(problems.isEmpty)
        let raw = try harness.exchangeRaw(on: id)
        #expect(raw.count == 3)
        #expect(raw.first == confirmation(request, .activationConfirmation))
        #expect(raw.last == confirmation(request, .activationTermination))
        let feedback = try ASDU(decoding: raw[1])
        #expect(feedback.typeID == .M_SP_NA_1)
        #expect(feedback.cot == .returnInformationRemote)
        #expect(feedback.objects == [InformationObject(address: 1, element: .singlePoint(SinglePointInformation(isOn: true)))])
        #expect(harness.outstation.image.state(at: address(1))?.value == .single(true))

        // The other station serving CA 47 buffers the feedback as return information; s3 does not.
        #expect(harness.station("s1").eventBuffer.isEmpty)
        let other = harness.station("s2").eventBuffer
        #expect(other.count == 1)
        #expect(other.first?.cause == .returnInformationRemote)
        #expect(other.first?.value == .single(true))
        #expect(harness.station("s3").eventBuffer.isEmpty)
        #expect(harness.station().statistics.commandsReceived == 1)
        #expect(harness.station().statistics.commandsFailed == 0)
    }

    @Test func timeTaggedCommandHandsItsTimeToTheHandler() async throws {
        let (harness, id) = try commandHarness()
        let time = CP56Time2a(unixMilliseconds: startWallTime - 500)
        let actions = try harness.request(command(single(true, time: time), ioa: 100), on: id)
        let execute = try #require(harness.commandRequests(in: actions).first)
        #expect(execute.time == time)
        // A point that takes only the time-tagged form.
        let plain = try harness.request(command(single(true), ioa: 105), on: id)
        #expect(harness.commandRequests(in: plain).isEmpty)
        let tagged = try harness.request(command(single(true, time: time), ioa: 105), on: id)
        #expect(harness.commandRequests(in: tagged).count == 1)
    }

    @Test func feedbackOfATimeTaggedPointCarriesTheTime() async throws {
        let (harness, id) = try commandHarness()
        let request = try command(single(true), ioa: 104).encoded()
        let execute = try #require(harness.commandRequests(in: harness.request(request, on: id)).first)
        harness.advance(by: .milliseconds(40))
        await harness.complete(execute)
        let raw = try harness.exchangeRaw(on: id)
        // No ACTTERM for a point configured without termination.
        #expect(raw.count == 2)
        #expect(raw[0] == confirmation(request, .activationConfirmation))
        let feedback = try ASDU(decoding: raw[1])
        #expect(feedback.typeID == .M_SP_TB_1)
        #expect(feedback.cot == .returnInformationRemote)
        #expect(feedback.objects.first?.element.time?.unixMilliseconds() == startWallTime + 40)
    }

    @Test func setpointFeedbackTakesTheCommandedValue() async throws {
        let (harness, id) = try commandHarness()
        let request = try command(.setpointFloat(42.5, SetpointQualifier()), ioa: 103).encoded()
        let execute = try #require(harness.commandRequests(in: harness.request(request, on: id)).first)
        #expect(execute.suggestedFeedback == update(4, .float(42.5)))
        await harness.complete(execute)
        let asdus = try harness.exchange(on: id)
        #expect(asdus.map(\.cot) == [.activationConfirmation, .returnInformationRemote, .activationTermination])
        #expect(asdus[1].objects == [InformationObject(address: 4, element: .float(42.5, []))])
    }

    @Test func selectThenMatchingExecute() async throws {
        let (harness, id) = try commandHarness()
        let select = try command(single(true, select: true), ioa: 100).encoded()
        let selectRequest = try #require(harness.commandRequests(in: harness.request(select, on: id)).first)
        #expect(selectRequest.isSelect)
        await harness.complete(selectRequest)
        // A select is confirmed only: no return information, no termination, no change.
        #expect(try harness.exchangeRaw(on: id) == [confirmation(select, .activationConfirmation)])
        #expect(harness.outstation.image.state(at: address(1))?.value == .single(false))

        let execute = try command(single(true), ioa: 100).encoded()
        let executeRequest = try #require(harness.commandRequests(in: harness.request(execute, on: id)).first)
        #expect(!executeRequest.isSelect)
        await harness.complete(executeRequest)
        let raw = try harness.exchangeRaw(on: id)
        #expect(raw.count == 3)
        #expect(raw.first == confirmation(execute, .activationConfirmation))
        #expect(raw.last == confirmation(execute, .activationTermination))
        #expect(harness.outstation.image.state(at: address(1))?.value == .single(true))
    }

    @Test func executeWithADifferentValueThanTheSelectIsRefused() async throws {
        let (harness, id) = try commandHarness()
        let select = try command(double(.on, select: true), ioa: 101).encoded()
        await harness.complete(try #require(harness.commandRequests(in: harness.request(select, on: id)).first))
        _ = try harness.exchange(on: id)
        let execute = try command(double(.off), ioa: 101).encoded()
        let actions = harness.request(execute, on: id)
        #expect(harness.commandRequests(in: actions).isEmpty)
        #expect(try harness.exchangeRaw(on: id) == [confirmation(execute, .activationConfirmation, negative: true)])
        // The selection is used up: the matching execute now fails too.
        let matching = try command(double(.on), ioa: 101).encoded()
        #expect(harness.commandRequests(in: harness.request(matching, on: id)).isEmpty)
        #expect(try harness.exchangeRaw(on: id) == [confirmation(matching, .activationConfirmation, negative: true)])
    }

    @Test func requiredSelectRefusesDirectExecute() async throws {
        let (harness, id) = try commandHarness()
        let execute = try command(double(.on), ioa: 101).encoded()
        #expect(harness.commandRequests(in: harness.request(execute, on: id)).isEmpty)
        #expect(try harness.exchangeRaw(on: id) == [confirmation(execute, .activationConfirmation, negative: true)])
        #expect(harness.station().statistics.commandsReceived == 0)

        // With a select first it works, and the double point follows.
        let select = try command(double(.on, select: true), ioa: 101).encoded()
        await harness.complete(try #require(harness.commandRequests(in: harness.request(select, on: id)).first))
        await harness.complete(try #require(harness.commandRequests(in: harness.request(execute, on: id)).first))
        let asdus = try harness.exchange(on: id)
        #expect(asdus.map(\.cot) == [.activationConfirmation, .activationConfirmation, .returnInformationRemote,
                                     .activationTermination])
        #expect(asdus[2].objects == [InformationObject(address: 2, element: .doublePoint(DoublePointInformation(state: .on)))])
    }

    @Test func noSelectRefusesASelect() throws {
        let (harness, id) = try commandHarness()
        let select = try command(single(true, select: true), ioa: 102).encoded()
        #expect(harness.commandRequests(in: harness.request(select, on: id)).isEmpty)
        #expect(try harness.exchangeRaw(on: id) == [confirmation(select, .activationConfirmation, negative: true)])
        // Direct execute is what such a point takes.
        let execute = try command(single(true), ioa: 102).encoded()
        #expect(harness.commandRequests(in: harness.request(execute, on: id)).count == 1)
    }

    @Test(arguments: [(Duration.milliseconds(9_999), true), (.seconds(10), false), (.seconds(12), false)], [true, false])
    func selectionExpiresAfterTenSeconds(wait: (Duration, Bool), runTimers: Bool) async throws {
        let (wait, accepted) = wait
        let (harness, id) = try commandHarness()
        let select = try command(double(.on, select: true), ioa: 101).encoded()
        await harness.complete(try #require(harness.commandRequests(in: harness.request(select, on: id)).first))
        _ = try harness.exchange(on: id)
        harness.advance(by: wait, runTimers: runTimers)
        let execute = try command(double(.on), ioa: 101).encoded()
        let requests = harness.commandRequests(in: harness.request(execute, on: id))
        #expect(requests.count == (accepted ? 1 : 0))
        if !accepted {
            #expect(try harness.exchangeRaw(on: id) == [confirmation(execute, .activationConfirmation, negative: true)])
        }
    }

    @Test func deactivationCancelsASelection() async throws {
        let (harness, id) = try commandHarness()
        let select = try command(double(.on, select: true), ioa: 101).encoded()
        await harness.complete(try #require(harness.commandRequests(in: harness.request(select, on: id)).first))
        _ = try harness.exchange(on: id)

        let deactivate = try command(double(.on, select: true), ioa: 101, cause: .deactivation).encoded()
        let actions = harness.request(deactivate, on: id)
        #expect(harness.commandRequests(in: actions).isEmpty)
        #expect(try harness.exchangeRaw(on: id) == [confirmation(deactivate, .deactivationConfirmation)])
        // Nothing left to cancel: negative DEACTCON.
        harness.request(deactivate, on: id)
        #expect(try harness.exchangeRaw(on: id) == [confirmation(deactivate, .deactivationConfirmation, negative: true)])
        // And the execute finds no selection.
        let execute = try command(double(.on), ioa: 101).encoded()
        #expect(harness.commandRequests(in: harness.request(execute, on: id)).isEmpty)
        #expect(try harness.exchangeRaw(on: id) == [confirmation(execute, .activationConfirmation, negative: true)])
    }

    @Test(arguments: [
        (command(double(.on), ioa: 100), "double command to a single point"),
        (command(.setpointFloat(1, SetpointQualifier(), time: CP56Time2a(unixMilliseconds: startWallTime)), ioa: 103),
         "time-tagged set-point to a point without time tag"),
        (command(single(true), ioa: 105), "single command without time to a point that wants one"),
    ])
    func commandTypeThePointDoesNotTakeIsRefused(request: ASDU, _ why: String) throws {
        let (harness, id) = try commandHarness()
        let bytes = try request.encoded()
        #expect(harness.commandRequests(in: harness.request(bytes, on: id)).isEmpty, "\(why)")
        #expect(try harness.exchangeRaw(on: id) == [confirmation(bytes, .activationConfirmation, negative: true)])
    }

    @Test func failedCommandIsConfirmedNegatively() async throws {
        let (harness, id) = try commandHarness()
        let request = try command(single(true), ioa: 100).encoded()
        let execute = try #require(harness.commandRequests(in: harness.request(request, on: id)).first)
        await harness.complete(execute, result: .failure(reason: "relay stuck"))
        #expect(try harness.exchangeRaw(on: id) == [confirmation(request, .activationConfirmation, negative: true)])
        #expect(harness.station().statistics.commandsFailed == 1)
        #expect(harness.outstation.image.state(at: address(1))?.value == .single(false))
        #expect(harness.station("s2").eventBuffer.isEmpty)
    }

    @Test func handlerUpdatesThatDoNotFitAreReported() async throws {
        let (harness, id) = try commandHarness()
        let request = try command(single(true), ioa: 100).encoded()
        let execute = try #require(harness.commandRequests(in: harness.request(request, on: id)).first)
        let problems = await harness.complete(execute, result: .success(updates: [update(1, .single(true)),
                                                                                  update(99, .single(true)),
                                                                                  update(4, .single(true))]))
        #expect(problems == [PointUpdateError.unknownPoint(address(99)).description,
                             PointUpdateError.kindMismatch(address(4), expected: .float, found: .single).description])
        #expect(try harness.exchange(on: id).map(\.cot) == [.activationConfirmation, .returnInformationRemote,
                                                             .activationTermination])
    }

    @Test func completionAfterTheConnectionClosedSendsOnlyTheReturnInformation() async throws {
        let (harness, id) = try commandHarness()
        let execute = try #require(harness.commandRequests(in: harness.request(command(single(true), ioa: 100), on: id)).first)
        harness.disconnect(id)
        let next = harness.connect().id
        try harness.startDataTransfer(on: next)
        await harness.complete(execute)
        // The new master never asked: no confirmation for it, but the feedback point's change is data it must see.
        let received = try harness.exchange(on: next)
        #expect(received.map(\.cot) == [.returnInformationRemote])
        #expect(received.first?.objects.first?.address == 1)
        #expect(harness.outstation.image.state(at: address(1))?.value == .single(true))
    }
}

@Suite("Command feedback values")
struct CommandFeedbackTests {
    @Test func optionalSelectFollowedByAnotherValueIsRefused() async throws {
        let (harness, id) = try commandHarness()
        let select = try command(single(true, select: true), ioa: 100).encoded()
        await harness.complete(try #require(harness.commandRequests(in: harness.request(select, on: id)).first))
        _ = try harness.exchange(on: id)
        let execute = try command(single(false), ioa: 100).encoded()
        #expect(harness.commandRequests(in: harness.request(execute, on: id)).isEmpty)
        #expect(try harness.exchangeRaw(on: id) == [confirmation(execute, .activationConfirmation, negative: true)])
        // The selection is gone: a direct execute is what an optional point takes next.
        #expect(harness.commandRequests(in: harness.request(execute, on: id)).count == 1)
    }

    @Test(arguments: [(StepDirection.higher, Int8(6)), (.lower, 4)])
    func regulatingStepMovesTheStepPositionByOne(direction: StepDirection, expected: Int8) async throws {
        let harness = Harness(points: [.point(1, .step, value: .step(StepPosition(value: 5)))],
                              commands: [CommandPointDefinition(address: address(10), kind: .step, feedback: address(1))])
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        let request = command(.regulatingStepCommand(RegulatingStepCommand(direction: direction)), ioa: 10)
        let execute = try #require(harness.commandRequests(in: try harness.request(request, on: id)).first)
        #expect(execute.suggestedFeedback == update(1, .step(StepPosition(value: expected))))
        await harness.complete(execute)
        let asdus = try harness.exchange(on: id)
        #expect(asdus[1].typeID == .M_ST_NA_1)
        #expect(asdus[1].objects == [InformationObject(address: 1, element: .stepPosition(StepPosition(value: expected), []))])
    }

    @Test func normalizedSetpointOnAFloatPointFeedsBackItsValue() async throws {
        let harness = Harness(points: [.point(1, .float)],
                              commands: [CommandPointDefinition(address: address(10), kind: .normalized, feedback: address(1))])
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        let request = command(.setpointNormalized(NormalizedValue(rawValue: 16_384), SetpointQualifier()), ioa: 10)
        let execute = try #require(harness.commandRequests(in: try harness.request(request, on: id)).first)
        #expect(execute.suggestedFeedback == update(1, .float(0.5)))
    }

    @Test func commandWithoutFeedbackPointIsStillTerminated() async throws {
        let (harness, id) = try commandHarness()
        let time = CP56Time2a(unixMilliseconds: startWallTime)
        let request = try command(single(true, time: time), ioa: 105).encoded()
        let execute = try #require(harness.commandRequests(in: harness.request(request, on: id)).first)
        #expect(execute.suggestedFeedback == nil)
        await harness.complete(execute)
        #expect(try harness.exchangeRaw(on: id) == [confirmation(request, .activationConfirmation),
                                                    confirmation(request, .activationTermination)])
    }
}
