/// Turns what the event path counted over one period into the few log lines an operator needs: which station
/// lost events (and why that is allowed), and how long producers were held back by masters that keep up
/// slower than updates arrive. Pure: the owner samples the counters every ``period`` and logs what comes back.
struct QueueHealthReport {
    /// What one station has counted since start, sampled at the end of a period.
    struct StationSample: Equatable {
        var name: String
        var dropped: UInt64
        var buffered: Int
        var capacity: Int
        var overflowPolicy: String
        var masterInDataTransfer: Bool
    }

    struct Line: Equatable {
        enum Level: Equatable { case notice, warning }
        var level: Level
        var text: String
        var metadata: [String: String]
    }

    static let period = Duration.seconds(10)

    private var droppedSeen: [String: UInt64] = [:]
    private var heldSeen: UInt64 = 0
    private var appliedSeen: UInt64 = 0

    /// The lines for the period that ends now; nothing when nothing was lost or held.
    mutating func endPeriod(stations: [StationSample], heldNanoseconds: UInt64, updatesApplied: UInt64) -> [Line] {
        var lines: [Line] = []
        let seconds = Self.period.components.seconds
        var seen: [String: UInt64] = [:]
        for station in stations {
            seen[station.name] = station.dropped
            // A station new since the last period, or replaced on reload (its count starts again), counts from 0.
            let previous = droppedSeen[station.name] ?? 0
            let before = station.dropped >= previous ? previous : 0
            guard station.dropped > before else { continue }
            let lost = station.dropped - before
            let why = station.masterInDataTransfer ? "its master did not acknowledge" : "no master was in data transfer"
            lines.append(Line(level: .warning,
                              text: "station '\(station.name)' dropped \(lost) event\(lost == 1 ? "" : "s") in the last "
                                + "\(seconds) s: its event buffer (\(station.capacity)) was full and \(why) "
                                + "(event_overflow = \(station.overflowPolicy))",
                              metadata: ["station": station.name, "dropped": "\(lost)", "buffered": "\(station.buffered)"]))
        }
        droppedSeen = seen
        let held = heldNanoseconds &- heldSeen
        let applied = updatesApplied &- appliedSeen
        heldSeen = heldNanoseconds
        appliedSeen = updatesApplied
        if held >= 10_000_000 {
            let heldText = String(Double(held / 10_000_000) / 100)
            lines.append(Line(level: .notice,
                              text: "producers waited \(heldText) s of the last \(seconds) s for masters that take events "
                                + "slower than updates arrive (\(applied) updates applied)",
                              metadata: ["held_seconds": heldText, "updates": "\(applied)"]))
        }
        return lines
    }
}
