import IEC104

/// Packs monitor points into ASDUs with as many objects as fit: SQ=1 for runs of contiguous
/// addresses of one type, SQ=0 otherwise. Interrogation replies carry types without time tag.
///
/// This is the inner loop of every interrogation (a 100,000-point GI is 2,000 ASDUs built in a
/// few milliseconds), so it reads the trivially copyable ``PointRecord``s and writes octets straight
/// into the ASDU's storage instead of building an ``InformationElement`` per object; the property
/// tests hold it to the same octets as ``InformationElement/encode(into:)``.
enum PointPacker {
    /// Builds one ASDU from `indices[cursor...]` and advances `cursor` past the points it took.
    static func nextASDU(image: ProcessImage, indices: [Int32], cursor: inout Int, cause: Cause, originator: UInt8,
                         commonAddress: UInt16, useFrozenCounters: Bool = false) -> [UInt8] {
        let start = cursor
        var taken = 0
        let bytes = image.records.withUnsafeBufferPointer { records in
            indices.withUnsafeBufferPointer { indices in
                [UInt8](unsafeUninitializedCapacity: ASDU.maximumLength) { out, length in
                    let first = records[Int(indices[start])]
                    let typeID = first.kind.typeID
                    // The count is known only once the objects are written; the header goes in last.
                    var header = ASDUHeader(rawTypeID: typeID.rawValue, isSequence: false, count: 0,
                                            cause: CauseOfTransmission(cause, originator: originator),
                                            commonAddress: commonAddress)
                    let runLength = contiguousRun(records: records, indices: indices, from: start,
                                                  limit: ASDU.capacity(of: typeID, sequence: true))
                    if runLength >= 2 {
                        header.isSequence = true
                        header.count = runLength
                        header.write(to: out.baseAddress!)
                        var position = ASDU.headerLength
                        writeAddress(first.objectAddress, to: out.baseAddress! + position)
                        position += ASDU.addressLength
                        for offset in 0..<runLength {
                            position += writeElement(records[Int(indices[start + offset])], frozen: useFrozenCounters,
                                                     to: out.baseAddress! + position)
                        }
                        taken = runLength
                        length = position
                        return
                    }
                    let capacity = ASDU.capacity(of: typeID, sequence: false)
                    var position = ASDU.headerLength
                    var next = start
                    repeat {
                        let record = records[Int(indices[next])]
                        writeAddress(record.objectAddress, to: out.baseAddress! + position)
                        position += ASDU.addressLength
                        position += writeElement(record, frozen: useFrozenCounters, to: out.baseAddress! + position)
                        next += 1
                    } while next < indices.count && next - start < capacity
                        && records[Int(indices[next])].kind == first.kind
                        && contiguousRun(records: records, indices: indices, from: next, limit: 2) < 2
                    taken = next - start
                    header.count = taken
                    header.write(to: out.baseAddress!)
                    length = position
                }
            }
        }
        cursor += taken
        return bytes
    }

    /// How many points from `position` on (at most `limit`) have one kind and consecutive addresses.
    private static func contiguousRun(records: UnsafeBufferPointer<PointRecord>, indices: UnsafeBufferPointer<Int32>,
                                      from position: Int, limit: Int) -> Int {
        let first = records[Int(indices[position])]
        var end = position + 1
        while end < indices.count, end - position < limit {
            let next = records[Int(indices[end])]
            guard next.kind == first.kind, next.objectAddress == first.objectAddress &+ UInt32(end - position) else { break }
            end += 1
        }
        return end - position
    }

    private static func writeAddress(_ address: UInt32, to out: UnsafeMutablePointer<UInt8>) {
        out[0] = UInt8(truncatingIfNeeded: address)
        out[1] = UInt8(truncatingIfNeeded: address >> 8)
        out[2] = UInt8(truncatingIfNeeded: address >> 16)
    }

    /// Writes the point's information element without time tag; returns the octets written.
    @inline(__always)
    static func writeElement(_ record: PointRecord, frozen: Bool, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var value = record.value
        if frozen, let reading = record.frozen { value = .counter(reading) }
        let quality = record.quality
        switch value {
        case .single(let on):
            out[0] = SinglePointInformation(isOn: on, quality: quality).octet
            return 1
        case .double(let state):
            out[0] = DoublePointInformation(state: state, quality: quality).octet
            return 1
        case .step(let position):
            out[0] = position.octet
            out[1] = quality.rawValue
            return 2
        case .bitstring(let bits):
            writeUInt32(bits, to: out)
            out[4] = quality.rawValue
            return 5
        case .normalized(let normalized):
            writeUInt16(UInt16(bitPattern: normalized.rawValue), to: out)
            out[2] = quality.rawValue
            return 3
        case .scaled(let scaled):
            writeUInt16(UInt16(bitPattern: scaled), to: out)
            out[2] = quality.rawValue
            return 3
        case .float(let float):
            writeUInt32(float.bitPattern, to: out)
            out[4] = quality.rawValue
            return 5
        case .counter(var reading):
            // A counter's own IV bit carries the point's invalid quality.
            reading.invalid = reading.invalid || quality.contains(.invalid)
            writeUInt32(UInt32(bitPattern: reading.value), to: out)
            out[4] = reading.flagsOctet
            return 5
        }
    }

    @inline(__always)
    private static func writeUInt16(_ value: UInt16, to out: UnsafeMutablePointer<UInt8>) {
        out[0] = UInt8(truncatingIfNeeded: value)
        out[1] = UInt8(truncatingIfNeeded: value >> 8)
    }

    @inline(__always)
    private static func writeUInt32(_ value: UInt32, to out: UnsafeMutablePointer<UInt8>) {
        out[0] = UInt8(truncatingIfNeeded: value)
        out[1] = UInt8(truncatingIfNeeded: value >> 8)
        out[2] = UInt8(truncatingIfNeeded: value >> 16)
        out[3] = UInt8(truncatingIfNeeded: value >> 24)
    }
}
