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
            let outcome: FrameScanOutcome = buffer.withUnsafeBytes { raw in
                let view = UnsafeRawBufferPointer(rebasing: raw[readIndex...])
                switch FrameScan.scan(view) {
                case .incomplete: return .needMore
                case .invalid(let error): return .skip(error, 1)
                case .complete(let length):
                    do throws(FrameError) {
                        let apci = try APCI.decode(control: view[2], view[3], view[4], view[5], length: length - 2)
                        return .frame(APDU(apci: apci, asdu: Array(view[APCI.headerLength..<length])), length)
                    } catch {
                        return .skip(error, length)
                    }
                }
            }
            switch outcome {
            case .needMore:
                return nil
            case .frame(let apdu, let length):
                readIndex += length
                return apdu
            case .skip(let error, let length):
                guard policy == .discard else { throw error }
                discardedFrameErrors += 1
                readIndex += length
                discardedByteCount += length
                while readIndex < buffer.count, buffer[readIndex] != APCI.startByte {
                    readIndex += 1
                    discardedByteCount += 1
                }
            }
        }
    }
}

private enum FrameScanOutcome {
    case needMore
    case frame(APDU, Int)
    case skip(FrameError, Int)
}
