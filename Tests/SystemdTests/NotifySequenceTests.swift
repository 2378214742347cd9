import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The built rtu104d under a fake service manager: NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID
/// set as systemd sets them for `Type=notify` with `WatchdogSec=`.
@Suite("sd_notify sequence of the built daemon", .serialized)
struct NotifySequenceTests {
    static let built = DaemonUnderTest.binary != nil

    @Test(.enabled(if: built, "rtu104d has not been built"), .timeLimit(.minutes(1)))
    func startStatusWatchdogStop() throws {
        let daemon = try DaemonUnderTest(watchdogUsec: 1_000_000)

        // READY=1 comes once the listener accepts connections and the control socket exists.
        let startup = try #require(daemon.notify.receive(until: { $0.assignments["READY"] == "1" }, timeout: .seconds(20)),
                                   "no READY=1; stderr:\n\(daemon.stderr)")
        let connection = daemon.connect()
        #expect(connection >= 0, "READY=1 before the port accepts connections")
        #expect(FileManager.default.fileExists(atPath: daemon.controlSocket), "READY=1 before the control socket exists")
        let ready = try #require(startup.last)
        #expect(ready.assignments["STATUS"] == "0/1 stations connected, 0 connections")
        // Nothing but watchdog pings may come before READY=1.
        #expect(startup.dropLast().allSatisfy { $0.text == "WATCHDOG=1" })

        // WATCHDOG_USEC=1 s: a ping every 0.5 s. The periodic STATUS= refresh (every 5 s) sees the master.
        let later = daemon.notify.collect(for: .milliseconds(6_500))
        let pings = later.filter { $0.text == "WATCHDOG=1" }
        // 13 expected; the bounds leave room for a busy machine (systemd would only act after 1 s of silence).
        #expect((8...16).contains(pings.count), "\(pings.count) pings in 6.5 s")
        let gaps = zip(pings.dropFirst(), pings).map { $0.at - $1.at }.sorted()
        let median = gaps.isEmpty ? .zero : gaps[gaps.count / 2]
        #expect(median > .milliseconds(400) && median < .milliseconds(650), "ping gaps \(gaps)")
        // One late ping is the machine, not the daemon: a loaded CI machine can stall any process for a second.
        #expect(gaps.filter { $0 >= .milliseconds(1_000) }.count <= 1, "ping gaps \(gaps)")
        let statuses = later.compactMap { $0.assignments["STATUS"] }
        #expect(statuses.contains("1/1 stations connected, 1 connection"), "statuses \(statuses)")
        close(connection)

        daemon.signal(SIGTERM)
        let stopping = daemon.notify.receive(until: { $0.assignments["STOPPING"] == "1" }, timeout: .seconds(10))
        #expect(stopping != nil, "no STOPPING=1")
        #expect(daemon.exitStatus(timeout: .seconds(10)) == 0, "stderr:\n\(daemon.stderr)")
    }

    @Test(.enabled(if: built, "rtu104d has not been built"), .timeLimit(.minutes(1)))
    func noWatchdogPingsForAnotherProcess() throws {
        // WATCHDOG_PID names someone else (the shell's parent): sd_watchdog_enabled says no.
        let daemon = try DaemonUnderTest(watchdogUsec: 200_000, watchdogPID: "\(getpid())")
        let startup = try #require(daemon.notify.receive(until: { $0.assignments["READY"] == "1" }, timeout: .seconds(20)),
                                   "no READY=1; stderr:\n\(daemon.stderr)")
        let later = daemon.notify.collect(for: .seconds(1))
        #expect((startup + later).allSatisfy { $0.text != "WATCHDOG=1" })
        daemon.signal(SIGTERM)
        #expect(daemon.notify.receive(until: { $0.assignments["STOPPING"] == "1" }, timeout: .seconds(10)) != nil)
        #expect(daemon.exitStatus(timeout: .seconds(10)) == 0)
    }

    @Test(.enabled(if: built, "rtu104d has not been built"), .timeLimit(.minutes(1)))
    func withoutWatchdogThereAreNoPings() throws {
        let daemon = try DaemonUnderTest(watchdogUsec: nil, watchdogPID: nil)
        _ = try #require(daemon.notify.receive(until: { $0.assignments["READY"] == "1" }, timeout: .seconds(20)),
                         "no READY=1; stderr:\n\(daemon.stderr)")
        #expect(daemon.notify.collect(for: .seconds(1)).allSatisfy { $0.text != "WATCHDOG=1" })
        daemon.signal(SIGINT)
        #expect(daemon.notify.receive(until: { $0.assignments["STOPPING"] == "1" }, timeout: .seconds(10)) != nil)
        #expect(daemon.exitStatus(timeout: .seconds(10)) == 0)
    }

    /// SIGHUP with a good config, then with a broken one: RELOADING=1 with MONOTONIC_USEC, then READY=1
    /// with the outcome in STATUS=, and the daemon keeps running on the old config after the failure.
    @Test(.timeLimit(.minutes(1)))
    func reloadSuccessAndFailure() throws {
        let daemon = try DaemonUnderTest()
        _ = try #require(daemon.notify.receive(until: { $0.assignments["READY"] == "1" }, timeout: .seconds(20)),
                         "no READY=1; stderr:\n\(daemon.stderr)")

        // A good reload (the same config with another log level).
        try DaemonUnderTest.writeConfig(directory: daemon.directory, port: daemon.port, logLevel: "debug")
        var before = Self.monotonicMicroseconds()
        daemon.signal(SIGHUP)
        var messages = try #require(daemon.notify.receive(until: { $0.assignments["READY"] == "1" }, timeout: .seconds(10)))
        var reloading = try #require(messages.first { $0.assignments["RELOADING"] == "1" }, "no RELOADING=1")
        var usec = try #require(reloading.assignments["MONOTONIC_USEC"].flatMap(UInt64.init), "no MONOTONIC_USEC")
        #expect(before <= usec && usec <= Self.monotonicMicroseconds())
        #expect(messages.last?.assignments["STATUS"]?.contains(" ok") == true)

        // A failed reload: READY=1 all the same, the failure in STATUS=, still serving.
        try "[daemon]\npoint_tables = points.json\nbogus = 1\n".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        before = Self.monotonicMicroseconds()
        daemon.signal(SIGHUP)
        messages = try #require(daemon.notify.receive(until: { $0.assignments["READY"] == "1" }, timeout: .seconds(10)))
        reloading = try #require(messages.first { $0.assignments["RELOADING"] == "1" }, "no RELOADING=1")
        usec = try #require(reloading.assignments["MONOTONIC_USEC"].flatMap(UInt64.init), "no MONOTONIC_USEC")
        #expect(before <= usec)
        #expect(messages.last?.assignments["STATUS"]?.contains("FAILED") == true)
        let connection = daemon.connect()
        #expect(connection >= 0)
        close(connection)

        daemon.signal(SIGTERM)
        #expect(daemon.notify.receive(until: { $0.assignments["STOPPING"] == "1" }, timeout: .seconds(10)) != nil)
        #expect(daemon.exitStatus(timeout: .seconds(10)) == 0)
    }

    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

@Suite("Journal logging of the built daemon")
struct JournalFallbackTests {
    static let noJournald = !FileManager.default.fileExists(atPath: "/run/systemd/journal/socket")

    /// `--log-target journal` on a machine without journald (like a container) still logs, on stderr.
    @Test(.enabled(if: DaemonUnderTest.binary != nil && noJournald, "needs the built rtu104d and no journald"),
          .timeLimit(.minutes(1)))
    func journalTargetFallsBackToStderrWithoutJournald() throws {
        let daemon = try DaemonUnderTest(watchdogUsec: nil, watchdogPID: nil, logTarget: "journal")
        _ = try #require(daemon.notify.receive(until: { $0.assignments["READY"] == "1" }, timeout: .seconds(20)),
                         "no READY=1; stderr:\n\(daemon.stderr)")
        daemon.signal(SIGTERM)
        #expect(daemon.exitStatus(timeout: .seconds(10)) == 0)
        #expect(daemon.stderr.contains("journald is not running; logging to stderr"), "stderr:\n\(daemon.stderr)")
        #expect(daemon.stderr.contains("rtu104d ready"), "stderr:\n\(daemon.stderr)")
    }
}
