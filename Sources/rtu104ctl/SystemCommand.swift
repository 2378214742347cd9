import IEC104
import Master

/// The shared core of clock-sync, test and reset-process: one activation, its ACTCON, a line of output.
enum SystemCommand {
    /// Sends `request`, prints `label: ACTCON positive after 1.23 ms`, returns the exit status.
    static func activate(_ label: String, request: [UInt8], session: MasterSession, options: MasterOptions,
                         describe: (Confirmation) -> String = { _ in "" }) throws(MasterError) -> Int32 {
        let sent = monotonicNow()
        guard let confirmation = try session.activate(request, timeout: options.timeoutDuration) else {
            writeStandardOutput("\(label): no ACTCON within \(options.timeout.formatted2) s\n")
            reportError("no confirmation within \(options.timeout.formatted2) s")
            return MasterExit.refused
        }
        let milliseconds = monotonicNow().duration(since: sent).secondsDouble * 1000
        let detail = describe(confirmation)
        writeStandardOutput("\(label): \(confirmation.text) after \(milliseconds.formatted2) ms\(detail.isEmpty ? "" : "; " + detail)\n")
        if confirmation.isNegative {
            reportError("the station refused it: \(confirmation.text)")
            return MasterExit.refused
        }
        return MasterExit.success
    }

    /// The CP56Time2a of a mirrored single-object ASDU whose element ends in one (C_CS, C_TS_TA).
    static func time(of confirmation: Confirmation) -> CP56Time2a? {
        (try? ASDU(decoding: confirmation.bytes))?.objects.first?.element.time
    }
}
