import ArgumentParser
import IEC104
import Testing
import Master
@testable import rtu104ctl

@Suite("Command values, qualifiers and request ASDUs")
struct CommandValueTests {
    @Test("values", arguments: [
        ("on", CommandKind.single, CommandValue.single(true)), ("OFF", .single, .single(false)), ("1", .single, .single(true)),
        ("on", .double, .double(.on)), ("off", .double, .double(.off)),
        ("raise", .step, .step(.higher)), ("lower", .step, .step(.lower)), ("up", .step, .step(.higher)),
        ("0.5", .normalized, .normalized(NormalizedValue(rawValue: 16384))), ("-1", .normalized, .normalized(NormalizedValue(rawValue: -32768))),
        ("-1234", .scaled, .scaled(-1234)), ("230.5", .float, .float(230.5)),
        ("0xDEADBEEF", .bitstring, .bitstring(0xDEAD_BEEF)), ("0b101", .bitstring, .bitstring(5)), ("42", .bitstring, .bitstring(42)),
    ])
    func values(text: String, kind: CommandKind, expected: CommandValue) throws {
        #expect(try CommandValue.parse(text, as: kind) == expected)
    }

    @Test("bad values", arguments: [
        ("maybe", CommandKind.single), ("intermediate", .double), ("sideways", .step), ("1.01", .normalized),
        ("40000", .scaled), ("nan", .float), ("inf", .float), ("0x1FFFFFFFF", .bitstring), ("-1", .bitstring),
    ])
    func badValues(text: String, kind: CommandKind) {
        #expect(throws: ValidationError.self) { try CommandValue.parse(text, as: kind) }
    }

    @Test("qualifiers", arguments: [
        (String?.none, CommandKind.single, UInt8(0)), ("short", .single, 1), ("long", .double, 2), ("persistent", .step, 3),
        ("17", .single, 17), ("100", .float, 100), ("default", .scaled, 0),
    ])
    func qualifiers(text: String?, kind: CommandKind, expected: UInt8) throws {
        #expect(try QualifierOption.parse(text, for: kind) == expected)
    }

    @Test("bad qualifiers", arguments: [("32", CommandKind.single), ("short", .float), ("128", .normalized), ("1", .bitstring)])
    func badQualifiers(text: String, kind: CommandKind) {
        #expect(throws: ValidationError.self) { try QualifierOption.parse(text, for: kind) }
    }

    @Test func typeIDs() {
        #expect(CommandKind.single.typeID(timeTagged: false) == .C_SC_NA_1)
        #expect(CommandKind.double.typeID(timeTagged: true) == .C_DC_TA_1)
        #expect(CommandKind.float.typeID(timeTagged: true) == .C_SE_TC_1)
        for kind in CommandKind.allCases {
            #expect(kind.typeID(timeTagged: true) == kind.typeID(timeTagged: false).withTimeTag)
        }
    }

    /// C_SC_NA_1 act, CA 48, IOA 2001, ON, select, short pulse: SCO = 0x80 | 1<<2 | 1 = 0x85.
    @Test func selectSingleCommandBytes() throws {
        let element = CommandValue.single(true).element(select: true, qualifier: 1, time: nil)
        let bytes = try Requests.encode(.C_SC_NA_1, cause: .activation, commonAddress: 48, originator: 2,
                                        address: 2001, element: element)
        #expect(bytes == [45, 0x01, 0x06, 0x02, 48, 0, 0xD1, 0x07, 0x00, 0x85])
    }

    @Test func setpointWithTime() throws {
        let stamp = CP56Time2a(unixMilliseconds: 1_795_000_000_000)
        let element = CommandValue.float(12.5).element(select: false, qualifier: 0, time: stamp)
        let bytes = try Requests.encode(.C_SE_TC_1, cause: .activation, commonAddress: 48, originator: 0,
                                        address: 2501, element: element)
        let decoded = try ASDU(decoding: bytes)
        #expect(decoded.objects.first?.element == .setpointFloat(12.5, SetpointQualifier(), time: stamp))
    }

    @Test func mismatchedTypeIsRefused() {
        #expect(throws: MasterError.self) {
            _ = try Requests.encode(.C_DC_NA_1, cause: .activation, commonAddress: 1, originator: 0,
                                    element: CommandValue.single(true).element(select: false, qualifier: 0, time: nil))
        }
    }

    // MARK: Confirmations

    static let request: [UInt8] = [45, 0x01, 0x06, 0x00, 48, 0, 0xD1, 0x07, 0x00, 0x01]

    @Test func positiveConfirmations() throws {
        let actcon = ASDU.confirmation(of: Self.request, cause: .activationConfirmation, negative: false)
        let confirmation = try #require(Confirmation.match(actcon, request: Self.request))
        #expect(!confirmation.isNegative && confirmation.isActivationConfirmation)
        #expect(confirmation.text == "ACTCON positive")
        let actterm = ASDU.confirmation(of: Self.request, cause: .activationTermination, negative: false)
        #expect(Confirmation.match(actterm, request: Self.request)?.text == "ACTTERM positive")
    }

    @Test func negativeConfirmations() throws {
        let refused = ASDU.confirmation(of: Self.request, cause: .activationConfirmation, negative: true)
        #expect(Confirmation.match(refused, request: Self.request)?.text == "ACTCON negative (P/N=1)")
        let unknown = ASDU.confirmation(of: Self.request, cause: .unknownObjectAddress, negative: true)
        let confirmation = try #require(Confirmation.match(unknown, request: Self.request))
        #expect(confirmation.isNegative)
        #expect(confirmation.text == "negative: unknown information object address (COT 47)")
    }

    @Test func otherFramesDoNotMatch() {
        var otherPoint = ASDU.confirmation(of: Self.request, cause: .activationConfirmation, negative: false)
        otherPoint[6] = 0xD2
        #expect(Confirmation.match(otherPoint, request: Self.request) == nil)
        var otherCA = ASDU.confirmation(of: Self.request, cause: .activationConfirmation, negative: false)
        otherCA[4] = 47
        #expect(Confirmation.match(otherCA, request: Self.request) == nil)
        // The request itself (COT 6) and a spontaneous point are no confirmations.
        #expect(Confirmation.match(Self.request, request: Self.request) == nil)
        #expect(Confirmation.match([1, 1, 3, 0, 48, 0, 0xE9, 0x03, 0, 1], request: Self.request) == nil)
    }

    @Test func broadcastRequestMatchesEveryCommonAddress() throws {
        let request = try Interrogation.generalRequest(group: nil, commonAddress: 0xFFFF, originator: 0)
        var reply = ASDU.confirmation(of: request, cause: .activationConfirmation, negative: false)
        reply[4] = 47
        reply[5] = 0
        #expect(Confirmation.match(reply, request: request)?.header.commonAddress == 47)
    }

    @Test func interrogationRequests() throws {
        #expect(try Interrogation.generalRequest(group: nil, commonAddress: 47, originator: 0)
                == [100, 1, 6, 0, 47, 0, 0, 0, 0, 20])
        #expect(try Interrogation.generalRequest(group: 16, commonAddress: 47, originator: 0).last == 36)
        // QCC: RQT 5 (general), FRZ 1 (freeze without reset) → 0x45.
        #expect(try Interrogation.counterRequest(group: nil, freeze: .freezeWithoutReset, commonAddress: 47, originator: 0)
                == [101, 1, 6, 0, 47, 0, 0, 0, 0, 0x45])
        #expect(try Interrogation.counterRequest(group: 2, freeze: .read, commonAddress: 1, originator: 0).last == 2)
    }
}
