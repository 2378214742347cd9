/// An application service data unit as IEC 60870-5-104 carries it: two-octet cause of
/// transmission, two-octet common address and three-octet information object addresses.
public struct ASDU: Hashable, Sendable {
    /// The longest ASDU an APDU can carry (253 − 4 control octets).
    public static let maximumLength = 249
    public static let headerLength = 6
    public static let addressLength = 3
    public static let maximumObjectCount = 127
    public static let maximumAddress: UInt32 = 0xFF_FFFF
    /// The broadcast (global) common address.
    public static let broadcastAddress: UInt16 = 0xFFFF

    public var typeID: TypeID
    /// SQ=1: one address followed by the elements of consecutive addresses.
    public var isSequence: Bool
    public var cause: CauseOfTransmission
    public var commonAddress: UInt16
    public var objects: [InformationObject]

    public init(typeID: TypeID, isSequence: Bool = false, cause: CauseOfTransmission, commonAddress: UInt16,
                objects: [InformationObject]) {
        self.typeID = typeID
        self.isSequence = isSequence
        self.cause = cause
        self.commonAddress = commonAddress
        self.objects = objects
    }

    /// An ASDU of one object, with its type taken from the element.
    public init(cause: CauseOfTransmission, commonAddress: UInt16, address: UInt32, element: InformationElement) {
        self.init(typeID: element.typeID, cause: cause, commonAddress: commonAddress,
                  objects: [InformationObject(address: address, element: element)])
    }

    /// How many objects of `typeID` fit one ASDU.
    public static func capacity(of typeID: TypeID, sequence: Bool) -> Int {
        if typeID == .F_SG_NA_1 { return 1 }
        let room = maximumLength - headerLength
        let fit = sequence ? (room - addressLength) / max(typeID.elementSize, 1)
                           : room / (addressLength + typeID.elementSize)
        return min(fit, maximumObjectCount)
    }

    /// The encoded length in octets.
    public var encodedLength: Int {
        if typeID == .F_SG_NA_1 {
            return Self.headerLength + objects.reduce(0) { $0 + Self.addressLength + $1.element.encodedSize }
        }
        let size = typeID.elementSize
        return Self.headerLength + (isSequence ? Self.addressLength + objects.count * size
                                               : objects.count * (Self.addressLength + size))
    }

    /// Appends the encoded ASDU to `bytes`, after checking it against the layout rules.
    public func encode(into bytes: inout [UInt8]) throws(ASDUEncodingError) {
        guard !objects.isEmpty else { throw .noObjects }
        guard objects.count <= Self.maximumObjectCount else { throw .tooManyObjects(objects.count) }
        if typeID == .F_SG_NA_1, objects.count != 1 || isSequence { throw .oneSegmentPerASDU }
        let length = encodedLength
        guard length <= Self.maximumLength else { throw .tooLong(length) }
        let first = objects[0].address
        for (index, object) in objects.enumerated() {
            let found = object.element.typeID
            guard found == typeID else { throw .elementTypeMismatch(expected: typeID, found: found, index: index) }
            guard object.address <= Self.maximumAddress else { throw .addressOutOfRange(object.address) }
            if isSequence, object.address != first &+ UInt32(index) {
                throw .nonContiguousSequence(index: index, expected: first &+ UInt32(index), found: object.address)
            }
        }
        bytes.reserveCapacity(bytes.count + length)
        ASDUHeader.encode(typeID: typeID.rawValue, isSequence: isSequence, count: objects.count,
                          cause: cause, commonAddress: commonAddress, into: &bytes)
        for (index, object) in objects.enumerated() {
            if !isSequence || index == 0 { bytes.appendUInt24(object.address) }
            object.element.encode(into: &bytes)
        }
    }

    /// The encoded ASDU as a new array.
    public func encoded() throws(ASDUEncodingError) -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(into: &bytes)
        return bytes
    }

    /// Decodes a whole ASDU of at most 249 octets; the length must match the declared objects exactly.
    public init(decoding bytes: UnsafeRawBufferPointer) throws(ASDUError) {
        try self.init(decoding: bytes, header: ASDUHeader(decoding: bytes))
    }

    /// Decodes the objects of `bytes` under a header already decoded from them, so that a request whose header
    /// was looked at first (to pick a negative confirmation) is not decoded twice.
    public init(decoding bytes: UnsafeRawBufferPointer, header: ASDUHeader) throws(ASDUError) {
        guard let typeID = header.typeID else { throw .unknownTypeID(header.rawTypeID) }
        guard header.count > 0 else { throw .noObjects }
        // What encode refuses, decode refuses too: decode(bytes) always re-encodes.
        guard bytes.count <= Self.maximumLength else { throw .tooLong(bytes.count) }
        if typeID == .F_SG_NA_1 {
            self = try Self.decodeSegment(bytes, header: header)
            return
        }
        let size = typeID.elementSize
        let expected = Self.headerLength + (header.isSequence ? Self.addressLength + header.count * size
                                                              : header.count * (Self.addressLength + size))
        guard expected == bytes.count else {
            throw .objectCountMismatch(typeID: typeID, declared: header.count, expectedLength: expected,
                                       actualLength: bytes.count)
        }
        var reader = ByteReader(bytes, offset: Self.headerLength)
        var objects: [InformationObject] = []
        objects.reserveCapacity(header.count)
        if header.isSequence {
            let first = try reader.readUInt24()
            guard UInt64(first) + UInt64(header.count) - 1 <= UInt64(Self.maximumAddress) else {
                throw .addressOverflow(first: first, count: header.count)
            }
            for index in 0..<header.count {
                let element = try InformationElement.decode(typeID, from: &reader)
                objects.append(InformationObject(address: first + UInt32(index), element: element))
            }
        } else {
            for _ in 0..<header.count {
                let address = try reader.readUInt24()
                let element = try InformationElement.decode(typeID, from: &reader)
                objects.append(InformationObject(address: address, element: element))
            }
        }
        self.init(typeID: typeID, isSequence: header.isSequence, cause: header.cause,
                  commonAddress: header.commonAddress, objects: objects)
    }

    public init(decoding bytes: [UInt8]) throws(ASDUError) {
        self = try withRawBytes(bytes) { raw throws(ASDUError) in try ASDU(decoding: raw) }
    }

    /// F_SG_NA_1 carries one object whose length its LOS octet gives (clause 7.3.6.6), so the fixed-size
    /// length check cannot apply: one object, SQ=0, and the octets must end where LOS says.
    private static func decodeSegment(_ bytes: UnsafeRawBufferPointer, header: ASDUHeader) throws(ASDUError) -> ASDU {
        let fixed = headerLength + addressLength + TypeID.F_SG_NA_1.elementSize
        let declared = bytes.count > fixed - 1 ? fixed + Int(bytes[fixed - 1]) : fixed
        guard header.count == 1, !header.isSequence, bytes.count == declared else {
            throw .objectCountMismatch(typeID: .F_SG_NA_1, declared: header.count, expectedLength: declared,
                                       actualLength: bytes.count)
        }
        var reader = ByteReader(bytes, offset: headerLength)
        let address = try reader.readUInt24()
        let element = try InformationElement.decode(.F_SG_NA_1, from: &reader)
        return ASDU(typeID: .F_SG_NA_1, isSequence: false, cause: header.cause, commonAddress: header.commonAddress,
                    objects: [InformationObject(address: address, element: element)])
    }
}

/// The six header octets of an ASDU, readable even when the type ID is unknown,
/// so that a station can still answer with the right negative confirmation.
public struct ASDUHeader: Hashable, Sendable {
    public var rawTypeID: UInt8
    public var isSequence: Bool
    /// The number of objects declared by the variable structure qualifier (0…127).
    public var count: Int
    public var cause: CauseOfTransmission
    public var commonAddress: UInt16

    public var typeID: TypeID? { TypeID(rawValue: rawTypeID) }

    public init(rawTypeID: UInt8, isSequence: Bool, count: Int, cause: CauseOfTransmission, commonAddress: UInt16) {
        self.rawTypeID = rawTypeID
        self.isSequence = isSequence
        self.count = count
        self.cause = cause
        self.commonAddress = commonAddress
    }

    public init(decoding bytes: UnsafeRawBufferPointer) throws(ASDUError) {
        guard bytes.count >= ASDU.headerLength else {
            throw .truncated(needed: ASDU.headerLength, available: bytes.count)
        }
        self.init(rawTypeID: bytes[0], isSequence: bytes[1] & 0x80 != 0, count: Int(bytes[1] & 0x7F),
                  cause: CauseOfTransmission(firstOctet: bytes[2], originator: bytes[3]),
                  commonAddress: UInt16(bytes[4]) | UInt16(bytes[5]) << 8)
    }

    public init(decoding bytes: [UInt8]) throws(ASDUError) {
        self = try withRawBytes(bytes) { raw throws(ASDUError) in try ASDUHeader(decoding: raw) }
    }

    /// Offset of the cause-of-transmission octet, which confirmations rewrite in a copy of the request.
    public static let causeOffset = 2

    /// Writes the six header octets at `out`: for builders that fill an ASDU's storage in place and know the
    /// object count only at the end.
    @inlinable
    public func write(to out: UnsafeMutablePointer<UInt8>) {
        out[0] = rawTypeID
        out[1] = UInt8(truncatingIfNeeded: count) & 0x7F | (isSequence ? 0x80 : 0)
        out[2] = cause.firstOctet
        out[3] = cause.originator
        out[4] = UInt8(truncatingIfNeeded: commonAddress)
        out[5] = UInt8(truncatingIfNeeded: commonAddress >> 8)
    }

    /// Overwrites the header of an encoded ASDU; `bytes` must hold at least ``ASDU/headerLength`` octets.
    public func write(over bytes: inout [UInt8]) {
        precondition(bytes.count >= ASDU.headerLength, "an ASDU of \(bytes.count) octets has no room for its header")
        bytes.withUnsafeMutableBufferPointer { write(to: $0.baseAddress!) }
    }

    static func encode(typeID: UInt8, isSequence: Bool, count: Int, cause: CauseOfTransmission,
                       commonAddress: UInt16, into bytes: inout [UInt8]) {
        bytes.append(typeID)
        bytes.append(UInt8(truncatingIfNeeded: count) & 0x7F | (isSequence ? 0x80 : 0))
        bytes.append(cause.firstOctet)
        bytes.append(cause.originator)
        bytes.appendUInt16(commonAddress)
    }

    public func encode(into bytes: inout [UInt8]) {
        Self.encode(typeID: rawTypeID, isSequence: isSequence, count: count, cause: cause,
                    commonAddress: commonAddress, into: &bytes)
    }
}

extension ASDU {
    /// A copy of a received ASDU's octets with only the cause-of-transmission octet replaced:
    /// the shape of ACTCON, DEACTCON, ACTTERM and the negative confirmations (clause 7.2.3).
    public static func confirmation(of request: [UInt8], cause: Cause, negative: Bool) -> [UInt8] {
        var reply = request
        guard reply.count > ASDUHeader.causeOffset else { return reply }
        let testBit = reply[ASDUHeader.causeOffset] & 0x80
        reply[ASDUHeader.causeOffset] = cause.rawValue | (negative ? 0x40 : 0) | testBit
        return reply
    }
}
