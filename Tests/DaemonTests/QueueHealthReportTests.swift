@testable import Server
import Testing

@Suite("QueueHealthReport: lost events and held producers become a few log lines per period")
struct QueueHealthReportTests {
    static func sample(_ name: String, dropped: UInt64, connected: Bool = false) -> QueueHealthReport.StationSample {
        .init(name: name, dropped: dropped, buffered: 10_000, capacity: 10_000, overflowPolicy: "drop-oldest",
              masterInDataTransfer: connected)
    }

    @Test func aQuietPeriodSaysNothing() {
        var report = QueueHealthReport()
        #expect(report.endPeriod(stations: [Self.sample("a", dropped: 0)], heldNanoseconds: 0, updatesApplied: 5).isEmpty)
        #expect(report.endPeriod(stations: [Self.sample("a", dropped: 0)], heldNanoseconds: 5_000_000, updatesApplied: 9).isEmpty)
    }

    @Test func dropsAreReportedOncePerPeriodWithTheReason() {
        var report = QueueHealthReport()
        let first = report.endPeriod(stations: [Self.sample("away", dropped: 120), Self.sample("stuck", dropped: 1, connected: true)],
                                     heldNanoseconds: 0, updatesApplied: 0)
        #expect(first == [
            .init(level: .warning, text: "station 'away' dropped 120 events in the last 10 s: its event buffer (10000) was full "
                    + "and no master was in data transfer (event_overflow = drop-oldest)",
                  metadata: ["station": "away", "dropped": "120", "buffered": "10000"]),
            .init(level: .warning, text: "station 'stuck' dropped 1 event in the last 10 s: its event buffer (10000) was full "
                    + "and its master did not acknowledge (event_overflow = drop-oldest)",
                  metadata: ["station": "stuck", "dropped": "1", "buffered": "10000"]),
        ])
        // Only what is new since the last period.
        let second = report.endPeriod(stations: [Self.sample("away", dropped: 150), Self.sample("stuck", dropped: 1, connected: true)],
                                      heldNanoseconds: 0, updatesApplied: 0)
        #expect(second.map(\.metadata["dropped"]) == ["30"])
    }

    @Test func aStationReplacedOnReloadCountsFromZero() {
        var report = QueueHealthReport()
        _ = report.endPeriod(stations: [Self.sample("s", dropped: 500)], heldNanoseconds: 0, updatesApplied: 0)
        let after = report.endPeriod(stations: [Self.sample("s", dropped: 40)], heldNanoseconds: 0, updatesApplied: 0)
        #expect(after.map(\.metadata["dropped"]) == ["40"])
    }

    @Test func heldProducersAreReportedWithTheTimeAndTheUpdates() {
        var report = QueueHealthReport()
        let lines = report.endPeriod(stations: [], heldNanoseconds: 3_419_000_000, updatesApplied: 1_250_000)
        #expect(lines == [.init(level: .notice,
                                text: "producers waited 3.41 s of the last 10 s for masters that take events slower than "
                                    + "updates arrive (1250000 updates applied)",
                                metadata: ["held_seconds": "3.41", "updates": "1250000"])])
        #expect(report.endPeriod(stations: [], heldNanoseconds: 3_419_000_000, updatesApplied: 1_300_000).isEmpty)
    }
}
