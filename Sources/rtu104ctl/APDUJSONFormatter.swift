import Config
import IEC104

/// One APDU as one line of JSON. Keys come out in the order listed here, always.
///
/// Frame keys:
/// - S-frame: `{"frame":"S","nr":5}`
/// - U-frame: `{"frame":"U","function":"STARTDT act"}` (STARTDT/STOPDT/TESTFR act/con)
/// - I-frame: `frame` ("I"), `ns`, `nr`, then the ASDU header: `type` (mnemonic, or null for an
///   unknown type ID), `typeId` (number), `sq` (bool), `count` (objects declared), `cot` (number),
///   `cotName` (e.g. "act", "inrogen"), `negative` (P/N), `test` (T), `originator`, `ca`; then
///   `objects`, an array with one object per information object.
///   When the ASDU does not decode, `objects` is left out and `error` holds the reason; header keys are
///   left out too if the ASDU is shorter than its six header octets.
///
/// Object keys: `ioa`, `value`, then the keys of the type (below), then `quality` (array of flag names,
/// empty when good) for types that carry quality, then `time` ("2026-11-22T04:57:51.123", as
/// transmitted, read in 2000–2099, no zone) and `timeFlags` (subset of ["IV","SU","SB"]) for types with
/// a CP56Time2a time tag.
///
/// `value` and the extra keys per element:
/// - M_SP (1, 30): bool (on = true); quality from BL, SB, NT, IV.
/// - M_DP (3, 31): "intermediate", "off", "on" or "indeterminate".
/// - M_ST (5, 32): the step position −64…63; `transient` (bool).
/// - M_BO (7, 33), C_BO (51, 64): the 32-bit string as an unsigned number; `hex` ("0x0000ABCD").
/// - M_ME_NA/TD (9, 34), M_ME_ND (21), C_SE_NA/TA (48, 61), P_ME_NA (110): normalized value as a
///   fraction −1…+1 (raw/32768); `raw` (the signed 16-bit integer).
/// - M_ME_NB/TE (11, 35), C_SE_NB/TB (49, 62), P_ME_NB (111): the scaled value (signed 16-bit integer).
/// - M_ME_NC/TF (13, 36), C_SE_NC/TC (50, 63), P_ME_NC (112): the short float as a number; NaN and
///   infinities as the strings "NaN", "Infinity", "-Infinity".
/// - M_IT (15, 37): the counter reading (signed 32-bit); `sequence` (SQ 0…31); quality from CY, CA, IV.
/// - M_PS (20): the 16 status bits as a number; `changed` (the 16 change-detection bits as a number).
/// - M_EP_TD (38): event state "intermediate"/"off"/"on"/"indeterminate"; `elapsedMs`;
///   quality from EI, BL, SB, NT, IV.
/// - M_EP_TE (39): start events, array of "GS","SL1","SL2","SL3","SIE","SRD"; `durationMs`; quality (QDP).
/// - M_EP_TF (40): output circuits, array of "GC","CL1","CL2","CL3"; `operatingTimeMs`; quality (QDP).
/// - M_EI (70): COI cause 0…127; `meaning`; `afterParameterChange` (bool, BS).
/// - C_SC (45, 58): bool; `select` (S/E); `qualifier` (QU number); `qualifierName`.
/// - C_DC (46, 59): "off" or "on"; `select`; `qualifier`; `qualifierName`.
/// - C_RC (47, 60): "lower" or "higher"; `select`; `qualifier`; `qualifierName`.
/// - set-point commands additionally: `select` (S/E) and `qualifier` (QL 0…127).
/// - C_IC (100): QOI number; `meaning` ("station interrogation", "group n interrogation").
/// - C_CI (101): RQT number; `meaning`; `freeze` ("read", "freeze without reset", …).
/// - C_RD (102): null.
/// - C_CS (103): the time, as in `time`.
/// - C_TS_NA (104): the fixed test pattern as a number; `hex` ("0x55AA").
/// - C_RP (105): QRP number; `meaning`.
/// - C_CD (106): the delay in milliseconds.
/// - C_TS_TA (107): the test sequence counter TSC.
/// - parameters P_ME (110–112) additionally: `kind` (KPA number), `kindName`, `localChange` (LPC),
///   `notInOperation` (POP).
/// - P_AC (113): QPA number; `meaning`.
enum APDUJSONFormatter {
    static func format(_ frame: DecodedFrame) -> String {
        render(value(of: frame))
    }

    static func value(of frame: DecodedFrame) -> JSONValue {
        switch frame.apdu.apci {
        case .supervisory(let receive):
            return .object([("frame", .string("S")), ("nr", .int(Int(receive)))])
        case .unnumbered(let function):
            return .object([("frame", .string("U")), ("function", .string(function.name))])
        case .information(let send, let receive):
            var fields: [(String, JSONValue)] = [
                ("frame", .string("I")), ("ns", .int(Int(send))), ("nr", .int(Int(receive))),
            ]
            if let header = frame.header {
                let cot = header.cause
                fields += [
                    ("type", header.typeID.map { .string($0.mnemonic) } ?? .null),
                    ("typeId", .int(Int(header.rawTypeID))),
                    ("sq", .bool(header.isSequence)),
                    ("count", .int(header.count)),
                    ("cot", .int(Int(cot.cause.rawValue))),
                    ("cotName", .string(cot.cause.name)),
                    ("negative", .bool(cot.isNegative)),
                    ("test", .bool(cot.isTest)),
                    ("originator", .int(Int(cot.originator))),
                    ("ca", .int(Int(header.commonAddress))),
                ]
            }
            if let asdu = frame.asdu {
                fields.append(("objects", .array(asdu.objects.map(object))))
            }
            if let error = frame.asduError {
                fields.append(("error", .string(error.description)))
            }
            return .object(fields)
        }
    }

    static func object(_ object: InformationObject) -> JSONValue {
        var fields: [(String, JSONValue)] = [("ioa", .int(Int(object.address)))]
        var quality: [String]?
        switch object.element {
        case .singlePoint(let siq, _):
            fields.append(("value", .bool(siq.isOn)))
            quality = siq.quality.flagNames
        case .doublePoint(let diq, _):
            fields.append(("value", .string(diq.state.name)))
            quality = diq.quality.flagNames
        case .stepPosition(let vti, let qds, _):
            fields += [("value", .int(Int(vti.value))), ("transient", .bool(vti.isTransient))]
            quality = qds.flagNames
        case .bitstring(let bits, let qds, _):
            fields += bitstring(bits)
            quality = qds.flagNames
        case .normalized(let value, let qds, _):
            fields += normalized(value)
            quality = qds.flagNames
        case .scaled(let value, let qds, _):
            fields.append(("value", .int(Int(value))))
            quality = qds.flagNames
        case .float(let value, let qds, _):
            fields.append(("value", .float(value)))
            quality = qds.flagNames
        case .integratedTotals(let bcr, _):
            fields += [("value", .int(Int(bcr.value))), ("sequence", .int(Int(bcr.sequenceNumber)))]
            quality = ElementNames.counterFlags(bcr)
        case .packedSinglePoints(let scd, let qds):
            fields += [("value", .int(Int(scd.status))), ("changed", .int(Int(scd.changed)))]
            quality = qds.flagNames
        case .normalizedWithoutQuality(let value):
            fields += normalized(value)
        case .protectionEvent(let sep, let elapsed, _):
            fields += [("value", .string(sep.state.name)), ("elapsedMs", .int(Int(elapsed.milliseconds)))]
            quality = sep.quality.flagNames
        case .protectionStartEvents(let spe, let qdp, let duration, _):
            fields += [("value", strings(ElementNames.startEvents(spe))),
                       ("durationMs", .int(Int(duration.milliseconds)))]
            quality = qdp.flagNames
        case .protectionOutputCircuit(let oci, let qdp, let operatingTime, _):
            fields += [("value", strings(ElementNames.outputCircuits(oci))),
                       ("operatingTimeMs", .int(Int(operatingTime.milliseconds)))]
            quality = qdp.flagNames
        case .endOfInitialization(let coi):
            fields += [("value", .int(Int(coi.cause))),
                       ("meaning", .string(ElementNames.causeOfInitialization(coi.cause))),
                       ("afterParameterChange", .bool(coi.afterParameterChange))]
        case .singleCommand(let sco, _):
            fields.append(("value", .bool(sco.isOn)))
            fields += command(select: sco.isSelect, sco.qualifier)
        case .doubleCommand(let dco, _):
            fields.append(("value", .string(ElementNames.doubleCommand(dco.state))))
            fields += command(select: dco.isSelect, dco.qualifier)
        case .regulatingStepCommand(let rco, _):
            fields.append(("value", .string(ElementNames.stepDirection(rco.direction))))
            fields += command(select: rco.isSelect, rco.qualifier)
        case .setpointNormalized(let value, let qos, _):
            fields += normalized(value) + setpoint(qos)
        case .setpointScaled(let value, let qos, _):
            fields += [("value", .int(Int(value)))] + setpoint(qos)
        case .setpointFloat(let value, let qos, _):
            fields += [("value", .float(value))] + setpoint(qos)
        case .bitstringCommand(let bits, _):
            fields += bitstring(bits)
        case .interrogation(let qoi):
            fields += [("value", .int(Int(qoi.rawValue))), ("meaning", .string(qoi.name))]
        case .counterInterrogation(let qcc):
            fields += [("value", .int(Int(qcc.request))),
                       ("meaning", .string(ElementNames.counterRequest(qcc.request))),
                       ("freeze", .string(qcc.freeze.name))]
        case .read:
            fields.append(("value", .null))
        case .clockSynchronization(let time):
            fields.append(("value", .string(ElementNames.isoTime(time))))
        case .test(let pattern):
            fields += [("value", .int(Int(pattern))), ("hex", .string(ElementNames.hex(pattern)))]
        case .resetProcess(let qrp):
            fields += [("value", .int(Int(qrp.rawValue))),
                       ("meaning", .string(ElementNames.resetProcess(qrp.rawValue)))]
        case .delayAcquisition(let delay):
            fields.append(("value", .int(Int(delay.milliseconds))))
        case .testWithTime(let counter, _):
            fields.append(("value", .int(Int(counter))))
        case .parameterNormalized(let value, let qpm):
            fields += normalized(value) + parameter(qpm)
        case .parameterScaled(let value, let qpm):
            fields += [("value", .int(Int(value)))] + parameter(qpm)
        case .parameterFloat(let value, let qpm):
            fields += [("value", .float(value))] + parameter(qpm)
        case .parameterActivation(let qpa):
            fields += [("value", .int(Int(qpa.rawValue))),
                       ("meaning", .string(ElementNames.parameterActivation(qpa.rawValue)))]
        case .fileReady, .sectionReady, .fileCall, .lastSection, .fileAcknowledgement, .segment, .directoryEntry,
             .queryLog:
            fields += FileElementFields.json(FileElementFields.fields(object.element) ?? [])
        }
        if let quality { fields.append(("quality", strings(quality))) }
        if let time = object.element.time {
            fields += [("time", .string(ElementNames.isoTime(time))), ("timeFlags", strings(ElementNames.timeFlags(time)))]
        }
        return .object(fields)
    }

    static func normalized(_ value: NormalizedValue) -> [(String, JSONValue)] {
        [("value", .double(value.doubleValue)), ("raw", .int(Int(value.rawValue)))]
    }

    static func bitstring(_ bits: UInt32) -> [(String, JSONValue)] {
        [("value", .int(Int(bits))), ("hex", .string(ElementNames.hex(bits)))]
    }

    static func command(select: Bool, _ qualifier: CommandQualifier) -> [(String, JSONValue)] {
        [("select", .bool(select)), ("qualifier", .int(Int(qualifier.rawValue))),
         ("qualifierName", .string(qualifier.name))]
    }

    static func setpoint(_ qos: SetpointQualifier) -> [(String, JSONValue)] {
        [("select", .bool(qos.isSelect)), ("qualifier", .int(Int(qos.qualifier)))]
    }

    static func parameter(_ qpm: MeasuredParameterQualifier) -> [(String, JSONValue)] {
        [("kind", .int(Int(qpm.kind))), ("kindName", .string(ElementNames.parameterKind(qpm.kind))),
         ("localChange", .bool(qpm.localChange)), ("notInOperation", .bool(qpm.notInOperation))]
    }

    static func strings(_ names: [String]) -> JSONValue { .array(names.map(JSONValue.string)) }
}

/// A JSON value whose objects keep their keys in the order given.
indirect enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case float(Float)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])
}

/// Compact JSON text (no spaces), strings escaped per RFC 8259.
func render(_ value: JSONValue) -> String {
    var out = ""
    render(value, into: &out)
    return out
}

private func render(_ value: JSONValue, into out: inout String) {
    switch value {
    case .null: out += "null"
    case .bool(let flag): out += flag ? "true" : "false"
    case .int(let number): out += String(number)
    case .double(let number): out += finite(number.isFinite, number.description, negative: number < 0, nan: number.isNaN)
    case .float(let number): out += finite(number.isFinite, number.description, negative: number < 0, nan: number.isNaN)
    case .string(let text): JSONText.appendQuoted(text, to: &out)
    case .array(let items):
        out += "["
        for (index, item) in items.enumerated() {
            if index > 0 { out += "," }
            render(item, into: &out)
        }
        out += "]"
    case .object(let fields):
        out += "{"
        for (index, (key, item)) in fields.enumerated() {
            if index > 0 { out += "," }
            JSONText.appendQuoted(key, to: &out)
            out += ":"
            render(item, into: &out)
        }
        out += "}"
    }
}

/// Swift's shortest round-trip form ("230.5", "1e-05") is valid JSON; NaN and infinities are not, so
/// they become strings.
private func finite(_ isFinite: Bool, _ text: String, negative: Bool, nan: Bool) -> String {
    if isFinite { return text }
    return nan ? "\"NaN\"" : negative ? "\"-Infinity\"" : "\"Infinity\""
}

