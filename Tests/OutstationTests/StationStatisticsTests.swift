import Testing
import IEC104
@testable import Outstation
import TestSupport

/// The counters behind `rtu104ctl status` and the metrics endpoint, and the durations stations measure.
@Suite("Station counters and measurements")
struct StationStatisticsTests {
    private func started(configure: (inout StationConfiguration) -> Void = { _ in })
        throws -> (Harness, ConnectionID) {
        let harness = Harness(points: [.point(1, .single, value: .single(true)), .point(2, .float, value: .float(2.5)),
                                       .point(3, .counter, value: .counter(BinaryCounterReading(value: 7)))],
                              commands: [CommandPointDefinition(address: address(100), kind: .single),
                                         CommandPointDefinition(address: address(101), kind: .single,
                                                                selectBeforeOperate: .required)],
                              configure: configure)
        let id = harness.connect().id
        try harness.startDataTransfer(on: id)
        return (harness, id)
    }

    private func measurements(_ actions: [StationAction]) -> [StationMeasurement] {
        actions.compactMap { if case .measured(let measurement) = $0 { measurement } else { nil } }
    }

    @Test func sentASDUsAreCountedByCauseAndNegativesBySign() throws {
        let (harness, id) = try started()
        try harness.request(interrogation(), on: id)
        _ = try harness.exchange(on: id)
        harness.request(hex("66 01 05 00 2F 00 09 00 00"), on: id)  // read of an unknown point: COT 47 negative
        _ = try harness.exchange(on: id)
        let statistics = harness.station().statistics
        #expect(statistics.asdusSentByCause[Int(Cause.initialized.rawValue)] == 1, "end of initialization")
        #expect(statistics.asdusSentByCause[Int(Cause.activationConfirmation.rawValue)] == 1)
        #expect(statistics.asdusSentByCause[Int(Cause.activationTermination.rawValue)] == 1)
        #expect(statistics.asdusSentByCause[Int(Cause.interrogatedByStation.rawValue)] >= 1)
        #expect(statistics.asdusSentByCause[47] == 1)
        #expect(statistics.negativeConfirmationsByCause.nonZero.map(\.code) == [47])
        #expect(statistics.negativeConfirmations == 1)
        #expect(statistics.asdusSent == statistics.asdusSentByCause.total)
    }

    @Test func receivedASDUsAreCountedByType() throws {
        let (harness, id) = try started()
        try harness.request(interrogation(), on: id)
        try harness.request(counterInterrogation(), on: id)
        harness.request(hex("FF 01 06 00 2F 00 00 00 00"), on: id)  // type 255: not one the standard defines
        _ = try harness.exchangeRaw(on: id)
        let byType = harness.station().statistics.asdusReceivedByType
        #expect(byType[Int(TypeID.C_IC_NA_1.rawValue)] == 1)
        #expect(byType[Int(TypeID.C_CI_NA_1.rawValue)] == 1)
        #expect(byType[255] == 1)
        #expect(byType.total == 3)
    }

    @Test func interrogationsAreCountedByKindAndMeasuredToTheirTermination() throws {
        let (harness, id) = try started()
        try harness.request(interrogation(qoi: 20), on: id)
        try harness.request(interrogation(qoi: 21), on: id)
        try harness.request(counterInterrogation(), on: id)
        _ = try harness.exchange(on: id)
        let statistics = harness.station().statistics
        #expect(statistics.stationInterrogations == 1)
        #expect(statistics.groupInterrogations == 1)
        #expect(statistics.counterInterrogations == 1)
        #expect(statistics.interrogations == 3)
        let kinds = measurements(harness.actions).compactMap { measurement -> InterrogationKind? in
            if case .interrogation(let kind) = measurement.subject { kind } else { nil }
        }
        #expect(kinds.sorted { $0.rawValue < $1.rawValue } == [.counter, .group, .station])
        #expect(measurements(harness.actions).allSatisfy { $0.station == "s1" && $0.duration >= .zero })
    }

    @Test func anInterrogationWaitingForTheWindowIsMeasuredUntilItsTermination() throws {
        let (harness, id) = try started { $0.parameters = try! APCIParameters(k: 3, w: 2) }
        try harness.request(interrogation(), on: id, acknowledging: false)
        harness.advance(by: .milliseconds(40), runTimers: false)
        // Acknowledging one frame at a time lets the rest of the interrogation out.
        for _ in 0..<6 { harness.acknowledge(on: id) }
        let durations = measurements(harness.actions).map(\.duration)
        #expect(durations == [Duration.milliseconds(40)])
        #expect(harness.station().statistics.windowFull > 0, "k = 1 with an interrogation waiting fills the window")
    }

    @Test func commandsAreCountedByTypeAndResultAndMeasured() async throws {
        let (harness, id) = try started()
        // Success: ACTCON and ACTTERM after the handler ran for 25 ms.
        let actions = try harness.request(command(.singleCommand(SingleCommand(isOn: true)), ioa: 100), on: id)
        let request = try #require(harness.commandRequests(in: actions).first)
        harness.advance(by: .milliseconds(25))
        await harness.complete(request)
        // Failed: the handler said no.
        let second = try harness.request(command(.singleCommand(SingleCommand(isOn: false)), ioa: 100), on: id)
        await harness.complete(try #require(harness.commandRequests(in: second).first), result: .failure(reason: "no"))
        // Refused by the station: an unknown point, and an execute without its select.
        try harness.request(command(.singleCommand(SingleCommand(isOn: true)), ioa: 999), on: id)
        try harness.request(command(.singleCommand(SingleCommand(isOn: true)), ioa: 101), on: id)
        _ = try harness.exchange(on: id)

        let outcomes = harness.station().statistics.commandOutcomes
        let type = TypeID.C_SC_NA_1.rawValue
        #expect(outcomes == [CommandOutcomeKey(typeID: type, outcome: .success): 1,
                             CommandOutcomeKey(typeID: type, outcome: .failed): 1,
                             CommandOutcomeKey(typeID: type, outcome: .refused): 2])
        let commandDurations = measurements(harness.actions).compactMap { measurement -> Duration? in
            if case .command(let typeID) = measurement.subject, typeID == type { measurement.duration } else { nil }
        }
        #expect(commandDurations == [Duration.milliseconds(25), .zero], "refused commands never reach a handler")
    }

    @Test func testFramesAndT1TimeoutsAreCounted() throws {
        let (harness, id) = try started()
        harness.send(.unnumbered(.testFRActivation), on: id)
        #expect(harness.station().statistics.testFramesReceived == 1)
        // Idle for t3: the station probes; no answer within t1 closes the connection.
        let parameters = harness.station().configuration.parameters
        harness.advance(by: parameters.t3)
        #expect(harness.station().statistics.testFramesSent == 1)
        harness.advance(by: parameters.t1)
        #expect(!harness.isOpen(id))
        #expect(harness.station().statistics.t1Timeouts == 1)
    }
}
