import Testing
import IEC104
@testable import Outstation
import TestSupport

private let start = LinkInstant(nanoseconds: 1_000_000_000)

@Suite("Staleness watch")
struct StalenessWatchTests {
    @Test func noWatchWithoutAnyLimit() {
        #expect(StalenessWatch(limits: [nil, nil], now: start) == nil)
        #expect(StalenessWatch(limits: [], now: start) == nil)
    }

    @Test func aPointNeverUpdatedSinceStartExpiresOnceAtItsLimit() throws {
        var watch = try #require(StalenessWatch(limits: [.seconds(5), nil], now: start))
        #expect(watch.watchedCount == 1)
        #expect(!watch.watches(1))
        #expect(watch.expire(now: start + .milliseconds(4_999)) == [])
        #expect(watch.expire(now: start + .seconds(5)) == [0])
        // Reported once until its next update.
        #expect(watch.expire(now: start + .seconds(60)) == [])
        #expect(watch.nextDeadline == nil)
    }

    @Test func anUpdateMovesTheDeadline() throws {
        var watch = try #require(StalenessWatch(limits: [.seconds(5)], now: start))
        watch.touch(0, now: start + .seconds(3))
        // The entry due at 5 s is put back for 8 s (lazy reschedule), not reported.
        #expect(watch.expire(now: start + .seconds(5)) == [])
        #expect(watch.nextDeadline == start + .seconds(8))
        #expect(watch.expire(now: start + .milliseconds(7_999)) == [])
        #expect(watch.expire(now: start + .seconds(8)) == [0])
    }

    @Test func anUpdateAfterExpiryWatchesThePointAgain() throws {
        var watch = try #require(StalenessWatch(limits: [.seconds(1)], now: start))
        #expect(watch.expire(now: start + .seconds(1)) == [0])
        watch.touch(0, now: start + .seconds(10))
        #expect(watch.expire(now: start + .milliseconds(10_500)) == [])
        #expect(watch.expire(now: start + .seconds(11)) == [0])
    }

    @Test func eachPointKeepsItsOwnLimitAndTheHeapOneEntryPerPoint() throws {
        var watch = try #require(StalenessWatch(limits: [.seconds(3), .seconds(1), nil, .seconds(2)], now: start))
        for step in 1...20 { watch.touch(3, now: start + .milliseconds(step * 10)) }
        #expect(watch.expire(now: start + .seconds(1)) == [1])
        #expect(watch.expire(now: start + .milliseconds(2_200)) == [3])
        #expect(watch.expire(now: start + .seconds(3)) == [0])
        #expect(watch.expire(now: start + .seconds(100)) == [])
    }

    @Test func aBudgetSpreadsTheWorkOverCalls() throws {
        var watch = try #require(StalenessWatch(limits: [Duration?](repeating: .seconds(1), count: 5), now: start))
        let due = start + .seconds(1)
        #expect(watch.expire(now: due, budget: 2).count == 2)
        #expect(watch.isDue(now: due))
        #expect(watch.expire(now: due, budget: 2).count == 2)
        #expect(watch.expire(now: due, budget: 2).count == 1)
        #expect(!watch.isDue(now: due))
    }

    @Test func anUpdateWithoutAnInstantCountsAtTheLatestKnownOne() throws {
        var watch = try #require(StalenessWatch(limits: [.seconds(2)], now: start))
        _ = watch.expire(now: start + .seconds(1))
        watch.touch(0, now: nil)
        #expect(watch.lastUpdate(of: 0) == start + .seconds(1))
        #expect(watch.expire(now: start + .milliseconds(2_999)) == [])
        #expect(watch.expire(now: start + .seconds(3)) == [0])
    }

    @Test func aReplacementWatchKeepsTheLastUpdatesItIsGiven() throws {
        let later = start + .seconds(4)
        var watch = try #require(StalenessWatch(limits: [.seconds(5), .seconds(5)], now: later) { index in
            index == 0 ? start : nil
        })
        #expect(watch.expire(now: start + .seconds(5)) == [0])
        #expect(watch.expire(now: later + .seconds(5)) == [1])
    }
}

private func started(_ points: [MonitorPointDefinition], startNotTopical: Bool = false) throws -> (Harness, ConnectionID) {
    let harness = Harness(points: points, startNotTopical: startNotTopical)
    let id = harness.connect().id
    try harness.startDataTransfer(on: id)
    return (harness, id)
}

@Suite("Quality that follows its source")
struct LapsedQualityTests {
    @Test func aStalePointIsReportedNotTopicalAndTheNextUpdateClearsIt() throws {
        let (harness, id) = try started([.point(1, .single, staleAfter: .seconds(5)), .point(2, .single)])
        try harness.apply([update(1, .single(true))])
        #expect(try harness.exchange(on: id).count == 1)

        harness.advance(by: .seconds(5))
        let marked = harness.outstation.expireStale(now: harness.now, wallTime: harness.wallTime)
        #expect(marked == [address(1)])
        let stale = try harness.exchange(on: id)
        #expect(stale.map(\.cot) == [.spontaneous])
        #expect(stale.first?.objects == [InformationObject(address: 1, element: .singlePoint(
            SinglePointInformation(isOn: true, quality: .notTopical), time: nil))])
        #expect(harness.outstation.image.state(at: address(1))?.quality == .notTopical)

        // The same value again: reported, because the quality changes back.
        harness.advance(by: .seconds(1))
        #expect(try harness.apply([update(1, .single(true))]) == 1)
        let fresh = try harness.exchange(on: id)
        #expect(fresh.first?.objects == [InformationObject(address: 1, element: .singlePoint(
            SinglePointInformation(isOn: true), time: nil))])
    }

    @Test func anUpdateWithoutAnEventStillKeepsThePointTopical() throws {
        let (harness, id) = try started([.point(1, .float, deadband: .absolute(10), staleAfter: .seconds(2))])
        for _ in 1...4 {
            harness.advance(by: .seconds(1))
            #expect(try harness.apply([update(1, .float(1))]) == 0)
            #expect(harness.outstation.expireStale(now: harness.now, wallTime: harness.wallTime) == [])
        }
        #expect(try harness.exchange(on: id).isEmpty)
        harness.advance(by: .seconds(2))
        #expect(harness.outstation.expireStale(now: harness.now, wallTime: harness.wallTime) == [address(1)])
    }

    @Test func aStaleCounterIsInvalidForBCRHasNoNotTopicalBit() throws {
        let (harness, _) = try started([.point(9, .counter, staleAfter: .seconds(1))])
        harness.advance(by: .seconds(1))
        #expect(harness.outstation.expireStale(now: harness.now, wallTime: harness.wallTime) == [address(9)])
        let state = try #require(harness.outstation.image.state(at: address(9)))
        #expect(state.quality == .invalid)
        guard case .integratedTotals(let reading, _) = state.value.element(quality: state.quality, time: nil) else {
            Issue.record("not an integrated total")
            return
        }
        #expect(reading.invalid)
    }

    @Test func invalidatedPointsAreReportedAtOnceAndRecoverOnTheirNextUpdate() throws {
        let (harness, id) = try started([.point(1, .float), .point(2, .counter), .point(3, .single)])
        try harness.apply([update(1, .float(7))])
        _ = try harness.exchange(on: id)
        let marked = harness.outstation.invalidate([address(1), address(2), address(99)], wallTime: harness.wallTime)
        #expect(marked == [address(1), address(2)])
        let events = try harness.exchange(on: id)
        #expect(events.allSatisfy { $0.cot == .spontaneous })
        #expect(events.flatMap(\.objects).map(\.element).contains(.float(7, .invalid)))
        // Already invalid: nothing new.
        #expect(harness.outstation.invalidate([address(1)], wallTime: harness.wallTime) == [])
        try harness.apply([update(1, .float(7))])
        #expect(try harness.exchange(on: id).first?.objects.first?.element == .float(7, []))
    }

    @Test func startNotTopicalShowsInTheGeneralInterrogationUntilTheFirstUpdate() throws {
        let (harness, id) = try started([.point(1, .single), .point(2, .counter)], startNotTopical: true)
        try harness.request(interrogation(), on: id)
        let answer = try harness.exchange(on: id)
        #expect(answer.map(\.cot) == [.activationConfirmation, .interrogatedByStation, .activationTermination])
        #expect(answer.dropFirst().dropLast().flatMap(\.objects).map(\.element) == [.singlePoint(SinglePointInformation(isOn: false, quality: .notTopical), time: nil)])
        #expect(harness.outstation.image.state(at: address(2))?.quality == .invalid)
        try harness.apply([update(1, .single(false))])
        #expect(try harness.exchange(on: id).first?.objects.first?.element
                == .singlePoint(SinglePointInformation(isOn: false), time: nil))
    }

    @Test func aRestoredValueKeepsItsSavedQualityOverTheStartQuality() throws {
        let harness = Harness(points: [MonitorPointDefinition(address: address(2), kind: .counter)], startNotTopical: true)
        #expect(harness.outstation.image.restore(PointUpdate(address: address(2), value: .counter(BinaryCounterReading(value: 5)))))
        #expect(harness.outstation.image.state(at: address(2))?.quality == [])
    }

    @Test func theStateFileKeepsTheSourcesQualityNotTheFlagsTheDaemonSet() throws {
        let harness = Harness(points: [.point(1, .counter, staleAfter: .seconds(1)), .point(2, .counter), .point(3, .counter)],
                              startNotTopical: true)
        try harness.apply([update(2, .counter(BinaryCounterReading(value: 9)), quality: .invalid)])
        harness.advance(by: .seconds(1))
        harness.outstation.expireStale(now: harness.now, wallTime: harness.wallTime)
        #expect(harness.outstation.image.state(at: address(1))?.quality == .invalid)
        #expect(harness.outstation.image.state(at: address(3))?.quality == .invalid)
        let saved = Dictionary(uniqueKeysWithValues: harness.outstation.image.persistentState.map { ($0.address, $0.quality) })
        #expect(saved == [address(1): [], address(2): .invalid, address(3): []])
    }

    @Test func aReloadKeepsThePointsTimeAndWatchesNewLimits() throws {
        let harness = Harness(points: [.point(1, .single, staleAfter: .seconds(5))])
        harness.advance(by: .seconds(3))
        _ = harness.outstation.reconfigure(points: PointTable(monitorPoints: [.point(1, .single, staleAfter: .seconds(5)),
                                                                            .point(2, .single, staleAfter: .seconds(5))]),
                                           stations: harness.outstation.stations.map(\.configuration),
                                           now: harness.now, wallTime: harness.wallTime)
        harness.advance(by: .seconds(2))
        #expect(harness.outstation.expireStale(now: harness.now, wallTime: harness.wallTime) == [address(1)])
        harness.advance(by: .seconds(3))
        #expect(harness.outstation.expireStale(now: harness.now, wallTime: harness.wallTime) == [address(2)])
    }

    @Test func aPreparedReloadKeepsThePointsTimeToo() throws {
        let harness = Harness(points: [.point(1, .single, staleAfter: .seconds(5)), .point(2, .single, staleAfter: .seconds(5))])
        harness.advance(by: .seconds(3))
        try harness.apply([update(2, .single(true))])
        let table = PointTable(monitorPoints: [.point(1, .single, staleAfter: .seconds(5)), .point(2, .single, staleAfter: .seconds(5)),
                                               .point(3, .single, staleAfter: .seconds(1))])
        let prepared = Outstation.prepareImage(points: table, basis: harness.outstation.imageBasis, wallTime: harness.wallTime)
        _ = harness.outstation.reconfigure(prepared: prepared, stations: harness.outstation.stations.map(\.configuration),
                                           now: harness.now, wallTime: harness.wallTime)
        harness.advance(by: .seconds(1))
        #expect(harness.outstation.expireStale(now: harness.now, wallTime: harness.wallTime) == [address(3)])
        harness.advance(by: .seconds(1))
        #expect(harness.outstation.expireStale(now: harness.now, wallTime: harness.wallTime) == [address(1)])
        harness.advance(by: .seconds(3))
        #expect(harness.outstation.expireStale(now: harness.now, wallTime: harness.wallTime) == [address(2)])
    }

    @Test func lapsedPointsAreCountedPerCommonAddress() throws {
        let harness = Harness(points: [.point(1, .single, staleAfter: .seconds(1)), .point(2, .float),
                                       .point(1, .single, ca: 48), .point(3, .counter)], commonAddresses: [47, 48])
        #expect(harness.outstation.lapsedPointCounts().isEmpty)
        harness.advance(by: .seconds(1))
        harness.outstation.expireStale(now: harness.now, wallTime: harness.wallTime)
        harness.outstation.invalidate([address(1, ca: 48), address(3)], wallTime: harness.wallTime)
        #expect(harness.outstation.lapsedPointCounts() == [47: 2, 48: 1])
    }

    @Test func pointListsAreWrittenAsRanges() {
        let points = [3201, 3300, 3301, 3302, 3310].map { address(UInt32($0)) } + [address(5, ca: 1)]
        #expect(PointRanges.compact(points) == "1:5, 47:3201, 47:3300-3302, 47:3310")
        #expect(PointRanges.compact(points, limit: 2) == "1:5, 47:3201, and 2 more")
    }
}
