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

    @Test("SQ=1 with consecutive addresses", arguments: TypeID.allCases)
    func roundTripSequence(_ type: TypeID) async {
        await propertyCheck(count: 60, input: Generators.asdu(type, sequence: true)) { asdu in
            expectRoundTrip(asdu)
        }
    }

    @Test("every element encodes to elementSize octets and reports its type", arguments: TypeID.allCases)
    func elementSize(_ type: TypeID) async {
        await propertyCheck(count: 50, input: Generators.element(type)) { element in
            #expect(element.typeID == type)
            #expect(element.encodedBytes.count == type.elementSize)
            #expect((element.time != nil) == type.hasTimeTag)
        }
    }

    @Test("a full ASDU fits 249 octets, one more object does not", arguments: TypeID.allCases, [false, true])
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
