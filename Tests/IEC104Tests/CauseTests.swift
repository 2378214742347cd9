import IEC104
import PropertyBased
import Testing
import TestSupport

@Suite("Cause of transmission")
struct CauseTests {
    @Test("standard abbreviations", arguments: [
        (UInt8(1), "per/cyc"), (2, "back"), (3, "spont"), (4, "init"), (5, "req"), (6, "act"), (7, "actcon"),
        (8, "deact"), (9, "deactcon"), (10, "actterm"), (11, "retrem"), (12, "retloc"), (13, "file"),
        (20, "inrogen"), (21, "inro1"), (36, "inro16"), (37, "reqcogen"), (38, "reqco1"), (41, "reqco4"),
        (44, "unknown type identification"), (45, "unknown cause of transmission"),
        (46, "unknown common address of ASDU"), (47, "unknown information object address"),
        (0, "cause 0"), (14, "cause 14"), (42, "cause 42"), (63, "cause 63"),
    ])
    func names(raw: UInt8, name: String) {
        #expect(Cause(rawValue: raw).name == name)
        #expect(Cause(rawValue: raw).description == "\(name) (\(raw))")
    }

    @Test("named constants have the standard's values")
    func constants() {
        let values: [(Cause, UInt8)] = [
            (.periodic, 1), (.background, 2), (.spontaneous, 3), (.initialized, 4), (.request, 5), (.activation, 6),
            (.activationConfirmation, 7), (.deactivation, 8), (.deactivationConfirmation, 9),
            (.activationTermination, 10), (.returnInformationRemote, 11), (.returnInformationLocal, 12),
            (.fileTransfer, 13), (.interrogatedByStation, 20), (.requestedByGeneralCounter, 37),
            (.unknownTypeID, 44), (.unknownCause, 45), (.unknownCommonAddress, 46), (.unknownObjectAddress, 47),
        ]
        for (cause, raw) in values {
            #expect(cause.rawValue == raw)
        }
    }

    @Test("causes are six bits")
    func sixBits() {
        #expect(Cause(rawValue: 0x46).rawValue == 6)
        #expect(Cause(rawValue: 0xFF).rawValue == 63)
    }

    @Test("interrogation groups are COT 21–36")
    func interrogationGroups() {
        for group in 1...16 {
            let cause = Cause.interrogatedByGroup(group)
            #expect(cause.rawValue == UInt8(20 + group))
            #expect(cause.interrogationGroup == group)
            #expect(cause.counterGroup == nil)
            #expect(cause.name == "inro\(group)")
        }
        for raw in UInt8(0)...63 where !(21...36).contains(raw) {
            #expect(Cause(rawValue: raw).interrogationGroup == nil)
        }
    }

    @Test("counter groups are COT 38–41")
    func counterGroups() {
        for group in 1...4 {
            let cause = Cause.requestedByCounterGroup(group)
            #expect(cause.rawValue == UInt8(37 + group))
            #expect(cause.counterGroup == group)
            #expect(cause.interrogationGroup == nil)
        }
        for raw in UInt8(0)...63 where !(38...41).contains(raw) {
            #expect(Cause(rawValue: raw).counterGroup == nil)
        }
    }

    @Test("the COT field packs cause, P/N and T into its first octet")
    func firstOctet() {
        for octet in UInt8.min...UInt8.max {
            let cot = CauseOfTransmission(firstOctet: octet, originator: 9)
            #expect(cot.firstOctet == octet)
            #expect(cot.cause.rawValue == octet & 0x3F)
            #expect(cot.isNegative == (octet & 0x40 != 0))
            #expect(cot.isTest == (octet & 0x80 != 0))
            #expect(cot.originator == 9)
        }
        #expect(CauseOfTransmission(.activationConfirmation, isNegative: true, isTest: true, originator: 3).firstOctet == 0xC7)
    }

    @Test("interrogation and counter qualifiers")
    func qualifiers() {
        #expect(InterrogationQualifier.station.rawValue == 20)
        #expect(InterrogationQualifier.station.group == nil)
        #expect(InterrogationQualifier.station.replyCause == .interrogatedByStation)
        #expect(InterrogationQualifier.station.name == "station interrogation")
        for group in 1...16 {
            let qoi = InterrogationQualifier.group(group)
            #expect(qoi.group == group)
            #expect(qoi.replyCause == .interrogatedByGroup(group))
            #expect(qoi.name == "group \(group) interrogation")
        }
        #expect(InterrogationQualifier(rawValue: 0).replyCause == nil)
        #expect(InterrogationQualifier(rawValue: 37).replyCause == nil)

        #expect(CounterInterrogationQualifier(request: CounterInterrogationQualifier.general).group == nil)
        #expect(CounterInterrogationQualifier(request: 3).group == 3)
        #expect(CounterInterrogationQualifier(octet: 0xC5) == CounterInterrogationQualifier(request: 5, freeze: .reset))
    }

    // MARK: confirmation(of:cause:negative:)

    @Test("ACTCON of a general interrogation changes only the COT octet")
    func actcon() {
        let request = hex("64 01 06 05 2F 00 00 00 00 14")
        #expect(ASDU.confirmation(of: request, cause: .activationConfirmation, negative: false)
                == hex("64 01 07 05 2F 00 00 00 00 14"))
        #expect(ASDU.confirmation(of: request, cause: .activationTermination, negative: false)
                == hex("64 01 0A 05 2F 00 00 00 00 14"))
        #expect(ASDU.confirmation(of: request, cause: .unknownCommonAddress, negative: true)
                == hex("64 01 6E 05 2F 00 00 00 00 14"))
    }

    @Test("the T bit is kept, a request's P/N bit is not")
    func testBit() {
        let test = hex("2D 01 86 00 01 00 10 00 00 81")
        #expect(ASDU.confirmation(of: test, cause: .activationConfirmation, negative: false)
                == hex("2D 01 87 00 01 00 10 00 00 81"))
        #expect(ASDU.confirmation(of: test, cause: .activationConfirmation, negative: true)
                == hex("2D 01 C7 00 01 00 10 00 00 81"))
        let negativeRequest = hex("2D 01 46 00 01 00 10 00 00 81")
        #expect(ASDU.confirmation(of: negativeRequest, cause: .activationConfirmation, negative: false)
                == hex("2D 01 07 00 01 00 10 00 00 81"))
    }

    @Test("input too short for a COT octet is returned as it is")
    func shortInput() {
        #expect(ASDU.confirmation(of: [], cause: .activationConfirmation, negative: true) == [])
        #expect(ASDU.confirmation(of: [0x64, 0x01], cause: .activationConfirmation, negative: true) == [0x64, 0x01])
        #expect(ASDU.confirmation(of: [0x64, 0x01, 0x86], cause: .activationConfirmation, negative: true) == [0x64, 0x01, 0xC7])
    }

    @Test("every octet but the COT octet is kept, for any request")
    func keepsEveryOtherOctet() async {
        let input = zip(Gen.uint8().array(of: 0...249), Gen.uint8(in: 0...63), Gen.bool)
        await propertyCheck(count: 500, input: input) { request, raw, negative in
            let reply = ASDU.confirmation(of: request, cause: Cause(rawValue: raw), negative: negative)
            #expect(reply.count == request.count)
            for index in request.indices where index != ASDUHeader.causeOffset {
                #expect(reply[index] == request[index])
            }
            if request.count > ASDUHeader.causeOffset {
                let expected = raw | (negative ? 0x40 : 0) | request[ASDUHeader.causeOffset] & 0x80
                #expect(reply[ASDUHeader.causeOffset] == expected)
                let cot = CauseOfTransmission(firstOctet: reply[ASDUHeader.causeOffset], originator: 0)
                #expect(cot.cause.rawValue == raw && cot.isNegative == negative)
            }
        }
    }
}
