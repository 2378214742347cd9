import Testing
import IEC104
@testable import Outstation

/// After a batch of updates the server sends for the stations that got events, not for every station.
@Suite("Stations with new events")
struct StationsWithNewEventsTests {
    static func harness() -> Harness {
        Harness(points: [.point(1, .float, ca: 1), .point(2, .float, ca: 2), .point(3, .float, ca: 3)],
                stations: [Harness.configuration("a", commonAddresses: [1]),
                           Harness.configuration("b", commonAddresses: [2]),
                           Harness.configuration("c", commonAddresses: [1, 3])])
    }

    static func names(_ stations: [Station]) -> [String] { stations.map(\.name) }

    @Test func eachStationThatGotAnEventOnceInTheOrderItFirstDid() throws {
        let harness = Self.harness()
        #expect(harness.outstation.takeStationsWithNewEvents().isEmpty)
        try harness.outstation.apply([update(3, .float(1), ca: 3), update(1, .float(2), ca: 1), update(1, .float(3), ca: 1)],
                                     wallTime: startWallTime)
        #expect(Self.names(harness.outstation.takeStationsWithNewEvents()) == ["c", "a"])
        #expect(harness.outstation.takeStationsWithNewEvents().isEmpty)
        try harness.outstation.apply([update(2, .float(4), ca: 2)], wallTime: startWallTime)
        #expect(Self.names(harness.outstation.takeStationsWithNewEvents()) == ["b"])
    }

    @Test func anUpdateWithoutAnEventMarksNoStation() throws {
        let harness = Self.harness()
        try harness.outstation.apply([update(2, .float(4), ca: 2)], wallTime: startWallTime)
        _ = harness.outstation.takeStationsWithNewEvents()
        // The same value again: no change, no event (no deadband needed for an equal value).
        let events = try harness.outstation.apply([update(2, .float(4), ca: 2)], wallTime: startWallTime)
        #expect(events == 0)
        #expect(harness.outstation.takeStationsWithNewEvents().isEmpty)
    }

    @Test func aStationRemovedByAReloadIsNoLongerListed() throws {
        let harness = Self.harness()
        try harness.outstation.apply([update(2, .float(4), ca: 2), update(3, .float(5), ca: 3)], wallTime: startWallTime)
        let table = PointTable(monitorPoints: [.point(1, .float, ca: 1), .point(2, .float, ca: 2), .point(3, .float, ca: 3)],
                               commandPoints: [])
        _ = harness.outstation.reconfigure(points: table, stations: [Harness.configuration("c", commonAddresses: [1, 3])],
                                           now: harness.now, wallTime: harness.wallTime)
        #expect(Self.names(harness.outstation.takeStationsWithNewEvents()) == ["c"])
    }
}
