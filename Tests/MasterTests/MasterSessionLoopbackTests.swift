import IEC104
import Testing
import TestSupport
@testable import Master

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The station end: accepted within a second, or the test fails with a message.
private func acceptStation(_ listener: LoopbackListener) throws -> Int32 {
    guard let station = listener.accept() else { throw MasterError.io("nothing to accept") }
    return station
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
        let listener = LoopbackListener()
        let parameters = try APCIParameters(k: 12, w: 8, t0: .seconds(2), t1: .seconds(2), t2: .seconds(1), t3: .seconds(20))
        let session = try MasterSession.connect(to: Endpoint(host: "127.0.0.1", port: listener.port), from: nil,
                                                parameters: parameters)
        let station = try acceptStation(listener)
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
        let listener = LoopbackListener()
        let session = try MasterSession.connect(to: Endpoint(host: "127.0.0.1", port: listener.port), from: nil,
                                                parameters: .standard)
        close(try acceptStation(listener))
        #expect {
            try session.startDataTransfer(timeout: .seconds(2))
        } throws: { error in
            guard case MasterError.closedBeforeAnswer = error else { return false }
            return true
        }
    }
}
