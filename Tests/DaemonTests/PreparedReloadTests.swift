import Config
@testable import Daemon
import IEC104
import Outstation
import Testing

/// A reload whose image is prepared off the event loop ends as the reload that builds it on the loop.
@Suite("Reload with a prepared image")
struct PreparedReloadTests {
    func station(_ name: String, ca: UInt16) -> StationConfiguration {
        StationConfiguration(name: name, listener: "main", filter: .any, commonAddresses: [ca])
    }

    func monitor(_ ioa: UInt32, _ kind: PointKind = .float, name: String = "") -> MonitorPointDefinition {
        MonitorPointDefinition(address: PointAddress(commonAddress: 47, objectAddress: ioa), name: name, kind: kind)
    }

    func outstation(_ points: [MonitorPointDefinition]) throws -> Outstation {
        let outstation = Outstation(points: PointTable(monitorPoints: points), stations: [station("scada", ca: 47)],
                                    now: LinkInstant(nanoseconds: 0), wallTime: 0)
        // Values that a reload must carry over.
        try outstation.apply(points.filter { $0.kind == .float }.map {
            PointUpdate(address: $0.address, value: .float(Float($0.address.objectAddress) / 2))
        }, wallTime: 10)
        return outstation
    }

    /// Every point's definition, value, quality and times, in address order.
    func states(_ outstation: Outstation) -> [String] { outstation.image.points.map { String(describing: $0) } }

    static let before = (1...200).map { UInt32($0) }
    /// Points 1…150 kept (10 re-typed, 5 renamed), 151…200 removed, 300…349 added.
    func after() -> [MonitorPointDefinition] {
        (UInt32(1)...150).map { ioa -> MonitorPointDefinition in
            if ioa % 15 == 0 { return monitor(ioa, .scaled) }
            if ioa % 31 == 0 { return monitor(ioa, name: "renamed \(ioa)") }
            return monitor(ioa)
        } + (UInt32(300)..<350).map { monitor($0) }
    }

    @Test func preparedAndDirectReloadsAgree() throws {
        let direct = try outstation(Self.before.map { monitor($0) })
        let prepared = try outstation(Self.before.map { monitor($0) })
        let table = PointTable(monitorPoints: after().shuffled())
        let image = Outstation.prepareImage(points: table, basis: prepared.imageBasis, wallTime: 20)
        // An update between the preparation and the swap is carried over too: the loop copies the values at the swap.
        let late = PointUpdate(address: PointAddress(commonAddress: 47, objectAddress: 7), value: .float(-1))
        try direct.apply([late], wallTime: 15)
        try prepared.apply([late], wallTime: 15)

        let expected = direct.reconfigure(points: table, stations: [station("scada", ca: 47)], now: LinkInstant(nanoseconds: 1), wallTime: 20).report
        let report = prepared.reconfigure(prepared: image, stations: [station("scada", ca: 47)], now: LinkInstant(nanoseconds: 1), wallTime: 20).report
        #expect(report.summary == expected.summary)
        #expect(report.pointsAdded == 60 && report.pointsRemoved == 60 && report.pointsChanged == 4)
        #expect(states(prepared) == states(direct))
        #expect(prepared.image.state(at: late.address)?.value == .float(-1))
        #expect(prepared.image.state(at: PointAddress(commonAddress: 47, objectAddress: 8))?.value == .float(4))
    }

    @Test func anImagePreparedBeforeAnotherReloadIsMatchedAgain() throws {
        let direct = try outstation(Self.before.map { monitor($0) })
        let prepared = try outstation(Self.before.map { monitor($0) })
        let table = PointTable(monitorPoints: after())
        let image = Outstation.prepareImage(points: table, basis: prepared.imageBasis, wallTime: 20)
        // Another reload comes first: the prepared correspondence no longer holds.
        let between = PointTable(monitorPoints: (1...100).map { monitor($0, $0 % 2 == 0 ? .single : .float) })
        for outstation in [direct, prepared] {
            _ = outstation.reconfigure(points: between, stations: [station("scada", ca: 47)], now: LinkInstant(nanoseconds: 1), wallTime: 15)
        }
        let expected = direct.reconfigure(points: table, stations: [station("scada", ca: 47)], now: LinkInstant(nanoseconds: 2), wallTime: 20).report
        let report = prepared.reconfigure(prepared: image, stations: [station("scada", ca: 47)], now: LinkInstant(nanoseconds: 2), wallTime: 20).report
        #expect(report.summary == expected.summary)
        #expect(states(prepared) == states(direct))
    }
}
