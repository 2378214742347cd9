import Synchronization

/// Where the daemon is in its life. One value for the whole process, so that the services agree on it:
/// a reload that ends after the stop has begun must not tell systemd `READY=1` again.
///
///     starting ──▶ running ◀──▶ reloading
///                     │             │
///                     └──▶ stopping ◀┘ ──▶ stopped
public enum DaemonState: String, Sendable, Equatable {
    /// Building the image, binding the listeners and the control socket; nothing has told systemd `READY=1` yet.
    case starting
    /// Serving: `READY=1` is sent.
    case running
    /// A reload is being read and applied (`RELOADING=1` is sent); the old configuration serves meanwhile.
    case reloading
    /// Graceful shutdown has begun (`STOPPING=1`); the services stop one by one.
    case stopping
    /// Every service has returned and the event loop is shut down.
    case stopped

    /// Whether the daemon may go from this state to `next`.
    public func allows(_ next: DaemonState) -> Bool {
        switch (self, next) {
        case (.starting, .running), (.running, .reloading), (.reloading, .running): true
        // A failed start stops without ever running.
        case (.starting, .stopping), (.running, .stopping), (.reloading, .stopping): true
        case (.stopping, .stopped), (.starting, .stopped): true
        default: false
        }
    }
}

/// The daemon's ``DaemonState``, shared by its services. A transition the diagram does not have is refused and
/// reported, never trapped: a late reload finishing during the stop is a race to survive, not a crash.
public final class DaemonLifecycle: Sendable {
    private let current = Mutex(DaemonState.starting)

    public init() {}

    public var state: DaemonState { current.withLock { $0 } }

    /// Moves to `next` only from `expected` (a reload ends in `running` only if no stop began meanwhile).
    /// `announce` runs, under the same lock, only when the move is made: the message that tells systemd about
    /// a state cannot overtake the one about the next (`STOPPING=1` and a late reload's `READY=1`).
    @discardableResult
    public func advance(from expected: DaemonState? = nil, to next: DaemonState, announce: () -> Void = {}) -> Bool {
        current.withLock { state in
            guard expected.map({ state == $0 }) ?? true, state.allows(next) else { return false }
            state = next
            announce()
            return true
        }
    }
}
