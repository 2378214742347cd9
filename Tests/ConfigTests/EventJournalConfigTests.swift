@testable import Config
import Outstation
import Testing

@Suite("Config: event_journal and event_journal_sync")
struct EventJournalConfigTests {
    /// The test configuration with lines added to its [daemon] and [station scada] sections.
    private func files(daemon: String = "", station: String = "") -> Files {
        Files(config: Files.config
            .replacingOccurrences(of: "point_tables = points.json\n", with: "point_tables = points.json\n" + daemon)
            .replacingOccurrences(of: "common_addresses = 47\n", with: "common_addresses = 47\n" + station))
    }

    @Test func offByDefaultAndSyncFull() throws {
        let config = try #require(Files().configuration)
        #expect(config.stations.allSatisfy { !$0.eventJournal })
        #expect(config.daemon.eventJournalSync == .full)
    }

    @Test func onPerStationWithTheDaemonsSync() throws {
        let config = try #require(files(daemon: "event_journal_sync = normal\n", station: "event_journal = on\n").configuration)
        #expect(config.stations.first?.eventJournal == true)
        #expect(config.daemon.eventJournalSync == .normal)
        #expect(renderSummary(config).contains("event journal (sync normal)"))
    }

    @Test func badValuesNameTheFileLineAndKey() {
        #expect(files(station: "event_journal = sometimes\n").errors == [
            "rtu.conf:11: station 'scada' key 'event_journal': sometimes is not a yes/no value; use true or false (also yes/no, on/off, 1/0)",
        ])
        let sync = files(daemon: "event_journal_sync = always\n").errors
        #expect(sync.count == 1 && sync[0].hasPrefix("rtu.conf:3: [daemon] key 'event_journal_sync': "), "\(sync)")
        #expect(sync.first?.contains("full") == true && sync.first?.contains("normal") == true)
        // In the wrong section it is pointed to the right one.
        let misplaced = files(daemon: "event_journal = on\n").errors
        #expect(misplaced.count == 1 && misplaced[0].contains("[station NAME]"), "\(misplaced)")
    }
}
