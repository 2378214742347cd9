#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import UnixSignals

/// The signals the daemon acts on: SIGTERM and SIGINT stop it, SIGHUP reloads it.
///
/// Trapped by `rtu104d` as soon as logging is up, before the configuration is applied, and handed to the
/// services: a signal that arrives while the listeners are still being bound waits in the sequence and is acted
/// on once the daemon runs (the ServiceGroup's own `gracefulShutdownSignals` trap only once the group runs, and
/// do not say which signal it was, which the `stopping on SIGTERM` line names).
public struct DaemonSignals: Sendable {
    public typealias Signals = any AsyncSequence<UnixSignal, Never> & Sendable

    /// SIGTERM and SIGINT.
    public let stop: Signals
    /// SIGHUP.
    public let reload: Signals

    public init(stop: Signals, reload: Signals) {
        self.stop = stop
        self.reload = reload
    }

    /// Traps SIGTERM, SIGINT and SIGHUP for this process. Their default action is replaced by `SIG_IGN` first:
    /// on Linux a signal that arrives before its dispatch source is registered would otherwise end the process.
    public static func trapping() async -> DaemonSignals {
        for number in [SIGTERM, SIGINT, SIGHUP] { signal(number, SIG_IGN) }
        return DaemonSignals(stop: await UnixSignalsSequence(trapping: .sigterm, .sigint),
                             reload: await UnixSignalsSequence(trapping: .sighup))
    }

    /// Signals that never come (tests, which stop the daemon through its ServiceGroup instead).
    public static var none: DaemonSignals {
        DaemonSignals(stop: AsyncStream<UnixSignal> { _ in }, reload: AsyncStream<UnixSignal> { _ in })
    }

    /// An operator who signals again does not want to wait for the orderly stop: the default action ends the
    /// process at once.
    static func restoreDefaultStopActions() {
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
    }
}

/// `SIGTERM`, as `kill -l` and systemd name it; the number only for a signal without a usual name.
func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGTERM: "SIGTERM"
    case SIGINT: "SIGINT"
    case SIGHUP: "SIGHUP"
    case SIGQUIT: "SIGQUIT"
    default: "signal \(signal)"
    }
}
