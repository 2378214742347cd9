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

    /// Runs each command of `jobs` on `handler`, awaited by a child task of this call, and cancels one when asked;
    /// `finished` gets every result. Returns once `jobs` has ended and the commands have finished; cancelling it
    /// cancels them.
    static func run(_ jobs: AsyncStream<CommandJob>, on handler: any CommandHandler,
                    finished: @escaping @Sendable (CommandRequest, CommandResult) -> Void) async {
        let running = CommandTasks()
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                switch job {
                case .run(let request):
                    let task = running.start(request, on: handler)
                    group.addTask {
                        let result = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
                        running.finished(request.id)
                        finished(request, result)
                    }
                case .cancel(let commandID):
                    running.cancel(commandID)
                }
            }
        }
    }

    /// Starts `request` on `handler` in a task of its own; ``run(_:on:finished:)`` awaits it, so none is left behind.
    private func start(_ request: CommandRequest, on handler: any CommandHandler) -> Task<CommandResult, Never> {
        let task = Task { await handler.execute(request) }
        tasks.withLock { $0[request.id] = task }
        return task
    }

    /// A deactivation: the handler sees its task cancelled (a spawn handler's process is killed, a persistent
    /// handler's command withdrawn). A command that has finished already is not found.
    private func cancel(_ commandID: UInt64) {
        tasks.withLock { $0[commandID] }?.cancel()
    }

    private func finished(_ commandID: UInt64) {
        tasks.withLock { _ = $0.removeValue(forKey: commandID) }
    }
}
