import IEC104
import Testing
@testable import Master

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A listening socket on 127.0.0.1 with a kernel-chosen port. The kernel completes the connection before
/// accept(), so one thread can connect, then accept, then play the station.
private final class Listener {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 4) == 0 else {
            close(descriptor)
            throw MasterError.io("listen: \(SocketIO.lastErrorText)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    /// The accepted connection, waiting at most one second.
    func accept() throws -> Int32 {
        guard SocketIO.poll(descriptor, events: Int16(POLLIN), milliseconds: 1000) > 0 else {
            throw MasterError.io("nothing to accept")
        }
        return Glibc.accept(descriptor, nil, nil)
    }

    deinit { close(descriptor) }
}

/// Reads `count` octets from `descriptor` within one second.
private func readOctets(_ descriptor: Int32, count: Int) -> [UInt8] {
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: count)
    while result.count < count, SocketIO.poll(descriptor, events: Int16(POLLIN), milliseconds: 1000) > 0 {
        let read = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, count - result.count, 0) }
        guard read > 0 else { break }
        result += chunk[..<read]
    }
    return result
}

@Suite(.timeLimit(.minutes(1))) struct MasterSessionLoopbackTests {
    @Test func startsDataTransferAndDeliversAnIFrameOverTCP() throws {
        let listener = try Listener()
        let parameters = try APCIParameters(k: 12, w: 8, t0: .seconds(2), t1: .seconds(2), t2: .seconds(1), t3: .seconds(20))
        let session = try MasterSession.connect(to: Endpoint(host: "127.0.0.1", port: listener.port), from: nil,
                                                parameters: parameters)
        let station = try listener.accept()
        defer { close(station) }
        // The station's answer waits in the socket until the session has sent STARTDT act and reads.
        SocketIO.writeAll(station, Frames.unnumbered(.startDTConfirmation)
                          + Frames.information(send: 0, Interrogation47.actcon))
        try session.startDataTransfer(timeout: .seconds(2))
        #expect(readOctets(station, count: 6) == Frames.unnumbered(.startDTActivation))
        let apdu = try session.next(until: monotonicNow() + .seconds(2))
        #expect(apdu == APDU(apci: .information(send: 0, receive: 0), asdu: Interrogation47.actcon))

        try session.send(Interrogation47.request)
        #expect(readOctets(station, count: 16) == Frames.information(send: 0, receive: 1, Interrogation47.request))
        SocketIO.writeAll(station, Frames.supervisory(1) + Frames.unnumbered(.stopDTConfirmation))
        session.stop(wait: .seconds(2))
        #expect(readOctets(station, count: 6) == Frames.unnumbered(.stopDTActivation))
        #expect(session.closed)
    }

    @Test func aStationClosingBeforeAnyFrameIsReportedAsRefusal() throws {
        let listener = try Listener()
        let session = try MasterSession.connect(to: Endpoint(host: "127.0.0.1", port: listener.port), from: nil,
                                                parameters: .standard)
        close(try listener.accept())
        #expect {
            try session.startDataTransfer(timeout: .seconds(2))
        } throws: { error in
            guard case MasterError.closedBeforeAnswer = error else { return false }
            return true
        }
    }
}
