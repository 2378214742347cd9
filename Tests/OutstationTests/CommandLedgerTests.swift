import Testing
import IEC104
@testable import Outstation
import TestSupport

/// 100: single, optional select, ACTTERM; 101: double, select required; 102: single, no select;
/// 103: single without ACTTERM.
private let points: [UInt32: CommandPointDefinition] = [
    100: CommandPointDefinition(address: address(100), kind: .single, selectBeforeOperate: .optional, feedback: address(1)),
    101: CommandPointDefinition(address: address(101), kind: .double, selectBeforeOperate: .required),
    102: CommandPointDefinition(address: address(102), kind: .single, selectBeforeOperate: .no),
    103: CommandPointDefinition(address: address(103), kind: .single, sendsTermination: false),
]

private let start = LinkInstant(nanoseconds: 1_000_000_000)
private let first = ConnectionID(1)
private let second = ConnectionID(2)

private func single(_ on: Bool, select: Bool = false) -> InformationElement {
    .singleCommand(SingleCommand(isOn: on, isSelect: select))
}

private func double(_ state: DoubleCommandState, select: Bool = false) -> InformationElement {
    .doubleCommand(DoubleCommand(state: state, isSelect: select))
}

/// A command as station `station` hands it over after its checks.
private func received(_ element: InformationElement, ioa: UInt32, station: String = "s1", on connection: ConnectionID = first,
                      selectTimeout: Duration = .seconds(10)) -> ReceivedCommand {
    let asdu = (try? command(element, ioa: ioa).encoded()) ?? []
    return ReceivedCommand(station: station, listener: "main", peer: "192.0.2.1:40000", connection: connection,
                           request: try! ASDURequest(decoding: asdu),
                           point: points[ioa]!, element: element, originator: 0, suggestedFeedback: nil,
                           selectTimeout: selectTimeout)
}

private func deactivation(_ element: InformationElement, ioa: UInt32) -> ASDURequest {
    try! ASDURequest(decoding: (try? command(element, ioa: ioa, cause: .deactivation).encoded()) ?? [])
}

/// The actions with their requests reduced to ids, so that a whole sequence compares in one `#expect`.
private enum Step: Equatable {
    case accepted(UInt64, station: String)
    case execute(UInt64, station: String)
    case cancel(UInt64)
    case confirm(Cause, negative: Bool, station: String, connection: ConnectionID)
    case refuse(String)
    case returnInformation(station: String, connection: ConnectionID?)
    case notice(String)
}

/// The protocol answers only: `.finished` (counters and durations) has tests of its own.
private func steps(_ actions: [CommandAction]) -> [Step] {
    actions.compactMap { action -> Step? in
        switch action {
        case .accepted(let request): .accepted(request.id, station: request.station)
        case .execute(let request): .execute(request.id, station: request.station)
        case .cancel(let id, _): .cancel(id)
        case .confirm(let confirmation):
            .confirm(confirmation.cause, negative: confirmation.negative, station: confirmation.station,
                     connection: confirmation.connection)
        case .refuse(_, let reason): .refuse(reason)
        case .returnInformation(let station, let connection): .returnInformation(station: station, connection: connection)
        case .notice(_, let text): .notice(text)
        case .finished: nil
        }
    }
}

private func acceptedID(_ actions: [CommandAction]) throws -> UInt64 {
    try #require(actions.compactMap { if case .accepted(let request) = $0 { request.id } else { nil } }.first)
}

private func actcon(_ station: String = "s1", negative: Bool = false, on connection: ConnectionID = first) -> Step {
    .confirm(.activationConfirmation, negative: negative, station: station, connection: connection)
}

private func actterm(_ station: String = "s1", on connection: ConnectionID = first) -> Step {
    .confirm(.activationTermination, negative: false, station: station, connection: connection)
}

@Suite("Command ledger: sequencing per point")
struct CommandLedgerSequencingTests {
    @Test func onePointRunsOneCommandAtATimeInArrivalOrderAcrossStations() throws {
        var ledger = CommandLedger()
        let a = try acceptedID(ledger.activate(received(single(true), ioa: 100), now: start))
        let waiting = ledger.activate(received(single(false), ioa: 100, station: "s2", on: second), now: start)
        let b = try acceptedID(waiting)
        #expect(steps(waiting) == [.accepted(b, station: "s2")], "the point is busy: s2's command waits")
        let c = try acceptedID(ledger.activate(received(single(true), ioa: 100), now: start))
        // Another point is independent.
        let other = ledger.activate(received(single(true), ioa: 103), now: start)
        let d = try acceptedID(other)
        #expect(steps(other) == [.accepted(d, station: "s1"), .execute(d, station: "s1")])
        #expect(ledger.phase(of: a) == .running && ledger.phase(of: b) == .waiting && ledger.phase(of: c) == .waiting)

        #expect(steps(ledger.finish(a, succeeded: true, now: start))
                == [actcon(), .returnInformation(station: "s1", connection: first), actterm(), .execute(b, station: "s2")])
        #expect(steps(ledger.finish(b, succeeded: true, now: start))
                == [actcon("s2", on: second), .returnInformation(station: "s2", connection: second), actterm("s2", on: second),
                    .execute(c, station: "s1")])
        #expect(steps(ledger.finish(c, succeeded: false, now: start)) == [actcon(negative: true)])
        #expect(ledger.count == 1)
        #expect(steps(ledger.finish(d, succeeded: true, now: start)) == [actcon(), .returnInformation(station: "s1", connection: first)],
                "103 sends no ACTTERM")
        #expect(ledger.count == 0)
    }

    @Test func idsAreUniqueAcrossStationsAndCarriedByTheRequest() throws {
        var ledger = CommandLedger()
        var ids: [UInt64] = []
        for index in 0..<30 {
            let actions = ledger.activate(received(single(true), ioa: 100, station: "s\(index % 3)"), now: start)
            let id = try acceptedID(actions)
            ids.append(id)
            for case .execute(let request) in actions { #expect(request.id == id) }
        }
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted())
        // Refused commands take no id.
        #expect(steps(ledger.activate(received(single(true, select: true), ioa: 102), now: start))
                == [.refuse("point 47:102 does not take select-before-operate")])
        let next = try acceptedID(ledger.activate(received(single(true), ioa: 103), now: start))
        #expect(next == ids.last! + 1)
    }

    @Test func theRequestCarriesTheCommand() throws {
        var ledger = CommandLedger()
        let time = CP56Time2a(unixMilliseconds: 1_735_787_045_678)
        let element = InformationElement.singleCommand(SingleCommand(isOn: true, isSelect: true), time: time)
        let actions = ledger.activate(received(element, ioa: 100, station: "s7"), now: start)
        guard case .execute(let request)? = actions.last else { Issue.record("not started: \(actions)"); return }
        #expect(request.station == "s7" && request.listener == "main" && request.peer == "192.0.2.1:40000")
        #expect(request.isSelect && request.element == element && request.time == time)
        #expect(request.point == points[100])
    }

    @Test func anUnknownOrFinishedCommandChangesNothing() throws {
        var ledger = CommandLedger()
        #expect(ledger.finish(99, succeeded: true, now: start).isEmpty)
        let id = try acceptedID(ledger.activate(received(single(true), ioa: 100), now: start))
        _ = ledger.finish(id, succeeded: true, now: start)
        #expect(ledger.finish(id, succeeded: true, now: start).isEmpty)
        #expect(ledger.phase(of: id) == nil)
    }
}

@Suite("Command ledger: select before operate")
struct CommandLedgerSelectTests {
    @Test func selectThenMatchingExecute() throws {
        var ledger = CommandLedger()
        let select = try acceptedID(ledger.activate(received(double(.on, select: true), ioa: 101), now: start))
        // A select is confirmed only: no return information, no ACTTERM.
        #expect(steps(ledger.finish(select, succeeded: true, now: start)) == [actcon()])
        #expect(ledger.isSelected(address(101), station: "s1", now: start))
        let actions = ledger.activate(received(double(.on), ioa: 101), now: start + .seconds(1))
        let execute = try acceptedID(actions)
        #expect(steps(actions) == [.accepted(execute, station: "s1"), .execute(execute, station: "s1")])
        #expect(!ledger.isSelected(address(101), station: "s1", now: start), "the execute uses the selection up")
        #expect(steps(ledger.finish(execute, succeeded: true, now: start))
                == [actcon(), .returnInformation(station: "s1", connection: first), actterm()])
    }

    @Test func requiredSelectRefusesADirectExecute() {
        var ledger = CommandLedger()
        #expect(steps(ledger.activate(received(double(.on), ioa: 101), now: start))
                == [.refuse("execute of 47:101 without a matching select")])
        #expect(ledger.count == 0)
    }

    @Test func aSelectWhereThePointTakesNoneIsRefused() {
        var ledger = CommandLedger()
        let actions = ledger.activate(received(single(true, select: true), ioa: 102), now: start)
        #expect(steps(actions) == [.refuse("point 47:102 does not take select-before-operate")])
        guard case .refuse(let confirmation, _)? = actions.first else { return }
        #expect(confirmation.cause == .activationConfirmation && confirmation.negative)
        #expect(confirmation.asdu == ASDU.confirmation(of: confirmation.request.octets, cause: .activationConfirmation, negative: true))
    }

    @Test func anExecuteUnlikeItsSelectIsRefusedAndUsesTheSelectionUp() throws {
        var ledger = CommandLedger()
        let select = try acceptedID(ledger.activate(received(double(.on, select: true), ioa: 101), now: start))
        _ = ledger.finish(select, succeeded: true, now: start)
        #expect(steps(ledger.activate(received(double(.off), ioa: 101), now: start))
                == [.refuse("execute of 47:101 without a matching select")])
        #expect(steps(ledger.activate(received(double(.on), ioa: 101), now: start))
                == [.refuse("execute of 47:101 without a matching select")])
    }

    @Test func optionalSelectFollowedByAnotherValueIsRefusedThenADirectExecuteRuns() throws {
        var ledger = CommandLedger()
        let select = try acceptedID(ledger.activate(received(single(true, select: true), ioa: 100), now: start))
        _ = ledger.finish(select, succeeded: true, now: start)
        #expect(steps(ledger.activate(received(single(false), ioa: 100), now: start))
                == [.refuse("execute of 47:100 does not match its select")])
        let direct = ledger.activate(received(single(false), ioa: 100), now: start)
        #expect(steps(direct).count == 2)
    }

    @Test(arguments: [(Duration.milliseconds(9_999), true), (.seconds(10), false), (.seconds(12), false)])
    func aSelectionExpiresAfterTheSelectTimeout(wait: Duration, accepted: Bool) throws {
        var ledger = CommandLedger()
        let select = try acceptedID(ledger.activate(received(double(.on, select: true), ioa: 101), now: start))
        let confirmedAt = start + .seconds(1)
        _ = ledger.finish(select, succeeded: true, now: confirmedAt)
        #expect(ledger.nextDeadline == confirmedAt + .seconds(10))
        let actions = ledger.activate(received(double(.on), ioa: 101), now: confirmedAt + wait)
        #expect(steps(actions).count == (accepted ? 2 : 1))
    }

    @Test func theSelectTimeoutIsTheStations() throws {
        var ledger = CommandLedger()
        let select = try acceptedID(ledger.activate(received(double(.on, select: true), ioa: 101, selectTimeout: .seconds(2)),
                                                    now: start))
        _ = ledger.finish(select, succeeded: true, now: start)
        #expect(ledger.isSelected(address(101), station: "s1", now: start + .milliseconds(1_999)))
        #expect(!ledger.isSelected(address(101), station: "s1", now: start + .seconds(2)))
        ledger.expireSelections(now: start + .seconds(3))
        #expect(ledger.nextDeadline == nil)
    }

    @Test func aFailedSelectSelectsNothing() throws {
        var ledger = CommandLedger()
        let select = try acceptedID(ledger.activate(received(double(.on, select: true), ioa: 101), now: start))
        #expect(steps(ledger.finish(select, succeeded: false, now: start)) == [actcon(negative: true)])
        #expect(!ledger.isSelected(address(101), station: "s1", now: start))
    }

    @Test func aSelectionBelongsToItsStation() throws {
        var ledger = CommandLedger()
        let select = try acceptedID(ledger.activate(received(double(.on, select: true), ioa: 101), now: start))
        _ = ledger.finish(select, succeeded: true, now: start)
        #expect(steps(ledger.activate(received(double(.on), ioa: 101, station: "s2", on: second), now: start))
                == [.refuse("execute of 47:101 without a matching select")])
        #expect(ledger.isSelected(address(101), station: "s1", now: start))
    }
}

@Suite("Command ledger: deactivation and connection end")
struct CommandLedgerCancellationTests {
    @Test func deactivationStopsARunningCommandWhichStillHoldsItsPoint() throws {
        var ledger = CommandLedger()
        let running = try acceptedID(ledger.activate(received(single(true), ioa: 100), now: start))
        let behind = try acceptedID(ledger.activate(received(single(false), ioa: 100, station: "s2", on: second), now: start))
        let actions = ledger.deactivate(station: "s1", connection: first, address: address(100),
                                        request: deactivation(single(true), ioa: 100), now: start)
        #expect(steps(actions) == [.cancel(running),
                                   .confirm(.deactivationConfirmation, negative: false, station: "s1", connection: first),
                                   .notice("running command on 47:100 cancelled")])
        #expect(ledger.phase(of: running) == .withdrawn)
        #expect(ledger.phase(of: behind) == .waiting, "the point is free only once the handler has stopped")
        // The late result is not answered; the next command starts.
        #expect(steps(ledger.finish(running, succeeded: false, now: start)) == [.execute(behind, station: "s2")])
        // Nothing left of s1's on the point: a second deactivation is refused.
        #expect(steps(ledger.deactivate(station: "s1", connection: first, address: address(100),
                                        request: deactivation(single(true), ioa: 100), now: start))
                == [.confirm(.deactivationConfirmation, negative: true, station: "s1", connection: first)])
    }

    @Test func aWithdrawnCommandThatSucceededAnywayLeavesItsReturnInformationBuffered() throws {
        var ledger = CommandLedger()
        let running = try acceptedID(ledger.activate(received(single(true), ioa: 100), now: start))
        _ = ledger.deactivate(station: "s1", connection: first, address: address(100),
                              request: deactivation(single(true), ioa: 100), now: start)
        #expect(steps(ledger.finish(running, succeeded: true, now: start)) == [.returnInformation(station: "s1", connection: nil)])
    }

    @Test func deactivationDropsAWaitingCommand() throws {
        var ledger = CommandLedger()
        let running = try acceptedID(ledger.activate(received(single(true), ioa: 100, station: "s2", on: second), now: start))
        let dropped = try acceptedID(ledger.activate(received(single(true), ioa: 100), now: start))
        let after = try acceptedID(ledger.activate(received(single(false), ioa: 100, station: "s2", on: second), now: start))
        let actions = ledger.deactivate(station: "s1", connection: first, address: address(100),
                                        request: deactivation(single(true), ioa: 100), now: start)
        #expect(steps(actions) == [.confirm(.deactivationConfirmation, negative: false, station: "s1", connection: first),
                                   .notice("running command on 47:100 cancelled")], "nothing to stop: it never ran")
        #expect(ledger.phase(of: dropped) == nil)
        let finished = steps(ledger.finish(running, succeeded: true, now: start))
        #expect(finished.last == .execute(after, station: "s2"))
        #expect(!finished.contains(.execute(dropped, station: "s1")))
    }

    @Test func deactivationWithdrawsOnlyThatConnectionsCommandsOnThatPoint() throws {
        var ledger = CommandLedger()
        let other = try acceptedID(ledger.activate(received(single(true), ioa: 100, station: "s2", on: second), now: start))
        let mine = try acceptedID(ledger.activate(received(single(true), ioa: 103), now: start))
        #expect(steps(ledger.deactivate(station: "s1", connection: first, address: address(100),
                                        request: deactivation(single(true), ioa: 100), now: start))
                == [.confirm(.deactivationConfirmation, negative: true, station: "s1", connection: first)])
        #expect(ledger.phase(of: other) == .running && ledger.phase(of: mine) == .running)
    }

    @Test func deactivationCancelsASelection() throws {
        var ledger = CommandLedger()
        let select = try acceptedID(ledger.activate(received(double(.on, select: true), ioa: 101), now: start))
        _ = ledger.finish(select, succeeded: true, now: start)
        let asdu = deactivation(double(.on, select: true), ioa: 101)
        #expect(steps(ledger.deactivate(station: "s1", connection: first, address: address(101), request: asdu, now: start))
                == [.confirm(.deactivationConfirmation, negative: false, station: "s1", connection: first),
                    .notice("selection of 47:101 cancelled")])
        #expect(steps(ledger.deactivate(station: "s1", connection: first, address: address(101), request: asdu, now: start))
                == [.confirm(.deactivationConfirmation, negative: true, station: "s1", connection: first)])
        #expect(steps(ledger.activate(received(double(.on), ioa: 101), now: start))
                == [.refuse("execute of 47:101 without a matching select")])
    }

    @Test func anExpiredSelectionCannotBeDeactivated() throws {
        var ledger = CommandLedger()
        let select = try acceptedID(ledger.activate(received(double(.on, select: true), ioa: 101), now: start))
        _ = ledger.finish(select, succeeded: true, now: start)
        #expect(steps(ledger.deactivate(station: "s1", connection: first, address: address(101),
                                        request: deactivation(double(.on, select: true), ioa: 101), now: start + .seconds(10)))
                == [.confirm(.deactivationConfirmation, negative: true, station: "s1", connection: first)])
    }

    @Test func theConfirmationMirrorsTheDeactivation() {
        var ledger = CommandLedger()
        let asdu = deactivation(single(true), ioa: 100)
        let actions = ledger.deactivate(station: "s1", connection: first, address: address(100), request: asdu, now: start)
        guard case .confirm(let confirmation)? = actions.first else { Issue.record("\(actions)"); return }
        #expect(confirmation.asdu == ASDU.confirmation(of: asdu.octets, cause: .deactivationConfirmation, negative: true))
    }

    @Test func aCommandOfAGoneMasterRunsToItsEndAndItsReturnInformationIsBuffered() throws {
        var ledger = CommandLedger()
        let running = try acceptedID(ledger.activate(received(single(true), ioa: 100), now: start))
        let waiting = try acceptedID(ledger.activate(received(single(false), ioa: 100), now: start))
        let failing = try acceptedID(ledger.activate(received(single(true), ioa: 103), now: start))
        ledger.connectionEnded(first, station: "s1")
        #expect(ledger.phase(of: running) == .running && ledger.phase(of: waiting) == .waiting)
        #expect(steps(ledger.finish(running, succeeded: true, now: start))
                == [.returnInformation(station: "s1", connection: nil), .execute(waiting, station: "s1")])
        #expect(steps(ledger.finish(waiting, succeeded: true, now: start)) == [.returnInformation(station: "s1", connection: nil)])
        let failed = ledger.finish(failing, succeeded: false, now: start)
        #expect(steps(failed).isEmpty, "a failure has no one to tell")
        #expect(failed.count == 1, "but it is still counted as finished")
    }

    @Test func aFinishedCommandIsReportedWithItsOutcomeAndActivationTime() throws {
        var ledger = CommandLedger()
        let succeeding = try acceptedID(ledger.activate(received(single(true), ioa: 100), now: start))
        let failing = try acceptedID(ledger.activate(received(single(true), ioa: 103), now: start + .milliseconds(5)))
        func finished(_ actions: [CommandAction]) -> [(CommandOutcome, LinkInstant, UInt8)] {
            actions.compactMap { if case .finished(_, let type, let outcome, let at) = $0 { (outcome, at, type) } else { nil } }
        }
        let success = finished(ledger.finish(succeeding, succeeded: true, now: start + .milliseconds(30)))
        #expect(success.map(\.0) == [.success] && success.map(\.1) == [start])
        #expect(success.map(\.2) == [TypeID.C_SC_NA_1.rawValue])
        let failure = finished(ledger.finish(failing, succeeded: false, now: start + .milliseconds(30)))
        #expect(failure.map(\.0) == [.failed] && failure.map(\.1) == [start + .milliseconds(5)])
        #expect(finished(ledger.finish(failing, succeeded: true, now: start)).isEmpty, "an id finishes once")
    }

    @Test func aConnectionEndVoidsItsSelectionsOnly() throws {
        var ledger = CommandLedger()
        for (ioa, station, connection) in [(UInt32(101), "s1", first), (101, "s2", second)] {
            let select = try acceptedID(ledger.activate(received(double(.on, select: true), ioa: ioa, station: station,
                                                                 on: connection), now: start))
            _ = ledger.finish(select, succeeded: true, now: start)
        }
        ledger.connectionEnded(first, station: "s1")
        #expect(!ledger.isSelected(address(101), station: "s1", now: start))
        #expect(ledger.isSelected(address(101), station: "s2", now: start))
    }

    @Test func anotherConnectionOfTheStationIsAnsweredAsBefore() throws {
        var ledger = CommandLedger()
        let id = try acceptedID(ledger.activate(received(single(true), ioa: 103, on: second), now: start))
        ledger.connectionEnded(first, station: "s1")
        #expect(steps(ledger.finish(id, succeeded: true, now: start))
                == [actcon(on: second), .returnInformation(station: "s1", connection: second)])
        #expect(ledger.commands(of: "s1").isEmpty)
    }
}
