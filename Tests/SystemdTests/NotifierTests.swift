@testable import Daemon
import Synchronization
import Testing

/// Collects what the notifier would hand to sd_notify.
final class Recorder: Sendable {
    let messages = Mutex<[String]>([])
    var all: [String] { messages.withLock { $0 } }

    func notifier(watchdog: Duration? = nil) -> SystemdNotifier {
        SystemdNotifier(isActive: true, watchdogInterval: watchdog) { [self] message in
            messages.withLock { $0.append(message) }
            return 1
        }
    }
}

@Suite("sd_notify messages")
struct NotifierTests {
    @Test func readyStatusStopping() {
        let recorder = Recorder()
        let notifier = recorder.notifier()
        #expect(notifier.ready(status: "0/1 stations connected, 0 connections"))
        #expect(notifier.status("1/1 stations connected,\n1 connection"))
        #expect(notifier.stopping(status: "stopping"))
        #expect(notifier.watchdog())
        #expect(recorder.all == [
            "READY=1\nSTATUS=0/1 stations connected, 0 connections",
            "STATUS=1/1 stations connected, 1 connection",
            "STOPPING=1\nSTATUS=stopping",
            "WATCHDOG=1",
        ])
    }

    @Test func reloadingCarriesTheMonotonicClock() throws {
        let recorder = Recorder()
        let before = SystemdNotifier.monotonicMicroseconds()
        recorder.notifier().reloading()
        let after = SystemdNotifier.monotonicMicroseconds()
        let lines = try #require(recorder.all.first).split(separator: "\n")
        #expect(lines.first == "RELOADING=1")
        let usec = try #require(lines.dropFirst().first.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil })
        #expect(before <= usec && usec <= after)
    }

    @Test func withoutANotifySocketNothingIsSent() {
        let recorder = Recorder()
        let notifier = SystemdNotifier(isActive: false) { message in
            recorder.messages.withLock { $0.append(message) }
            return 1
        }
        #expect(!notifier.ready())
        #expect(!notifier.watchdog())
        #expect(recorder.all.isEmpty)
        #expect(!SystemdNotifier.disabled.status("x"))
    }

    @Test(arguments: [(Duration.seconds(30), Int64(15_000_000_000)), (Duration.milliseconds(1), Int64(1_000_000)),
                      (Duration.seconds(1), Int64(500_000_000))])
    func watchdogPingsAtHalfTheInterval(interval: Duration, nanoseconds: Int64) {
        #expect(WatchdogPinger.period(for: interval).nanoseconds == nanoseconds)
    }

    @Test func statusText() {
        #expect(ServiceStatus(stations: 3, connectedStations: 2, connections: 2).text
                == "2/3 stations connected, 2 connections")
        #expect(ServiceStatus(stations: 1, connectedStations: 1, connections: 1, lastReload: (.succeeded, "14:02:11")).text
                == "1/1 stations connected, 1 connection; last reload 14:02:11 ok")
        #expect(ServiceStatus(stations: 1, connectedStations: 0, connections: 0,
                              lastReload: (.failed("rtu.conf:3: unknown key"), "14:02:11")).text
                == "0/1 stations connected, 0 connections; last reload 14:02:11 FAILED: rtu.conf:3: unknown key")
    }
}
