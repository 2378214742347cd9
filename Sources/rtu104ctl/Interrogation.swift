import IEC104

/// What one (counter) interrogation brought back.
struct InterrogationOutcome: Sendable {
    /// Common addresses that confirmed positively.
    var confirmed: Set<UInt16> = []
    /// Common addresses that sent ACTTERM.
    var terminated: Set<UInt16> = []
    /// Negative replies.
    var refusals: [Confirmation] = []
    var points = 0
    /// Every confirming common address also terminated, and nothing was refused.
    var complete = false
    /// Seconds from the request to the last ACTTERM.
    var seconds: Double = 0

    /// `47: ACTCON positive, ACTTERM positive` style summary for stderr.
    var summary: String {
        var parts: [String] = []
        if !confirmed.isEmpty {
            parts.append("ACTCON from CA \(confirmed.sorted().map(String.init).joined(separator: ", "))")
        }
        for refusal in refusals {
            parts.append("CA \(refusal.header.commonAddress): \(refusal.text)")
        }
        let missing = confirmed.subtracting(terminated).sorted()
        if !missing.isEmpty {
            parts.append("no ACTTERM from CA \(missing.map(String.init).joined(separator: ", "))")
        }
        parts.append("\(points) point(s) in \(seconds.formatted2) s")
        return parts.joined(separator: "; ")
    }
}

/// Station (C_IC_NA_1) and counter (C_CI_NA_1) interrogations: ACTCON, the points, ACTTERM, per
/// common address (a broadcast request is answered by every common address of the station).
enum Interrogation {
    static func generalRequest(group: Int?, commonAddress: UInt16, originator: UInt8) throws(MasterError) -> [UInt8] {
        let qualifier = group.map(InterrogationQualifier.group) ?? .station
        return try Requests.encode(.C_IC_NA_1, cause: .activation, commonAddress: commonAddress, originator: originator,
                                   element: .interrogation(qualifier))
    }

    static func counterRequest(group: Int?, freeze: CounterFreeze, commonAddress: UInt16,
                               originator: UInt8) throws(MasterError) -> [UInt8] {
        let request = group.map { UInt8($0) } ?? CounterInterrogationQualifier.general
        return try Requests.encode(.C_CI_NA_1, cause: .activation, commonAddress: commonAddress, originator: originator,
                                   element: .counterInterrogation(CounterInterrogationQualifier(request: request, freeze: freeze)))
    }

    /// How long to wait after the last ACTTERM of a broadcast request for another common address to start.
    static let broadcastSettle: Duration = .milliseconds(300)

    /// Sends the request and hands every monitor point received until the end to `onRow`.
    ///
    /// `timeout` is the longest silence accepted: it restarts with every frame, so a long interrogation
    /// does not time out while points keep coming.
    static func run(_ session: MasterSession, request: [UInt8], timeout: Duration, raw: Bool = false,
                    onRow: (PointRow) -> Void) throws(MasterError) -> InterrogationOutcome {
        let broadcast = request.count >= ASDU.headerLength
            && (UInt16(request[4]) | UInt16(request[5]) << 8) == ASDU.broadcastAddress
        var outcome = InterrogationOutcome()
        let started = monotonicNow()
        try session.send(request)
        var deadline = monotonicNow() + timeout
        var settling = false
        while true {
            guard let apdu = try session.next(until: deadline) else {
                if settling { outcome.complete = outcome.refusals.isEmpty }
                break
            }
            deadline = monotonicNow() + timeout
            if let confirmation = Confirmation.match(apdu.asdu, request: request) {
                let ca = confirmation.header.commonAddress
                if confirmation.isNegative {
                    outcome.refusals.append(confirmation)
                } else if confirmation.isTermination {
                    outcome.terminated.insert(ca)
                } else if confirmation.isActivationConfirmation {
                    outcome.confirmed.insert(ca)
                }
                outcome.seconds = monotonicNow().duration(since: started).secondsDouble
                let finished = outcome.confirmed.isSubset(of: outcome.terminated)
                    && (!outcome.confirmed.isEmpty || !outcome.refusals.isEmpty)
                if finished {
                    if !broadcast {
                        outcome.complete = outcome.refusals.isEmpty
                        break
                    }
                    settling = true
                    deadline = monotonicNow() + broadcastSettle
                } else {
                    settling = false
                }
                continue
            }
            // End of initialization (M_EI_NA_1) is not a point; only monitor points are reported.
            guard let asdu = try? ASDU(decoding: apdu.asdu), asdu.typeID.isMonitorDirection,
                  asdu.typeID != .M_EI_NA_1 else { continue }
            let rows = PointRow.rows(of: asdu, raw: raw ? apdu.encoded : nil)
            outcome.points += rows.count
            rows.forEach(onRow)
            if settling { deadline = monotonicNow() + broadcastSettle }
        }
        return outcome
    }
}
