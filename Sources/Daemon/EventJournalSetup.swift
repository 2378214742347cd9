import Config
import EventJournal
import Logging
import Outstation
import Server
import ServiceLifecycle

/// The event journal in the daemon: opened at start when a station has `event_journal = on` (or at the first
/// reload that turns it on), its kept events handed back to the stations before any master can connect, and
/// closed after the IEC 104 server at stop, once the last acknowledgements are written.
enum EventJournalSetup {
    /// Opens the journal under the state directory and restores what it kept. nil when no station journals, or
    /// when no journal could be opened (logged; the stations keep their events in memory then).
    /// `restoring` false (a reload that turns `event_journal` on while the daemon runs): what the file kept from
    /// an earlier run is discarded, with a warning, because the stations have moved on since; a restart sends it.
    static func attach(_ configuration: DaemonConfiguration, to server: OutstationServer, restoring: Bool = true,
                       logger: Logger) async -> EventJournalWriter? {
        let journaling = configuration.stations.filter(\.eventJournal).map(\.name)
        guard !journaling.isEmpty else { return nil }
        let directory = configuration.daemon.stateDirectory
        let synchronous = configuration.daemon.eventJournalSync
        guard let opened = EventJournalOpening.open(directory: directory, synchronous: synchronous, logger: logger) else {
            return nil
        }
        var kept = opened.events
        if !restoring, !kept.isEmpty {
            do {
                try opened.writer.store.write(Set(kept.map(\.station)).sorted().map { .removeStation($0) })
                logger.warning("event journal: opened by a reload; \(kept.count) events kept from an earlier run were discarded (a restart, not a reload, sends them)")
            } catch {
                logger.error("event journal: cannot clear what an earlier run kept: \(error)")
                return nil
            }
            kept = []
        }
        let report: JournalRestoreReport
        do {
            report = try await server.attachJournal(opened.writer, restoring: kept).get()
        } catch {
            logger.error("event journal: cannot restore its events: \(error)")
            return nil
        }
        logger.notice("event journal: \(opened.writer.store.path), synchronous=\(synchronous.rawValue), stations: \(journaling.joined(separator: ", "))",
                      metadata: ["path": "\(opened.writer.store.path)"])
        log(report, logger: logger)
        return opened.writer
    }

    static func log(_ report: JournalRestoreReport, logger: Logger) {
        let restored = report.restored.values.reduce(0, +)
        if restored > 0 {
            let byStation = report.restored.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            logger.notice("event journal: \(restored) events kept at the last stop will be sent again (\(byStation))")
        }
        if report.unknownPoints > 0 {
            logger.warning("event journal: dropped \(report.unknownPoints) events of points no longer configured for their station")
        }
        if report.otherStations > 0 {
            logger.notice("event journal: dropped \(report.otherStations) events of stations that are gone or no longer journal")
        }
        if report.overflowed > 0 {
            logger.warning("event journal: \(report.overflowed) kept events did not fit in event_buffer and were given up")
        }
    }
}

/// Stops after the IEC 104 server: writes what the last acknowledgements removed, then closes the database (if
/// one was opened, at start or by a reload).
struct EventJournalService: Service {
    let record: DaemonRecord
    let server: OutstationServer
    let logger: Logger

    func run() async {
        try? await gracefulShutdown()
        guard let writer = record.journalWriter else { return }
        try? await server.syncJournal().get()
        writer.finish()
        do {
            try writer.store.close()
        } catch {
            logger.warning("event journal: closing \(writer.store.path): \(error)")
        }
    }
}
