import Synchronization

/// Lines waiting for a coprocess's stdin. Unlike an AsyncStream, a reader that is cancelled (its process
/// died) leaves the mailbox open for the next incarnation.
final class LineMailbox: Sendable {
    private struct State {
        var lines: [String] = []
        var waiter: CheckedContinuation<String?, Never>?
        var closed = false
    }
    private let state = Mutex(State())

    func post(_ line: String) {
        let waiter: CheckedContinuation<String?, Never>? = state.withLock { state in
            guard !state.closed else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.lines.append(line)
            return nil
        }
        waiter?.resume(returning: line)
    }

    /// The next line; nil when the reading task is cancelled or the mailbox is closed.
    func next() async -> String? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                let immediate: String?? = state.withLock { state in
                    if state.closed || Task.isCancelled { return .some(nil) }
                    if !state.lines.isEmpty { return .some(state.lines.removeFirst()) }
                    state.waiter = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            wakeWaiter()
        }
    }

    private func wakeWaiter() {
        let waiter = state.withLock { state -> CheckedContinuation<String?, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    func close() {
        state.withLock { $0.closed = true; $0.lines.removeAll() }
        wakeWaiter()
    }

    /// Drops lines not yet written (their commands have failed already).
    func removeAll(where shouldRemove: (String) -> Bool) {
        state.withLock { $0.lines.removeAll(where: shouldRemove) }
    }
}
