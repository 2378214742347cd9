import IEC104
import Testing
import TestSupport

/// A hand-written ASDU from the octet layouts of IEC 60870-5-101 clause 7.3 with the
/// IEC 60870-5-104 field sizes (two-octet COT, two-octet CA, three-octet IOA).
struct ASDUVector: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let asdu: ASDU

    init(_ name: String, _ octets: String, _ asdu: ASDU) {
        self.name = name
        self.bytes = hex(octets)
        self.asdu = asdu
    }

    var testDescription: String { name }
}

/// One object with COT `cause` (no P/N, no T, originator 0).
private func single(_ cause: Cause, ca: UInt16 = 1, ioa: UInt32, _ element: InformationElement) -> ASDU {
    ASDU(cause: CauseOfTransmission(cause), commonAddress: ca, address: ioa, element: element)
}

private let t = vectorTimeOctets
private let time = vectorTime
/// 2024-02-29 12:34:56.789, Thursday, with IV and SU set.
private let flaggedTime = CP56Time2a(year: 24, month: 2, dayOfMonth: 29, hour: 12, minute: 34, milliseconds: 56_789,
                                     dayOfWeek: 4, isInvalid: true, isSummerTime: true)

let asduVectors: [ASDUVector] = [
    // Monitor direction, without time tag
    ASDUVector("M_SP_NA_1 on with BL and IV", "01 01 03 00 01 00 E8 03 00 91",
               single(.spontaneous, ioa: 1000, .singlePoint(SinglePointInformation(isOn: true, quality: [.blocked, .invalid])))),
    ASDUVector("M_SP_NA_1 SQ=1, four points from IOA 100", "01 84 14 00 0A 00 64 00 00 01 00 20 81",
               ASDU(typeID: .M_SP_NA_1, isSequence: true, cause: CauseOfTransmission(.interrogatedByStation),
                    commonAddress: 10, objects: [
                        InformationObject(address: 100, element: .singlePoint(SinglePointInformation(isOn: true))),
                        InformationObject(address: 101, element: .singlePoint(SinglePointInformation(isOn: false))),
                        InformationObject(address: 102, element: .singlePoint(SinglePointInformation(isOn: false, quality: .substituted))),
                        InformationObject(address: 103, element: .singlePoint(SinglePointInformation(isOn: true, quality: .invalid))),
                    ])),
    ASDUVector("M_DP_NA_1 indeterminate, NT", "03 01 03 00 01 00 02 00 00 43",
               single(.spontaneous, ioa: 2, .doublePoint(DoublePointInformation(state: .indeterminate, quality: .notTopical)))),
    ASDUVector("M_ST_NA_1 -5 transient, OV", "05 01 14 00 01 00 64 00 00 FB 01",
               single(.interrogatedByStation, ioa: 100, .stepPosition(StepPosition(value: -5, isTransient: true), .overflow))),
    ASDUVector("M_ST_NA_1 -64", "05 01 03 00 01 00 65 00 00 40 00",
               single(.spontaneous, ioa: 101, .stepPosition(StepPosition(value: -64), []))),
    ASDUVector("M_ST_NA_1 +63 transient", "05 01 03 00 01 00 65 00 00 BF 00",
               single(.spontaneous, ioa: 101, .stepPosition(StepPosition(value: 63, isTransient: true), []))),
    ASDUVector("M_BO_NA_1 0x12345678, NT", "07 01 03 00 01 00 01 00 00 78 56 34 12 40",
               single(.spontaneous, ioa: 1, .bitstring(0x1234_5678, .notTopical))),
    ASDUVector("M_ME_NA_1 -0.5", "09 01 03 00 01 00 01 00 00 00 C0 00",
               single(.spontaneous, ioa: 1, .normalized(NormalizedValue(-0.5), []))),
    ASDUVector("M_ME_NB_1 -2, IV", "0B 01 03 00 01 00 01 00 00 FE FF 80",
               single(.spontaneous, ioa: 1, .scaled(-2, .invalid))),
    ASDUVector("M_ME_NB_1 two objects, CA 0x1234, IOA 0xABCDEF", "0B 02 14 00 34 12 01 00 00 64 00 00 EF CD AB 9C FF 00",
               ASDU(typeID: .M_ME_NB_1, cause: CauseOfTransmission(.interrogatedByStation), commonAddress: 0x1234, objects: [
                   InformationObject(address: 1, element: .scaled(100, [])),
                   InformationObject(address: 0xAB_CDEF, element: .scaled(-100, [])),
               ])),
    ASDUVector("M_ME_NC_1 23.5f", "0D 01 03 00 01 00 01 00 00 00 00 BC 41 00",
               single(.spontaneous, ioa: 1, .float(23.5, []))),
    ASDUVector("M_IT_NA_1 123456, SQ 5, CY CA IV", "0F 01 25 00 01 00 01 00 00 40 E2 01 00 E5",
               single(.requestedByGeneralCounter, ioa: 1, .integratedTotals(BinaryCounterReading(
                   value: 123_456, sequenceNumber: 5, carry: true, adjusted: true, invalid: true)))),
    ASDUVector("M_IT_NA_1 -1", "0F 01 03 00 01 00 01 00 00 FF FF FF FF 00",
               single(.spontaneous, ioa: 1, .integratedTotals(BinaryCounterReading(value: -1)))),
    ASDUVector("M_PS_NA_1 status 0x00FF, changed 0x0101, BL", "14 01 14 00 01 00 01 00 00 FF 00 01 01 10",
               single(.interrogatedByStation, ioa: 1, .packedSinglePoints(StatusChangeDetection(status: 0x00FF, changed: 0x0101), .blocked))),
    ASDUVector("M_ME_ND_1 SQ=1 from IOA 4096", "15 83 14 00 01 00 00 10 00 FF 7F 00 00 00 80",
               ASDU(typeID: .M_ME_ND_1, isSequence: true, cause: CauseOfTransmission(.interrogatedByStation),
                    commonAddress: 1, objects: [
                        InformationObject(address: 4096, element: .normalizedWithoutQuality(NormalizedValue(rawValue: 32767))),
                        InformationObject(address: 4097, element: .normalizedWithoutQuality(NormalizedValue(rawValue: 0))),
                        InformationObject(address: 4098, element: .normalizedWithoutQuality(NormalizedValue(rawValue: -32768))),
                    ])),
    // Monitor direction, with CP56Time2a
    ASDUVector("M_SP_TB_1 on", "1E 01 03 00 01 00 01 00 00 01 \(t)",
               single(.spontaneous, ioa: 1, .singlePoint(SinglePointInformation(isOn: true), time: time))),
    ASDUVector("M_DP_TB_1 on, 2026-11-22 04:57:51.123 Sunday", "1F 01 03 00 01 00 0A 00 00 02 B3 C7 39 04 F6 0B 1A",
               single(.spontaneous, ioa: 10, .doublePoint(DoublePointInformation(state: .on), time: time))),
    ASDUVector("M_DP_TB_1 off, 2024-02-29 12:34:56.789 Thursday, IV SU", "1F 01 03 00 01 00 0A 00 00 01 D5 DD A2 8C 9D 02 18",
               single(.spontaneous, ioa: 10, .doublePoint(DoublePointInformation(state: .off), time: flaggedTime))),
    ASDUVector("M_ST_TB_1 +5 transient", "20 01 03 00 01 00 01 00 00 85 00 \(t)",
               single(.spontaneous, ioa: 1, .stepPosition(StepPosition(value: 5, isTransient: true), [], time: time))),
    ASDUVector("M_BO_TB_1 0x80000000", "21 01 03 00 01 00 01 00 00 00 00 00 80 00 \(t)",
               single(.spontaneous, ioa: 1, .bitstring(0x8000_0000, [], time: time))),
    ASDUVector("M_ME_TD_1 +1-2^-15", "22 01 03 00 01 00 01 00 00 FF 7F 00 \(t)",
               single(.spontaneous, ioa: 1, .normalized(NormalizedValue(rawValue: 32767), [], time: time))),
    ASDUVector("M_ME_TE_1 12345, OV", "23 01 03 00 01 00 01 00 00 39 30 01 \(t)",
               single(.spontaneous, ioa: 1, .scaled(12345, .overflow, time: time))),
    ASDUVector("M_ME_TF_1 -1.0f", "24 01 03 00 01 00 01 00 00 00 00 80 BF 00 \(t)",
               single(.spontaneous, ioa: 1, .float(-1.0, [], time: time))),
    ASDUVector("M_IT_TB_1 1, SQ 1, CY", "25 01 03 00 01 00 01 00 00 01 00 00 00 21 \(t)",
               single(.spontaneous, ioa: 1, .integratedTotals(BinaryCounterReading(value: 1, sequenceNumber: 1, carry: true), time: time))),
    ASDUVector("M_EP_TD_1 on, EI, elapsed 1500 ms", "26 01 03 00 01 00 01 00 00 0A DC 05 \(t)",
               single(.spontaneous, ioa: 1, .protectionEvent(SingleEventOfProtection(state: .on, quality: .elapsedTimeInvalid),
                                                             elapsed: CP16Time2a(milliseconds: 1500), time: time))),
    ASDUVector("M_EP_TE_1 GS L1 SRD, EI IV, 250 ms", "27 01 03 00 01 00 01 00 00 13 88 FA 00 \(t)",
               single(.spontaneous, ioa: 1, .protectionStartEvents([.general, .phaseL1, .earthCurrent], [.elapsedTimeInvalid, .invalid],
                                                                   duration: CP16Time2a(milliseconds: 250), time: time))),
    ASDUVector("M_EP_TF_1 GC CL3, 60 ms", "28 01 03 00 01 00 01 00 00 09 00 3C 00 \(t)",
               single(.spontaneous, ioa: 1, .protectionOutputCircuit([.general, .phaseL3], [],
                                                                     operatingTime: CP16Time2a(milliseconds: 60), time: time))),
    ASDUVector("M_EI_NA_1 remote reset after parameter change", "46 01 04 00 01 00 00 00 00 82",
               single(.initialized, ioa: 0, .endOfInitialization(CauseOfInitialization(cause: 2, afterParameterChange: true)))),
    // Process commands
    ASDUVector("C_SC_NA_1 select on, short pulse", "2D 01 06 00 01 00 10 00 00 85",
               single(.activation, ioa: 16, .singleCommand(SingleCommand(isOn: true, qualifier: .shortPulse, isSelect: true)))),
    ASDUVector("C_SC_NA_1 execute off", "2D 01 06 00 01 00 10 00 00 00",
               single(.activation, ioa: 16, .singleCommand(SingleCommand(isOn: false)))),
    ASDUVector("C_DC_NA_1 execute on", "2E 01 06 00 01 00 10 00 00 02",
               single(.activation, ioa: 16, .doubleCommand(DoubleCommand(state: .on)))),
    ASDUVector("C_RC_NA_1 select higher, persistent", "2F 01 06 00 01 00 10 00 00 8E",
               single(.activation, ioa: 16, .regulatingStepCommand(RegulatingStepCommand(direction: .higher, qualifier: .persistent, isSelect: true)))),
    ASDUVector("C_SE_NA_1 select -0.5", "30 01 06 00 01 00 10 00 00 00 C0 80",
               single(.activation, ioa: 16, .setpointNormalized(NormalizedValue(rawValue: -16384), SetpointQualifier(isSelect: true)))),
    ASDUVector("C_SE_NB_1 select 1000, QL 5", "31 01 06 00 01 00 10 00 00 E8 03 85",
               single(.activation, ioa: 16, .setpointScaled(1000, SetpointQualifier(qualifier: 5, isSelect: true)))),
    ASDUVector("C_SE_NC_1 select -1.0f", "32 01 06 00 01 00 10 00 00 00 00 80 BF 80",
               single(.activation, ioa: 16, .setpointFloat(-1.0, SetpointQualifier(isSelect: true)))),
    ASDUVector("C_BO_NA_1 0xDEADBEEF", "33 01 06 00 01 00 10 00 00 EF BE AD DE",
               single(.activation, ioa: 16, .bitstringCommand(0xDEAD_BEEF))),
    ASDUVector("C_SC_TA_1 execute on", "3A 01 06 00 01 00 10 00 00 01 \(t)",
               single(.activation, ioa: 16, .singleCommand(SingleCommand(isOn: true), time: time))),
    ASDUVector("C_DC_TA_1 execute off, long pulse", "3B 01 06 00 01 00 10 00 00 09 \(t)",
               single(.activation, ioa: 16, .doubleCommand(DoubleCommand(state: .off, qualifier: .longPulse), time: time))),
    ASDUVector("C_RC_TA_1 select lower", "3C 01 06 00 01 00 10 00 00 81 \(t)",
               single(.activation, ioa: 16, .regulatingStepCommand(RegulatingStepCommand(direction: .lower, isSelect: true), time: time))),
    ASDUVector("C_SE_TA_1 execute 0.5", "3D 01 06 00 01 00 10 00 00 00 40 00 \(t)",
               single(.activation, ioa: 16, .setpointNormalized(NormalizedValue(0.5), SetpointQualifier(), time: time))),
    ASDUVector("C_SE_TB_1 execute -1000", "3E 01 06 00 01 00 10 00 00 18 FC 00 \(t)",
               single(.activation, ioa: 16, .setpointScaled(-1000, SetpointQualifier(), time: time))),
    ASDUVector("C_SE_TC_1 select 23.5f", "3F 01 06 00 01 00 10 00 00 00 00 BC 41 80 \(t)",
               single(.activation, ioa: 16, .setpointFloat(23.5, SetpointQualifier(isSelect: true), time: time))),
    ASDUVector("C_BO_TA_1 0x04030201", "40 01 06 00 01 00 10 00 00 01 02 03 04 \(t)",
               single(.activation, ioa: 16, .bitstringCommand(0x0403_0201, time: time))),
    // System commands
    ASDUVector("C_IC_NA_1 station interrogation, CA 47", "64 01 06 00 2F 00 00 00 00 14",
               single(.activation, ca: 47, ioa: 0, .interrogation(.station))),
    ASDUVector("C_IC_NA_1 deactivation of group 5", "64 01 08 00 2F 00 00 00 00 19",
               single(.deactivation, ca: 47, ioa: 0, .interrogation(.group(5)))),
    ASDUVector("C_IC_NA_1 negative test ACTCON, originator 5", "64 01 C7 05 2F 00 00 00 00 14",
               ASDU(cause: CauseOfTransmission(.activationConfirmation, isNegative: true, isTest: true, originator: 5),
                    commonAddress: 47, address: 0, element: .interrogation(.station))),
    ASDUVector("C_CI_NA_1 general request, freeze with reset", "65 01 06 00 01 00 00 00 00 85",
               single(.activation, ioa: 0, .counterInterrogation(CounterInterrogationQualifier(request: 5, freeze: .freezeWithReset)))),
    ASDUVector("C_CI_NA_1 group 2, freeze without reset", "65 01 06 00 01 00 00 00 00 42",
               single(.activation, ioa: 0, .counterInterrogation(CounterInterrogationQualifier(request: 2, freeze: .freezeWithoutReset)))),
    ASDUVector("C_RD_NA_1 IOA 10000", "66 01 05 00 01 00 10 27 00",
               single(.request, ioa: 10000, .read)),
    ASDUVector("C_CS_NA_1", "67 01 06 00 01 00 00 00 00 \(t)",
               single(.activation, ioa: 0, .clockSynchronization(time))),
    ASDUVector("C_CS_NA_1 2099-12-31 23:59:59.999 Thursday, SU", "67 01 07 00 01 00 00 00 00 5F EA 3B 97 9F 0C 63",
               single(.activationConfirmation, ioa: 0, .clockSynchronization(CP56Time2a(
                   year: 99, month: 12, dayOfMonth: 31, hour: 23, minute: 59, milliseconds: 59_999, dayOfWeek: 4,
                   isSummerTime: true)))),
    ASDUVector("C_TS_NA_1 0x55AA", "68 01 06 00 01 00 00 00 00 AA 55",
               single(.activation, ioa: 0, .test(pattern: 0x55AA))),
    ASDUVector("C_RP_NA_1 general reset", "69 01 06 00 01 00 00 00 00 01",
               single(.activation, ioa: 0, .resetProcess(.general))),
    ASDUVector("C_CD_NA_1 12345 ms", "6A 01 06 00 01 00 00 00 00 39 30",
               single(.activation, ioa: 0, .delayAcquisition(CP16Time2a(milliseconds: 12345)))),
    ASDUVector("C_TS_TA_1 counter 0x1234", "6B 01 06 00 01 00 00 00 00 34 12 \(t)",
               single(.activation, ioa: 0, .testWithTime(counter: 0x1234, time: time))),
    // Parameters
    ASDUVector("P_ME_NA_1 0.25 threshold, LPC", "6E 01 06 00 01 00 10 00 00 00 20 41",
               single(.activation, ioa: 16, .parameterNormalized(NormalizedValue(0.25), MeasuredParameterQualifier(kind: 1, localChange: true)))),
    ASDUVector("P_ME_NB_1 -100 low limit, POP", "6F 01 06 00 01 00 10 00 00 9C FF 83",
               single(.activation, ioa: 16, .parameterScaled(-100, MeasuredParameterQualifier(kind: 3, notInOperation: true)))),
    ASDUVector("P_ME_NC_1 1.5f high limit", "70 01 06 00 01 00 10 00 00 00 00 C0 3F 04",
               single(.activation, ioa: 16, .parameterFloat(1.5, MeasuredParameterQualifier(kind: 4)))),
    ASDUVector("P_AC_NA_1 QPA 3", "71 01 06 00 01 00 10 00 00 03",
               single(.activation, ioa: 16, .parameterActivation(ParameterActivationQualifier(rawValue: 3)))),
    // File transfer (clause 7.3.6): NOF 0x0102, IOA 30000 (30 75 00), CA 1
    ASDUVector("F_FR_NA_1 file ready, 800 octets", "78 01 0D 00 01 00 30 75 00 02 01 20 03 00 00",
               single(.fileTransfer, ioa: 30000, .fileReady(FileReady(nameOfFile: 0x0102, lengthOfFile: 800,
                                                                      qualifier: FileReadyQualifier(negative: false))))),
    ASDUVector("F_FR_NA_1 file not ready", "78 01 0D 00 01 00 30 75 00 02 01 00 00 00 80",
               single(.fileTransfer, ioa: 30000, .fileReady(FileReady(nameOfFile: 0x0102, lengthOfFile: 0,
                                                                      qualifier: FileReadyQualifier(negative: true))))),
    ASDUVector("F_SR_NA_1 section 2 ready, 65536 octets", "79 01 0D 00 01 00 30 75 00 02 01 02 00 00 01 00",
               single(.fileTransfer, ioa: 30000, .sectionReady(SectionReady(nameOfFile: 0x0102, nameOfSection: 2,
                                                                            lengthOfSection: 65536,
                                                                            qualifier: FileReadyQualifier(negative: false))))),
    ASDUVector("F_SC_NA_1 call directory (COT 5)", "7A 01 05 00 01 00 00 00 00 00 00 00 00",
               single(.request, ioa: 0, .fileCall(FileCall(nameOfFile: 0, qualifier: SelectCallQualifier(.default))))),
    ASDUVector("F_SC_NA_1 select file", "7A 01 0D 00 01 00 30 75 00 02 01 00 01",
               single(.fileTransfer, ioa: 30000, .fileCall(FileCall(nameOfFile: 0x0102, qualifier: SelectCallQualifier(.selectFile))))),
    ASDUVector("F_SC_NA_1 call section 3", "7A 01 0D 00 01 00 30 75 00 02 01 03 06",
               single(.fileTransfer, ioa: 30000, .fileCall(FileCall(nameOfFile: 0x0102, nameOfSection: 3,
                                                                    qualifier: SelectCallQualifier(.requestSection))))),
    ASDUVector("F_LS_NA_1 last segment of section 1, CHS 0xAB", "7B 01 0D 00 01 00 30 75 00 02 01 01 03 AB",
               single(.fileTransfer, ioa: 30000, .lastSection(LastSection(nameOfFile: 0x0102, nameOfSection: 1,
                                                                          qualifier: .sectionTransferWithoutDeactivation,
                                                                          checksum: 0xAB)))),
    ASDUVector("F_AF_NA_1 negative section acknowledge, checksum failed", "7C 01 0D 00 01 00 30 75 00 02 01 01 24",
               single(.fileTransfer, ioa: 30000, .fileAcknowledgement(FileAcknowledgement(
                   nameOfFile: 0x0102, nameOfSection: 1,
                   qualifier: AcknowledgeQualifier(.negativeSection, cause: .checksumFailed))))),
    ASDUVector("F_SG_NA_1 segment of three octets", "7D 01 0D 00 01 00 30 75 00 02 01 01 03 0A 0B 0C",
               single(.fileTransfer, ioa: 30000, .segment(FileSegment(nameOfFile: 0x0102, nameOfSection: 1,
                                                                      data: [0x0A, 0x0B, 0x0C])))),
    ASDUVector("F_DR_TA_1 last directory entry, 1 MiB", "7E 01 05 00 01 00 30 75 00 02 01 00 00 10 20 \(t)",
               single(.request, ioa: 30000, .directoryEntry(DirectoryEntry(nameOfFile: 0x0102, lengthOfFile: 1 << 20,
                                                                           status: FileStatus(lastFileOfDirectory: true),
                                                                           time: time)))),
    ASDUVector("F_SC_NB_1 query log", "7F 01 05 00 01 00 30 75 00 02 01 \(t) \(t)",
               single(.request, ioa: 30000, .queryLog(nameOfFile: 0x0102, start: time, stop: time))),
]

@Suite("ASDU byte vectors")
struct ASDUVectorTests {
    @Test("decode(bytes) == model", arguments: asduVectors)
    func decodes(_ vector: ASDUVector) throws {
        let decoded = try ASDU(decoding: vector.bytes)
        #expect(decoded == vector.asdu)
    }

    @Test("encode(model) == bytes", arguments: asduVectors)
    func encodes(_ vector: ASDUVector) throws {
        let bytes = try vector.asdu.encoded()
        #expect(hexString(bytes) == hexString(vector.bytes))
        #expect(vector.asdu.encodedLength == vector.bytes.count)
    }

    @Test("the header decodes on its own")
    func headerOnly() throws {
        let header = try ASDUHeader(decoding: hex("64 01 C7 05 2F 00"))
        #expect(header == ASDUHeader(rawTypeID: 100, isSequence: false, count: 1,
                                     cause: CauseOfTransmission(.activationConfirmation, isNegative: true, isTest: true, originator: 5),
                                     commonAddress: 47))
        #expect(header.typeID == .C_IC_NA_1)
        var bytes: [UInt8] = []
        header.encode(into: &bytes)
        #expect(bytes == hex("64 01 C7 05 2F 00"))

        // An unknown type still yields a header, so that the station can answer with COT 44.
        let unknown = try ASDUHeader(decoding: hex("02 81 06 00 FF FF 00 00 00"))
        #expect(unknown.typeID == nil && unknown.rawTypeID == 2 && unknown.isSequence && unknown.count == 1)
        #expect(unknown.commonAddress == ASDU.broadcastAddress)
    }

    @Test("every type ID has a vector")
    func coverage() {
        let covered = Set(asduVectors.map(\.asdu.typeID))
        #expect(covered == Set(TypeID.allCases))
    }

    @Test("the general interrogation APDU of CA 47")
    func generalInterrogationFrame() throws {
        let frame = hex("68 0E 00 00 00 00 64 01 06 00 2F 00 00 00 00 14")
        var framer = StreamFramer()
        framer.append(frame)
        let apdu = try #require(try framer.next())
        #expect(apdu.apci == .information(send: 0, receive: 0))
        let asdu = try ASDU(decoding: apdu.asdu)
        #expect(asdu.typeID == .C_IC_NA_1)
        #expect(asdu.commonAddress == 47)
        #expect(asdu.cause == CauseOfTransmission(.activation))
        #expect(asdu.objects == [InformationObject(address: 0, element: .interrogation(InterrogationQualifier(rawValue: 20)))])

        let encoded = APDU(apci: .information(send: 0, receive: 0), asdu: try asdu.encoded()).encoded
        #expect(encoded == frame)
    }

    @Test("normalized values convert to and from fractions")
    func normalizedValue() {
        #expect(NormalizedValue(-0.5).rawValue == -16384)
        #expect(NormalizedValue(0.25).rawValue == 8192)
        #expect(NormalizedValue(-1).rawValue == .min)
        #expect(NormalizedValue(1).rawValue == .max)
        #expect(NormalizedValue(2).rawValue == .max)
        #expect(NormalizedValue(-7).rawValue == .min)
        #expect(NormalizedValue(.nan).rawValue == 0)
        #expect(NormalizedValue(rawValue: 16384).doubleValue == 0.5)
    }

    @Test("reserved bits are ignored on decode")
    func reservedBitsIgnored() throws {
        // SIQ with reserved bits 2-4 set, QDS with reserved bits 2-4 set.
        let siq = try ASDU(decoding: hex("01 01 03 00 01 00 01 00 00 0F"))
        #expect(siq.objects[0].element == .singlePoint(SinglePointInformation(isOn: true)))
        let qds = try ASDU(decoding: hex("0B 01 03 00 01 00 01 00 00 00 00 0E"))
        #expect(qds.objects[0].element == .scaled(0, []))
        // QDP with reserved bits 1-3 set.
        let qdp = try ASDU(decoding: hex("28 01 03 00 01 00 01 00 00 0F 07 3C 00 \(t)"))
        #expect(qdp.objects[0].element == .protectionOutputCircuit([.general, .phaseL1, .phaseL2, .phaseL3], [],
                                                                   operatingTime: CP16Time2a(milliseconds: 60), time: time))
        // CP56 with RES2, RES3 and RES4 set.
        let cp56 = try ASDU(decoding: hex("67 01 06 00 01 00 00 00 00 B3 C7 39 64 F6 FB 9A"))
        #expect(cp56.objects[0].element == .clockSynchronization(time))
    }
}
