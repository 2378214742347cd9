public import Foundation
public import Logging
public import Outstation

/// The journal as the daemon finds it at start: what it kept, and the writer for what comes.
public struct OpenedEventJournal: Sendable {
    public let writer: EventJournalWriter
    /// The events kept at the last stop, oldest first per station.
    public let events: [JournaledEvent]
}

public enum EventJournalOpening {
    public static let fileName = "events.db"

    /// Opens `directory/events.db`. A journal SQLite finds damaged is logged and moved aside (with its `-wal` and
    /// `-shm` files) as `events.db.damaged-<UTC time>`, and an empty one takes its place: the daemon never refuses
    /// to start for its journal. Returns nil (logged as an error) only when no journal can be opened at all, e.g.
    /// the directory is not writable; the stations then keep their events in memory only.
    public static func open(directory: String, synchronous: EventJournalSync, logger: Logger,
                            now: Date = Date()) -> OpenedEventJournal? {
        let path = directory + "/" + fileName
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            logger.error("event journal: cannot create \(directory): \(error.localizedDescription); events are kept in memory only")
            return nil
        }
        do {
            let store = try EventJournalStore(path: path, synchronous: synchronous)
            let (events, undecodable) = try store.load()
            if undecodable > 0 {
                logger.warning("event journal \(path): \(undecodable) entries could not be read and were left out")
            }
            return OpenedEventJournal(writer: EventJournalWriter(store: store, keptAtStart: events.count), events: events)
        } catch {
            let aside = path + ".damaged-" + timestamp(now)
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                try? FileManager.default.moveItem(atPath: path + suffix, toPath: aside + suffix)
            }
            logger.error("event journal \(path) is damaged (\(describe(error))); moved aside to \(aside), starting with an empty journal")
        }
        do {
            let store = try EventJournalStore(path: path, synchronous: synchronous)
            return OpenedEventJournal(writer: EventJournalWriter(store: store), events: [])
        } catch {
            logger.error("event journal \(path) cannot be opened (\(describe(error))); events are kept in memory only")
            return nil
        }
    }

    /// SQLite's message, without GRDB's decoration of the statement.
    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.components(separatedBy: " - while executing").first ?? text
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}
