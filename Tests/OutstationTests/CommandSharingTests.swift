import Testing
import IEC104
@testable import Outstation
import TestSupport

/// Stations s1 and s2 both serve CA 47 and command point 100 (feedback 1); s3 serves CA 48.
private func sharedPointHarness() throws -> (Harness, ConnectionID, ConnectionID) {
    let harness = Harness(points: [.point(1, .single)],
                          commands: [CommandPointDefinition(address: address(100), kind: .single, feedback: address(1))],
                          stations: [Harness.configuration("s1", commonAddresses: [47]),
                                     Harness.configuration("s2", commonAddresses: [47])])
    let first = harness.connect("s1").id
    try harness.startDataTransfer(on: first)
    let second = harness.connect("s2", peer: "192.0.2.2:40000").id
    try harness.startDataTransfer(on: second)
    return (harness, first, second)
}

private func switching(_ on: Bool, cause: Cause = .activation) throws -> [UInt8] {
    try command(.singleCommand(SingleCommand(isOn: on)), ioa: 100, cause: cause).encoded()
}

/// The outstation's command ledger through the stations: one command per point across stations, ids unique
/// across stations, a waiting command withdrawn before it ran.
@Suite("Commands shared by the stations")
struct CommandSharingTests {
    @Test func aPointRunsOneCommandAtATimeWhicheverStationSendsThem() async throws {
        let (harness, first, second) = try sharedPointHarness()
        let on = try switching(true)
        let running = try #require(harness.commandRequests(in: harness.request(on, on: first)).first)
        let off = try switching(false)
        let waiting = harness.request(off, on: second)
        #expect(harness.commandRequests(in: waiting).isEmpty, "s2's command waits for the point")
        #expect(harness.station("s2").statistics.commandsReceived == 1)
        #expect(try harness.exchangeRaw(on: second).isEmpty, "and is not confirmed yet")

        let before = harness.actions.count
        await harness.complete(running)
        let next = try #require(harness.commandRequests(in: Array(harness.actions[before...])).first)
        #expect(next.station == "s2" && next.id != running.id)
        #expect(try harness.exchange(on: first).map(\.cot) == [.activationConfirmation, .returnInformationRemote,
                                                               .activationTermination])
        await harness.complete(next)
        let answers = try harness.exchange(on: second)
        // s2 also saw s1's return information, buffered, before its own command's answers.
        #expect(answers.map(\.cot) == [.returnInformationRemote, .activationConfirmation, .returnInformationRemote,
                                       .activationTermination])
        #expect(harness.outstation.image.state(at: address(1))?.value == .single(false))
        #expect(harness.outstation.commandLedger.count == 0)
    }

    @Test func aDeactivationWithdrawsAWaitingCommandWithoutStoppingAnything() async throws {
        let (harness, first, second) = try sharedPointHarness()
        let running = try #require(harness.commandRequests(in: harness.request(try switching(true), on: first)).first)
        harness.request(try switching(false), on: second)
        let deactivation = try switching(false, cause: .deactivation)
        let actions = harness.request(deactivation, on: second)
        #expect(!actions.contains { if case .cancel = $0 { true } else { false } }, "it never ran")
        #expect(try harness.exchangeRaw(on: second)
                == [ASDU.confirmation(of: deactivation, cause: .deactivationConfirmation, negative: false)])
        let before = harness.actions.count
        await harness.complete(running)
        #expect(harness.commandRequests(in: Array(harness.actions[before...])).isEmpty, "nothing waits any more")
        #expect(harness.outstation.commandLedger.count == 0)
    }

    @Test func commandIdsAreUniqueAcrossStations() async throws {
        let harness = Harness(points: [.point(1, .single)],
                              commands: [CommandPointDefinition(address: address(100), kind: .single),
                                         CommandPointDefinition(address: address(100, ca: 48), kind: .single)],
                              stations: [Harness.configuration("s1", commonAddresses: [47]),
                                         Harness.configuration("s2", commonAddresses: [48])])
        let first = harness.connect("s1").id
        try harness.startDataTransfer(on: first)
        let second = harness.connect("s2", peer: "192.0.2.2:40000").id
        try harness.startDataTransfer(on: second)
        var ids: [UInt64] = []
        for _ in 0..<3 {
            for (id, ca) in [(first, UInt16(47)), (second, 48)] {
                let asdu = try command(.singleCommand(SingleCommand(isOn: true)), ioa: 100, ca: ca).encoded()
                let request = try #require(harness.commandRequests(in: harness.request(asdu, on: id)).first)
                ids.append(request.id)
                await harness.complete(request)
            }
        }
        #expect(Set(ids).count == 6)
        #expect(harness.outstation.reserveCommandID() > ids.max()!, "exec's ids come from the same counter")
    }
}
