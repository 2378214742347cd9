import Testing
import IEC104
@testable import Outstation
import TestSupport

private let points: [MonitorPointDefinition] = [.point(1, .single), .point(2, .double, value: .double(.off))]
private let commands: [CommandPointDefinition] = [
    CommandPointDefinition(address: address(100), kind: .single, selectBeforeOperate: .optional, feedback: address(1)),
    CommandPointDefinition(address: address(101), kind: .double, selectBeforeOperate: .required, feedback: address(2)),
]

private func harness(selectTimeout: Duration = .seconds(10)) throws -> (Harness, ConnectionID) {
    var configuration = Harness.configuration("s1", commonAddresses: [47])
    configuration.selectTimeout = selectTimeout
    let harness = Harness(points: points, commands: commands, stations: [configuration])
    let id = harness.connect().id
    try harness.startDataTransfer(on: id)
    return (harness, id)
}

private func cancellations(in actions: [StationAction]) -> [UInt64] {
    actions.compactMap { if case .cancel(let commandID) = $0 { commandID } else { nil } }
}

@Suite("Command cancellation and select timeout")
struct CommandCancelTests {
    @Test func deactivationCancelsARunningCommand() async throws {
        let (harness, id) = try harness()
        let execute = try command(.singleCommand(SingleCommand(isOn: true)), ioa: 100).encoded()
        let request = try #require(harness.commandRequests(in: harness.request(execute, on: id)).first)

        let deactivate = try command(.singleCommand(SingleCommand(isOn: true)), ioa: 100, cause: .deactivation).encoded()
        let actions = harness.request(deactivate, on: id)
        #expect(cancellations(in: actions) == [request.id])
        #expect(try harness.exchangeRaw(on: id) == [ASDU.confirmation(of: deactivate, cause: .deactivationConfirmation, negative: false)])

        // The handler's late answer is not sent: the command was withdrawn.
        await harness.complete(request, result: .failure(reason: "cancelled"))
        #expect(try harness.exchangeRaw(on: id).isEmpty)
        // Nothing left: a second deactivation is refused.
        harness.request(deactivate, on: id)
        #expect(try harness.exchangeRaw(on: id) == [ASDU.confirmation(of: deactivate, cause: .deactivationConfirmation, negative: true)])
    }

    @Test func deactivationOfAnotherPointCancelsNothing() throws {
        let (harness, id) = try harness()
        let execute = try command(.singleCommand(SingleCommand(isOn: true)), ioa: 100).encoded()
        #expect(harness.commandRequests(in: harness.request(execute, on: id)).count == 1)
        let deactivate = try command(.doubleCommand(DoubleCommand(state: .on)), ioa: 101, cause: .deactivation).encoded()
        #expect(cancellations(in: harness.request(deactivate, on: id)).isEmpty)
        #expect(try harness.exchangeRaw(on: id) == [ASDU.confirmation(of: deactivate, cause: .deactivationConfirmation, negative: true)])
    }

    @Test func selectTimeoutIsConfigurable() async throws {
        let (harness, id) = try harness(selectTimeout: .seconds(2))
        let select = try command(.doubleCommand(DoubleCommand(state: .on, isSelect: true)), ioa: 101).encoded()
        await harness.complete(try #require(harness.commandRequests(in: harness.request(select, on: id)).first))
        _ = try harness.exchange(on: id)
        harness.advance(by: .seconds(3))
        let execute = try command(.doubleCommand(DoubleCommand(state: .on)), ioa: 101).encoded()
        #expect(harness.commandRequests(in: harness.request(execute, on: id)).isEmpty)
        #expect(try harness.exchangeRaw(on: id) == [ASDU.confirmation(of: execute, cause: .activationConfirmation, negative: true)])
    }
}
