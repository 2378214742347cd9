import IEC104
import NIOCore
import NIOEmbedded
import Outstation
@testable import Server
import TestSupport
import Testing

/// The station answers in the step that received the frame: the shell writes its `.send` actions at once and
/// never needs `channelReadComplete` (which a TLS handler or a custom pipeline may deliver late, or not at all).
@Suite("Replies flow without channelReadComplete")
struct RepliesWithoutReadCompleteTests {
    /// Fires `channelRead` only, unlike `EmbeddedChannel.writeInbound`, which also fires `channelReadComplete`.
    private func receive(_ apdu: APDU, on channel: EmbeddedChannel) {
        channel.pipeline.syncOperations.fireChannelRead(NIOAny(channel.allocator.buffer(bytes: apdu.encoded)))
    }

    @Test func aGeneralInterrogationLargerThanTheWindowCompletes() throws {
        // 2,000 floats are 42 ASDUs with SQ=1: more than three k windows, so acknowledgements must move it on.
        let points = (1...2000).map { point(UInt32($0), .float, value: .float(Float($0))) }
        let shell = EmbeddedShell(points: points, stations: [try station("a")])
        defer { shell.finish() }
        let channel = try shell.connect(station: "a")
        receive(APDU(apci: .unnumbered(.startDTActivation)), on: channel)
        var frames = try shell.written(channel)
        #expect(frames.first == APDU(apci: .unnumbered(.startDTConfirmation)))
        var received: UInt16 = frames.count { if case .information = $0.apci { true } else { false } }.asUInt16
        receive(APDU(apci: .information(send: 0, receive: received), asdu: try interrogation(47).encoded()), on: channel)

        var asdus: [ASDU] = []
        for _ in 0..<100 {
            frames = try shell.written(channel)
            if frames.isEmpty { break }
            for frame in frames where frame.apci.isInformation {
                asdus.append(try ASDU(decoding: frame.asdu))
                received = (received + 1) & 0x7FFF
            }
            receive(APDU(apci: .supervisory(receive: received)), on: channel)
        }
        #expect(asdus.first?.cot == .activationConfirmation)
        #expect(asdus.last?.cot == .activationTermination)
        let values = asdus.filter { $0.cot == .interrogatedByStation }.flatMap(\.objects)
        #expect(values.count == 2000)
        #expect(values.map(\.address) == Array(1...2000))
    }

    @Test func eachStepWritesOnceForItsWholeWindow() throws {
        let points = (1...2000).map { point(UInt32($0), .float, value: .float(0)) }
        let shell = EmbeddedShell(points: points, stations: [try station("a")])
        defer { shell.finish() }
        let channel = try shell.connect(station: "a")
        receive(APDU(apci: .unnumbered(.startDTActivation)), on: channel)
        _ = try shell.written(channel)
        receive(APDU(apci: .information(send: 0, receive: 1), asdu: try interrogation(47).encoded()), on: channel)
        shell.loop.run()
        var writes = 0
        while try channel.readOutbound(as: ByteBuffer.self) != nil { writes += 1 }
        #expect(writes == 1, "ACTCON and the rest of the k window go out in one write at the end of the turn")
    }
}

private extension Int {
    var asUInt16: UInt16 { UInt16(truncatingIfNeeded: self) }
}

private extension APCI {
    var isInformation: Bool { if case .information = self { true } else { false } }
}
