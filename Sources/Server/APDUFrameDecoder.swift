import IEC104
import NIOCore

/// One received APDU: its control information and the ASDU octets of an I-frame.
struct ReceivedFrame {
    var apci: APCI
    var asdu: [UInt8]
}

/// Splits the TCP byte stream into APDUs with `FrameStep`, under the listener's error policy.
struct APDUFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ReceivedFrame

    let policy: FrameErrorPolicy
    /// Called once per run of skipped octets under the `discard` policy, for one log line per burst.
    let reportDiscard: (FrameError, Int) -> Void
    private var discardingSince: FrameError?
    private var discardedInRun = 0

    init(policy: FrameErrorPolicy, reportDiscard: @escaping (FrameError, Int) -> Void) {
        self.policy = policy
        self.reportDiscard = reportDiscard
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch buffer.withUnsafeReadableBytes({ FrameStep.next($0) }) {
        case .needMore:
            return .needMoreData
        case .invalid(let error, let octets):
            guard policy == .discard else { throw error }
            if discardingSince == nil { discardingSince = error }
            buffer.moveReaderIndex(forwardBy: octets)
            discardedInRun += octets
            return .continue
        case .frame(let apci, let length):
            flushDiscardReport()
            buffer.moveReaderIndex(forwardBy: APCI.headerLength)
            let asdu = buffer.readBytes(length: length - APCI.headerLength) ?? []
            context.fireChannelRead(Self.wrapInboundOut(ReceivedFrame(apci: apci, asdu: asdu)))
            return .continue
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        flushDiscardReport()
        return .needMoreData
    }

    private mutating func flushDiscardReport() {
        guard let error = discardingSince else { return }
        reportDiscard(error, discardedInRun)
        discardingSince = nil
        discardedInRun = 0
    }
}
