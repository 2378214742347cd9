/// Why an ASDU could not be decoded. Every case names what was wrong; none is a trap.
public enum ASDUError: Error, Hashable, Sendable {
    /// Fewer octets than the layout needs.
    case truncated(needed: Int, available: Int)
    /// A type identification the 104 companion standard does not define.
    case unknownTypeID(UInt8)
    /// The variable structure qualifier says zero objects.
    case noObjects
    /// The length does not fit the declared number of objects of the type.
    case objectCountMismatch(typeID: TypeID, declared: Int, expectedLength: Int, actualLength: Int)
    /// A sequence (SQ=1) whose addresses would run past 16 777 215.
    case addressOverflow(first: UInt32, count: Int)
    /// A field carries a value the standard reserves or forbids.
    case reservedValue(field: String, value: Int)
    /// More than 249 octets, which no APDU can carry (length octet at most 253).
    case tooLong(Int)
}

extension ASDUError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncated(let needed, let available):
            "ASDU truncated: needs at least \(needed) octets, has \(available)"
        case .unknownTypeID(let raw):
            "unknown type identification \(raw)"
        case .noObjects:
            "variable structure qualifier declares zero information objects"
        case .objectCountMismatch(let typeID, let declared, let expected, let actual):
            "\(typeID.mnemonic) declares \(declared) object(s), which take \(expected) octets, but the ASDU has \(actual)"
        case .addressOverflow(let first, let count):
            "sequence of \(count) objects from address \(first) runs past the largest address 16777215"
        case .reservedValue(let field, let value):
            "\(field) has the reserved value \(value)"
        case .tooLong(let length):
            "ASDU of \(length) octets exceeds the maximum of \(ASDU.maximumLength)"
        }
    }
}

/// Why an ASDU could not be encoded.
public enum ASDUEncodingError: Error, Hashable, Sendable {
    case noObjects
    /// More than 127 objects: the variable structure qualifier has seven bits for the number.
    case tooManyObjects(Int)
    /// An element of another type than the ASDU's type ID.
    case elementTypeMismatch(expected: TypeID, found: TypeID, index: Int)
    /// SQ=1 needs consecutive addresses.
    case nonContiguousSequence(index: Int, expected: UInt32, found: UInt32)
    /// An address above 16 777 215 does not fit three octets.
    case addressOutOfRange(UInt32)
    /// The encoded ASDU exceeds 249 octets (APDU length 253).
    case tooLong(Int)
    /// F_SG_NA_1 carries exactly one segment, SQ=0.
    case oneSegmentPerASDU
}

extension ASDUEncodingError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .noObjects: "an ASDU needs at least one information object"
        case .tooManyObjects(let count): "\(count) objects exceed the 127 an ASDU can declare"
        case .elementTypeMismatch(let expected, let found, let index):
            "object \(index) is \(found.mnemonic) in an ASDU of \(expected.mnemonic)"
        case .nonContiguousSequence(let index, let expected, let found):
            "object \(index) has address \(found) where the sequence needs \(expected)"
        case .addressOutOfRange(let address): "address \(address) does not fit three octets"
        case .tooLong(let length): "ASDU of \(length) octets exceeds the maximum of \(ASDU.maximumLength)"
        case .oneSegmentPerASDU: "an F_SG_NA_1 ASDU carries exactly one segment without SQ"
        }
    }
}
