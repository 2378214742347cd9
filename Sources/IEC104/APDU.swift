/// One application protocol data unit: control information and, for I-frames, the ASDU octets.
public struct APDU: Hashable, Sendable {
    public var apci: APCI
    /// The ASDU octets of an I-frame; empty for S- and U-frames.
    public var asdu: [UInt8]

    public init(apci: APCI, asdu: [UInt8] = []) {
        self.apci = apci
        self.asdu = asdu
    }

    /// The frame as sent on the wire.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(APCI.headerLength + asdu.count)
        apci.encodeHeader(asduLength: asdu.count, into: &bytes)
        bytes.append(contentsOf: asdu)
        return bytes
    }
}

/// What the start of a byte stream holds.
public enum FrameScan: Hashable, Sendable {
    /// Not enough octets yet to tell.
    case incomplete
    /// A frame of this many octets (start and length octets included) is complete.
    case complete(length: Int)
    case invalid(FrameError)

    /// Scans the first octets of `bytes`; never reads past them.
    public static func scan(_ bytes: UnsafeRawBufferPointer) -> FrameScan {
        guard let start = bytes.first else { return .incomplete }
        guard start == APCI.startByte else { return .invalid(.invalidStartByte(start)) }
        guard bytes.count >= 2 else { return .incomplete }
        let length = bytes[1]
        guard APCI.lengthRange.contains(Int(length)) else { return .invalid(.invalidLength(length)) }
        let total = Int(length) + 2
        return bytes.count >= total ? .complete(length: total) : .incomplete
    }
}

/// What to do with bytes that are not a valid APDU.
public enum FrameErrorPolicy: String, Hashable, Sendable, CaseIterable {
    /// Report the error; the connection is closed (the standard's behaviour).
    case close
    /// Skip to the next 0x68 and go on, for terminal servers that bridge TCP to serial lines.
    case discard
}

/// Splits a byte stream into APDUs, whatever the split of the reads.
public struct StreamFramer: Sendable {
    public let policy: FrameErrorPolicy
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Octets skipped under the `discard` policy since the framer was made.
    public private(set) var discardedByteCount = 0
    /// Errors skipped under the `discard` policy since the framer was made.
    public private(set) var discardedFrameErrors = 0

    public init(policy: FrameErrorPolicy = .close) {
        self.policy = policy
    }

    /// Octets received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if readIndex > 4096, readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete APDU, nil when more octets are needed.
    ///
    /// Under `close` an invalid frame throws and the framer must not be used again;
    /// under `discard` it skips ahead to the next 0x68 and goes on.
    public mutating func next() throws(FrameError) -> APDU? {
        while true {
            let step = buffer.withUnsafeBytes { FrameStep.next(UnsafeRawBufferPointer(rebasing: $0[readIndex...])) }
            switch step {
            case .needMore:
                return nil
            case .frame(let apci, let length):
                let asdu = Array(buffer[(readIndex + APCI.headerLength)..<(readIndex + length)])
                readIndex += length
                return APDU(apci: apci, asdu: asdu)
            case .invalid(let error, let octets):
                guard policy == .discard else { throw error }
                discardedFrameErrors += 1
                readIndex += octets
                discardedByteCount += octets
            }
        }
    }
}

/// One step through a received byte stream: the APCI of a whole frame decoded, or how far an invalid one
/// reaches. The daemon's channel decoder and ``StreamFramer`` both walk a stream with it, so that a frame
/// error is found and skipped the same way everywhere.
public enum FrameStep: Sendable {
    /// Not enough octets yet to tell.
    case needMore
    /// A whole APDU of `length` octets (start and length octets included); its ASDU follows the APCI header.
    case frame(APCI, length: Int)
    /// Not an APDU: under the `discard` policy, `octets` are skipped — the bad frame (or start octet) and what
    /// follows it up to the next start octet, or to the end of what is buffered.
    case invalid(FrameError, octets: Int)

    /// Looks at the start of `bytes`; never reads past them.
    public static func next(_ bytes: UnsafeRawBufferPointer) -> FrameStep {
        switch FrameScan.scan(bytes) {
        case .incomplete:
            return .needMore
        case .invalid(let error):
            return .invalid(error, octets: extent(of: bytes, from: 1))
        case .complete(let length):
            do throws(FrameError) {
                let apci = try APCI.decode(control: bytes[2], bytes[3], bytes[4], bytes[5], length: length - 2)
                return .frame(apci, length: length)
            } catch {
                return .invalid(error, octets: extent(of: bytes, from: length))
            }
        }
    }

    /// `start` plus the octets after it that are no start octet.
    private static func extent(of bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var end = start
        while end < bytes.count, bytes[end] != APCI.startByte { end += 1 }
        return end
    }
}
