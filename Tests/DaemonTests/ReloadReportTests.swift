import Config
@testable import Daemon
import Foundation
import IEC104
@testable import Outstation
import Testing
import TestSupport

@Suite("Reload report")
struct ReloadReportTests {
    func station(_ name: String, ca: UInt16) -> StationConfiguration {
        StationConfiguration(name: name, listener: "main", filter: .any, commonAddresses: [ca])
    }

    func monitor(_ ca: UInt16, _ ioa: UInt32, _ kind: PointKind = .single) -> MonitorPointDefinition {
        MonitorPointDefinition(address: PointAddress(commonAddress: ca, objectAddress: ioa), kind: kind)
    }

    @Test func monitorAndCommandPointsAreCountedApartAndStationsNamed() {
        let base = PointTable(monitorPoints: [monitor(47, 1), monitor(47, 2)],
                              commandPoints: [CommandPointDefinition(address: address(10), kind: .single)])
        let outstation = Outstation(points: base, stations: [station("sub-a", ca: 47), station("scada", ca: 47)],
                                    now: LinkInstant(nanoseconds: 0), wallTime: 0)
        // A new station with four monitor points and one command point.
        var added = base
        added.monitorPoints += (1...4).map { monitor(48, $0) }
        added.commandPoints.append(CommandPointDefinition(address: PointAddress(commonAddress: 48, objectAddress: 100), kind: .double))
        let report = outstation.reconfigure(points: added, stations: [station("sub-a", ca: 47), station("scada", ca: 47),
                                                                       station("sub-b", ca: 48)],
                                            now: LinkInstant(nanoseconds: 1), wallTime: 1).report
        #expect(report.summary == "stations: 1 added (sub-b), 2 unchanged; points: 4 monitor added, 1 command added")

        // One station gone, a monitor point re-typed, one with other settings, a command point changed and one removed.
        var changed = added
        changed.monitorPoints[0] = monitor(47, 1, .double)
        changed.monitorPoints[1].name = "breaker 2"
        changed.commandPoints = [CommandPointDefinition(address: address(10), kind: .single, sendsTermination: false)]
        let second = outstation.reconfigure(points: changed, stations: [station("sub-a", ca: 47), station("sub-b", ca: 48)],
                                            now: LinkInstant(nanoseconds: 2), wallTime: 2).report
        #expect(second.summary == "stations: 1 removed (scada), 2 unchanged; "
                + "points: 1 monitor added, 1 monitor removed, 1 monitor changed, 1 command removed, 1 command changed")

        let nothing = outstation.reconfigure(points: changed, stations: [station("sub-a", ca: 47), station("sub-b", ca: 48)],
                                             now: LinkInstant(nanoseconds: 3), wallTime: 3).report
        #expect(nothing.summary == "stations: 2 unchanged; points: unchanged")
    }

    @Test func reconfiguredAndRefilteredStationsAreNamed() {
        var report = ReconfigurationReport()
        report.stationsReplaced = ["sub-c"]
        report.stationsRefiltered = ["scada"]
        report.stationsKept = ["sub-a"]
        #expect(report.summary == "stations: 1 reconfigured (sub-c), 1 with a new allow filter (scada), 1 unchanged; points: unchanged")
        #expect(ReconfigurationReport().summary == "stations: none; points: unchanged")
    }
}
