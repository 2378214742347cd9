import IEC104
import NIOCore

/// One received APDU: its control information and the ASDU octets of an I-frame.
struct ReceivedFrame {
    var apci: APCI
    var asdu: [UInt8]
}

/// Splits the TCP byte stream into APDUs with `FrameScan`, under the listener's error policy.
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
        let scan = buffer.withUnsafeReadableBytes { FrameScan.scan($0) }
        switch scan {
        case .incomplete:
            return .needMoreData
        case .invalid(let error):
            try skip(error, octets: 1, buffer: &buffer)
            return .continue
        case .complete(let length):
            let control = buffer.getBytes(at: buffer.readerIndex + 2, length: 4) ?? [0, 0, 0, 0]
            let apci: APCI
            do {
                apci = try APCI.decode(control: control[0], control[1], control[2], control[3], length: length - 2)
            } catch {
                try skip(error, octets: length, buffer: &buffer)
                return .continue
            }
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

    private mutating func skip(_ error: FrameError, octets: Int, buffer: inout ByteBuffer) throws {
        guard policy == .discard else { throw error }
        if discardingSince == nil { discardingSince = error }
        buffer.moveReaderIndex(forwardBy: octets)
        discardedInRun += octets
        // Skip straight to the next start octet.
        let skipped = buffer.withUnsafeReadableBytes { $0.firstIndex(of: APCI.startByte) ?? $0.count }
        buffer.moveReaderIndex(forwardBy: skipped)
        discardedInRun += skipped
    }

    private mutating func flushDiscardReport() {
        guard let error = discardingSince else { return }
        reportDiscard(error, discardedInRun)
        discardingSince = nil
        discardedInRun = 0
    }
}
