import Config
@testable import Daemon
import Foundation
import Testing
import TestSupport

/// The event journal in the running daemon: opened under the state directory, shown in the status reply, and a
/// control client whose `set` waits for the journal still gets every reply in request order.
@Suite("The daemon's event journal", .timeLimit(.minutes(1)))
struct EventJournalDaemonTests {
    @Test func repliesKeepTheirOrderWhileSetsWaitForTheJournal() async throws {
        let fixture = try await DaemonFixture(station: "event_journal = on")
        let stoppedInTime = try await fixture.serving {
            let client = try #require(ControlClient(path: fixture.daemon.controlSocketPath))
            defer { client.close() }
            let set = { (on: Bool) in #"{"op":"set","points":[{"ca":1,"ioa":100,"value":\#(on)}]}"# }
            let get = #"{"op":"get","points":["1:100"]}"#
            let replies = await client.askAll([set(true), get, set(false), get, #"{"op":"nonsense"}"#, #"{"op":"status"}"#])
            try #require(replies.count == 6, "\(replies)")
            #expect(replies[0] == #"{"events":1,"ok":true,"updated":1}"#)
            #expect(replies[1].contains(#""value":true"#), "the get after the first set sees it: \(replies[1])")
            #expect(replies[2] == #"{"events":1,"ok":true,"updated":1}"#)
            #expect(replies[3].contains(#""value":false"#), "\(replies[3])")
            #expect(replies[4].contains(#""ok":false"#))
            #expect(replies[5].contains(#""event_journal":"#))
            // Asked once the sets are answered (a reply computed while they waited shows the journal as it was then).
            let later = try #require(await client.ask(#"{"op":"status"}"#))
            let status = try #require(try JSONSerialization.jsonObject(with: Data(later.utf8)) as? [String: Any])
            let journal = try #require(status["event_journal"] as? [String: Any])
            #expect(journal["path"] as? String == fixture.scratch.path + "/state/events.db")
            #expect(journal["sync"] as? String == "full")
            #expect(journal["events_kept"] as? Int == 2, "no master took them")
            #expect((journal["commits"] as? Int ?? 0) >= 1)
        }
        #expect(stoppedInTime)
        #expect(fixture.log.messages(containing: "event journal: ").contains { $0.contains("stations: anyone") })
        #expect(FileManager.default.fileExists(atPath: fixture.scratch.path + "/state/events.db"))
    }

    @Test func aReloadThatTurnsTheJournalOnOpensItAndJournalsWhatIsBuffered() async throws {
        let fixture = try await DaemonFixture()
        let stoppedInTime = try await fixture.serving {
            let client = try #require(ControlClient(path: fixture.daemon.controlSocketPath))
            defer { client.close() }
            #expect(await client.ask(#"{"op":"set","points":[{"ca":1,"ioa":100,"value":true}]}"#)?.contains(#""ok":true"#) == true)
            let before = try #require(await client.ask(#"{"op":"status"}"#))
            #expect(!before.contains("event_journal"))
            DaemonFixture.writeConfig(fixture.configPath, port: fixture.port, station: "event_journal = on")
            fixture.reload.yield(.sighup)
            #expect(await eventually { fixture.log.messages(containing: "configuration reloaded").count == 1 })
            #expect(await client.ask(#"{"op":"set","points":[{"ca":1,"ioa":100,"value":false}]}"#)?.contains(#""ok":true"#) == true)
            let after = try #require(await client.ask(#"{"op":"status"}"#))
            let status = try #require(try JSONSerialization.jsonObject(with: Data(after.utf8)) as? [String: Any])
            let journal = try #require(status["event_journal"] as? [String: Any], "\(after)")
            #expect(journal["events_kept"] as? Int == 2, "the event buffered before the reload, and the new one")
        }
        #expect(stoppedInTime)
    }
}
