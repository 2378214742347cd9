/// Builds an ASDU of one type, object by object (SQ=0), and writes the object count into its header at the end,
/// for senders that learn how many objects fit as they go (packed events).
public struct ASDUBuilder {
    private var header: ASDUHeader
    private var octets: [UInt8]
    private let capacity: Int

    public init(typeID: TypeID, cause: CauseOfTransmission, commonAddress: UInt16) {
        header = ASDUHeader(rawTypeID: typeID.rawValue, isSequence: false, count: 0, cause: cause,
                            commonAddress: commonAddress)
        capacity = ASDU.capacity(of: typeID, sequence: false)
        octets = []
        octets.reserveCapacity(ASDU.maximumLength)
        header.encode(into: &octets)
    }

    /// Objects appended so far.
    public var count: Int { header.count }

    /// Whether another object fits (the length and the 127 objects of the variable structure qualifier).
    public var hasRoom: Bool { header.count < capacity }

    /// Appends one object; the caller checks ``hasRoom`` and that `element` is of the builder's type.
    public mutating func append(address: UInt32, element: InformationElement) {
        octets.appendUInt24(address)
        element.encode(into: &octets)
        header.count += 1
    }

    /// The encoded ASDU, its header counting the objects appended.
    public consuming func finish() -> [UInt8] {
        header.write(over: &octets)
        return octets
    }
}
