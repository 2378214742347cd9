import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The service manager's end of `NOTIFY_SOCKET`: an AF_UNIX datagram socket in a temporary directory.
final class NotifyListener {
    struct Message {
        var text: String
        var at: ContinuousClock.Instant
        var assignments: [String: String] {
            Dictionary(text.split(separator: "\n").compactMap { line -> (String, String)? in
                guard let equals = line.firstIndex(of: "=") else { return nil }
                return (String(line[..<equals]), String(line[line.index(after: equals)...]))
            }, uniquingKeysWith: { _, last in last })
        }
    }

    let path: String
    private let descriptor: Int32

    init(directory: String) throws {
        path = directory + "/notify.sock"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw TestFailure("path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { close(descriptor); throw TestFailure("bind \(path): errno \(errno)") }
    }

    deinit { close(descriptor) }

    /// The next datagram, or nil after `timeout`.
    func receive(timeout: Duration) -> Message? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return nil }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000) + 1
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            return Message(text: String(decoding: buffer[..<count], as: UTF8.self), at: .now)
        }
    }

    /// Every datagram until one satisfies `predicate` (included), or nil after `timeout`.
    func receive(until predicate: (Message) -> Bool, timeout: Duration) -> [Message]? {
        let deadline = ContinuousClock.now + timeout
        var messages: [Message] = []
        while let message = receive(timeout: ContinuousClock.now.duration(to: deadline)) {
            messages.append(message)
            if predicate(message) { return messages }
        }
        return nil
    }

    /// Every datagram for `duration`.
    func collect(for duration: Duration) -> [Message] {
        let deadline = ContinuousClock.now + duration
        var messages: [Message] = []
        while let message = receive(timeout: ContinuousClock.now.duration(to: deadline)) { messages.append(message) }
        return messages
    }
}

/// The built `rtu104d` on a small config in a temporary directory, on a free loopback port.
final class DaemonUnderTest {
    /// `.build/<triple>/debug/rtu104d`, next to the test runner, else under the package.
    static let binary: URL? = {
        var candidates: [URL] = []
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("rtu104d"))
            directory = directory.deletingLastPathComponent()
        }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug/rtu104d"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    let directory: String
    let port: Int
    let notify: NotifyListener
    let process = Process()
    var configPath: String { directory + "/rtu.conf" }
    var controlSocket: String { directory + "/run/control.sock" }
    var stderrPath: String { directory + "/stderr" }

    /// Writes the config; `watchdogPID`: "self" makes WATCHDOG_PID the daemon's own pid, a number sets it, nil omits it.
    init(watchdogUsec: Int? = nil, watchdogPID: String? = "self", logTarget: String = "stderr") throws {
        var template = Array("/tmp/rtu104d-sd-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw TestFailure("mkdtemp: errno \(errno)") }
        directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        port = try Self.freePort()
        notify = try NotifyListener(directory: directory)
        try Self.writeConfig(directory: directory, port: port)

        guard let binary = Self.binary else { throw TestFailure("rtu104d has not been built") }
        var environment = ProcessInfo.processInfo.environment
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "LISTEN_FDS"] {
            environment.removeValue(forKey: name)
        }
        environment["NOTIFY_SOCKET"] = notify.path
        if let watchdogUsec { environment["WATCHDOG_USEC"] = "\(watchdogUsec)" }
        var script = "exec \"$0\" \"$@\""
        switch watchdogPID {
        case "self"?: script = "WATCHDOG_PID=$$; export WATCHDOG_PID; " + script // exec keeps the pid
        case let pid?: environment["WATCHDOG_PID"] = pid
        case nil: break
        }
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, binary.path, "--config", configPath, "--log-target", logTarget]
        process.environment = environment
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit; nil when it did not exit within `timeout`.
    func exitStatus(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            usleep(20_000)
        }
        return process.terminationStatus
    }

    static func writeConfig(directory: String, port: Int, logLevel: String = "info") throws {
        try """
            [daemon]
            point_tables = points.json
            state_directory = state
            runtime_directory = run
            log_level = \(logLevel)

            [listener main]
            bind = 127.0.0.1:\(port)

            [station anyone]
            listener = main
            allow = any
            common_addresses = 1
            """.write(toFile: directory + "/rtu.conf", atomically: true, encoding: .utf8)
        try """
            { "points": [ { "ca": 1, "ioa": 100, "name": "p", "type": "single", "value": false } ] }
            """.write(toFile: directory + "/points.json", atomically: true, encoding: .utf8)
    }

    /// A port the kernel just handed out on 127.0.0.1 (closed again, so the daemon can bind it).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard ok else { throw TestFailure("no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A TCP connection to the daemon's port; -1 when refused. Close it with `close`.
    func connect() -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 { close(descriptor); return -1 }
        return descriptor
    }
}
