import IEC104
import Testing
import TestSupport

/// Replies built through ``ASDURequest`` and ``ASDUBuilder``, byte for byte against hex vectors laid out as
/// IEC 60870-5-104 clause 9 and 101 clause 7.2.3 describe them.
@Suite struct ASDUReplyTests {
    /// C_IC_NA_1 act, originator 5, CA 47, IOA 0, QOI 20.
    static let interrogation = hex("64 01 06 05 2F 00 00 00 00 14")

    @Test("mirrors: ACTCON, ACTTERM, DEACTCON keep every octet but the cause")
    func mirrors() throws {
        let request = try ASDURequest(decoding: Self.interrogation)
        #expect(request.reply(cause: .activationConfirmation) == hex("64 01 07 05 2F 00 00 00 00 14"))
        #expect(request.reply(cause: .activationTermination) == hex("64 01 0A 05 2F 00 00 00 00 14"))
        #expect(request.reply(cause: .deactivationConfirmation) == hex("64 01 09 05 2F 00 00 00 00 14"))
    }

    @Test("negative confirmations set P/N", arguments: [
        (Cause.activationConfirmation, "64 01 47 05 2F 00 00 00 00 14"),
        (Cause.unknownTypeID, "64 01 6C 05 2F 00 00 00 00 14"),
        (Cause.unknownCause, "64 01 6D 05 2F 00 00 00 00 14"),
        (Cause.unknownCommonAddress, "64 01 6E 05 2F 00 00 00 00 14"),
        (Cause.unknownObjectAddress, "64 01 6F 05 2F 00 00 00 00 14"),
    ])
    func negative(cause: Cause, expected: String) throws {
        let request = try ASDURequest(decoding: Self.interrogation)
        #expect(request.reply(cause: cause, negative: true) == hex(expected))
    }

    @Test("the T bit is kept, a request's P/N bit is not")
    func testBit() throws {
        #expect(try ASDURequest(decoding: hex("2D 01 86 00 01 00 10 00 00 81")).reply(cause: .activationConfirmation, negative: true)
                == hex("2D 01 C7 00 01 00 10 00 00 81"))
        #expect(try ASDURequest(decoding: hex("2D 01 46 00 01 00 10 00 00 81")).reply(cause: .activationConfirmation)
                == hex("2D 01 07 00 01 00 10 00 00 81"))
    }

    @Test("a broadcast request is answered with the answering common address")
    func broadcast() throws {
        let request = try ASDURequest(decoding: hex("64 01 06 00 FF FF 00 00 00 14"))
        #expect(request.header.commonAddress == ASDU.broadcastAddress)
        #expect(request.reply(cause: .activationConfirmation, commonAddress: 0x0102) == hex("64 01 07 00 02 01 00 00 00 14"))
        #expect(request.reply(cause: .activationTermination, commonAddress: 47) == hex("64 01 0A 00 2F 00 00 00 00 14"))
    }

    @Test("an unknown type or a wrong length still gets its mirror; only the header is read")
    func headerOnly() throws {
        let unknownType = try ASDURequest(decoding: hex("FE 01 06 00 2F 00 00 00 00"))
        #expect(unknownType.header.typeID == nil)
        #expect(unknownType.reply(cause: .unknownTypeID, negative: true) == hex("FE 01 6C 00 2F 00 00 00 00"))
        let truncated = try ASDURequest(decoding: hex("64 01 06 00 2F 00 00"))
        #expect(throws: ASDUError.self) { try truncated.decoded() }
        #expect(truncated.reply(cause: .activationConfirmation, negative: true) == hex("64 01 47 00 2F 00 00"))
        #expect(throws: ASDUError.self) { try ASDURequest(decoding: hex("64 01 06 00 2F")) }
    }

    @Test("the reply agrees with ASDU.confirmation for every cause and both signs")
    func agreesWithConfirmation() throws {
        let request = try ASDURequest(decoding: hex("2E 01 86 03 2F 00 11 22 33 82"))
        for raw in UInt8(0)...63 {
            for negative in [false, true] {
                let cause = Cause(rawValue: raw)
                #expect(request.reply(cause: cause, negative: negative)
                        == ASDU.confirmation(of: request.octets, cause: cause, negative: negative))
            }
        }
    }

    @Test("decoded() reads the objects under the header read once")
    func decoded() throws {
        let asdu = try ASDURequest(decoding: Self.interrogation).decoded()
        #expect(asdu == ASDU(cause: CauseOfTransmission(.activation, originator: 5), commonAddress: 47, address: 0,
                             element: .interrogation(InterrogationQualifier(rawValue: 20))))
    }

    @Test("the builder counts its objects into the header")
    func builder() {
        var builder = ASDUBuilder(typeID: .M_SP_NA_1, cause: CauseOfTransmission(.spontaneous), commonAddress: 47)
        builder.append(address: 1, element: .singlePoint(SinglePointInformation(isOn: true)))
        builder.append(address: 0x030201, element: .singlePoint(SinglePointInformation(isOn: false, quality: .invalid)))
        #expect(builder.count == 2)
        #expect(builder.finish() == hex("01 02 03 00 2F 00 01 00 00 01 01 02 03 80"))
    }

    @Test("the builder stops at the capacity of its type")
    func builderCapacity() {
        var builder = ASDUBuilder(typeID: .M_ME_NC_1, cause: CauseOfTransmission(.spontaneous), commonAddress: 1)
        while builder.hasRoom { builder.append(address: UInt32(builder.count), element: .float(1, [])) }
        let count = builder.count
        #expect(count == ASDU.capacity(of: .M_ME_NC_1, sequence: false))
        let bytes = builder.finish()
        #expect(bytes.count == ASDU.headerLength + count * 8)
        #expect(bytes[1] == UInt8(count))
    }
}
