import IEC104
import Master

extension InterrogationProgress {
    /// `ACTCON from CA 47; 1000 point(s) in 0.42 s` style summary for stderr.
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

    /// Sends the request and hands every monitor point received until the end to `onRow`.
    ///
    /// `timeout` is the longest silence accepted: it restarts with every frame, so a long interrogation
    /// does not time out while points keep coming.
    static func run(_ session: MasterSession, request: [UInt8], timeout: Duration, raw: Bool = false,
                    onRow: (PointRow) -> Void) throws(MasterError) -> InterrogationProgress {
        let started = monotonicNow()
        try session.send(request)
        var progress = InterrogationProgress(request: request, silence: timeout, now: started)
        progress.restartSilence(now: monotonicNow())
        while !progress.isDone {
            guard let apdu = try session.next(until: progress.deadline) else {
                progress.deadlineReached()
                break
            }
            let now = monotonicNow()
            if progress.received(apdu.asdu, now: now) != nil { continue }
            // End of initialization (M_EI_NA_1) is not a point; only monitor points are reported.
            guard let asdu = try? ASDU(decoding: apdu.asdu), asdu.typeID.isMonitorDirection,
                  asdu.typeID != .M_EI_NA_1 else { continue }
            let rows = PointRow.rows(of: asdu, raw: raw ? apdu.encoded : nil)
            progress.pointsReceived(rows.count, now: now)
            rows.forEach(onRow)
        }
        return progress
    }
}
