import Outstation
import Synchronization

/// What the runtime asks of ``OutstationServer/runCommands()``, in the order the command ledger decided it: a
/// cancellation always comes after the run it cancels.
enum CommandJob: Sendable {
    case run(CommandRequest)
    case cancel(commandID: UInt64)
}

/// The task of each command the handler runs, by command id. Which command runs, waits or was withdrawn is the
/// outstation's `CommandLedger`'s; this holds only what cancelling one command needs: Swift cancels a task through
/// its handle, and a task group has no handle per child.
final class CommandTasks: Sendable {
    private let tasks = Mutex<[UInt64: Task<CommandResult, Never>]>([:])

    /// Starts `request` on `handler` in a task of its own; the caller awaits the task, so none is left behind.
    func start(_ request: CommandRequest, on handler: any CommandHandler) -> Task<CommandResult, Never> {
        let task = Task { await handler.execute(request) }
        tasks.withLock { $0[request.id] = task }
        return task
    }

    /// A deactivation: the handler sees its task cancelled (a spawn handler's process is killed, a persistent
    /// handler's command withdrawn). A command that has finished already is not found.
    func cancel(_ commandID: UInt64) {
        tasks.withLock { $0[commandID] }?.cancel()
    }

    func finished(_ commandID: UInt64) {
        tasks.withLock { _ = $0.removeValue(forKey: commandID) }
    }
}
