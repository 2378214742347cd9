/// The information element set of one information object, one case per family of type IDs.
///
/// Where the standard has a type with and one without a CP56Time2a time tag, the case carries an
/// optional time and ``typeID`` tells which of the two it encodes as.
public enum InformationElement: Hashable, Sendable {
    // Monitor direction
    case singlePoint(SinglePointInformation, time: CP56Time2a? = nil)
    case doublePoint(DoublePointInformation, time: CP56Time2a? = nil)
    case stepPosition(StepPosition, QualityDescriptor, time: CP56Time2a? = nil)
    case bitstring(UInt32, QualityDescriptor, time: CP56Time2a? = nil)
    case normalized(NormalizedValue, QualityDescriptor, time: CP56Time2a? = nil)
    case scaled(Int16, QualityDescriptor, time: CP56Time2a? = nil)
    case float(Float, QualityDescriptor, time: CP56Time2a? = nil)
    case integratedTotals(BinaryCounterReading, time: CP56Time2a? = nil)
    case packedSinglePoints(StatusChangeDetection, QualityDescriptor)
    case normalizedWithoutQuality(NormalizedValue)
    case protectionEvent(SingleEventOfProtection, elapsed: CP16Time2a, time: CP56Time2a)
    case protectionStartEvents(StartEventsOfProtection, ProtectionQuality, duration: CP16Time2a, time: CP56Time2a)
    case protectionOutputCircuit(OutputCircuitInformation, ProtectionQuality, operatingTime: CP16Time2a, time: CP56Time2a)
    case endOfInitialization(CauseOfInitialization)
    // Control direction, process
    case singleCommand(SingleCommand, time: CP56Time2a? = nil)
    case doubleCommand(DoubleCommand, time: CP56Time2a? = nil)
    case regulatingStepCommand(RegulatingStepCommand, time: CP56Time2a? = nil)
    case setpointNormalized(NormalizedValue, SetpointQualifier, time: CP56Time2a? = nil)
    case setpointScaled(Int16, SetpointQualifier, time: CP56Time2a? = nil)
    case setpointFloat(Float, SetpointQualifier, time: CP56Time2a? = nil)
    case bitstringCommand(UInt32, time: CP56Time2a? = nil)
    // Control direction, system
    case interrogation(InterrogationQualifier)
    case counterInterrogation(CounterInterrogationQualifier)
    case read
    case clockSynchronization(CP56Time2a)
    /// C_TS_NA_1 with its fixed test bit pattern FBP (0x55AA); not for IEC 60870-5-104.
    case test(pattern: UInt16)
    case resetProcess(ResetProcessQualifier)
    case delayAcquisition(CP16Time2a)
    case testWithTime(counter: UInt16, time: CP56Time2a)
    // Control direction, parameters
    case parameterNormalized(NormalizedValue, MeasuredParameterQualifier)
    case parameterScaled(Int16, MeasuredParameterQualifier)
    case parameterFloat(Float, MeasuredParameterQualifier)
    case parameterActivation(ParameterActivationQualifier)
    // File transfer
    case fileReady(FileReady)
    case sectionReady(SectionReady)
    case fileCall(FileCall)
    case lastSection(LastSection)
    case fileAcknowledgement(FileAcknowledgement)
    case segment(FileSegment)
    case directoryEntry(DirectoryEntry)
    /// F_SC_NB_1: the file of `nameOfFile` holding what was logged between `start` and `stop`.
    case queryLog(nameOfFile: UInt16, start: CP56Time2a, stop: CP56Time2a)

    /// The type ID this element encodes as.
    public var typeID: TypeID {
        switch self {
        case .singlePoint(_, let time): time == nil ? .M_SP_NA_1 : .M_SP_TB_1
        case .doublePoint(_, let time): time == nil ? .M_DP_NA_1 : .M_DP_TB_1
        case .stepPosition(_, _, let time): time == nil ? .M_ST_NA_1 : .M_ST_TB_1
        case .bitstring(_, _, let time): time == nil ? .M_BO_NA_1 : .M_BO_TB_1
        case .normalized(_, _, let time): time == nil ? .M_ME_NA_1 : .M_ME_TD_1
        case .scaled(_, _, let time): time == nil ? .M_ME_NB_1 : .M_ME_TE_1
        case .float(_, _, let time): time == nil ? .M_ME_NC_1 : .M_ME_TF_1
        case .integratedTotals(_, let time): time == nil ? .M_IT_NA_1 : .M_IT_TB_1
        case .packedSinglePoints: .M_PS_NA_1
        case .normalizedWithoutQuality: .M_ME_ND_1
        case .protectionEvent: .M_EP_TD_1
        case .protectionStartEvents: .M_EP_TE_1
        case .protectionOutputCircuit: .M_EP_TF_1
        case .endOfInitialization: .M_EI_NA_1
        case .singleCommand(_, let time): time == nil ? .C_SC_NA_1 : .C_SC_TA_1
        case .doubleCommand(_, let time): time == nil ? .C_DC_NA_1 : .C_DC_TA_1
        case .regulatingStepCommand(_, let time): time == nil ? .C_RC_NA_1 : .C_RC_TA_1
        case .setpointNormalized(_, _, let time): time == nil ? .C_SE_NA_1 : .C_SE_TA_1
        case .setpointScaled(_, _, let time): time == nil ? .C_SE_NB_1 : .C_SE_TB_1
        case .setpointFloat(_, _, let time): time == nil ? .C_SE_NC_1 : .C_SE_TC_1
        case .bitstringCommand(_, let time): time == nil ? .C_BO_NA_1 : .C_BO_TA_1
        case .interrogation: .C_IC_NA_1
        case .counterInterrogation: .C_CI_NA_1
        case .read: .C_RD_NA_1
        case .clockSynchronization: .C_CS_NA_1
        case .test: .C_TS_NA_1
        case .resetProcess: .C_RP_NA_1
        case .delayAcquisition: .C_CD_NA_1
        case .testWithTime: .C_TS_TA_1
        case .parameterNormalized: .P_ME_NA_1
        case .parameterScaled: .P_ME_NB_1
        case .parameterFloat: .P_ME_NC_1
        case .parameterActivation: .P_AC_NA_1
        case .fileReady: .F_FR_NA_1
        case .sectionReady: .F_SR_NA_1
        case .fileCall: .F_SC_NA_1
        case .lastSection: .F_LS_NA_1
        case .fileAcknowledgement: .F_AF_NA_1
        case .segment: .F_SG_NA_1
        case .directoryEntry: .F_DR_TA_1
        case .queryLog: .F_SC_NB_1
        }
    }

    /// The CP56Time2a time tag, if the element has one.
    public var time: CP56Time2a? {
        switch self {
        case .singlePoint(_, let time), .doublePoint(_, let time), .integratedTotals(_, let time),
             .singleCommand(_, let time), .doubleCommand(_, let time), .regulatingStepCommand(_, let time),
             .bitstringCommand(_, let time):
            time
        case .stepPosition(_, _, let time), .bitstring(_, _, let time), .normalized(_, _, let time),
             .scaled(_, _, let time), .float(_, _, let time), .setpointNormalized(_, _, let time),
             .setpointScaled(_, _, let time), .setpointFloat(_, _, let time):
            time
        case .protectionEvent(_, _, let time), .clockSynchronization(let time), .testWithTime(_, let time):
            time
        case .directoryEntry(let entry):
            entry.time
        case .protectionStartEvents(_, _, _, let time), .protectionOutputCircuit(_, _, _, let time):
            time
        case .packedSinglePoints, .normalizedWithoutQuality, .endOfInitialization, .interrogation,
             .counterInterrogation, .read, .test, .resetProcess, .delayAcquisition, .parameterNormalized,
             .parameterScaled, .parameterFloat, .parameterActivation, .fileReady, .sectionReady, .fileCall,
             .lastSection, .fileAcknowledgement, .segment, .queryLog:
            nil
        }
    }

    /// Appends the element's octets (without the information object address).
    public func encode(into bytes: inout [UInt8]) {
        switch self {
        case .singlePoint(let siq, let time):
            bytes.append(siq.octet)
            time?.encode(into: &bytes)
        case .doublePoint(let diq, let time):
            bytes.append(diq.octet)
            time?.encode(into: &bytes)
        case .stepPosition(let vti, let quality, let time):
            bytes.append(vti.octet)
            bytes.append(quality.rawValue)
            time?.encode(into: &bytes)
        case .bitstring(let bits, let quality, let time):
            bytes.appendUInt32(bits)
            bytes.append(quality.rawValue)
            time?.encode(into: &bytes)
        case .normalized(let value, let quality, let time):
            bytes.appendUInt16(UInt16(bitPattern: value.rawValue))
            bytes.append(quality.rawValue)
            time?.encode(into: &bytes)
        case .scaled(let value, let quality, let time):
            bytes.appendUInt16(UInt16(bitPattern: value))
            bytes.append(quality.rawValue)
            time?.encode(into: &bytes)
        case .float(let value, let quality, let time):
            bytes.appendUInt32(value.bitPattern)
            bytes.append(quality.rawValue)
            time?.encode(into: &bytes)
        case .integratedTotals(let bcr, let time):
            bytes.appendUInt32(UInt32(bitPattern: bcr.value))
            bytes.append(bcr.flagsOctet)
            time?.encode(into: &bytes)
        case .packedSinglePoints(let scd, let quality):
            bytes.appendUInt16(scd.status)
            bytes.appendUInt16(scd.changed)
            bytes.append(quality.rawValue)
        case .normalizedWithoutQuality(let value):
            bytes.appendUInt16(UInt16(bitPattern: value.rawValue))
        case .protectionEvent(let sep, let elapsed, let time):
            bytes.append(sep.octet)
            elapsed.encode(into: &bytes)
            time.encode(into: &bytes)
        case .protectionStartEvents(let spe, let quality, let duration, let time):
            bytes.append(spe.rawValue)
            bytes.append(quality.rawValue)
            duration.encode(into: &bytes)
            time.encode(into: &bytes)
        case .protectionOutputCircuit(let oci, let quality, let operatingTime, let time):
            bytes.append(oci.rawValue)
            bytes.append(quality.rawValue)
            operatingTime.encode(into: &bytes)
            time.encode(into: &bytes)
        case .endOfInitialization(let coi):
            bytes.append(coi.octet)
        case .singleCommand(let sco, let time):
            bytes.append(sco.octet)
            time?.encode(into: &bytes)
        case .doubleCommand(let dco, let time):
            bytes.append(dco.octet)
            time?.encode(into: &bytes)
        case .regulatingStepCommand(let rco, let time):
            bytes.append(rco.octet)
            time?.encode(into: &bytes)
        case .setpointNormalized(let value, let qos, let time):
            bytes.appendUInt16(UInt16(bitPattern: value.rawValue))
            bytes.append(qos.octet)
            time?.encode(into: &bytes)
        case .setpointScaled(let value, let qos, let time):
            bytes.appendUInt16(UInt16(bitPattern: value))
            bytes.append(qos.octet)
            time?.encode(into: &bytes)
        case .setpointFloat(let value, let qos, let time):
            bytes.appendUInt32(value.bitPattern)
            bytes.append(qos.octet)
            time?.encode(into: &bytes)
        case .bitstringCommand(let bits, let time):
            bytes.appendUInt32(bits)
            time?.encode(into: &bytes)
        case .interrogation(let qoi):
            bytes.append(qoi.rawValue)
        case .counterInterrogation(let qcc):
            bytes.append(qcc.octet)
        case .read:
            break
        case .clockSynchronization(let time):
            time.encode(into: &bytes)
        case .test(let pattern):
            bytes.appendUInt16(pattern)
        case .resetProcess(let qrp):
            bytes.append(qrp.rawValue)
        case .delayAcquisition(let delay):
            delay.encode(into: &bytes)
        case .testWithTime(let counter, let time):
            bytes.appendUInt16(counter)
            time.encode(into: &bytes)
        case .parameterNormalized(let value, let qpm):
            bytes.appendUInt16(UInt16(bitPattern: value.rawValue))
            bytes.append(qpm.octet)
        case .parameterScaled(let value, let qpm):
            bytes.appendUInt16(UInt16(bitPattern: value))
            bytes.append(qpm.octet)
        case .parameterFloat(let value, let qpm):
            bytes.appendUInt32(value.bitPattern)
            bytes.append(qpm.octet)
        case .parameterActivation(let qpa):
            bytes.append(qpa.rawValue)
        case .fileReady(let ready):
            bytes.appendUInt16(ready.nameOfFile)
            bytes.appendUInt24(ready.lengthOfFile)
            bytes.append(ready.qualifier.octet)
        case .sectionReady(let ready):
            bytes.appendUInt16(ready.nameOfFile)
            bytes.append(ready.nameOfSection)
            bytes.appendUInt24(ready.lengthOfSection)
            bytes.append(ready.qualifier.octet)
        case .fileCall(let call):
            bytes.appendUInt16(call.nameOfFile)
            bytes.append(call.nameOfSection)
            bytes.append(call.qualifier.octet)
        case .lastSection(let last):
            bytes.appendUInt16(last.nameOfFile)
            bytes.append(last.nameOfSection)
            bytes.append(last.qualifier.rawValue)
            bytes.append(last.checksum)
        case .fileAcknowledgement(let ack):
            bytes.appendUInt16(ack.nameOfFile)
            bytes.append(ack.nameOfSection)
            bytes.append(ack.qualifier.octet)
        case .segment(let segment):
            bytes.appendUInt16(segment.nameOfFile)
            bytes.append(segment.nameOfSection)
            bytes.append(UInt8(truncatingIfNeeded: segment.data.count))
            bytes.append(contentsOf: segment.data)
        case .directoryEntry(let entry):
            bytes.appendUInt16(entry.nameOfFile)
            bytes.appendUInt24(entry.lengthOfFile)
            bytes.append(entry.status.octet)
            entry.time.encode(into: &bytes)
        case .queryLog(let nameOfFile, let start, let stop):
            bytes.appendUInt16(nameOfFile)
            start.encode(into: &bytes)
            stop.encode(into: &bytes)
        }
    }

    /// Octets of the encoded element: ``TypeID/elementSize`` but for a segment, which carries its data.
    public var encodedSize: Int {
        if case .segment(let segment) = self { return TypeID.F_SG_NA_1.elementSize + segment.data.count }
        return typeID.elementSize
    }

    /// Decodes one element of `type`; the caller has checked that enough octets remain.
    static func decode(_ type: TypeID, from reader: inout ByteReader) throws(ASDUError) -> InformationElement {
        @inline(__always) func time(_ present: Bool, _ reader: inout ByteReader) throws(ASDUError) -> CP56Time2a? {
            present ? try CP56Time2a.decode(from: &reader) : nil
        }
        let timed = type.hasTimeTag
        switch type {
        case .M_SP_NA_1, .M_SP_TB_1:
            let siq = SinglePointInformation(octet: try reader.readUInt8())
            return .singlePoint(siq, time: try time(timed, &reader))
        case .M_DP_NA_1, .M_DP_TB_1:
            let diq = DoublePointInformation(octet: try reader.readUInt8())
            return .doublePoint(diq, time: try time(timed, &reader))
        case .M_ST_NA_1, .M_ST_TB_1:
            let vti = StepPosition(octet: try reader.readUInt8())
            let quality = QualityDescriptor(masking: try reader.readUInt8())
            return .stepPosition(vti, quality, time: try time(timed, &reader))
        case .M_BO_NA_1, .M_BO_TB_1:
            let bits = try reader.readUInt32()
            let quality = QualityDescriptor(masking: try reader.readUInt8())
            return .bitstring(bits, quality, time: try time(timed, &reader))
        case .M_ME_NA_1, .M_ME_TD_1:
            let value = NormalizedValue(rawValue: try reader.readInt16())
            let quality = QualityDescriptor(masking: try reader.readUInt8())
            return .normalized(value, quality, time: try time(timed, &reader))
        case .M_ME_NB_1, .M_ME_TE_1:
            let value = try reader.readInt16()
            let quality = QualityDescriptor(masking: try reader.readUInt8())
            return .scaled(value, quality, time: try time(timed, &reader))
        case .M_ME_NC_1, .M_ME_TF_1:
            let value = try reader.readFloat()
            let quality = QualityDescriptor(masking: try reader.readUInt8())
            return .float(value, quality, time: try time(timed, &reader))
        case .M_IT_NA_1, .M_IT_TB_1:
            let value = Int32(bitPattern: try reader.readUInt32())
            let bcr = BinaryCounterReading(value: value, flagsOctet: try reader.readUInt8())
            return .integratedTotals(bcr, time: try time(timed, &reader))
        case .M_PS_NA_1:
            let status = try reader.readUInt16()
            let changed = try reader.readUInt16()
            let quality = QualityDescriptor(masking: try reader.readUInt8())
            return .packedSinglePoints(StatusChangeDetection(status: status, changed: changed), quality)
        case .M_ME_ND_1:
            return .normalizedWithoutQuality(NormalizedValue(rawValue: try reader.readInt16()))
        case .M_EP_TD_1:
            let sep = SingleEventOfProtection(octet: try reader.readUInt8())
            let elapsed = try CP16Time2a.decode(from: &reader)
            return .protectionEvent(sep, elapsed: elapsed, time: try CP56Time2a.decode(from: &reader))
        case .M_EP_TE_1:
            let spe = StartEventsOfProtection(rawValue: try reader.readUInt8())
            let quality = ProtectionQuality(masking: try reader.readUInt8())
            let duration = try CP16Time2a.decode(from: &reader)
            return .protectionStartEvents(spe, quality, duration: duration, time: try CP56Time2a.decode(from: &reader))
        case .M_EP_TF_1:
            let oci = OutputCircuitInformation(rawValue: try reader.readUInt8())
            let quality = ProtectionQuality(masking: try reader.readUInt8())
            let operatingTime = try CP16Time2a.decode(from: &reader)
            return .protectionOutputCircuit(oci, quality, operatingTime: operatingTime,
                                            time: try CP56Time2a.decode(from: &reader))
        case .M_EI_NA_1:
            return .endOfInitialization(CauseOfInitialization(octet: try reader.readUInt8()))
        case .C_SC_NA_1, .C_SC_TA_1:
            let sco = SingleCommand(octet: try reader.readUInt8())
            return .singleCommand(sco, time: try time(timed, &reader))
        case .C_DC_NA_1, .C_DC_TA_1:
            let dco = try DoubleCommand(octet: try reader.readUInt8())
            return .doubleCommand(dco, time: try time(timed, &reader))
        case .C_RC_NA_1, .C_RC_TA_1:
            let rco = try RegulatingStepCommand(octet: try reader.readUInt8())
            return .regulatingStepCommand(rco, time: try time(timed, &reader))
        case .C_SE_NA_1, .C_SE_TA_1:
            let value = NormalizedValue(rawValue: try reader.readInt16())
            let qos = SetpointQualifier(octet: try reader.readUInt8())
            return .setpointNormalized(value, qos, time: try time(timed, &reader))
        case .C_SE_NB_1, .C_SE_TB_1:
            let value = try reader.readInt16()
            let qos = SetpointQualifier(octet: try reader.readUInt8())
            return .setpointScaled(value, qos, time: try time(timed, &reader))
        case .C_SE_NC_1, .C_SE_TC_1:
            let value = try reader.readFloat()
            let qos = SetpointQualifier(octet: try reader.readUInt8())
            return .setpointFloat(value, qos, time: try time(timed, &reader))
        case .C_BO_NA_1, .C_BO_TA_1:
            let bits = try reader.readUInt32()
            return .bitstringCommand(bits, time: try time(timed, &reader))
        case .C_IC_NA_1:
            return .interrogation(InterrogationQualifier(rawValue: try reader.readUInt8()))
        case .C_CI_NA_1:
            return .counterInterrogation(CounterInterrogationQualifier(octet: try reader.readUInt8()))
        case .C_RD_NA_1:
            return .read
        case .C_CS_NA_1:
            return .clockSynchronization(try CP56Time2a.decode(from: &reader))
        case .C_TS_NA_1:
            return .test(pattern: try reader.readUInt16())
        case .C_RP_NA_1:
            return .resetProcess(ResetProcessQualifier(rawValue: try reader.readUInt8()))
        case .C_CD_NA_1:
            return .delayAcquisition(try CP16Time2a.decode(from: &reader))
        case .C_TS_TA_1:
            let counter = try reader.readUInt16()
            return .testWithTime(counter: counter, time: try CP56Time2a.decode(from: &reader))
        case .P_ME_NA_1:
            let value = NormalizedValue(rawValue: try reader.readInt16())
            return .parameterNormalized(value, MeasuredParameterQualifier(octet: try reader.readUInt8()))
        case .P_ME_NB_1:
            let value = try reader.readInt16()
            return .parameterScaled(value, MeasuredParameterQualifier(octet: try reader.readUInt8()))
        case .P_ME_NC_1:
            let value = try reader.readFloat()
            return .parameterFloat(value, MeasuredParameterQualifier(octet: try reader.readUInt8()))
        case .P_AC_NA_1:
            return .parameterActivation(ParameterActivationQualifier(rawValue: try reader.readUInt8()))
        case .F_FR_NA_1:
            let name = try reader.readUInt16()
            let length = try reader.readUInt24()
            return .fileReady(FileReady(nameOfFile: name, lengthOfFile: length,
                                        qualifier: FileReadyQualifier(octet: try reader.readUInt8())))
        case .F_SR_NA_1:
            let name = try reader.readUInt16()
            let section = try reader.readUInt8()
            let length = try reader.readUInt24()
            return .sectionReady(SectionReady(nameOfFile: name, nameOfSection: section, lengthOfSection: length,
                                              qualifier: FileReadyQualifier(octet: try reader.readUInt8())))
        case .F_SC_NA_1:
            let name = try reader.readUInt16()
            let section = try reader.readUInt8()
            return .fileCall(FileCall(nameOfFile: name, nameOfSection: section,
                                      qualifier: SelectCallQualifier(octet: try reader.readUInt8())))
        case .F_LS_NA_1:
            let name = try reader.readUInt16()
            let section = try reader.readUInt8()
            let qualifier = LastSectionQualifier(rawValue: try reader.readUInt8())
            return .lastSection(LastSection(nameOfFile: name, nameOfSection: section, qualifier: qualifier,
                                            checksum: try reader.readUInt8()))
        case .F_AF_NA_1:
            let name = try reader.readUInt16()
            let section = try reader.readUInt8()
            return .fileAcknowledgement(FileAcknowledgement(nameOfFile: name, nameOfSection: section,
                                                            qualifier: AcknowledgeQualifier(octet: try reader.readUInt8())))
        case .F_SG_NA_1:
            let name = try reader.readUInt16()
            let section = try reader.readUInt8()
            let length = Int(try reader.readUInt8())
            var data: [UInt8] = []
            data.reserveCapacity(length)
            for _ in 0..<length { data.append(try reader.readUInt8()) }
            return .segment(FileSegment(nameOfFile: name, nameOfSection: section, data: data))
        case .F_DR_TA_1:
            let name = try reader.readUInt16()
            let length = try reader.readUInt24()
            let status = FileStatus(octet: try reader.readUInt8())
            return .directoryEntry(DirectoryEntry(nameOfFile: name, lengthOfFile: length, status: status,
                                                  time: try CP56Time2a.decode(from: &reader)))
        case .F_SC_NB_1:
            let name = try reader.readUInt16()
            let start = try CP56Time2a.decode(from: &reader)
            return .queryLog(nameOfFile: name, start: start, stop: try CP56Time2a.decode(from: &reader))
        }
    }
}

/// One information object: its address (IOA) and its element set.
public struct InformationObject: Hashable, Sendable {
    /// Information object address, three octets in IEC 60870-5-104 (0…16 777 215).
    public var address: UInt32
    public var element: InformationElement

    public init(address: UInt32, element: InformationElement) {
        self.address = address
        self.element = element
    }
}
