// libFuzzer entry point for the IEC104 codec.
//
// Every input goes through:
//  - FrameScan.scan and ASDUHeader(decoding:) on the raw bytes;
//  - ASDU(decoding:) on the raw bytes, as if they were one ASDU;
//  - a StreamFramer with the `.close` policy, fed in two appends split at a point taken
//    from the first byte, and a StreamFramer with the `.discard` policy;
//  - for every I-frame, ASDU(decoding:) of its ASDU octets.
// Every decoded ASDU must re-encode, and decoding that again must give the same ASDU
// (floats compared by bit pattern); the re-encoding must be as long as the input and
// must encode again to the same octets. A broken round trip traps, so libFuzzer reports it.
import IEC104

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    let bytes = Array(raw)

    // Raw scanners and decoders: must never trap, whatever the input.
    _ = FrameScan.scan(raw)
    _ = try? ASDUHeader(decoding: raw)
    if let asdu = try? ASDU(decoding: raw) {
        checkRoundTrip(asdu, originalLength: size, mayBeTooLong: true)
    }

    // Stream framing, closing on the first error, with the input split into two reads.
    let split = size == 0 ? 0 : Int(bytes[0]) % (size + 1)
    var closing = StreamFramer(policy: .close)
    closing.append(bytes[..<split])
    drain(&closing)
    closing.append(bytes[split...])
    drain(&closing)

    // Stream framing that skips bad frames, fed byte by byte for short inputs and at once for long ones.
    var discarding = StreamFramer(policy: .discard)
    if size <= 64 {
        for byte in bytes {
            discarding.append(CollectionOfOne(byte))
            drain(&discarding)
        }
    } else {
        discarding.append(bytes)
        drain(&discarding)
    }
    if discarding.discardedByteCount > size {
        fatalError("discard framer skipped \(discarding.discardedByteCount) octets of \(size)")
    }
    return 0
}

/// Takes frames until the framer needs more octets or throws; returns false after an error.
@discardableResult
private func drain(_ framer: inout StreamFramer) -> Bool {
    while true {
        let apdu: APDU?
        do {
            apdu = try framer.next()
        } catch {
            if framer.policy == .discard { fatalError("discard framer threw \(error)") }
            return false
        }
        guard let apdu else { return true }
        checkFrame(apdu)
    }
}

private func checkFrame(_ apdu: APDU) {
    // The frame must encode back to a valid frame of the same length.
    let encoded = apdu.encoded
    guard encoded.count == APCI.headerLength + apdu.asdu.count, encoded.count <= APCI.maximumAPDULength else {
        fatalError("APDU \(apdu.apci) re-encodes to \(encoded.count) octets, ASDU \(apdu.asdu.count)")
    }
    var again = StreamFramer(policy: .close)
    again.append(encoded)
    let reframed: APDU?
    do { reframed = try again.next() } catch { fatalError("re-encoded APDU \(hex(encoded)) does not frame: \(error)") }
    guard reframed == apdu else {
        fatalError("APDU \(apdu.apci) re-frames as \(String(describing: reframed?.apci)) from \(hex(encoded))")
    }
    switch apdu.apci {
    case .information:
        if let asdu = try? ASDU(decoding: apdu.asdu) {
            checkRoundTrip(asdu, originalLength: apdu.asdu.count, mayBeTooLong: false)
        }
    case .supervisory, .unnumbered:
        if !apdu.asdu.isEmpty { fatalError("S/U-frame \(apdu.apci) carries \(apdu.asdu.count) ASDU octets") }
    }
}

/// decode(encode(x)) == x for a decoded x, and encode is stable.
private func checkRoundTrip(_ asdu: ASDU, originalLength: Int, mayBeTooLong: Bool) {
    var first: [UInt8] = []
    do {
        try asdu.encode(into: &first)
    } catch {
        if mayBeTooLong, case .tooLong = error, originalLength > ASDU.maximumLength { return }
        fatalError("decoded \(asdu.typeID) ASDU (\(asdu.objects.count) objects) does not encode: \(error)")
    }
    guard first.count == originalLength, first.count == asdu.encodedLength else {
        fatalError("\(asdu.typeID) ASDU of \(originalLength) octets re-encodes to \(first.count) (encodedLength \(asdu.encodedLength)): \(hex(first))")
    }
    let second: ASDU
    do { second = try ASDU(decoding: first) } catch {
        fatalError("re-encoded \(asdu.typeID) ASDU \(hex(first)) does not decode: \(error)")
    }
    guard sameASDU(asdu, second) else {
        fatalError("round trip changed the ASDU:\n  decoded   \(asdu)\n  re-decoded \(second)\n  from \(hex(first))")
    }
    var twice: [UInt8] = [0xEE]  // encode(into:) must append, not overwrite
    do { try second.encode(into: &twice) } catch { fatalError("re-decoded ASDU does not encode: \(error)") }
    guard twice.first == 0xEE, Array(twice.dropFirst()) == first else {
        fatalError("encoding is not stable:\n  \(hex(first))\n  \(hex(Array(twice.dropFirst())))")
    }
}

/// ASDU equality with floats compared by bit pattern (NaN == NaN, -0 != +0).
private func sameASDU(_ a: ASDU, _ b: ASDU) -> Bool {
    guard a.typeID == b.typeID, a.isSequence == b.isSequence, a.cause == b.cause,
          a.commonAddress == b.commonAddress, a.objects.count == b.objects.count else { return false }
    for (x, y) in zip(a.objects, b.objects) {
        guard x.address == y.address else { return false }
        let (ex, fx) = floatFree(x.element)
        let (ey, fy) = floatFree(y.element)
        guard ex == ey, fx == fy else { return false }
    }
    return true
}

/// The element with its float (if any) replaced by zero, and that float's bit pattern.
private func floatFree(_ element: InformationElement) -> (InformationElement, UInt32?) {
    switch element {
    case .float(let value, let quality, let time): (.float(0, quality, time: time), value.bitPattern)
    case .setpointFloat(let value, let qos, let time): (.setpointFloat(0, qos, time: time), value.bitPattern)
    case .parameterFloat(let value, let qpm): (.parameterFloat(0, qpm), value.bitPattern)
    default: (element, nil)
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789ABCDEF")
    var text = ""
    text.reserveCapacity(bytes.count * 3)
    for (index, byte) in bytes.enumerated() {
        if index > 0 { text.append(" ") }
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return text
}
