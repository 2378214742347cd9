import IEC104
import Outstation

/// A point value in three integer columns: the kind, and one or two numbers that keep it exactly (a float by its
/// bit pattern, a counter's flags in the BCR's own bit positions).
enum JournalValueCoding {
    static func encode(_ value: PointValue) -> (kind: Int, a: Int64, b: Int64) {
        switch value {
        case .single(let on): (1, on ? 1 : 0, 0)
        case .double(let state): (2, Int64(state.rawValue), 0)
        case .step(let position): (3, Int64(position.value), position.isTransient ? 1 : 0)
        case .bitstring(let bits): (4, Int64(bits), 0)
        case .normalized(let value): (5, Int64(value.rawValue), 0)
        case .scaled(let value): (6, Int64(value), 0)
        case .float(let value): (7, Int64(value.bitPattern), 0)
        case .counter(let reading):
            (8, Int64(reading.value), Int64(reading.sequenceNumber & 0x1F) | (reading.carry ? 0x20 : 0)
                | (reading.adjusted ? 0x40 : 0) | (reading.invalid ? 0x80 : 0))
        }
    }

    /// nil for a row no version of rtu104d would have written.
    static func decode(kind: Int, a: Int64, b: Int64) -> PointValue? {
        switch kind {
        case 1 where a == 0 || a == 1: return .single(a == 1)
        case 2: return DoublePointState(rawValue: UInt8(clamping: a)).map { .double($0) }
        case 3 where (-64...63).contains(a): return .step(StepPosition(value: Int8(a), isTransient: b != 0))
        case 4 where (0...Int64(UInt32.max)).contains(a): return .bitstring(UInt32(a))
        case 5 where (Int64(Int16.min)...Int64(Int16.max)).contains(a): return .normalized(NormalizedValue(rawValue: Int16(a)))
        case 6 where (Int64(Int16.min)...Int64(Int16.max)).contains(a): return .scaled(Int16(a))
        case 7 where (0...Int64(UInt32.max)).contains(a): return .float(Float(bitPattern: UInt32(a)))
        case 8 where (Int64(Int32.min)...Int64(Int32.max)).contains(a) && (0...0xFF).contains(b):
            return .counter(BinaryCounterReading(value: Int32(a), sequenceNumber: UInt8(b & 0x1F), carry: b & 0x20 != 0,
                                                 adjusted: b & 0x40 != 0, invalid: b & 0x80 != 0))
        default: return nil
        }
    }
}
