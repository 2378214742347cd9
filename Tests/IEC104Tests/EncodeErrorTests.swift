import IEC104
import Testing

@Suite("ASDU encoding errors")
struct EncodeErrorTests {
    private static let point = InformationElement.singlePoint(SinglePointInformation(isOn: true))

    private static func asdu(sequence: Bool = false, _ objects: [InformationObject]) -> ASDU {
        asdu(.M_SP_NA_1, sequence: sequence, objects)
    }

    private static func asdu(_ type: TypeID, sequence: Bool = false, _ objects: [InformationObject]) -> ASDU {
        ASDU(typeID: type, isSequence: sequence, cause: CauseOfTransmission(.spontaneous), commonAddress: 1,
             objects: objects)
    }

    /// Encoding fails with `error` and leaves the output untouched.
    private func expectFailure(_ asdu: ASDU, _ error: ASDUEncodingError,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: error, sourceLocation: sourceLocation) { try asdu.encoded() }
        var bytes: [UInt8] = [0xAA]
        #expect(throws: error, sourceLocation: sourceLocation) { try asdu.encode(into: &bytes) }
        #expect(bytes == [0xAA], "a failed encode must not append", sourceLocation: sourceLocation)
    }

    @Test("no objects", arguments: [false, true])
    func noObjects(sequence: Bool) {
        expectFailure(Self.asdu(sequence: sequence, []), .noObjects)
    }

    @Test("more than 127 objects")
    func tooManyObjects() {
        // C_RD_NA_1 has no element octets, so 128 objects in a sequence would still be short.
        let reads = (0..<128).map { InformationObject(address: 1 + UInt32($0), element: .read) }
        expectFailure(Self.asdu(.C_RD_NA_1, sequence: true, reads), .tooManyObjects(128))
        expectFailure(Self.asdu(.C_RD_NA_1, sequence: false, reads), .tooManyObjects(128))
        // 127 are fine.
        #expect(throws: Never.self) { try Self.asdu(.C_RD_NA_1, sequence: true, Array(reads.prefix(127))).encoded() }
    }

    @Test("an element of another type")
    func elementTypeMismatch() {
        let objects = [
            InformationObject(address: 1, element: Self.point),
            InformationObject(address: 2, element: .doublePoint(DoublePointInformation(state: .on))),
        ]
        expectFailure(Self.asdu(objects), .elementTypeMismatch(expected: .M_SP_NA_1, found: .M_DP_NA_1, index: 1))
        // The same information with a time tag is another type.
        let timed = [InformationObject(address: 1, element: .singlePoint(SinglePointInformation(isOn: true), time: vectorTime))]
        expectFailure(Self.asdu(timed), .elementTypeMismatch(expected: .M_SP_NA_1, found: .M_SP_TB_1, index: 0))
    }

    @Test("SQ=1 with a gap in the addresses")
    func nonContiguousSequence() {
        let objects = [10, 11, 13].map { InformationObject(address: $0, element: Self.point) }
        expectFailure(Self.asdu(sequence: true, objects), .nonContiguousSequence(index: 2, expected: 12, found: 13))
        let descending = [10, 9].map { InformationObject(address: $0, element: Self.point) }
        expectFailure(Self.asdu(sequence: true, descending), .nonContiguousSequence(index: 1, expected: 11, found: 9))
        // The same addresses are fine without SQ.
        #expect(throws: Never.self) { try Self.asdu(sequence: false, objects).encoded() }
    }

    @Test("an address that does not fit three octets", arguments: [UInt32(0x100_0000), .max])
    func addressOutOfRange(address: UInt32) {
        expectFailure(Self.asdu([InformationObject(address: address, element: Self.point)]), .addressOutOfRange(address))
        // A sequence whose last address would be 2^24.
        let sequence = [0xFF_FFFF, 0x100_0000].map { InformationObject(address: $0, element: Self.point) }
        expectFailure(Self.asdu(sequence: true, sequence), .addressOutOfRange(0x100_0000))
    }

    @Test("more than 249 octets")
    func tooLong() throws {
        // M_ME_TF_1: 3 + 12 octets per object, 16 fit (246 octets), 17 do not (261).
        let value = InformationElement.float(1, [], time: vectorTime)
        let objects = (0..<17).map { InformationObject(address: UInt32($0), element: value) }
        expectFailure(Self.asdu(.M_ME_TF_1, Array(objects)), .tooLong(261))
        #expect(try Self.asdu(.M_ME_TF_1, Array(objects.prefix(16))).encoded().count == 246)
        // SQ=1: 3 + 12 per object, 20 fit (249 octets exactly), 21 do not.
        let sequence = (0..<21).map { InformationObject(address: 7 + UInt32($0), element: value) }
        #expect(try Self.asdu(.M_ME_TF_1, sequence: true, Array(sequence.prefix(20))).encoded().count == 249)
        expectFailure(Self.asdu(.M_ME_TF_1, sequence: true, sequence), .tooLong(261))
    }

    @Test("errors describe themselves")
    func descriptions() {
        #expect(ASDUEncodingError.noObjects.description == "an ASDU needs at least one information object")
        #expect(ASDUEncodingError.tooManyObjects(128).description == "128 objects exceed the 127 an ASDU can declare")
        #expect(ASDUEncodingError.elementTypeMismatch(expected: .M_SP_NA_1, found: .M_DP_NA_1, index: 1).description
                == "object 1 is M_DP_NA_1 in an ASDU of M_SP_NA_1")
        #expect(ASDUEncodingError.nonContiguousSequence(index: 2, expected: 12, found: 13).description
                == "object 2 has address 13 where the sequence needs 12")
        #expect(ASDUEncodingError.addressOutOfRange(16_777_216).description == "address 16777216 does not fit three octets")
        #expect(ASDUEncodingError.tooLong(261).description == "ASDU of 261 octets exceeds the maximum of 249")
    }
}
