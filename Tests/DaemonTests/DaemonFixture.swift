import Config
@testable import Daemon
import Foundation
import Logging
import Synchronization
import TestSupport
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// A started daemon on a small configuration in a temporary directory: one loopback listener on a free port,
/// one station, one point; systemd's messages recorded, signals injected, every log line recorded.
final class DaemonFixture: Sendable {
    let scratch: Scratch
    let log = LogRecorder()
    private let notifications = Notifications()
    let daemon: RunningDaemon
    let stop: AsyncStream<UnixSignal>.Continuation
    let reload: AsyncStream<UnixSignal>.Continuation

    var configPath: String { scratch.path + "/rtu.conf" }
    /// The IEC 104 listener's port.
    let port: Int
    var sent: [String] { notifications.all }

    static let onePoint = #"{ "points": [ { "ca": 1, "ioa": 100, "name": "p", "type": "single", "value": false } ] }"#

    /// `extra`: sections appended to the configuration (`[metrics]`, say); `station`: keys added to the station;
    /// `points`: the point table; `scratch`: the directory, to start again where a fixture before left its state.
    init(extra: String = "", station: String = "", points: String = DaemonFixture.onePoint,
         scratch: Scratch = Scratch()) async throws {
        self.scratch = scratch
        port = freeLoopbackPort()
        Self.writeConfig(scratch.path + "/rtu.conf", port: port, station: station, extra: extra)
        try points.write(toFile: scratch.path + "/points.json", atomically: true, encoding: .utf8)
        let configuration = try ConfigurationLoader.load(configPath: scratch.path + "/rtu.conf", overrides: DaemonOverrides()).get()
        let (stopSignals, stop) = AsyncStream.makeStream(of: UnixSignal.self)
        let (reloadSignals, reload) = AsyncStream.makeStream(of: UnixSignal.self)
        self.stop = stop
        self.reload = reload
        let notifications = self.notifications
        let notifier = SystemdNotifier { message in
            notifications.append(message)
            return 1
        }
        daemon = try await DaemonRunner.start(configuration, overrides: DaemonOverrides(), logger: log.logger(level: .info),
                                              signals: DaemonSignals(stop: stopSignals, reload: reloadSignals),
                                              notifier: notifier)
    }

    static func writeConfig(_ path: String, port: Int, commonAddresses: String = "1", station: String = "",
                            extra: String = "") {
        try! """
            [daemon]
            point_tables = points.json
            state_directory = state
            runtime_directory = run

            [listener main]
            bind = 127.0.0.1:\(port)

            [station anyone]
            listener = main
            allow = any
            common_addresses = \(commonAddresses)
            \(station)

            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Runs the daemon's ServiceGroup while `body` runs, then stops it as SIGTERM would and waits (bounded) for
    /// every service to return; true when it returned in time.
    func serving(stopWithin limit: Duration = .seconds(20), _ body: () async throws -> Void) async throws -> Bool {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await self.daemon.run(); return true }
            do {
                try await body()
            } catch {
                await daemon.triggerGracefulShutdown()
                _ = try? await group.next()
                throw error
            }
            await daemon.triggerGracefulShutdown()
            group.addTask { try? await Task.sleep(for: limit); return false }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}

/// A client of the control socket over a real Unix stream socket: one request line, one reply line.
struct ControlClient: Sendable {
    let descriptor: Int32

    init?(path: String) {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            return nil
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends `request` and returns the reply line without its newline (nil when the daemon closed or timed out).
    /// The blocking socket calls run on a Dispatch thread: on one of the two cooperative threads they would stall
    /// every other suite running in parallel (and the reload whose reply they wait for).
    func ask(_ request: String) async -> String? {
        await withCheckedContinuation { answered in
            DispatchQueue.global().async { answered.resume(returning: askWaiting(request)) }
        }
    }

    /// Sends every request in one write, then reads as many reply lines (fewer when the daemon closed or timed out).
    func askAll(_ requests: [String]) async -> [String] {
        await withCheckedContinuation { answered in
            DispatchQueue.global().async {
                let text = Array(requests.map { $0 + "\n" }.joined().utf8)
                guard text.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == text.count else {
                    return answered.resume(returning: [])
                }
                var replies: [String] = []
                var line: [UInt8] = []
                var byte: UInt8 = 0
                while replies.count < requests.count, read(descriptor, &byte, 1) == 1 {
                    if byte == UInt8(ascii: "\n") {
                        replies.append(String(decoding: line, as: UTF8.self))
                        line = []
                    } else {
                        line.append(byte)
                    }
                }
                answered.resume(returning: replies)
            }
        }
    }

    private func askWaiting(_ request: String) -> String? {
        let line = Array((request + "\n").utf8)
        guard line.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == line.count else { return nil }
        var reply: [UInt8] = []
        var byte: UInt8 = 0
        while read(descriptor, &byte, 1) == 1 {
            if byte == UInt8(ascii: "\n") { return String(decoding: reply, as: UTF8.self) }
            reply.append(byte)
        }
        return nil
    }

    func close() { Glibc.close(descriptor) }
}

/// What the daemon told systemd, in order.
final class Notifications: Sendable {
    private let messages = Mutex<[String]>([])
    var all: [String] { messages.withLock { $0 } }
    func append(_ message: String) { messages.withLock { $0.append(message) } }
}
