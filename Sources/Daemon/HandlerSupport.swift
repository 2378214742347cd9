import Synchronization

/// A one-time signal a task can wait for; waiting ends early when the waiting task is cancelled.
final class OneShot: Sendable {
    private struct State {
        var fired = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    var hasFired: Bool { state.withLock { $0.fired } }

    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.fired || Task.isCancelled { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                defer { state.waiters.removeAll() }
                return state.waiters
            }
            waiters.forEach { $0.resume() }
        }
    }
}

/// At most `limit` handler processes at once; the others wait in arrival order. A waiting task that is
/// cancelled leaves the queue.
final class ProcessSlots: Sendable {
    private struct State {
        var free: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextID: UInt64 = 0
        var inUse = 0
        var peak = 0
    }
    private let state: Mutex<State>

    init(limit: Int) { state = Mutex(State(free: limit)) }

    /// The most slots in use at once so far (for tests and status).
    var peakInUse: Int { state.withLock { $0.peak } }

    /// True with a slot (give it back with `release()`), false if the task was cancelled while waiting.
    func acquire() async -> Bool {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        let granted = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let answer = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    if state.free > 0, state.waiters.isEmpty {
                        state.free -= 1
                        state.inUse += 1
                        state.peak = max(state.peak, state.inUse)
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: false)
        }
        return granted
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if state.waiters.isEmpty {
                state.free += 1
                state.inUse -= 1
                return nil
            }
            // The slot passes straight to the first waiter.
            return state.waiters.removeFirst().continuation
        }
        next?.resume(returning: true)
    }
}

/// Logs the first bad line of a burst and counts the rest, so that a program printing garbage does not
/// flood the journal: at most one message per `window`.
struct BurstLimiter {
    let window: Duration
    private var lastLogged: ContinuousClock.Instant?
    private(set) var suppressed = 0

    init(window: Duration = .seconds(10)) { self.window = window }

    /// Whether to log now, and how many lines were suppressed before this one.
    mutating func admit(now: ContinuousClock.Instant = .now) -> (log: Bool, suppressedBefore: Int) {
        if let lastLogged, now - lastLogged < window {
            suppressed += 1
            return (false, 0)
        }
        lastLogged = now
        defer { suppressed = 0 }
        return (true, suppressed)
    }
}
