import IEC104
import PropertyBased
import Testing
import TestSupport

/// Decodes `octets` and returns the error, or nil if it decoded.
private func decodeError(_ octets: String) -> ASDUError? {
    decodeError(hex(octets))
}

private func decodeError(_ bytes: [UInt8]) -> ASDUError? {
    do {
        _ = try ASDU(decoding: bytes)
        return nil
    } catch {
        return error
    }
}

/// Expects `.reservedValue` whose field name contains `field`, with `value`.
private func expectReserved(_ octets: String, field: String, value: Int,
                            sourceLocation: SourceLocation = #_sourceLocation) {
    guard case .reservedValue(let name, let found)? = decodeError(octets) else {
        Issue.record("\(octets) did not fail with a reserved value: \(String(describing: decodeError(octets)))",
                     sourceLocation: sourceLocation)
        return
    }
    #expect(name.contains(field), sourceLocation: sourceLocation)
    #expect(found == value, sourceLocation: sourceLocation)
}

@Suite("ASDU decode errors")
struct DecodeErrorTests {
    // MARK: truncated

    @Test("fewer than six header octets", arguments: 0...5)
    func truncatedHeader(count: Int) {
        let bytes = Array(hex("64 01 06 00 2F 00").prefix(count))
        #expect(decodeError(bytes) == .truncated(needed: 6, available: count))
        #expect(throws: ASDUError.truncated(needed: 6, available: count)) { try ASDUHeader(decoding: bytes) }
    }

    // MARK: unknownTypeID

    @Test("type IDs that IEC 60870-5-104 does not define", arguments: [UInt8(0), 2, 4, 6, 14, 16, 19, 22, 29, 41, 44, 52, 57,
                                                                       65, 69, 71, 99, 108, 109, 114, 119, 128, 255])
    func unknownTypeID(raw: UInt8) {
        #expect(TypeID(rawValue: raw) == nil)
        #expect(decodeError([raw] + hex("01 06 00 01 00 00 00 00 00")) == .unknownTypeID(raw))
    }

    @Test("exactly the 56 defined type IDs are known")
    func knownTypeIDs() {
        var known: [UInt8] = []
        for raw in UInt8.min...UInt8.max {
            let bytes = [raw] + hex("01 06 00 01 00 00 00 00")
                + [UInt8](repeating: 0x01, count: TypeID(rawValue: raw)?.elementSize ?? 1)
            if decodeError(bytes) != .unknownTypeID(raw) { known.append(raw) }
        }
        #expect(known == TypeID.allCases.map(\.rawValue).sorted())
        #expect(TypeID.allCases.count == 56)
    }

    // MARK: noObjects

    @Test("zero objects declared", arguments: ["01 00 03 00 01 00", "01 80 03 00 01 00", "01 00 03 00 01 00 01 00 00 01",
                                               "66 80 05 00 01 00 10 27 00"])
    func noObjects(octets: String) {
        #expect(decodeError(octets) == .noObjects)
    }

    // MARK: objectCountMismatch

    @Test("too short for the declared objects")
    func tooShort() {
        #expect(decodeError("01 02 03 00 01 00 01 00 00 01")
                == .objectCountMismatch(typeID: .M_SP_NA_1, declared: 2, expectedLength: 14, actualLength: 10))
        #expect(decodeError("01 01 03 00 01 00")
                == .objectCountMismatch(typeID: .M_SP_NA_1, declared: 1, expectedLength: 10, actualLength: 6))
        #expect(decodeError("01 83 03 00 01 00 01 00 00 01 01")
                == .objectCountMismatch(typeID: .M_SP_NA_1, declared: 3, expectedLength: 12, actualLength: 11))
        #expect(decodeError("1F 01 03 00 01 00 0A 00 00 02 B3 C7 39 04 F6 0B")
                == .objectCountMismatch(typeID: .M_DP_TB_1, declared: 1, expectedLength: 17, actualLength: 16))
    }

    @Test("too long for the declared objects")
    func tooLongForCount() {
        #expect(decodeError("01 01 03 00 01 00 01 00 00 01 00")
                == .objectCountMismatch(typeID: .M_SP_NA_1, declared: 1, expectedLength: 10, actualLength: 11))
        #expect(decodeError("01 81 03 00 01 00 01 00 00 01 00")
                == .objectCountMismatch(typeID: .M_SP_NA_1, declared: 1, expectedLength: 10, actualLength: 11))
        #expect(decodeError("66 01 05 00 01 00 10 27 00 00")
                == .objectCountMismatch(typeID: .C_RD_NA_1, declared: 1, expectedLength: 9, actualLength: 10))
        // SQ=0 layout sent with the SQ bit set: three objects of 4 octets read as a sequence of 1-octet elements.
        #expect(decodeError("01 83 03 00 01 00 01 00 00 01 02 00 00 01 03 00 00 01")
                == .objectCountMismatch(typeID: .M_SP_NA_1, declared: 3, expectedLength: 12, actualLength: 18))
    }

    // MARK: addressOverflow

    @Test("an SQ=1 sequence that runs past address 16777215")
    func addressOverflow() throws {
        #expect(decodeError("01 82 03 00 01 00 FF FF FF 00 00") == .addressOverflow(first: 0xFF_FFFF, count: 2))
        let long = hex("01 FF 14 00 01 00 82 FF FF") + [UInt8](repeating: 0, count: 127)
        #expect(decodeError(long) == .addressOverflow(first: 0xFF_FF82, count: 127))

        // The last address itself is fine.
        let single = try ASDU(decoding: hex("01 81 03 00 01 00 FF FF FF 01"))
        #expect(single.objects.map(\.address) == [0xFF_FFFF])
        let full = try ASDU(decoding: hex("01 FF 14 00 01 00 81 FF FF") + [UInt8](repeating: 0, count: 127))
        #expect(full.objects.last?.address == 0xFF_FFFF)
        #expect(full.objects.count == 127)
    }

    // MARK: tooLong

    @Test("longer than 249 octets, even when the objects add up")
    func tooLong() throws {
        // 6 + 61 × 4 = 250 octets of M_SP_NA_1; 60 objects (246 octets) are fine.
        let objects = { (count: Int) -> [UInt8] in (0..<count).flatMap { index -> [UInt8] in [UInt8(index), 0, 0, 1] } }
        #expect(decodeError(hex("01 3D 03 00 01 00") + objects(61)) == .tooLong(250))
        #expect(try ASDU(decoding: hex("01 3C 03 00 01 00") + objects(60)).objects.count == 60)
        // SQ=1: 6 + 3 + 82 × 3 = 255 octets of C_SE_NA_1; 80 objects (249 octets) are fine.
        #expect(decodeError(hex("30 D2 06 00 01 00 00 00 00") + [UInt8](repeating: 0, count: 82 * 3)) == .tooLong(255))
        #expect(try ASDU(decoding: hex("30 D0 06 00 01 00 00 00 00") + [UInt8](repeating: 0, count: 80 * 3)).encodedLength == 249)
    }

    // MARK: reservedValue

    @Test("double command state 0 and 3", arguments: [
        ("2E 01 06 00 01 00 10 00 00 00", 0),
        ("2E 01 06 00 01 00 10 00 00 03", 3),
        ("2E 01 06 00 01 00 10 00 00 80", 0),
        ("2E 01 06 00 01 00 10 00 00 FF", 3),
        ("3B 01 06 00 01 00 10 00 00 83 B3 C7 39 04 F6 0B 1A", 3),
    ])
    func doubleCommandState(octets: String, value: Int) {
        expectReserved(octets, field: "DCS", value: value)
    }

    @Test("regulating step command state 0 and 3", arguments: [
        ("2F 01 06 00 01 00 10 00 00 00", 0),
        ("2F 01 06 00 01 00 10 00 00 03", 3),
        ("2F 01 06 00 01 00 10 00 00 7C", 0),
        ("3C 01 06 00 01 00 10 00 00 03 B3 C7 39 04 F6 0B 1A", 3),
    ])
    func regulatingStepState(octets: String, value: Int) {
        expectReserved(octets, field: "RCS", value: value)
    }

    @Test("CP56Time2a fields out of range", arguments: [
        ("B3 C7 3C 04 F6 0B 1A", "minute", 60),
        ("B3 C7 BF 04 F6 0B 1A", "minute", 63),  // IV does not excuse a bad minute
        ("B3 C7 39 18 F6 0B 1A", "hour", 24),
        ("B3 C7 39 1F F6 0B 1A", "hour", 31),
        ("60 EA 39 04 F6 0B 1A", "milliseconds", 60_000),
        ("FF FF 39 04 F6 0B 1A", "milliseconds", 65_535),
        ("B3 C7 39 04 F6 0D 1A", "month", 13),
        ("B3 C7 39 04 F6 0F 1A", "month", 15),
        ("B3 C7 39 04 F6 00 1A", "month", 0),
        ("B3 C7 39 04 E0 0B 1A", "day", 0),
    ])
    func cp56Reserved(time: String, field: String, value: Int) {
        // The same time tag in a monitor type, a command and the clock synchronisation.
        expectReserved("1E 01 03 00 01 00 01 00 00 01 \(time)", field: field, value: value)
        expectReserved("3A 01 06 00 01 00 10 00 00 01 \(time)", field: field, value: value)
        expectReserved("67 01 06 00 01 00 00 00 00 \(time)", field: field, value: value)
    }

    @Test("an all-zero date is accepted only with IV set")
    func invalidTimeWithoutDate() throws {
        let asdu = try ASDU(decoding: hex("67 01 06 00 01 00 00 00 00 00 00 80 00 00 00 00"))
        let time = try #require(asdu.objects.first?.element.time)
        #expect(time.isInvalid && time.month == 0 && time.dayOfMonth == 0)
        #expect(time.unixMilliseconds() == nil)
        expectReserved("67 01 06 00 01 00 00 00 00 00 00 00 00 00 00 00", field: "month", value: 0)
    }

    @Test("CP16Time2a above 59999 ms", arguments: ["60 EA", "FF FF"])
    func cp16Reserved(octets: String) {
        let value = Int(hex(octets)[0]) | Int(hex(octets)[1]) << 8
        expectReserved("6A 01 06 00 01 00 00 00 00 \(octets)", field: "CP16Time2a", value: value)
        expectReserved("26 01 03 00 01 00 01 00 00 02 \(octets) \(vectorTimeOctets)", field: "CP16Time2a", value: value)
        expectReserved("27 01 03 00 01 00 01 00 00 01 00 \(octets) \(vectorTimeOctets)", field: "CP16Time2a", value: value)
        expectReserved("28 01 03 00 01 00 01 00 00 01 00 \(octets) \(vectorTimeOctets)", field: "CP16Time2a", value: value)
    }

    @Test("a reserved value in a later object of an ASDU fails the whole ASDU")
    func reservedInLaterObject() {
        expectReserved("2E 03 06 00 01 00 10 00 00 01 11 00 00 02 12 00 00 00", field: "DCS", value: 0)
    }

    @Test("errors describe themselves")
    func descriptions() {
        #expect(ASDUError.truncated(needed: 6, available: 2).description == "ASDU truncated: needs at least 6 octets, has 2")
        #expect(ASDUError.unknownTypeID(2).description == "unknown type identification 2")
        #expect(ASDUError.noObjects.description.contains("zero"))
        #expect(ASDUError.objectCountMismatch(typeID: .M_SP_NA_1, declared: 2, expectedLength: 14, actualLength: 10).description
                == "M_SP_NA_1 declares 2 object(s), which take 14 octets, but the ASDU has 10")
        #expect(ASDUError.addressOverflow(first: 16_777_215, count: 2).description.contains("16777215"))
        #expect(ASDUError.reservedValue(field: "CP56Time2a minute", value: 60).description
                == "CP56Time2a minute has the reserved value 60")
        #expect(ASDUError.tooLong(250).description == "ASDU of 250 octets exceeds the maximum of 249")
    }

    // MARK: never traps

    @Test("random octets behind a valid type ID decode or throw, never trap")
    func randomBytes() async {
        let input = zip(Gen<TypeID>.case, Gen.uint8().array(of: 0...260))
        await propertyCheck(count: 3000, input: input) { type, body in
            var bytes = body
            if !bytes.isEmpty { bytes[0] = type.rawValue }
            expectDecodeIsTotal(bytes)
        }
    }

    @Test("random element octets in a well-formed ASDU decode or throw, never trap")
    func randomWellFormedBytes() async {
        // Type, SQ and count are chosen so that the length matches the layout: the decoder has to
        // look at every element, not just at the length. Lengths run past 249 on purpose.
        let input = zip(Gen<TypeID>.case, Gen.bool, Gen.int(in: 1...127), Gen.uint8().array(of: 260))
        await propertyCheck(count: 3000, input: input) { type, sequence, declared, noise in
            let size = type.elementSize
            let room = 260 - ASDU.headerLength - (sequence ? ASDU.addressLength : 0)
            let count = min(declared, room / max(sequence ? size : size + ASDU.addressLength, 1))
            guard count > 0 else { return }
            let length = ASDU.headerLength + (sequence ? ASDU.addressLength + count * size
                                                       : count * (ASDU.addressLength + size))
            var bytes = Array(noise.prefix(length))
            bytes[0] = type.rawValue
            bytes[1] = UInt8(count) | (sequence ? 0x80 : 0)
            expectDecodeIsTotal(bytes)
        }
    }
}

/// Decoding throws an ASDUError or yields an ASDU that re-encodes to the same octets, apart from reserved bits.
private func expectDecodeIsTotal(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    let asdu: ASDU
    do {
        asdu = try ASDU(decoding: bytes)
    } catch {
        return  // typed: always an ASDUError
    }
    let encoded: [UInt8]
    do {
        encoded = try asdu.encoded()
    } catch {
        Issue.record("decoded \(hexString(bytes)) but cannot re-encode it: \(error)", sourceLocation: sourceLocation)
        return
    }
    if asdu.typeID == .F_SG_NA_1 {
        #expect(encoded == bytes, "\(hexString(bytes)) re-encoded as \(hexString(encoded))", sourceLocation: sourceLocation)
        return
    }
    let mask = significantBits(of: asdu.typeID, sequence: asdu.isSequence, count: asdu.objects.count)
    #expect(encoded.count == bytes.count, sourceLocation: sourceLocation)
    #expect(mask.count == bytes.count, sourceLocation: sourceLocation)
    let masked = zip(bytes, mask).map { $0 & $1 }
    #expect(encoded == masked, "\(hexString(bytes)) re-encoded as \(hexString(encoded))", sourceLocation: sourceLocation)
}

/// For every octet of an ASDU, the bits that carry information (reserved bits are 0).
func significantBits(of type: TypeID, sequence: Bool, count: Int) -> [UInt8] {
    let cp56: [UInt8] = [0xFF, 0xFF, 0xFF, 0x9F, 0xFF, 0x0F, 0x7F]  // RES2, RES3, RES4 are reserved
    let cp16: [UInt8] = [0xFF, 0xFF]
    let qds: UInt8 = 0xF1
    let time: [UInt8] = type.hasTimeTag ? cp56 : []
    let element: [UInt8] = switch type {
    case .M_SP_NA_1, .M_SP_TB_1: [0xF1] + time
    case .M_DP_NA_1, .M_DP_TB_1: [0xF3] + time
    case .M_ST_NA_1, .M_ST_TB_1: [0xFF, qds] + time
    case .M_BO_NA_1, .M_BO_TB_1, .M_ME_NC_1, .M_ME_TF_1: [0xFF, 0xFF, 0xFF, 0xFF, qds] + time
    case .M_ME_NA_1, .M_ME_TD_1, .M_ME_NB_1, .M_ME_TE_1: [0xFF, 0xFF, qds] + time
    case .M_IT_NA_1, .M_IT_TB_1: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + time
    case .M_PS_NA_1: [0xFF, 0xFF, 0xFF, 0xFF, qds]
    case .M_ME_ND_1: [0xFF, 0xFF]
    case .M_EP_TD_1: [0xFB] + cp16 + cp56
    case .M_EP_TE_1: [0x3F, 0xF8] + cp16 + cp56
    case .M_EP_TF_1: [0x0F, 0xF8] + cp16 + cp56
    case .M_EI_NA_1: [0xFF]
    case .C_SC_NA_1, .C_SC_TA_1: [0xFD] + time  // bit 2 of SCO is reserved
    case .C_DC_NA_1, .C_DC_TA_1, .C_RC_NA_1, .C_RC_TA_1: [0xFF] + time
    case .C_SE_NA_1, .C_SE_TA_1, .C_SE_NB_1, .C_SE_TB_1: [0xFF, 0xFF, 0xFF] + time
    case .C_SE_NC_1, .C_SE_TC_1: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + time
    case .C_BO_NA_1, .C_BO_TA_1: [0xFF, 0xFF, 0xFF, 0xFF] + time
    case .C_IC_NA_1, .C_CI_NA_1, .C_RP_NA_1, .P_AC_NA_1: [0xFF]
    case .C_RD_NA_1: []
    case .C_CS_NA_1: cp56
    case .C_TS_NA_1: [0xFF, 0xFF]
    case .C_CD_NA_1: cp16
    case .C_TS_TA_1: [0xFF, 0xFF] + cp56
    case .P_ME_NA_1, .P_ME_NB_1: [0xFF, 0xFF, 0xFF]
    case .P_ME_NC_1: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
    case .F_FR_NA_1: [UInt8](repeating: 0xFF, count: 6)
    case .F_SR_NA_1: [UInt8](repeating: 0xFF, count: 7)
    case .F_SC_NA_1, .F_AF_NA_1: [UInt8](repeating: 0xFF, count: 4)
    case .F_LS_NA_1: [UInt8](repeating: 0xFF, count: 5)
    case .F_SG_NA_1: [UInt8](repeating: 0xFF, count: 4)  // with LOS 0; a segment's data is all significant
    case .F_DR_TA_1: [UInt8](repeating: 0xFF, count: 6) + cp56
    case .F_SC_NB_1: [0xFF, 0xFF] + cp56 + cp56
    }
    let address: [UInt8] = [0xFF, 0xFF, 0xFF]
    var mask = [UInt8](repeating: 0xFF, count: ASDU.headerLength)
    if sequence {
        mask += address
        for _ in 0..<count { mask += element }
    } else {
        for _ in 0..<count { mask += address + element }
    }
    return mask
}

@Suite("significant bit masks")
struct SignificantBitsTests {
    @Test("the masks have the element sizes", arguments: TypeID.allCases)
    func sizes(_ type: TypeID) {
        #expect(significantBits(of: type, sequence: false, count: 1).count == 6 + 3 + type.elementSize)
        #expect(significantBits(of: type, sequence: true, count: 2).count == 6 + 3 + 2 * type.elementSize)
    }
}
