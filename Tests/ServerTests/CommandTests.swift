import IEC104
import NIOCore
import Outstation
import Server
import Synchronization
import TestSupport
import Testing

/// Records every command it is given and answers as the built-in handler does.
final class RecordingCommandHandler: CommandHandler {
    let requests = Mutex<[CommandRequest]>([])

    func execute(_ request: CommandRequest) async -> CommandResult {
        requests.withLock { $0.append(request) }
        return await FeedbackCommandHandler().execute(request)
    }
}

/// Takes its time, and says when it started and finished.
final class SlowCommandHandler: CommandHandler {
    let started = Mutex(false)
    let finished = Mutex(false)

    func execute(_ request: CommandRequest) async -> CommandResult {
        started.withLock { $0 = true }
        try? await Task.sleep(for: .milliseconds(800))
        finished.withLock { $0 = true }
        return .success(updates: [])
    }
}

/// The first command it is given runs until its task is cancelled (a deactivation); the others finish at once.
final class CancellableCommandHandler: CommandHandler {
    let calls = Mutex(0)
    let cancelled = Mutex(false)

    func execute(_ request: CommandRequest) async -> CommandResult {
        let call = calls.withLock { calls -> Int in
            calls += 1
            return calls
        }
        guard call == 1 else { return .success(updates: []) }
        if (try? await Task.sleep(for: .seconds(30))) == nil {
            cancelled.withLock { $0 = true }
            return .failure(reason: "cancelled")
        }
        return .success(updates: [])
    }
}

/// Commands through the server: the station hands them to `runCommands()`, the handler's result comes back
/// on the loop as ACTCON, feedback and ACTTERM.
@Suite("OutstationServer commands", .timeLimit(.minutes(1)))
struct ServerCommandTests {
    static let points = [point(100, .single, value: .single(true))]
    static let commands = [CommandPointDefinition(address: address(500), kind: .single, feedback: address(100))]
    /// A direct single command, off, to 47:500.
    static let switchOff = ASDU(cause: CauseOfTransmission(.activation), commonAddress: 47, address: 500,
                                element: .singleCommand(SingleCommand(isOn: false, isSelect: false), time: nil))

    @Test func aDirectCommandIsConfirmedFedBackAndTerminated() async throws {
        let handler = RecordingCommandHandler()
        let stations = [try station("a", filter: "127.0.0.1")]
        try await ServerFixture.with(points: Self.points, commands: Self.commands, stations: stations,
                                     commandHandler: handler) { fixture in
            let master = try await fixture.master()
            #expect(try await master.startDataTransfer())
            try await master.send(Self.switchOff)
            #expect(await master.waitFor { $0.typeID == .C_SC_NA_1 && $0.cot == .activationTermination })
            let replies = master.inbox.asdus.filter { $0.typeID != .M_EI_NA_1 }
            #expect(replies.first?.typeID == .C_SC_NA_1 && replies.first?.cot == .activationConfirmation)
            #expect(replies.first?.cause.isNegative == false)
            let feedback = replies.first { $0.typeID == .M_SP_NA_1 || $0.typeID == .M_SP_TB_1 }
            #expect(feedback?.addresses == [100])
            if case .singlePoint(let value, _) = feedback?.objects.first?.element { #expect(!value.isOn) }
            else { Issue.record("no feedback for IOA 100: \(replies)") }
            #expect(handler.requests.withLock { $0.map(\.point.address) } == [address(500)])
            #expect(!fixture.logs.messages(containing: "command ").isEmpty)
            await master.close()
        }
    }

    /// A deactivation cancels the task that runs the command: positive DEACTCON, no ACTCON for the command, and
    /// the point is free for the next command, another station's here.
    @Test func aDeactivationCancelsTheTaskOfTheRunningCommand() async throws {
        let handler = CancellableCommandHandler()
        let stations = [try station("a", filter: "127.0.0.1"), try station("b", filter: "127.0.0.2")]
        try await ServerFixture.with(points: Self.points, commands: Self.commands, stations: stations,
                                     commandHandler: handler) { fixture in
            let master = try await fixture.masterInDataTransfer()
            try await master.send(Self.switchOff)
            #expect(await eventually { handler.calls.withLock { $0 } == 1 })
            // Another station's command on the same point waits for the point.
            let other = try await fixture.master(from: "127.0.0.2")
            #expect(try await other.startDataTransfer())
            try await other.send(Self.switchOff)
            try await Task.sleep(for: .milliseconds(100))
            #expect(handler.calls.withLock { $0 } == 1)

            var deactivation = Self.switchOff
            deactivation.cause = CauseOfTransmission(.deactivation)
            try await master.send(deactivation)
            #expect(await master.waitFor { $0.typeID == .C_SC_NA_1 && $0.cot == .deactivationConfirmation })
            #expect(master.inbox.asdus.first { $0.cot == .deactivationConfirmation }?.cause.isNegative == false)
            #expect(await eventually { handler.cancelled.withLock { $0 } })
            #expect(await other.waitFor { $0.typeID == .C_SC_NA_1 && $0.cot == .activationTermination },
                    "the withdrawn command has stopped: the next one runs")
            #expect(!master.inbox.asdus.contains { $0.cot == .activationConfirmation || $0.cot == .activationTermination },
                    "a withdrawn command is not confirmed")
            await other.close()
            await master.close()
        }
    }

    /// `stop()` while the handler runs: the connection closes at once, the command finishes afterwards (its
    /// result finds no connection), and `runCommands()` returns only then.
    @Test func stopWhileACommandRunsWaitsForIt() async throws {
        let handler = SlowCommandHandler()
        let stations = [try station("a", filter: "127.0.0.1")]
        try await ServerFixture.with(points: Self.points, commands: Self.commands, stations: stations,
                                     commandHandler: handler) { fixture in
            let master = try await fixture.master()
            #expect(try await master.startDataTransfer())
            try await master.send(Self.switchOff)
            #expect(await eventually { handler.started.withLock { $0 } })
            try await fixture.server.stop().get()
            #expect(await eventually { master.inbox.isClosed })
            #expect(!handler.finished.withLock { $0 })
        }
        // ServerFixture.with has awaited runCommands().
        #expect(handler.finished.withLock { $0 })
    }
}
