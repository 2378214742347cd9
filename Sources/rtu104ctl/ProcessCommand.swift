import ArgumentParser
import IEC104
import Master

/// `rtu104ctl command HOST CA:IOA VALUE --type single|double|step|normalized|scaled|float|bitstring`
struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "command",
        abstract: "Send a process command (C_SC … C_BO), optionally select-before-operate, and report its confirmations.",
        discussion: """
        Values: single on/off (true/false, 1/0); double on/off; step higher/lower (raise/up, down); normalized \
        -1…1; scaled -32768…32767; float; bitstring 0…4294967295, 0x… or 0b….

        --select sends the select (S/E=1) first and executes only after a positive ACTCON. --time sends the \
        type with CP56Time2a (C_SC_TA_1 …), stamped with the current UTC time. --qualifier: short, long, \
        persistent (QU 1-3) or a number; for set-points the QL number.

        Prints each ACTCON and ACTTERM with its P/N bit, and the return information (COT 11, retrem: the \
        feedback point's new value) the station sends before ACTTERM.

        Commissioning: connect to a local-tools listener or station (one for 127.0.0.1 that is not the SCADA \
        master's). A connection from the SCADA master's address takes over its station and disconnects the \
        master. `rtu104ctl exec` runs a point's handler with no master at all.

        Exit status: 0 only when every ACTCON was positive (and ACTTERM, when it came, too); 1 on a negative \
        confirmation (its cause is named, e.g. "unknown information object address (COT 47)") or when no \
        ACTCON came within --timeout; 2 when the connection failed; 64 usage error. A missing ACTTERM is \
        reported but not a failure: stations may be configured not to send one (--no-actterm skips the wait).
        """)

    @OptionGroup var master: MasterOptions

    @Argument(help: ArgumentHelp("The command point, CA:IOA.", valueName: "ca:ioa"))
    var point: String

    @Argument(help: ArgumentHelp("The value to command.", valueName: "value"))
    var value: String

    @Option(name: .customLong("type"), help: "single, double, step, normalized, scaled, float or bitstring.")
    var kind: CommandKind

    @Flag(help: "Select before operate: select, then execute.")
    var select = false

    @Flag(help: "Send the command with a CP56Time2a time tag (the current UTC time).")
    var time = false

    @Option(help: ArgumentHelp("short, long, persistent, default, or a number (QU 0-31; QL 0-127 for set-points).",
                               valueName: "qualifier"))
    var qualifier: String?

    @Flag(help: "Do not wait for ACTTERM after a positive ACTCON.")
    var noActterm = false

    func validate() throws {
        _ = try parsePointAddress(point, defaultCommonAddress: master.commonAddress)
        _ = try CommandValue.parse(value, as: kind)
        _ = try QualifierOption.parse(qualifier, for: kind)
    }

    func run() throws {
        let address = try parsePointAddress(point, defaultCommonAddress: master.commonAddress)
        let parsed = try CommandValue.parse(value, as: kind)
        let qu = try QualifierOption.parse(qualifier, for: kind)
        let typeID = kind.typeID(timeTagged: time)
        try runMaster(master) { session in
            func request(select: Bool) throws(MasterError) -> [UInt8] {
                let stamp = time ? CP56Time2a(unixMilliseconds: wallMilliseconds()) : nil
                return try Requests.encode(typeID, cause: .activation, commonAddress: address.ca,
                                           originator: master.originator, address: address.ioa,
                                           element: parsed.element(select: select, qualifier: qu, time: stamp))
            }
            let label = "\(address.ca):\(address.ioa) \(typeID.mnemonic) \(parsed.text)"
            if select {
                let selection = try request(select: true)
                guard try step("select ", label, selection, session, awaitTermination: false) else { return MasterExit.refused }
            }
            let execution = try request(select: false)
            guard try step("execute", label, execution, session, awaitTermination: !noActterm) else { return MasterExit.refused }
            return MasterExit.success
        }
    }

    /// One request: ACTCON, then (for an execute) ACTTERM. False on a negative or missing ACTCON.
    private func step(_ phase: String, _ label: String, _ request: [UInt8], _ session: MasterSession,
                      awaitTermination: Bool) throws(MasterError) -> Bool {
        let sent = monotonicNow()
        guard let confirmation = try session.activate(request, timeout: master.timeoutDuration) else {
            writeStandardOutput("\(phase) \(label): no ACTCON within \(master.timeout.formatted2) s\n")
            reportError("no confirmation of the \(phase.trimmingSpacesString) within \(master.timeout.formatted2) s")
            return false
        }
        let milliseconds = monotonicNow().duration(since: sent).secondsDouble * 1000
        writeStandardOutput("\(phase) \(label): \(confirmation.text) after \(milliseconds.formatted2) ms\n")
        if confirmation.isNegative {
            reportError("the station refused the \(phase.trimmingSpacesString): \(confirmation.text)")
            return false
        }
        if confirmation.isTermination || !awaitTermination { return true }
        // Between ACTCON and ACTTERM the station sends the feedback point's new state as return information (COT 11):
        // the proof for a commissioning engineer that the command reached the plant and came back.
        let returnInformation: (APDU) -> Void = { apdu in
            guard let asdu = try? ASDU(decoding: apdu.asdu), [11, 12].contains(asdu.cause.cause.rawValue) else { return }
            for object in asdu.objects {
                writeStandardOutput("\(phase) \(label): return information \(asdu.commonAddress):\(object.address) "
                    + "\(asdu.typeID.mnemonic) \(PointRowFormatter.valueText(object.element)) (\(asdu.cause.cause.name))\n")
            }
        }
        let termination = try session.awaitConfirmation(to: request, timeout: master.timeoutDuration,
                                                        other: returnInformation) { $0.isTermination }
        guard let termination else {
            writeStandardOutput("\(phase) \(label): no ACTTERM within \(master.timeout.formatted2) s\n")
            master.progress("no ACTTERM (the station may be configured not to send one); ACTCON was positive")
            return true
        }
        let total = monotonicNow().duration(since: sent).secondsDouble * 1000
        writeStandardOutput("\(phase) \(label): \(termination.text) after \(total.formatted2) ms\n")
        if termination.isNegative {
            reportError("the station ended the command negatively: \(termination.text)")
            return false
        }
        return true
    }
}

extension String {
    var trimmingSpacesString: String { String(Substring(self).trimmingSpaces) }
}
