import IEC104
import NIOCore
import Outstation
import Server
import TestSupport
import Testing

/// Built-in simulation on loopback: simulated points send spontaneous events by themselves, and a value set from
/// outside holds a point before its generator goes on.
@Suite struct SimulationServerTests {
    static let points = [
        MonitorPointDefinition(address: address(1), kind: .float,
                               simulation: .sine(amplitude: 10, period: .seconds(2), offset: 50, interval: .milliseconds(100))),
        MonitorPointDefinition(address: address(2), kind: .single, simulation: .toggle(interval: .milliseconds(100))),
        MonitorPointDefinition(address: address(3), kind: .counter,
                               simulation: .counter(rate: 20, interval: .milliseconds(100))),
        // Only moves beyond its deadband are events: a sine of amplitude 1 never is.
        MonitorPointDefinition(address: address(4), kind: .float, deadband: .absolute(5),
                               simulation: .sine(amplitude: 1, period: .seconds(1), offset: 0, interval: .milliseconds(100))),
        point(5, .float),
    ]

    static func events(_ master: TestMaster, ioa: UInt32) -> [InformationElement] {
        master.inbox.asdus.filter { $0.cot == .spontaneous }.flatMap(\.objects).filter { $0.address == ioa }.map(\.element)
    }

    /// Acknowledges while waiting, so that the k window never holds the events back.
    static func waitAcknowledging(_ master: TestMaster, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await master.acknowledge()
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test func simulatedPointsSendSpontaneousEventsOverTime() async throws {
        try await ServerFixture.with(points: Self.points, stations: [try station("a")]) { fixture in
            let master = try await fixture.masterInDataTransfer()
            #expect(try await Self.waitAcknowledging(master) {
                Self.events(master, ioa: 1).count >= 5 && Self.events(master, ioa: 2).count >= 5 && Self.events(master, ioa: 3).count >= 5
            })
            let sine = Self.events(master, ioa: 1).compactMap { if case .float(let value, _, _) = $0 { value } else { nil } }
            #expect(sine.allSatisfy { (40...60).contains($0) })
            #expect(Set(sine).count >= 3, "the sine moves: \(sine)")
            let toggles = Self.events(master, ioa: 2).compactMap { if case .singlePoint(let information, _) = $0 { information.isOn } else { nil } }
            #expect(zip(toggles, toggles.dropFirst()).allSatisfy { $0 != $1 }, "each event the opposite: \(toggles)")
            let counts = Self.events(master, ioa: 3).compactMap { if case .integratedTotals(let reading, _) = $0 { reading.value } else { nil } }
            #expect(counts.first == 2)
            #expect(zip(counts, counts.dropFirst()).allSatisfy { $1 == $0 + 2 }, "2 counts every 100 ms: \(counts)")
            #expect(Self.events(master, ioa: 4).isEmpty, "within its deadband")
            #expect(Self.events(master, ioa: 5).isEmpty, "not simulated")
            await master.close()
        }
    }

    @Test func aSetHoldsASimulatedPointThenItsGeneratorGoesOnFromTheSetValue() async throws {
        try await ServerFixture.with(points: Self.points, stations: [try station("a")]) { fixture in
            // A hold long enough that a loaded machine's stall of a few seconds cannot end it before the check below.
            try await fixture.server.setSimulationHold(.seconds(5)).get()
            let master = try await fixture.masterInDataTransfer()
            #expect(try await Self.waitAcknowledging(master) { Self.events(master, ioa: 3).count >= 2 })
            let outcome = try await fixture.server.ingest([PointUpdate(address: address(3), value: .counter(BinaryCounterReading(value: 1000)))]).get()
            #expect(outcome == .applied(events: 1))
            let setAt = ContinuousClock.now
            func counts() -> [Int32] {
                Self.events(master, ioa: 3).compactMap { if case .integratedTotals(let reading, _) = $0 { reading.value } else { nil } }
            }
            #expect(try await Self.waitAcknowledging(master) { counts().contains(1000) })
            // Held: nothing else for the point for most of the hold (the loaded machine's slack aside).
            while ContinuousClock.now < setAt + .seconds(1) {
                try await master.acknowledge()
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(counts().last == 1000, "held after the set: \(counts())")
            // Then the counter goes on from the value set.
            #expect(try await Self.waitAcknowledging(master) { counts().contains(1004) })
            let after = Array(counts().drop { $0 != 1000 })
            #expect(after.prefix(3) == [1000, 1002, 1004], "\(counts())")
            // The other simulated points went on meanwhile.
            let toggles = Self.events(master, ioa: 2).count
            #expect(toggles >= 10)
            await master.close()
        }
    }

    /// A reload makes the schedule again: a point that gains `simulate` starts, one that loses it stops, and a
    /// counter that keeps its generator goes on from its value instead of starting over.
    @Test func aReloadMakesTheScheduleAgain() async throws {
        try await ServerFixture.with(points: Self.points, stations: [try station("a")]) { fixture in
            let master = try await fixture.masterInDataTransfer()
            func counts() -> [Int32] {
                Self.events(master, ioa: 3).compactMap { if case .integratedTotals(let reading, _) = $0 { reading.value } else { nil } }
            }
            #expect(try await Self.waitAcknowledging(master) { counts().count >= 3 })
            var points = Self.points
            points[1].simulation = nil
            points[4].simulation = .ramp(from: 0, to: 100, period: .seconds(1), interval: .milliseconds(100))
            _ = try await fixture.server.reload(listeners: [ListenerSettings.test(name: "main", host: "127.0.0.1", port: 0)],
                                                points: PointTable(monitorPoints: points), stations: [try station("a")]).get()
            let countsAtReload = counts().count
            #expect(try await Self.waitAcknowledging(master) { Self.events(master, ioa: 5).count >= 3 && counts().count >= countsAtReload + 3 })
            // The toggle stopped: no event for it in half a second, while the others go on.
            let toggles = Self.events(master, ioa: 2).count
            let ramp = Self.events(master, ioa: 5).count
            let deadline = ContinuousClock.now + .milliseconds(500)
            while ContinuousClock.now < deadline {
                try await master.acknowledge()
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(Self.events(master, ioa: 2).count == toggles)
            #expect(Self.events(master, ioa: 5).count > ramp)
            let all = counts()
            #expect(zip(all, all.dropFirst()).allSatisfy { $1 == $0 + 2 }, "the counter goes on across the reload: \(all)")
            await master.close()
        }
    }
}
