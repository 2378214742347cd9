@testable import Daemon
import NIOCore
import NIOPosix
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Watchdog pinger")
struct WatchdogPingerTests {
    /// Pings come from a task on the event loop: while the loop is blocked none is sent.
    @Test(.timeLimit(.minutes(1)))
    func aBlockedEventLoopStopsThePings() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pings = Mutex<[ContinuousClock.Instant]>([])
        let notifier = SystemdNotifier(isActive: true, watchdogInterval: .milliseconds(100)) { message in
            if message == "WATCHDOG=1" { pings.withLock { $0.append(.now) } }
            return 1
        }
        let pinger = WatchdogPinger.start(on: group.next(), notifier: notifier)
        #expect(pinger.isRunning)
        try await Task.sleep(for: .milliseconds(300))
        #expect(pings.withLock { $0.count } >= 3)

        // Block the loop for 600 ms (12 periods).
        let blocked = try await group.next().submit { () -> ClosedRange<ContinuousClock.Instant> in
            let start = ContinuousClock.now
            usleep(600_000)
            return start...ContinuousClock.now
        }.get()
        try await Task.sleep(for: .milliseconds(200))
        pinger.stop()
        let all = pings.withLock { $0 }
        #expect(all.filter { blocked.contains($0) && $0 > blocked.lowerBound + .milliseconds(10) }.isEmpty,
                "pinged while the loop was blocked")
        #expect(all.contains { $0 > blocked.upperBound }, "no ping after the loop was free again")
        try await group.shutdownGracefully()
    }

    @Test func noWatchdogNoPinger() {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        #expect(!WatchdogPinger.start(on: group.next(), notifier: .disabled).isRunning)
        let withoutInterval = SystemdNotifier(isActive: true, watchdogInterval: nil) { _ in 1 }
        #expect(!WatchdogPinger.start(on: group.next(), notifier: withoutInterval).isRunning)
    }
}
