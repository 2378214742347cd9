import IEC104
import PropertyBased
import Testing

/// The time tag used by the hand-written vectors: 2026-11-22T04:57:51.123, a Sunday.
let vectorTime = CP56Time2a(year: 26, month: 11, dayOfMonth: 22, hour: 4, minute: 57, milliseconds: 51_123,
                            dayOfWeek: 7)
/// `vectorTime` as its seven octets.
let vectorTimeOctets = "B3 C7 39 04 F6 0B 1A"

extension InformationElement {
    /// The element's octets as a new array.
    var encodedBytes: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// Whether the element holds a float NaN, which makes `==` false even for identical bits.
    var containsNaN: Bool {
        switch self {
        case .float(let value, _, _), .setpointFloat(let value, _, _), .parameterFloat(let value, _):
            value.isNaN
        default:
            false
        }
    }
}

extension ASDU {
    var containsNaN: Bool { objects.contains { $0.element.containsNaN } }
}

/// Random, valid values of the codec's model types. Everything generated here is in the canonical
/// form the decoder produces (reserved bits clear, values in range), so decode(encode(x)) == x.
enum Arbitrary {
    static func bool(using rng: inout some RandomNumberGenerator) -> Bool { Bool.random(using: &rng) }

    static func byte(using rng: inout some RandomNumberGenerator) -> UInt8 { UInt8.random(in: 0...255, using: &rng) }

    static func cp56(using rng: inout some RandomNumberGenerator) -> CP56Time2a {
        CP56Time2a(year: UInt8.random(in: 0...99, using: &rng), month: UInt8.random(in: 1...12, using: &rng),
                   dayOfMonth: UInt8.random(in: 1...31, using: &rng), hour: UInt8.random(in: 0...23, using: &rng),
                   minute: UInt8.random(in: 0...59, using: &rng),
                   milliseconds: UInt16.random(in: 0...59_999, using: &rng),
                   dayOfWeek: UInt8.random(in: 0...7, using: &rng), isInvalid: bool(using: &rng),
                   isSummerTime: bool(using: &rng), isSubstituted: bool(using: &rng))
    }

    static func cp16(using rng: inout some RandomNumberGenerator) -> CP16Time2a {
        CP16Time2a(milliseconds: UInt16.random(in: 0...59_999, using: &rng))
    }

    /// Any bit pattern, so NaNs (signalling and quiet), infinities and subnormals all occur.
    static func float(using rng: inout some RandomNumberGenerator) -> Float {
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: .nan
        case 1: -.infinity
        case 2: Float(bitPattern: 0x7FA0_0001)  // a signalling NaN with payload
        case 3: Float.random(in: -1_000_000...1_000_000, using: &rng)
        default: Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))
        }
    }

    static func int16(using rng: inout some RandomNumberGenerator) -> Int16 { Int16.random(in: .min ... .max, using: &rng) }

    static func uint16(using rng: inout some RandomNumberGenerator) -> UInt16 { UInt16.random(in: 0 ... .max, using: &rng) }

    static func uint32(using rng: inout some RandomNumberGenerator) -> UInt32 { UInt32.random(in: 0 ... .max, using: &rng) }

    static func normalized(using rng: inout some RandomNumberGenerator) -> NormalizedValue {
        NormalizedValue(rawValue: int16(using: &rng))
    }

    /// QDS: OV, BL, SB, NT, IV.
    static func quality(using rng: inout some RandomNumberGenerator) -> QualityDescriptor {
        QualityDescriptor(rawValue: byte(using: &rng) & 0xF1)
    }

    /// The quality bits that SIQ and DIQ carry: BL, SB, NT, IV.
    static func pointQuality(using rng: inout some RandomNumberGenerator) -> QualityDescriptor {
        QualityDescriptor(rawValue: byte(using: &rng) & 0xF0)
    }

    static func protectionQuality(using rng: inout some RandomNumberGenerator) -> ProtectionQuality {
        ProtectionQuality(rawValue: byte(using: &rng) & 0xF8)
    }

    static func doublePointState(using rng: inout some RandomNumberGenerator) -> DoublePointState {
        DoublePointState.allCases.randomElement(using: &rng)!
    }

    static func commandQualifier(using rng: inout some RandomNumberGenerator) -> CommandQualifier {
        CommandQualifier(rawValue: UInt8.random(in: 0...31, using: &rng))
    }

    static func setpointQualifier(using rng: inout some RandomNumberGenerator) -> SetpointQualifier {
        SetpointQualifier(qualifier: UInt8.random(in: 0...127, using: &rng), isSelect: bool(using: &rng))
    }

    static func parameterQualifier(using rng: inout some RandomNumberGenerator) -> MeasuredParameterQualifier {
        MeasuredParameterQualifier(kind: UInt8.random(in: 0...63, using: &rng), localChange: bool(using: &rng),
                                   notInOperation: bool(using: &rng))
    }

    /// A random, valid element of `type`; its `typeID` is `type`.
    static func element(_ type: TypeID, using rng: inout some RandomNumberGenerator) -> InformationElement {
        let time: CP56Time2a? = type.hasTimeTag ? cp56(using: &rng) : nil
        switch type {
        case .M_SP_NA_1, .M_SP_TB_1:
            return .singlePoint(SinglePointInformation(isOn: bool(using: &rng), quality: pointQuality(using: &rng)),
                                time: time)
        case .M_DP_NA_1, .M_DP_TB_1:
            return .doublePoint(DoublePointInformation(state: doublePointState(using: &rng),
                                                       quality: pointQuality(using: &rng)), time: time)
        case .M_ST_NA_1, .M_ST_TB_1:
            return .stepPosition(StepPosition(value: Int8.random(in: -64...63, using: &rng),
                                              isTransient: bool(using: &rng)),
                                 quality(using: &rng), time: time)
        case .M_BO_NA_1, .M_BO_TB_1:
            return .bitstring(uint32(using: &rng), quality(using: &rng), time: time)
        case .M_ME_NA_1, .M_ME_TD_1:
            return .normalized(normalized(using: &rng), quality(using: &rng), time: time)
        case .M_ME_NB_1, .M_ME_TE_1:
            return .scaled(int16(using: &rng), quality(using: &rng), time: time)
        case .M_ME_NC_1, .M_ME_TF_1:
            return .float(float(using: &rng), quality(using: &rng), time: time)
        case .M_IT_NA_1, .M_IT_TB_1:
            let bcr = BinaryCounterReading(value: Int32.random(in: .min ... .max, using: &rng),
                                           sequenceNumber: UInt8.random(in: 0...31, using: &rng),
                                           carry: bool(using: &rng), adjusted: bool(using: &rng),
                                           invalid: bool(using: &rng))
            return .integratedTotals(bcr, time: time)
        case .M_PS_NA_1:
            return .packedSinglePoints(StatusChangeDetection(status: uint16(using: &rng), changed: uint16(using: &rng)),
                                       quality(using: &rng))
        case .M_ME_ND_1:
            return .normalizedWithoutQuality(normalized(using: &rng))
        case .M_EP_TD_1:
            let sep = SingleEventOfProtection(state: doublePointState(using: &rng),
                                              quality: protectionQuality(using: &rng))
            return .protectionEvent(sep, elapsed: cp16(using: &rng), time: cp56(using: &rng))
        case .M_EP_TE_1:
            return .protectionStartEvents(StartEventsOfProtection(rawValue: byte(using: &rng)),
                                          protectionQuality(using: &rng), duration: cp16(using: &rng),
                                          time: cp56(using: &rng))
        case .M_EP_TF_1:
            return .protectionOutputCircuit(OutputCircuitInformation(rawValue: byte(using: &rng)),
                                            protectionQuality(using: &rng), operatingTime: cp16(using: &rng),
                                            time: cp56(using: &rng))
        case .M_EI_NA_1:
            return .endOfInitialization(CauseOfInitialization(cause: UInt8.random(in: 0...127, using: &rng),
                                                              afterParameterChange: bool(using: &rng)))
        case .C_SC_NA_1, .C_SC_TA_1:
            return .singleCommand(SingleCommand(isOn: bool(using: &rng), qualifier: commandQualifier(using: &rng),
                                                isSelect: bool(using: &rng)), time: time)
        case .C_DC_NA_1, .C_DC_TA_1:
            return .doubleCommand(DoubleCommand(state: DoubleCommandState.allCases.randomElement(using: &rng)!,
                                                qualifier: commandQualifier(using: &rng), isSelect: bool(using: &rng)),
                                  time: time)
        case .C_RC_NA_1, .C_RC_TA_1:
            return .regulatingStepCommand(
                RegulatingStepCommand(direction: StepDirection.allCases.randomElement(using: &rng)!,
                                      qualifier: commandQualifier(using: &rng), isSelect: bool(using: &rng)),
                time: time)
        case .C_SE_NA_1, .C_SE_TA_1:
            return .setpointNormalized(normalized(using: &rng), setpointQualifier(using: &rng), time: time)
        case .C_SE_NB_1, .C_SE_TB_1:
            return .setpointScaled(int16(using: &rng), setpointQualifier(using: &rng), time: time)
        case .C_SE_NC_1, .C_SE_TC_1:
            return .setpointFloat(float(using: &rng), setpointQualifier(using: &rng), time: time)
        case .C_BO_NA_1, .C_BO_TA_1:
            return .bitstringCommand(uint32(using: &rng), time: time)
        case .C_IC_NA_1:
            return .interrogation(InterrogationQualifier(rawValue: byte(using: &rng)))
        case .C_CI_NA_1:
            return .counterInterrogation(CounterInterrogationQualifier(
                request: UInt8.random(in: 0...63, using: &rng), freeze: CounterFreeze.allCases.randomElement(using: &rng)!))
        case .C_RD_NA_1:
            return .read
        case .C_CS_NA_1:
            return .clockSynchronization(cp56(using: &rng))
        case .C_TS_NA_1:
            return .test(pattern: uint16(using: &rng))
        case .C_RP_NA_1:
            return .resetProcess(ResetProcessQualifier(rawValue: byte(using: &rng)))
        case .C_CD_NA_1:
            return .delayAcquisition(cp16(using: &rng))
        case .C_TS_TA_1:
            return .testWithTime(counter: uint16(using: &rng), time: cp56(using: &rng))
        case .P_ME_NA_1:
            return .parameterNormalized(normalized(using: &rng), parameterQualifier(using: &rng))
        case .P_ME_NB_1:
            return .parameterScaled(int16(using: &rng), parameterQualifier(using: &rng))
        case .P_ME_NC_1:
            return .parameterFloat(float(using: &rng), parameterQualifier(using: &rng))
        case .P_AC_NA_1:
            return .parameterActivation(ParameterActivationQualifier(rawValue: byte(using: &rng)))
        case .F_FR_NA_1:
            return .fileReady(FileReady(nameOfFile: uint16(using: &rng), lengthOfFile: uint24(using: &rng),
                                        qualifier: FileReadyQualifier(octet: byte(using: &rng))))
        case .F_SR_NA_1:
            return .sectionReady(SectionReady(nameOfFile: uint16(using: &rng), nameOfSection: byte(using: &rng),
                                              lengthOfSection: uint24(using: &rng),
                                              qualifier: FileReadyQualifier(octet: byte(using: &rng))))
        case .F_SC_NA_1:
            return .fileCall(FileCall(nameOfFile: uint16(using: &rng), nameOfSection: byte(using: &rng),
                                      qualifier: SelectCallQualifier(octet: byte(using: &rng))))
        case .F_LS_NA_1:
            return .lastSection(LastSection(nameOfFile: uint16(using: &rng), nameOfSection: byte(using: &rng),
                                            qualifier: LastSectionQualifier(rawValue: byte(using: &rng)),
                                            checksum: byte(using: &rng)))
        case .F_AF_NA_1:
            return .fileAcknowledgement(FileAcknowledgement(nameOfFile: uint16(using: &rng), nameOfSection: byte(using: &rng),
                                                            qualifier: AcknowledgeQualifier(octet: byte(using: &rng))))
        case .F_SG_NA_1:
            let length = Int.random(in: 0...FileSegment.maximumLength, using: &rng)
            return .segment(FileSegment(nameOfFile: uint16(using: &rng), nameOfSection: byte(using: &rng),
                                        data: (0..<length).map { _ in byte(using: &rng) }))
        case .F_DR_TA_1:
            return .directoryEntry(DirectoryEntry(nameOfFile: uint16(using: &rng), lengthOfFile: uint24(using: &rng),
                                                  status: FileStatus(octet: byte(using: &rng)), time: cp56(using: &rng)))
        case .F_SC_NB_1:
            return .queryLog(nameOfFile: uint16(using: &rng), start: cp56(using: &rng), stop: cp56(using: &rng))
        }
    }

    static func uint24(using rng: inout some RandomNumberGenerator) -> UInt32 {
        UInt32.random(in: 0...0xFF_FFFF, using: &rng)
    }

    /// Any cause 0…63 with random P/N, T and originator.
    static func cause(using rng: inout some RandomNumberGenerator) -> CauseOfTransmission {
        CauseOfTransmission(Cause(rawValue: UInt8.random(in: 0...63, using: &rng)), isNegative: bool(using: &rng),
                            isTest: bool(using: &rng), originator: byte(using: &rng))
    }

    /// A valid ASDU of `type`: SQ=0 with random addresses, or SQ=1 with consecutive addresses that
    /// stay within three octets; 1…capacity objects, biased towards small and full ASDUs.
    static func asdu(_ type: TypeID, sequence: Bool, using rng: inout some RandomNumberGenerator) -> ASDU {
        let capacity = ASDU.capacity(of: type, sequence: sequence)
        let count = switch Int.random(in: 0..<4, using: &rng) {
        case 0: 1
        case 1: capacity
        default: Int.random(in: 1...capacity, using: &rng)
        }
        var objects: [InformationObject] = []
        objects.reserveCapacity(count)
        if sequence {
            let last = ASDU.maximumAddress - UInt32(count - 1)
            let first = Bool.random(using: &rng) ? last : UInt32.random(in: 0...last, using: &rng)
            for index in 0..<count {
                objects.append(InformationObject(address: first + UInt32(index), element: element(type, using: &rng)))
            }
        } else {
            for _ in 0..<count {
                objects.append(InformationObject(address: UInt32.random(in: 0...ASDU.maximumAddress, using: &rng),
                                                 element: element(type, using: &rng)))
            }
        }
        return ASDU(typeID: type, isSequence: sequence, cause: cause(using: &rng),
                    commonAddress: uint16(using: &rng), objects: objects)
    }
}

/// PropertyBased generators over `Arbitrary` (no shrinking: the failure message names the seed).
enum Generators {
    static func element(_ type: TypeID) -> Generator<InformationElement, Shrink.None<InformationElement>> {
        Generator { rng in Arbitrary.element(type, using: &rng) }
    }

    static func asdu(_ type: TypeID, sequence: Bool) -> Generator<ASDU, Shrink.None<ASDU>> {
        Generator { rng in Arbitrary.asdu(type, sequence: sequence, using: &rng) }
    }

    static var cp56: Generator<CP56Time2a, Shrink.None<CP56Time2a>> {
        Generator { rng in Arbitrary.cp56(using: &rng) }
    }
}
