import IEC104
import PropertyBased
import Testing
import TestSupport

/// encode → decode → equal, for every type ID, with SQ=0 and SQ=1.
@Suite("ASDU round trip properties")
struct RoundTripPropertyTests {
    @Test("SQ=0 with random addresses", arguments: TypeID.allCases)
    func roundTripIndividualAddresses(_ type: TypeID) async {
        await propertyCheck(count: 60, input: Generators.asdu(type, sequence: false)) { asdu in
            expectRoundTrip(asdu)
        }
    }

    @Test("SQ=1 with consecutive addresses", arguments: TypeID.allCases.filter { $0 != .F_SG_NA_1 })
    func roundTripSequence(_ type: TypeID) async {
        await propertyCheck(count: 60, input: Generators.asdu(type, sequence: true)) { asdu in
            expectRoundTrip(asdu)
        }
    }

    @Test("every element encodes to elementSize octets and reports its type", arguments: TypeID.allCases)
    func elementSize(_ type: TypeID) async {
        await propertyCheck(count: 50, input: Generators.element(type)) { element in
            #expect(element.typeID == type)
            #expect(element.encodedBytes.count == element.encodedSize)
            #expect(type == .F_SG_NA_1 || element.encodedSize == type.elementSize)
            #expect((element.time != nil) == type.hasTimeTag)
        }
    }

    @Test("a full ASDU fits 249 octets, one more object does not",
          arguments: TypeID.allCases.filter { $0 != .F_SG_NA_1 }, [false, true])
    func capacityIsTight(_ type: TypeID, sequence: Bool) throws {
        var rng = SystemRandomNumberGenerator()
        let capacity = ASDU.capacity(of: type, sequence: sequence)
        #expect(capacity >= 1 && capacity <= ASDU.maximumObjectCount)
        var asdu = Arbitrary.asdu(type, sequence: sequence, using: &rng)
        asdu.objects = (0..<capacity).map { index in
            InformationObject(address: 100 + UInt32(index), element: Arbitrary.element(type, using: &rng))
        }
        let bytes = try asdu.encoded()
        #expect(bytes.count <= ASDU.maximumLength)
        #expect(bytes.count == asdu.encodedLength)

        asdu.objects.append(InformationObject(address: 100 + UInt32(capacity), element: Arbitrary.element(type, using: &rng)))
        #expect(throws: ASDUEncodingError.self) { try asdu.encoded() }
        if capacity < ASDU.maximumObjectCount {
            #expect(asdu.encodedLength > ASDU.maximumLength)
        }
    }
}

/// F_SG_NA_1: one segment of at most 236 octets per ASDU, never SQ=1 (clause 7.3.6.6).
@Suite("file segment layout")
struct FileSegmentLayoutTests {
    @Test("every segment length from 0 to the maximum round-trips, one more octet does not encode")
    func segmentLengths() throws {
        for length in [0, 1, 2, 100, FileSegment.maximumLength] {
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let asdu = ASDU(cause: CauseOfTransmission(.fileTransfer), commonAddress: 47, address: 9,
                            element: .segment(FileSegment(nameOfFile: 1, nameOfSection: 1, data: data)))
            expectRoundTrip(asdu)
            #expect(try asdu.encoded().count == 13 + length)
        }
        let tooLong = ASDU(cause: CauseOfTransmission(.fileTransfer), commonAddress: 47, address: 9,
                           element: .segment(FileSegment(nameOfFile: 1, nameOfSection: 1,
                                                         data: [UInt8](repeating: 1, count: FileSegment.maximumLength + 1))))
        #expect(throws: ASDUEncodingError.tooLong(ASDU.maximumLength + 1)) { try tooLong.encoded() }
    }

    @Test("two segments, or SQ=1, do not encode; LOS that disagrees with the length does not decode")
    func oneSegmentOnly() throws {
        let segment = InformationObject(address: 9, element: .segment(FileSegment(nameOfFile: 1, nameOfSection: 1, data: [1])))
        let two = ASDU(typeID: .F_SG_NA_1, cause: CauseOfTransmission(.fileTransfer), commonAddress: 1, objects: [segment, segment])
        #expect(throws: ASDUEncodingError.oneSegmentPerASDU) { try two.encoded() }
        let sequence = ASDU(typeID: .F_SG_NA_1, isSequence: true, cause: CauseOfTransmission(.fileTransfer),
                            commonAddress: 1, objects: [segment])
        #expect(throws: ASDUEncodingError.oneSegmentPerASDU) { try sequence.encoded() }
        // LOS says 3, two octets follow; and LOS says 1, two follow.
        #expect(throws: ASDUError.self) { try ASDU(decoding: hex("7D 01 0D 00 01 00 09 00 00 01 00 01 03 0A 0B")) }
        #expect(throws: ASDUError.self) { try ASDU(decoding: hex("7D 01 0D 00 01 00 09 00 00 01 00 01 01 0A 0B")) }
        #expect(throws: ASDUError.self) { try ASDU(decoding: hex("7D 02 0D 00 01 00 09 00 00 01 00 01 00")) }
    }

    @Test("checksums are sums modulo 256")
    func checksums() {
        #expect(fileChecksum([]) == 0)
        #expect(fileChecksum([0xFF, 0x02]) == 0x01)
        #expect(fileChecksum([UInt8](repeating: 0x80, count: 3), adding: 0x10) == 0x90)
    }
}

/// Encodes, checks the header octets and the length, decodes and compares; NaN floats compare by bit pattern.
func expectRoundTrip(_ asdu: ASDU, sourceLocation: SourceLocation = #_sourceLocation) {
    let bytes: [UInt8]
    do {
        bytes = try asdu.encoded()
    } catch {
        Issue.record("encoding failed: \(error)", sourceLocation: sourceLocation)
        return
    }
    #expect(bytes.count == asdu.encodedLength, sourceLocation: sourceLocation)
    #expect(bytes.count <= ASDU.maximumLength, sourceLocation: sourceLocation)
    // Header: type, VSQ, COT (two octets), CA little endian.
    #expect(bytes[0] == asdu.typeID.rawValue, sourceLocation: sourceLocation)
    #expect(bytes[1] == UInt8(asdu.objects.count) | (asdu.isSequence ? 0x80 : 0), sourceLocation: sourceLocation)
    #expect(bytes[2] == asdu.cause.firstOctet && bytes[3] == asdu.cause.originator, sourceLocation: sourceLocation)
    #expect(UInt16(bytes[4]) | UInt16(bytes[5]) << 8 == asdu.commonAddress, sourceLocation: sourceLocation)

    let decoded: ASDU
    do {
        decoded = try ASDU(decoding: bytes)
    } catch {
        Issue.record("decoding \(hexString(bytes)) failed: \(error)", sourceLocation: sourceLocation)
        return
    }
    if asdu.containsNaN {
        #expect(decoded.typeID == asdu.typeID && decoded.isSequence == asdu.isSequence
                 && decoded.cause == asdu.cause && decoded.commonAddress == asdu.commonAddress,
                 sourceLocation: sourceLocation)
        #expect(decoded.objects.map(\.address) == asdu.objects.map(\.address), sourceLocation: sourceLocation)
        #expect(decoded.objects.map(\.element.encodedBytes) == asdu.objects.map(\.element.encodedBytes),
                sourceLocation: sourceLocation)
    } else {
        #expect(decoded == asdu, sourceLocation: sourceLocation)
    }
    #expect((try? decoded.encoded()) == bytes, sourceLocation: sourceLocation)
}
