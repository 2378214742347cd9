import IEC104

// Words for the coded fields that the codec keeps as numbers; shared by the text and JSON formatters.

enum ElementNames {
    /// COI, IEC 60870-5-101 clause 7.2.6.21.
    static func causeOfInitialization(_ cause: UInt8) -> String {
        switch cause {
        case 0: "local power switch on"
        case 1: "local manual reset"
        case 2: "remote reset"
        case 3...31: "reserved \(cause)"
        default: "private \(cause)"
        }
    }

    /// RQT of QCC, clause 7.2.6.23.
    static func counterRequest(_ request: UInt8) -> String {
        switch request {
        case 0: "no counter requested"
        case 1...4: "group \(request) counter request"
        case 5: "general counter request"
        case 6...31: "reserved \(request)"
        default: "private \(request)"
        }
    }

    /// QRP, clause 7.2.6.27.
    static func resetProcess(_ qualifier: UInt8) -> String {
        switch qualifier {
        case 0: "not used"
        case 1: "general reset of process"
        case 2: "reset of pending information with time tag of the event buffer"
        case 3...127: "reserved \(qualifier)"
        default: "private \(qualifier)"
        }
    }

    /// KPA of QPM, clause 7.2.6.24.
    static func parameterKind(_ kind: UInt8) -> String {
        switch kind {
        case 0: "not used"
        case 1: "threshold value"
        case 2: "smoothing factor"
        case 3: "low limit"
        case 4: "high limit"
        case 5...31: "reserved \(kind)"
        default: "private \(kind)"
        }
    }

    /// QPA, clause 7.2.6.25.
    static func parameterActivation(_ qualifier: UInt8) -> String {
        switch qualifier {
        case 0: "not used"
        case 1: "act/deact of previously loaded parameters"
        case 2: "act/deact of the parameter of the addressed object"
        case 3: "act/deact of persistent cyclic or periodic transmission of the addressed object"
        case 4...127: "reserved \(qualifier)"
        default: "private \(qualifier)"
        }
    }

    /// SPE flags, clause 7.2.6.11: GS, SL1, SL2, SL3, SIE (earth current), SRD (reverse direction).
    static func startEvents(_ events: StartEventsOfProtection) -> [String] {
        var names: [String] = []
        if events.contains(.general) { names.append("GS") }
        if events.contains(.phaseL1) { names.append("SL1") }
        if events.contains(.phaseL2) { names.append("SL2") }
        if events.contains(.phaseL3) { names.append("SL3") }
        if events.contains(.earthCurrent) { names.append("SIE") }
        if events.contains(.reverseDirection) { names.append("SRD") }
        return names
    }

    /// OCI flags, clause 7.2.6.12: GC (general command), CL1, CL2, CL3.
    static func outputCircuits(_ circuits: OutputCircuitInformation) -> [String] {
        var names: [String] = []
        if circuits.contains(.general) { names.append("GC") }
        if circuits.contains(.phaseL1) { names.append("CL1") }
        if circuits.contains(.phaseL2) { names.append("CL2") }
        if circuits.contains(.phaseL3) { names.append("CL3") }
        return names
    }

    /// The flags of BCR, clause 7.2.6.9: CY (carry), CA (adjusted), IV (invalid).
    static func counterFlags(_ reading: BinaryCounterReading) -> [String] {
        var names: [String] = []
        if reading.carry { names.append("CY") }
        if reading.adjusted { names.append("CA") }
        if reading.invalid { names.append("IV") }
        return names
    }

    /// The flags of a CP56Time2a: IV (invalid), SU (summer time), SB (substituted, RES1).
    static func timeFlags(_ time: CP56Time2a) -> [String] {
        var names: [String] = []
        if time.isInvalid { names.append("IV") }
        if time.isSummerTime { names.append("SU") }
        if time.isSubstituted { names.append("SB") }
        return names
    }

    /// `2026-11-22T04:57:51.123`: the time as transmitted, without zone (UTC unless the station says
    /// otherwise) and with the two-digit year read in 2000–2099.
    static func isoTime(_ time: CP56Time2a) -> String {
        "20\(pad(time.year, 2))-\(pad(time.month, 2))-\(pad(time.dayOfMonth, 2))T"
            + "\(pad(time.hour, 2)):\(pad(time.minute, 2)):\(pad(time.milliseconds / 1000, 2))."
            + pad(time.milliseconds % 1000, 3)
    }

    static func double(_ state: DoublePointState) -> String { state.name }

    static func doubleCommand(_ state: DoubleCommandState) -> String {
        switch state {
        case .off: "off"
        case .on: "on"
        }
    }

    static func stepDirection(_ direction: StepDirection) -> String {
        switch direction {
        case .lower: "lower"
        case .higher: "higher"
        }
    }

    /// `0x0000ABCD` for 32-bit strings, `0x55AA` for 16 bits.
    static func hex<T: FixedWidthInteger & UnsignedInteger>(_ value: T) -> String { "0x" + value.paddedHex }

    static func pad<T: BinaryInteger>(_ value: T, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
