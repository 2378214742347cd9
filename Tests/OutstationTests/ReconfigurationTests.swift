import IEC104
import Testing
@testable import Outstation
import TestSupport

@Suite("Reload: applying a new configuration as a difference")
struct ReconfigurationTests {
    static let points: [MonitorPointDefinition] = [
        .point(1, .single), .point(2, .float, value: .float(1)), .point(3, .scaled),
    ]

    func reconfigure(_ harness: Harness, points: [MonitorPointDefinition],
                     stations: [StationConfiguration]) -> (report: ReconfigurationReport, closed: [ConnectionID]) {
        let (report, actions) = harness.outstation.reconfigure(points: PointTable(monitorPoints: points), stations: stations,
                                                               now: LinkInstant(nanoseconds: 2_000_000_000),
                                                               wallTime: startWallTime + 5)
        let closed = actions.compactMap { action -> ConnectionID? in
            guard case .close(let id, reason: .reconfigured) = action else { return nil }
            return id
        }
        #expect(closed.count == actions.count, "a reload's actions are closes only")
        harness.flush()
        return (report, closed)
    }

    @Test func unchangedStationKeepsItsMasterAndItsEvents() throws {
        let harness = Harness(points: Self.points)
        let id = harness.connect(peer: "192.0.2.1").id
        try harness.startDataTransfer(on: id)
        let station = harness.station()
        // Buffered, not yet pumped to the master, when the reload comes.
        _ = try harness.outstation.apply([update(2, .float(42))], wallTime: startWallTime)
        let (report, closed) = reconfigure(harness, points: Self.points + [.point(4, .double, value: .double(.on))],
                                 stations: [Harness.configuration("s1", commonAddresses: [47])])
        #expect(report.stationsKept == ["s1"])
        #expect(closed.isEmpty)
        #expect(report.pointsAdded == 1 && report.pointsRemoved == 0)
        #expect(harness.outstation.station(named: "s1") === station, "the same session object carries on")
        // The old value survives, and the new point is reported spontaneously.
        #expect(harness.outstation.image.state(at: address(2))?.value == .float(42))
        let received = try harness.exchange(on: id)
        // The new double point overtakes the buffered float (event priority).
        #expect(received.map(\.typeID) == [.M_DP_NA_1, .M_ME_NC_1])
        #expect(received.allSatisfy { $0.cause.cause == .spontaneous })
        #expect(received.first?.objects.first?.address == 4)
    }

    @Test func removedPointsLeaveTheBufferAndKindChangesStartFresh() throws {
        let harness = Harness(points: Self.points)
        _ = try harness.apply([update(1, .single(true)), update(3, .scaled(7))])
        let report = reconfigure(harness, points: [.point(1, .double), .point(2, .float, value: .float(1))],
                                 stations: [Harness.configuration("s1", commonAddresses: [47])]).report
        #expect(report.pointsRemoved == 2, "IOA 3 is gone and IOA 1 changed kind")
        #expect(report.pointsAdded == 1)
        #expect(harness.outstation.image.state(at: address(1))?.value == .double(.off))
        #expect(harness.outstation.image.state(at: address(3)) == nil)
        let id = harness.connect(peer: "192.0.2.1").id
        let received = try informationASDUs(harness.startDataTransfer(on: id))
        // After M_EI, only the new double point's report: the events of the removed and re-typed points are gone.
        #expect(received.map(\.typeID) == [.M_EI_NA_1, .M_DP_NA_1])
    }

    @Test func changedSettingsReplaceTheSessionButKeepTheBufferedEvents() throws {
        let harness = Harness(points: Self.points)
        let id = harness.connect(peer: "192.0.2.1").id
        _ = try harness.apply([update(2, .float(5))])
        var changed = Harness.configuration("s1", commonAddresses: [47])
        changed.eventBufferSize = 50
        let (report, closed) = reconfigure(harness, points: Self.points, stations: [changed])
        #expect(report.stationsReplaced == ["s1"])
        #expect(closed == [id])
        let replacement = harness.station()
        #expect(replacement.eventBuffer.capacity == 50)
        #expect(replacement.eventBuffer.count == 1)
    }

    @Test func changedFilterDropsOnlyTheMastersItNoLongerAdmits() throws {
        var wide = Harness.configuration("s1", commonAddresses: [47])
        wide.filter = try AddressFilter(parsing: "192.0.2.0/24")
        wide.redundancy = 2
        let harness = Harness(points: Self.points, stations: [wide])
        let keep = harness.connect(peer: "192.0.2.1").id
        let drop = harness.connect(peer: "192.0.2.200").id
        let station = harness.station()
        var narrow = wide
        narrow.filter = try AddressFilter(parsing: "192.0.2.1")
        let (report, closed) = reconfigure(harness, points: Self.points, stations: [narrow])
        #expect(report.stationsRefiltered == ["s1"])
        #expect(closed == [drop])
        #expect(harness.station() === station)
        #expect(station.configuration.filter == narrow.filter)
        #expect(station.connections.map(\.id).contains(keep))
    }

    @Test func removedStationsCloseTheirConnectionsAndAddedOnesAppear() throws {
        let harness = Harness(points: Self.points, stations: [Harness.configuration("s1", commonAddresses: [47])])
        let id = harness.connect(peer: "192.0.2.1").id
        let (report, closed) = reconfigure(harness, points: Self.points, stations: [Harness.configuration("s2", commonAddresses: [47])])
        #expect(report.stationsRemoved == ["s1"])
        #expect(report.stationsAdded == ["s2"])
        #expect(closed == [id])
        #expect(harness.outstation.station(named: "s1") == nil)
        #expect(harness.outstation.stations.map(\.name) == ["s2"])
    }

    @Test func interrogationInProgressFinishesAcrossAReload() throws {
        let many = (1...500).map { MonitorPointDefinition.point(UInt32($0), .float, value: .float(Float($0))) }
        let harness = Harness(points: many)
        let id = harness.connect(peer: "192.0.2.1").id
        try harness.startDataTransfer(on: id)
        harness.request(try interrogation().encoded(), on: id)
        // Only the first window has gone out; then the table shrinks to 10 points.
        _ = reconfigure(harness, points: Array(many.prefix(10)), stations: [Harness.configuration("s1", commonAddresses: [47])])
        let frames = try harness.exchange(on: id)
        let replies = frames.filter { $0.cause.cause == .interrogatedByStation }
        #expect(replies.flatMap(\.objects).count == 500, "the running interrogation answers for the table it started with")
        #expect(frames.last?.cause.cause == .activationTermination)
    }
}
