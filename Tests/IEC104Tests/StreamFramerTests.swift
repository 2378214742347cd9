import IEC104
import PropertyBased
import Testing
import TestSupport

@Suite("StreamFramer")
struct StreamFramerTests {
    /// A mixed stream: U-, S- and I-frames, the shortest and the longest I-frame.
    static let frames: [APDU] = [
        APDU(apci: .unnumbered(.startDTActivation)),
        APDU(apci: .unnumbered(.startDTConfirmation)),
        APDU(apci: .information(send: 0, receive: 0), asdu: hex("64 01 06 00 2F 00 00 00 00 14")),
        APDU(apci: .supervisory(receive: 1)),
        APDU(apci: .information(send: 1, receive: 1), asdu: [0x68]),
        APDU(apci: .information(send: 127, receive: 128),
             asdu: hex("1F 01 03 00 01 00 0A 00 00 02 \(vectorTimeOctets)")),
        APDU(apci: .information(send: 32767, receive: 0),
             asdu: (0..<ASDU.maximumLength).map { UInt8(truncatingIfNeeded: $0 &* 7) }),
        APDU(apci: .unnumbered(.testFRActivation)),
        APDU(apci: .unnumbered(.testFRConfirmation)),
        APDU(apci: .information(send: 2, receive: 3), asdu: [UInt8](repeating: 0x68, count: 20)),
        APDU(apci: .unnumbered(.stopDTActivation)),
        APDU(apci: .unnumbered(.stopDTConfirmation)),
    ]

    static var stream: [UInt8] { frames.flatMap(\.encoded) }

    @Test("many frames in one read")
    func oneRead() throws {
        var framer = StreamFramer()
        framer.append(Self.stream)
        #expect(try drain(&framer) == Self.frames)
        #expect(framer.bufferedByteCount == 0)
    }

    @Test("a split at every index into two reads yields the same frames", arguments: FrameErrorPolicy.allCases)
    func everySplit(policy: FrameErrorPolicy) throws {
        let stream = Self.stream
        for split in 0...stream.count {
            var framer = StreamFramer(policy: policy)
            framer.append(stream[..<split])
            var received = try drain(&framer)
            framer.append(stream[split...])
            received += try drain(&framer)
            #expect(received == Self.frames, "split at \(split)")
            #expect(framer.bufferedByteCount == 0)
            #expect(framer.discardedByteCount == 0)
        }
    }

    @Test("one byte at a time yields the same frames", arguments: FrameErrorPolicy.allCases)
    func byteAtATime(policy: FrameErrorPolicy) throws {
        var framer = StreamFramer(policy: policy)
        var received: [APDU] = []
        for byte in Self.stream {
            framer.append(CollectionOfOne(byte))
            received += try drain(&framer)
        }
        #expect(received == Self.frames)
        #expect(framer.bufferedByteCount == 0)
    }

    @Test("random splits of a long stream yield the same frames")
    func randomChunks() async {
        let frames = (0..<40).flatMap { _ in Self.frames }
        let stream = frames.flatMap(\.encoded)
        await propertyCheck(count: 50, input: Gen.int(in: 1...300).array(of: 1...200)) { sizes in
            var framer = StreamFramer()
            var received: [APDU] = []
            var offset = 0
            var index = 0
            while offset < stream.count {
                let end = min(stream.count, offset + sizes[index % sizes.count])
                framer.append(stream[offset..<end])
                offset = end
                index += 1
                while let frame = try framer.next() { received.append(frame) }
            }
            #expect(received == frames)
        }
    }

    @Test("a partial frame stays buffered until it completes")
    func partial() throws {
        var framer = StreamFramer()
        framer.append(hex("68 0E 00 00 00 00 64 01"))
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == 8)
        framer.append(hex("06 00 2F 00 00 00 00 14 68"))
        #expect(try framer.next()?.apci == .information(send: 0, receive: 0))
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == 1)
    }

    // MARK: close policy

    @Test("wrong start byte throws under .close")
    func wrongStartByte() {
        var framer = StreamFramer(policy: .close)
        framer.append(hex("67 04 07 00 00 00"))
        #expect(throws: FrameError.invalidStartByte(0x67)) { try framer.next() }

        // Also after a good frame.
        var after = StreamFramer(policy: .close)
        after.append(hex("68 04 07 00 00 00 00 68 04 07 00 00 00"))
        #expect(throws: Never.self) { _ = try after.next() }
        #expect(throws: FrameError.invalidStartByte(0x00)) { try after.next() }
    }

    @Test("a length outside 4...253 throws under .close as soon as the length octet arrives",
          arguments: [UInt8(0), 1, 2, 3, 254, 255])
    func invalidLength(length: UInt8) {
        var framer = StreamFramer(policy: .close)
        framer.append([0x68, length])
        #expect(throws: FrameError.invalidLength(length)) { try framer.next() }
    }

    @Test("invalid control octets throw under .close")
    func invalidControl() {
        var framer = StreamFramer(policy: .close)
        framer.append(hex("68 04 0F 00 00 00"))
        #expect(throws: FrameError.invalidUnnumberedControl(hex("0F 00 00 00"))) { try framer.next() }

        var withoutASDU = StreamFramer(policy: .close)
        withoutASDU.append(hex("68 04 00 00 00 00"))
        #expect(throws: FrameError.informationFrameWithoutASDU) { try withoutASDU.next() }

        var sWithASDU = StreamFramer(policy: .close)
        sWithASDU.append(hex("68 05 01 00 00 00 00"))
        #expect(throws: FrameError.unexpectedASDU(length: 5)) { try sWithASDU.next() }
    }

    // MARK: discard policy

    /// Good frames with garbage around them, and how many octets of garbage there are.
    static let garbled: (stream: [UInt8], discarded: Int) = {
        let good = frames.map(\.encoded)
        var stream: [UInt8] = []
        var discarded = 0
        func garbage(_ bytes: [UInt8]) {
            stream += bytes
            discarded += bytes.count
        }
        garbage(hex("00 11 22 33"))  // leading noise
        stream += good[0]
        garbage(hex("68 FF 01 02"))  // start byte with an impossible length
        stream += good[1]
        garbage(hex("68 00"))  // length 0
        stream += good[2]
        garbage(hex("68 04 0F 00 00 00"))  // a whole frame with an invalid U control field
        stream += good[3]
        garbage(hex("68 05 01 00 00 00 00 FE"))  // an S-frame with an ASDU, then noise
        stream += good[4]
        stream += good[5]
        garbage(hex("68 04 00 00 00 00 77"))  // an I-frame without ASDU, then noise
        stream += good[6]
        garbage(hex("68 03 68 02 68 01"))  // runs of bad lengths
        for frame in good[7...] { stream += frame }
        return (stream, discarded)
    }()

    @Test("under .discard the framer resynchronises on the next 0x68 and counts what it skipped")
    func discardResynchronises() throws {
        var framer = StreamFramer(policy: .discard)
        framer.append(Self.garbled.stream)
        #expect(try drain(&framer) == Self.frames)
        #expect(framer.discardedByteCount == Self.garbled.discarded)
        #expect(framer.discardedFrameErrors >= 8)
        #expect(framer.bufferedByteCount == 0)
    }

    @Test("under .discard every split of a garbled stream yields the good frames and the same count")
    func discardEverySplit() throws {
        let (stream, discarded) = Self.garbled
        for split in 0...stream.count {
            var framer = StreamFramer(policy: .discard)
            framer.append(stream[..<split])
            var received = try drain(&framer)
            framer.append(stream[split...])
            received += try drain(&framer)
            #expect(received == Self.frames, "split at \(split)")
            #expect(framer.discardedByteCount == discarded, "split at \(split)")
        }
    }

    @Test("under .discard trailing garbage without a start byte is dropped")
    func discardTrailingGarbage() throws {
        var framer = StreamFramer(policy: .discard)
        framer.append(hex("68 04 43 00 00 00 01 02 03 04 05"))
        #expect(try framer.next() == APDU(apci: .unnumbered(.testFRActivation)))
        #expect(try framer.next() == nil)
        #expect(framer.discardedByteCount == 5)
        #expect(framer.bufferedByteCount == 0)
        framer.append(hex("68 04 83 00 00 00"))
        #expect(try framer.next() == APDU(apci: .unnumbered(.testFRConfirmation)))
        #expect(framer.discardedByteCount == 5)
    }

    @Test("the framer keeps working over thousands of reads (buffer compaction with partial frames)")
    func longRunning() throws {
        var framer = StreamFramer()
        let stream = [UInt8]((0..<500).flatMap { _ in Self.stream })
        var received = 0
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + 997)  // never aligned with frame boundaries
            framer.append(stream[offset..<end])
            offset = end
            while let frame = try framer.next() {
                #expect(frame == Self.frames[received % Self.frames.count])
                received += 1
            }
        }
        #expect(received == 500 * Self.frames.count)
        #expect(framer.bufferedByteCount == 0)
    }

    private func drain(_ framer: inout StreamFramer) throws(FrameError) -> [APDU] {
        var frames: [APDU] = []
        while let frame = try framer.next() { frames.append(frame) }
        return frames
    }
}

@Suite("FrameStep: one step through a received stream")
struct FrameStepTests {
    static func step(_ bytes: [UInt8]) -> FrameStep { bytes.withUnsafeBytes { FrameStep.next($0) } }

    @Test func aWholeFrameComesWithItsAPCIAndLength() {
        let frame = APDU(apci: .information(send: 5, receive: 9), asdu: hex("64 01 06 00 2F 00 00 00 00 14")).encoded
        guard case .frame(let apci, let length) = Self.step(frame + [0x68, 0x04]) else {
            Issue.record("no frame in \(frame)")
            return
        }
        #expect(apci == .information(send: 5, receive: 9))
        #expect(length == frame.count)
    }

    @Test(arguments: [[UInt8](), [0x68], hex("68 0E 00 00 00 00"), hex("68 04 07 00")])
    func tooFewOctetsNeedMore(_ bytes: [UInt8]) {
        guard case .needMore = Self.step(bytes) else {
            Issue.record("\(bytes) is not incomplete")
            return
        }
    }

    @Test func aWrongStartOctetReachesToTheNextStartOctet() {
        guard case .invalid(.invalidStartByte(0x55), let octets) = Self.step(hex("55 01 02 68 04 07 00 00 00")) else {
            Issue.record("no start-octet error")
            return
        }
        #expect(octets == 3)
    }

    @Test func aBadLengthReachesToTheEndOfWhatIsBufferedWithoutAStartOctet() {
        guard case .invalid(.invalidLength(2), let octets) = Self.step(hex("68 02 01 02 03")) else {
            Issue.record("no length error")
            return
        }
        #expect(octets == 5)
    }

    @Test func badControlOctetsSkipTheWholeFrameAndWhatFollowsUpToTheNextStart() {
        // A U-frame with more than one function.
        guard case .invalid(.invalidUnnumberedControl, let octets) = Self.step(hex("68 04 0F 00 00 00 AA BB 68 04 07 00 00 00")) else {
            Issue.record("no control-field error")
            return
        }
        #expect(octets == 8)
    }
}
