import IEC104
import NIOCore
import NIOEmbedded
import NIOTestUtils
@testable import Server
import Testing

extension ReceivedFrame: Equatable {
    public static func == (lhs: ReceivedFrame, rhs: ReceivedFrame) -> Bool { lhs.apci == rhs.apci && lhs.asdu == rhs.asdu }
}

/// What the decoder handed on, in order: frames and discard reports.
final class DecoderEvents {
    enum Event: Equatable {
        case frame(ReceivedFrame)
        case discarded(FrameError, Int)
    }

    var events: [Event] = []
    var reports: [Event] { events.filter { if case .discarded = $0 { true } else { false } } }
}

/// Records what the decoder fires, in the order it fires it (frames and reports interleaved).
private final class FrameRecorder: ChannelInboundHandler {
    typealias InboundIn = ReceivedFrame
    let events: DecoderEvents

    init(events: DecoderEvents) { self.events = events }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        events.events.append(.frame(unwrapInboundIn(data)))
    }
}

@Suite("APDUFrameDecoder")
struct APDUFrameDecoderTests {
    static let startDT = APDU(apci: .unnumbered(.startDTActivation))
    static let testFR = APDU(apci: .unnumbered(.testFRActivation))
    static let ack = APDU(apci: .supervisory(receive: 0x1234))
    /// C_IC_NA_1 act for common address 47 in I(N(S)=3, N(R)=5).
    static let interrogation = APDU(apci: .information(send: 3, receive: 5),
                                    asdu: [0x64, 0x01, 0x06, 0x00, 0x2F, 0x00, 0x00, 0x00, 0x00, 0x14])
    /// The largest APDU: 255 octets, an ASDU of 249.
    static let largest = APDU(apci: .information(send: 0x7FFF, receive: 0), asdu: Array(repeating: 0xAB, count: 249))

    static func frame(_ apdu: APDU) -> ReceivedFrame { ReceivedFrame(apci: apdu.apci, asdu: apdu.asdu) }

    /// An EmbeddedChannel with the decoder as the server installs it, and a recorder behind it.
    static func channel(_ policy: FrameErrorPolicy) throws -> (EmbeddedChannel, DecoderEvents) {
        let events = DecoderEvents()
        let channel = EmbeddedChannel()
        let decoder = APDUFrameDecoder(policy: policy) { error, octets in events.events.append(.discarded(error, octets)) }
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(decoder, maximumBufferSize: ListenerSettings.maximumBufferedInput))
        try channel.pipeline.syncOperations.addHandler(FrameRecorder(events: events))
        return (channel, events)
    }

    static func write(_ bytes: [UInt8], to channel: EmbeddedChannel) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
    }

    /// NIO's verifier feeds every input whole, byte by byte and in random splits, and checks the output and
    /// that nothing is left over at EOF.
    @Test(arguments: FrameErrorPolicy.allCases)
    func framesSurviveEverySplit(policy: FrameErrorPolicy) throws {
        let apdus = [Self.startDT, Self.testFR, Self.ack, Self.interrogation, Self.largest]
        let allocator = ByteBufferAllocator()
        var pairs = apdus.map { (allocator.buffer(bytes: $0.encoded), [Self.frame($0)]) }
        // Several frames in one buffer.
        pairs.append((allocator.buffer(bytes: apdus.flatMap(\.encoded)), apdus.map(Self.frame)))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            APDUFrameDecoder(policy: policy) { error, octets in Issue.record("unexpected discard: \(error), \(octets)") }
        }
    }

    @Test func severalFramesInOneReadComeOutInOrder() throws {
        let (channel, events) = try Self.channel(.close)
        let apdus = [Self.startDT, Self.interrogation, Self.ack, Self.largest, Self.testFR]
        try Self.write(apdus.flatMap(\.encoded), to: channel)
        #expect(events.events == apdus.map { .frame(Self.frame($0)) })
        #expect(try channel.finish().isClean)
    }

    @Test func aFrameSplitAtEveryOctetComesOutOnceComplete() throws {
        let (channel, events) = try Self.channel(.close)
        let bytes = Self.interrogation.encoded
        for (index, byte) in bytes.enumerated() {
            try Self.write([byte], to: channel)
            #expect(events.events.count == (index == bytes.count - 1 ? 1 : 0))
        }
        #expect(events.events == [.frame(Self.frame(Self.interrogation))])
        #expect(try channel.finish().isClean)
    }

    // MARK: The close policy: the error goes up the pipeline (the connection is closed), nothing is reported.

    @Test(arguments: [
        ([0x55, 0x04, 0x07, 0x00, 0x00, 0x00], FrameError.invalidStartByte(0x55)),
        ([0x68, 0x02, 0x07, 0x00], FrameError.invalidLength(2)),
        ([0x68, 0xFE], FrameError.invalidLength(0xFE)),
        ([0x68, 0x04, 0x00, 0x00, 0x00, 0x00], FrameError.informationFrameWithoutASDU),
        ([0x68, 0x05, 0x07, 0x00, 0x00, 0x00, 0x01], FrameError.unexpectedASDU(length: 5)),
        ([0x68, 0x04, 0x0F, 0x00, 0x00, 0x00], FrameError.invalidUnnumberedControl([0x0F, 0x00, 0x00, 0x00])),
    ] as [([UInt8], FrameError)])
    func closePolicyThrowsTheFrameError(bytes: [UInt8], expected: FrameError) throws {
        let (channel, events) = try Self.channel(.close)
        // A good frame first: it still comes out.
        #expect(throws: expected) { try Self.write(Self.startDT.encoded + bytes + Self.testFR.encoded, to: channel) }
        #expect(events.events == [.frame(Self.frame(Self.startDT))])
        _ = try? channel.finish()
    }

    // MARK: The discard policy: skip to the next 0x68, one report per run, before the frame that ends it.

    @Test(arguments: [
        // Junk without a start octet: every octet up to the next 0x68.
        ([0x55, 0xAA, 0x01], FrameError.invalidStartByte(0x55), 3),
        // A bad length: the 0x68, then everything up to the next 0x68.
        ([0x68, 0x02, 0x11, 0x22], FrameError.invalidLength(2), 4),
        // A complete frame whose control field is wrong: the whole frame.
        ([0x68, 0x04, 0x00, 0x00, 0x00, 0x00], FrameError.informationFrameWithoutASDU, 6),
        ([0x68, 0x04, 0x0F, 0x00, 0x00, 0x00, 0x42], FrameError.invalidUnnumberedControl([0x0F, 0x00, 0x00, 0x00]), 7),
    ] as [([UInt8], FrameError, Int)])
    func discardPolicySkipsToTheNextStartOctet(junk: [UInt8], error: FrameError, octets: Int) throws {
        let (channel, events) = try Self.channel(.discard)
        try Self.write(Self.startDT.encoded + junk + Self.interrogation.encoded, to: channel)
        #expect(events.events == [.frame(Self.frame(Self.startDT)), .discarded(error, octets),
                                  .frame(Self.frame(Self.interrogation))])
        #expect(try channel.finish().isClean)
    }

    @Test func discardRunSplitOverReadsIsReportedOnce() throws {
        let (channel, events) = try Self.channel(.discard)
        let junk: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]
        for byte in junk { try Self.write([byte], to: channel) }
        #expect(events.events.isEmpty, "a run is reported when it ends, not octet by octet")
        for byte in Self.testFR.encoded { try Self.write([byte], to: channel) }
        #expect(events.events == [.discarded(.invalidStartByte(0x01), 7), .frame(Self.frame(Self.testFR))])
        #expect(try channel.finish().isClean)
    }

    @Test func separateRunsAreReportedSeparately() throws {
        let (channel, events) = try Self.channel(.discard)
        try Self.write([0x10, 0x11] + Self.startDT.encoded + [0x68, 0x01, 0x20] + Self.testFR.encoded, to: channel)
        #expect(events.events == [.discarded(.invalidStartByte(0x10), 2), .frame(Self.frame(Self.startDT)),
                                  .discarded(.invalidLength(1), 3), .frame(Self.frame(Self.testFR))])
        #expect(try channel.finish().isClean)
    }

    @Test func discardRunAtEndOfStreamIsReportedAtClose() throws {
        let (channel, events) = try Self.channel(.discard)
        try Self.write(Self.startDT.encoded + [0x99, 0x98, 0x97], to: channel)
        #expect(events.events == [.frame(Self.frame(Self.startDT))])
        _ = try channel.finish()
        #expect(events.events == [.frame(Self.frame(Self.startDT)), .discarded(.invalidStartByte(0x99), 3)])
    }

    /// A stream far larger than the 64 KiB bound on buffered input passes in one read: the decoder frames as it
    /// goes, so no more than one partial frame is ever held.
    @Test(arguments: FrameErrorPolicy.allCases)
    func inputBeyondTheBufferBoundIsFramedNotRefused(policy: FrameErrorPolicy) throws {
        let (channel, events) = try Self.channel(policy)
        let count = 2 * ListenerSettings.maximumBufferedInput / Self.largest.encoded.count + 1
        var bytes: [UInt8] = []
        for _ in 0..<count { bytes += Self.largest.encoded }
        #expect(bytes.count > ListenerSettings.maximumBufferedInput)
        try Self.write(bytes, to: channel)
        #expect(events.events.count == count)
        #expect(try channel.finish().isClean)
    }

    /// Junk beyond the bound under the discard policy is skipped as it arrives: no buffer limit error.
    @Test func junkBeyondTheBufferBoundIsDiscardedAsItArrives() throws {
        let (channel, events) = try Self.channel(.discard)
        let junk = [UInt8](repeating: 0x00, count: ListenerSettings.maximumBufferedInput + 1000)
        try Self.write(junk + Self.startDT.encoded, to: channel)
        #expect(events.events == [.discarded(.invalidStartByte(0), junk.count), .frame(Self.frame(Self.startDT))])
        #expect(try channel.finish().isClean)
    }
}
