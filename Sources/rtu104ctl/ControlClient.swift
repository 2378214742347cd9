import ArgumentParser
import Foundation
import Master

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Options shared by the subcommands that talk to a running rtu104d over its control socket.
struct ControlOptions: ParsableArguments {
    @Option(name: .long, help: "The daemon's control socket (default: $RTU104_SOCKET, else /run/rtu104d/control.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's JSON replies as they are, one per line.")
    var json = false

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["RTU104_SOCKET"] ?? "/run/rtu104d/control.sock"
    }
}

/// A blocking client of the control socket: one request line out, one reply line back.
struct ControlClient {
    private let descriptor: Int32
    private var pending: [UInt8] = []

    init(path: String) throws {
        let descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ControlClientError("cannot create a socket: \(Self.lastError)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            _ = Glibc.close(descriptor)
            throw ControlClientError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            let reason = Self.lastError
            _ = Glibc.close(descriptor)
            throw ControlClientError("cannot reach rtu104d at \(path): \(reason) (is the daemon running? --socket names another path)")
        }
        self.descriptor = descriptor
    }

    static var lastError: String { String(cString: strerror(errno)) }

    func send(_ line: String) throws {
        var text = line + "\n"
        let sent = text.withUTF8 { SocketIO.writeAll(descriptor, UnsafeRawBufferPointer($0)) }
        guard sent else { throw ControlClientError("cannot send to rtu104d: \(Self.lastError)") }
    }

    /// The next reply line, nil when the daemon closed the connection.
    mutating func readLine() throws -> String? {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { SocketIO.readSome(descriptor, into: $0) }
            if count < 0 { throw ControlClientError("cannot read from rtu104d: \(Self.lastError)") }
            if count == 0 { return nil }
            pending.append(contentsOf: chunk[..<count])
        }
    }

    /// Sends a request and returns its reply as a JSON object.
    mutating func request(_ object: [String: Any]) throws -> (line: String, reply: [String: Any]) {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try send(String(decoding: data, as: UTF8.self))
        guard let line = try readLine() else { throw ControlClientError("rtu104d closed the control connection") }
        guard let reply = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
            throw ControlClientError("unreadable reply from rtu104d: \(line)")
        }
        return (line, reply)
    }

    func close() { _ = Glibc.close(descriptor) }
}

struct ControlClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs one request and handles the outcome the same way for every subcommand:
/// `--json` prints the reply line; an error reply goes to stderr with exit status 1.
func runControlRequest(_ options: ControlOptions, _ request: [String: Any], render: ([String: Any]) -> String) throws {
    do {
        var client = try ControlClient(path: options.socketPath)
        defer { client.close() }
        let (line, reply) = try client.request(request)
        if options.json {
            writeStandardOutput(line + "\n")
        }
        guard reply["ok"] as? Bool == true else {
            reportError(reply["error"] as? String ?? "the daemon refused the request")
            throw ExitCode(1)
        }
        let text = render(reply)  // also with --json: a subcommand may read the reply (exec, for its exit status)
        if !options.json { writeStandardOutput(text) }
    } catch let error as ControlClientError {
        reportError(error.description)
        throw ExitCode(2)
    }
}
