import Testing
import IEC104
@testable import Outstation

private let start = LinkInstant(nanoseconds: 5_000_000_000)

private func point(_ ioa: UInt32, _ kind: PointKind, _ generator: SimulationGenerator?, initial: PointValue? = nil)
    -> MonitorPointDefinition {
    MonitorPointDefinition(address: PointAddress(commonAddress: 1, objectAddress: ioa), kind: kind, initialValue: initial,
                           simulation: generator)
}

private func floats(_ updates: [PointUpdate]) -> [Float] {
    updates.compactMap { if case .float(let value) = $0.value { value } else { nil } }
}

@Suite("Simulation generators")
struct SimulationGeneratorTests {
    @Test func sineAtQuarterPeriods() {
        let sine = SimulationGenerator.sine(amplitude: 10, period: .seconds(60), offset: 50, interval: .seconds(1))
        #expect(sine.value(at: .zero) == 50)
        #expect(sine.value(at: .seconds(15)) == 60)
        #expect(sine.value(at: .seconds(30)) == 50)
        #expect(sine.value(at: .seconds(45)) == 40)
        #expect(sine.value(at: .seconds(60)) == 50)
        #expect(sine.value(at: .seconds(75)) == 60)
        let eighth = try! #require(sine.value(at: .milliseconds(7_500)))
        #expect(abs(eighth - (50 + 10 * 0.5.squareRoot())) < 1e-9)
    }

    @Test func rampRisesOverItsPeriodAndWraps() {
        let ramp = SimulationGenerator.ramp(from: 0, to: 100, period: .seconds(10), interval: .seconds(1))
        #expect(ramp.value(at: .zero) == 0)
        #expect(ramp.value(at: .seconds(5)) == 50)
        #expect(ramp.value(at: .seconds(9)) == 90)
        #expect(ramp.value(at: .seconds(10)) == 0)
        #expect(ramp.value(at: .seconds(12)) == 20)
        // Falling ramps too.
        let down = SimulationGenerator.ramp(from: 10, to: 0, period: .seconds(4), interval: .seconds(1))
        #expect(down.value(at: .seconds(1)) == 7.5)
        #expect(down.value(at: .seconds(4)) == 10)
    }

    @Test(arguments: [
        (SimulationGenerator.sine(amplitude: 1, period: .seconds(1), offset: 0, interval: .seconds(1)), [PointKind.float, .scaled, .normalized]),
        (.ramp(from: 0, to: 1, period: .seconds(1), interval: .seconds(1)), [.float, .scaled, .normalized]),
        (.randomWalk(step: 1, min: 0, max: 1, interval: .seconds(1)), [.float, .scaled, .normalized]),
        (.toggle(interval: .seconds(1)), [.single, .double]),
        (.counter(rate: 1, interval: .seconds(1)), [.counter]),
    ])
    func kindFit(generator: SimulationGenerator, kinds: [PointKind]) {
        for kind in PointKind.allCases {
            #expect(generator.fits(kind) == kinds.contains(kind), "\(generator.name) on \(kind)")
        }
    }

    @Test func valuesAreRoundedAndClampedToTheKind() {
        #expect(SimulationSchedule.value(40_000.4, kind: .scaled) == .scaled(32767))
        #expect(SimulationSchedule.value(-12.6, kind: .scaled) == .scaled(-13))
        #expect(SimulationSchedule.value(2, kind: .normalized) == .normalized(NormalizedValue(rawValue: 32767)))
        #expect(SimulationSchedule.value(1, kind: .double) == .double(.on))
        #expect(SimulationSchedule.value(0, kind: .single) == .single(false))
    }
}

@Suite("Simulation schedule")
struct SimulationScheduleTests {
    @Test func noScheduleWithoutSimulatedPoints() {
        #expect(SimulationSchedule(points: [point(1, .float, nil)], origin: start) == nil)
    }

    @Test func aSineIsDueEveryIntervalWithItsValueAtTheDueInstant() throws {
        let sine = SimulationGenerator.sine(amplitude: 10, period: .seconds(4), offset: 0, interval: .seconds(1))
        var schedule = try #require(SimulationSchedule(points: [point(1, .float, nil), point(2, .float, sine)], origin: start))
        #expect(schedule.count == 1)
        #expect(schedule.simulates(PointAddress(commonAddress: 1, objectAddress: 2)))
        #expect(!schedule.simulates(PointAddress(commonAddress: 1, objectAddress: 1)))
        #expect(schedule.nextDeadline == start + .seconds(1))
        #expect(schedule.due(now: start + .milliseconds(999)).isEmpty)
        // Late calls report the value at the due instant, not at the call.
        let first = schedule.due(now: start + .milliseconds(1_200))
        #expect(first.map(\.address.objectAddress) == [2])
        #expect(floats(first) == [10])
        #expect(schedule.nextDeadline == start + .seconds(2))
        #expect(floats(schedule.due(now: start + .seconds(2))) == [0])
        #expect(floats(schedule.due(now: start + .seconds(3))) == [-10])
    }

    @Test func missedTicksAreSkippedNotCaughtUp() throws {
        let ramp = SimulationGenerator.ramp(from: 0, to: 10, period: .seconds(10), interval: .seconds(1))
        var schedule = try #require(SimulationSchedule(points: [point(1, .float, ramp)], origin: start))
        #expect(floats(schedule.due(now: start + .milliseconds(4_500))) == [1])
        #expect(schedule.nextDeadline == start + .seconds(5))
        #expect(floats(schedule.due(now: start + .seconds(5))) == [5])
    }

    @Test func eachPointHasItsOwnInterval() throws {
        var schedule = try #require(SimulationSchedule(points: [
            point(1, .single, .toggle(interval: .seconds(2))),
            point(2, .counter, .counter(rate: 1, interval: .milliseconds(500))),
        ], origin: start))
        #expect(schedule.nextDeadline == start + .milliseconds(500))
        #expect(schedule.due(now: start + .milliseconds(500)).map(\.address.objectAddress) == [2])
        #expect(schedule.due(now: start + .seconds(1)).map(\.address.objectAddress) == [2])
        #expect(schedule.due(now: start + .seconds(2)).map(\.address.objectAddress).sorted() == [1, 2])
    }

    @Test func toggleAlternatesFromTheInitialValue() throws {
        var single = try #require(SimulationSchedule(points: [point(1, .single, .toggle(interval: .seconds(1)), initial: .single(true))],
                                                     origin: start))
        let singles = (1...4).flatMap { single.due(now: start + .seconds($0)).map(\.value) }
        #expect(singles == [.single(false), .single(true), .single(false), .single(true)])
        var double = try #require(SimulationSchedule(points: [point(1, .double, .toggle(interval: .seconds(1)))], origin: start))
        let doubles = (1...3).flatMap { double.due(now: start + .seconds($0)).map(\.value) }
        #expect(doubles == [.double(.on), .double(.off), .double(.on)])
    }

    @Test func counterAddsWholeCountsAtItsRate() throws {
        var schedule = try #require(SimulationSchedule(points: [
            point(1, .counter, .counter(rate: 2.5, interval: .seconds(1)), initial: .counter(BinaryCounterReading(value: 100))),
        ], origin: start))
        let readings = (1...4).flatMap { schedule.due(now: start + .seconds($0)).map(\.value) }
        // 2.5 per second: 2, 3, 2, 3 (the half count carries over), from the initial reading.
        #expect(readings == [102, 105, 107, 110].map { .counter(BinaryCounterReading(value: $0)) })
    }

    @Test func randomWalkStaysWithinBoundsAndRepeatsForASeed() throws {
        let walk = SimulationGenerator.randomWalk(step: 3, min: -5, max: 5, interval: .seconds(1))
        func run(seed: UInt64) throws -> [Float] {
            var schedule = try #require(SimulationSchedule(points: [point(7, .float, walk)], origin: start, seed: seed))
            return (1...500).flatMap { floats(schedule.due(now: start + .seconds($0))) }
        }
        let first = try run(seed: 1)
        #expect(first.count == 500)
        #expect(first.allSatisfy { (-5...5).contains($0) })
        var previous: Float = 0
        for value in first {
            #expect(abs(value - previous) <= 3.0001)
            previous = value
        }
        // It reaches both bounds' neighbourhoods and does not stand still.
        #expect(first.min()! < -3 && first.max()! > 3)
        #expect(try run(seed: 1) == first)
        #expect(try run(seed: 2) != first)
    }

    @Test func randomWalkStartsMidwayWhenTheInitialValueIsOutside() throws {
        let walk = SimulationGenerator.randomWalk(step: 0.5, min: 100, max: 200, interval: .seconds(1))
        var schedule = try #require(SimulationSchedule(points: [point(1, .float, walk)], origin: start))
        let value = try #require(floats(schedule.due(now: start + .seconds(1))).first)
        #expect(abs(value - 150) <= 0.5)
    }

    @Test func aSetValueHoldsThePointThenTheGeneratorGoesOnFromIt() throws {
        let address = PointAddress(commonAddress: 1, objectAddress: 1)
        var schedule = try #require(SimulationSchedule(points: [
            point(1, .counter, .counter(rate: 1, interval: .seconds(1))),
        ], origin: start, hold: .seconds(10)))
        #expect(schedule.due(now: start + .seconds(1)).map(\.value) == [.counter(BinaryCounterReading(value: 1))])
        let simulated = schedule.override(address, with: .counter(BinaryCounterReading(value: 1000)), now: start + .milliseconds(1_500))
        let other = schedule.override(PointAddress(commonAddress: 1, objectAddress: 2), with: .single(true), now: start)
        #expect(simulated)
        #expect(!other)
        #expect(schedule.heldUntil(address, now: start + .seconds(2)) == start + .milliseconds(11_500))
        for second in 2...11 { #expect(schedule.due(now: start + .seconds(second)).isEmpty, "held at \(second) s") }
        #expect(schedule.heldUntil(address, now: start + .seconds(12)) == nil)
        #expect(schedule.due(now: start + .seconds(12)).map(\.value) == [.counter(BinaryCounterReading(value: 1001))])
    }

    @Test func aSineResumesAtThePhaseOfTheClockAfterAHold() throws {
        let address = PointAddress(commonAddress: 1, objectAddress: 1)
        let sine = SimulationGenerator.sine(amplitude: 1, period: .seconds(4), offset: 0, interval: .seconds(1))
        var schedule = try #require(SimulationSchedule(points: [point(1, .float, sine)], origin: start, hold: .seconds(2)))
        schedule.override(address, with: .float(42), now: start)
        #expect(schedule.due(now: start + .seconds(1)).isEmpty)
        #expect(floats(schedule.due(now: start + .seconds(2))) == [0])
        #expect(floats(schedule.due(now: start + .seconds(3))) == [-1])
    }
}
