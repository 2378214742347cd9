import IEC104

/// Packs monitor points into ASDUs with as many objects as fit: SQ=1 for runs of contiguous
/// addresses of one type, SQ=0 otherwise. Interrogation replies carry types without time tag.
enum PointPacker {
    /// Builds one ASDU from `indices[cursor...]` and advances `cursor` past the points it took.
    static func nextASDU(image: ProcessImage, indices: [Int32], cursor: inout Int, cause: Cause, originator: UInt8,
                         commonAddress: UInt16, useFrozenCounters: Bool = false) -> [UInt8] {
        let first = image[indices[cursor]]
        let kind = first.definition.kind
        let typeID = kind.typeID
        let firstAddress = first.definition.address.objectAddress

        var runEnd = cursor + 1
        let sequenceCapacity = ASDU.capacity(of: typeID, sequence: true)
        while runEnd < indices.count, runEnd - cursor < sequenceCapacity {
            let next = image[indices[runEnd]].definition
            guard next.kind == kind, next.address.objectAddress == firstAddress &+ UInt32(runEnd - cursor) else { break }
            runEnd += 1
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ASDU.maximumLength)
        let cot = CauseOfTransmission(cause, originator: originator)
        if runEnd - cursor >= 2 {
            ASDUHeader(rawTypeID: typeID.rawValue, isSequence: true, count: runEnd - cursor, cause: cot,
                       commonAddress: commonAddress).encode(into: &bytes)
            bytes.appendAddress(firstAddress)
            for position in cursor..<runEnd {
                element(image[indices[position]], frozen: useFrozenCounters).encode(into: &bytes)
            }
            cursor = runEnd
            return bytes
        }

        ASDUHeader(rawTypeID: typeID.rawValue, isSequence: false, count: 0, cause: cot,
                   commonAddress: commonAddress).encode(into: &bytes)
        let capacity = ASDU.capacity(of: typeID, sequence: false)
        var count = 0
        repeat {
            let point = image[indices[cursor]]
            bytes.appendAddress(point.definition.address.objectAddress)
            element(point, frozen: useFrozenCounters).encode(into: &bytes)
            count += 1
            cursor += 1
        } while cursor < indices.count && count < capacity
            && image[indices[cursor]].definition.kind == kind
            && !startsRun(image: image, indices: indices, at: cursor)
        bytes[1] = UInt8(count)
        return bytes
    }

    /// Whether the point at `position` and the next one form a contiguous run of the same kind.
    private static func startsRun(image: ProcessImage, indices: [Int32], at position: Int) -> Bool {
        guard position + 1 < indices.count else { return false }
        let here = image[indices[position]].definition
        let next = image[indices[position + 1]].definition
        return next.kind == here.kind && next.address.objectAddress == here.address.objectAddress &+ 1
    }

    static func element(_ point: MonitorPointState, frozen: Bool) -> InformationElement {
        if frozen, let reading = point.frozen {
            return PointValue.counter(reading).element(quality: point.quality, time: nil)
        }
        return point.value.element(quality: point.quality, time: nil)
    }
}

extension Array where Element == UInt8 {
    mutating func appendAddress(_ address: UInt32) {
        append(UInt8(truncatingIfNeeded: address))
        append(UInt8(truncatingIfNeeded: address >> 8))
        append(UInt8(truncatingIfNeeded: address >> 16))
    }
}
