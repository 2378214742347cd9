import IEC104

/// The human-readable form of one APDU, several lines without a final line break:
///
/// ```
/// frame 1: I-frame N(S)=0 N(R)=0 (16 octets)
///   type: C_IC_NA_1 (100) interrogation command
///   SQ=0 objects=1
///   COT: act (6) P/N=0 T=0 originator=0
///   CA: 47
///   IOA 0: QOI=20 (station interrogation)
/// ```
///
/// S- and U-frames take one line (`frame 2: S-frame N(R)=5`, `frame 3: U-frame STARTDT act`).
/// Each object line has the element's value(s), then `quality=` (flags or `good`) for types with a
/// quality descriptor and `time=` for types with a CP56Time2a time tag.
enum APDUTextFormatter {
    static func format(_ frame: DecodedFrame) -> String {
        let octets = APCI.headerLength + frame.apdu.asdu.count
        switch frame.apdu.apci {
        case .supervisory(let receive):
            return "frame \(frame.number): S-frame N(R)=\(receive)"
        case .unnumbered(let function):
            return "frame \(frame.number): U-frame \(function.name)"
        case .information(let send, let receive):
            var lines = ["frame \(frame.number): I-frame N(S)=\(send) N(R)=\(receive) (\(octets) octets)"]
            if let header = frame.header {
                lines += headerLines(header)
            }
            if let asdu = frame.asdu {
                lines += asdu.objects.map { "  IOA \($0.address): " + element($0.element) }
            }
            return lines.joined(separator: "\n")
        }
    }

    static func headerLines(_ header: ASDUHeader) -> [String] {
        let type = header.typeID.map { "\($0.mnemonic) (\($0.rawValue)) \($0.summary)" }
            ?? "unknown (\(header.rawTypeID))"
        let cot = header.cause
        return [
            "  type: \(type)",
            "  SQ=\(header.isSequence ? 1 : 0) objects=\(header.count)",
            "  COT: \(cot.cause.name) (\(cot.cause.rawValue))"
                + (cot.isNegative ? " P/N=1 (negative)" : " P/N=0")
                + (cot.isTest ? " T=1 (test)" : " T=0")
                + " originator=\(cot.originator)",
            "  CA: \(header.commonAddress)" + (header.commonAddress == ASDU.broadcastAddress ? " (broadcast)" : ""),
        ]
    }

    /// The text after `IOA n: ` for each element case.
    static func element(_ element: InformationElement) -> String {
        var parts: [String] = []
        var quality: [String]?
        switch element {
        case .singlePoint(let siq, _):
            parts.append("value=\(siq.isOn ? "on" : "off")")
            quality = siq.quality.flagNames
        case .doublePoint(let diq, _):
            parts.append("value=\(diq.state.name)")
            quality = diq.quality.flagNames
        case .stepPosition(let vti, let qds, _):
            parts.append("value=\(vti.value)" + (vti.isTransient ? " transient" : ""))
            quality = qds.flagNames
        case .bitstring(let bits, let qds, _):
            parts.append("value=\(ElementNames.hex(bits))")
            quality = qds.flagNames
        case .normalized(let value, let qds, _):
            parts.append(normalized(value))
            quality = qds.flagNames
        case .scaled(let value, let qds, _):
            parts.append("value=\(value)")
            quality = qds.flagNames
        case .float(let value, let qds, _):
            parts.append("value=\(value)")
            quality = qds.flagNames
        case .integratedTotals(let bcr, _):
            parts.append("value=\(bcr.value) seq=\(bcr.sequenceNumber)")
            quality = ElementNames.counterFlags(bcr)
        case .packedSinglePoints(let scd, let qds):
            parts.append("status=\(ElementNames.hex(scd.status)) changed=\(ElementNames.hex(scd.changed))")
            quality = qds.flagNames
        case .normalizedWithoutQuality(let value):
            parts.append(normalized(value))
        case .protectionEvent(let sep, let elapsed, _):
            parts.append("event=\(sep.state.name) elapsed=\(elapsed.milliseconds) ms")
            quality = sep.quality.flagNames
        case .protectionStartEvents(let spe, let qdp, let duration, _):
            parts.append("start=\(list(ElementNames.startEvents(spe))) duration=\(duration.milliseconds) ms")
            quality = qdp.flagNames
        case .protectionOutputCircuit(let oci, let qdp, let operatingTime, _):
            parts.append("trip=\(list(ElementNames.outputCircuits(oci))) operating-time=\(operatingTime.milliseconds) ms")
            quality = qdp.flagNames
        case .endOfInitialization(let coi):
            parts.append("COI=\(coi.cause) (\(ElementNames.causeOfInitialization(coi.cause)))"
                + (coi.afterParameterChange ? " after parameter change" : ""))
        case .singleCommand(let sco, _):
            parts.append("value=\(sco.isOn ? "on" : "off") \(command(select: sco.isSelect, sco.qualifier))")
        case .doubleCommand(let dco, _):
            parts.append("value=\(ElementNames.doubleCommand(dco.state)) \(command(select: dco.isSelect, dco.qualifier))")
        case .regulatingStepCommand(let rco, _):
            parts.append("value=\(ElementNames.stepDirection(rco.direction)) \(command(select: rco.isSelect, rco.qualifier))")
        case .setpointNormalized(let value, let qos, _):
            parts.append(normalized(value) + " " + setpoint(qos))
        case .setpointScaled(let value, let qos, _):
            parts.append("value=\(value) " + setpoint(qos))
        case .setpointFloat(let value, let qos, _):
            parts.append("value=\(value) " + setpoint(qos))
        case .bitstringCommand(let bits, _):
            parts.append("value=\(ElementNames.hex(bits))")
        case .interrogation(let qoi):
            parts.append("QOI=\(qoi.rawValue) (\(qoi.name))")
        case .counterInterrogation(let qcc):
            parts.append("RQT=\(qcc.request) (\(ElementNames.counterRequest(qcc.request))) FRZ=\(qcc.freeze.rawValue) (\(qcc.freeze.name))")
        case .read:
            parts.append("read")
        case .clockSynchronization:
            break  // the time is the whole element
        case .test(let pattern):
            parts.append("FBP=\(ElementNames.hex(pattern))")
        case .resetProcess(let qrp):
            parts.append("QRP=\(qrp.rawValue) (\(ElementNames.resetProcess(qrp.rawValue)))")
        case .delayAcquisition(let delay):
            parts.append("delay=\(delay.milliseconds) ms")
        case .testWithTime(let counter, _):
            parts.append("TSC=\(counter)")
        case .parameterNormalized(let value, let qpm):
            parts.append(normalized(value) + " " + parameter(qpm))
        case .parameterScaled(let value, let qpm):
            parts.append("value=\(value) " + parameter(qpm))
        case .parameterFloat(let value, let qpm):
            parts.append("value=\(value) " + parameter(qpm))
        case .parameterActivation(let qpa):
            parts.append("QPA=\(qpa.rawValue) (\(ElementNames.parameterActivation(qpa.rawValue)))")
        case .fileReady, .sectionReady, .fileCall, .lastSection, .fileAcknowledgement, .segment, .directoryEntry,
             .queryLog:
            parts.append(FileElementFields.text(FileElementFields.fields(element) ?? []))
        }
        if let quality { parts.append("quality=" + (quality.isEmpty ? "good" : quality.joined(separator: ","))) }
        if let time = element.time { parts.append("time=\(time)") }
        return parts.joined(separator: " ")
    }

    static func normalized(_ value: NormalizedValue) -> String {
        "value=\(value.doubleValue) (raw \(value.rawValue))"
    }

    static func command(select: Bool, _ qualifier: CommandQualifier) -> String {
        "\(select ? "select" : "execute") QU=\(qualifier.rawValue) (\(qualifier.name))"
    }

    static func setpoint(_ qos: SetpointQualifier) -> String {
        "\(qos.isSelect ? "select" : "execute") QL=\(qos.qualifier)"
    }

    static func parameter(_ qpm: MeasuredParameterQualifier) -> String {
        "KPA=\(qpm.kind) (\(ElementNames.parameterKind(qpm.kind)))"
            + (qpm.localChange ? " LPC" : "") + (qpm.notInOperation ? " POP" : "")
    }

    static func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ",") }
}
