import Foundation
import GRDB
import GRDBSQLite
import IEC104
public import Outstation

/// The journal's SQLite database: one table of events by station and sequence number, in WAL mode.
///
/// Written by one ``EventJournalWriter`` thread; read once at start. The format is SQLite's, not ours: a damaged
/// file is told by SQLite itself (`quick_check`) and moved aside.
public final class EventJournalStore: Sendable {
    public let path: String
    public let synchronous: EventJournalSync
    private let database: DatabaseQueue

    static let schema = """
        CREATE TABLE IF NOT EXISTS events (
            station TEXT NOT NULL, sequence INTEGER NOT NULL,
            ca INTEGER NOT NULL, ioa INTEGER NOT NULL, kind INTEGER NOT NULL, a INTEGER NOT NULL, b INTEGER NOT NULL,
            quality INTEGER NOT NULL, time INTEGER NOT NULL, cause INTEGER NOT NULL,
            PRIMARY KEY (station, sequence)) WITHOUT ROWID
        """

    /// Opens (or creates) the journal and checks it; throws if SQLite finds it damaged or cannot open it.
    public init(path: String, synchronous: EventJournalSync) throws {
        self.path = path
        self.synchronous = synchronous
        var configuration = Configuration()
        configuration.label = "rtu104d event journal"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = \(synchronous == .full ? "FULL" : "NORMAL")")
        }
        database = try DatabaseQueue(path: path, configuration: configuration)
        try database.write { db in
            let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
            guard check == ["ok"] else { throw JournalDamage(check.prefix(3).joined(separator: "; ")) }
            try db.execute(sql: Self.schema)
        }
    }

    /// Every event kept, oldest first per station. A row that does not decode is reported, not returned.
    public func load() throws -> (events: [JournaledEvent], undecodable: Int) {
        try database.read { db in
            var events: [JournaledEvent] = []
            var undecodable = 0
            let rows = try Row.fetchCursor(db, sql: """
                SELECT station, sequence, ca, ioa, kind, a, b, quality, time, cause FROM events ORDER BY station, sequence
                """)
            while let row = try rows.next() {
                let ca: Int64 = row[2], ioa: Int64 = row[3], quality: Int64 = row[7], cause: Int64 = row[9]
                guard (0...0xFFFF).contains(ca), (0...0xFF_FFFF).contains(ioa), (0...0xFF).contains(quality),
                      (0...0x3F).contains(cause),
                      let value = JournalValueCoding.decode(kind: row[4], a: row[5], b: row[6]) else {
                    undecodable += 1
                    continue
                }
                events.append(JournaledEvent(station: row[0], sequence: row[1],
                                             address: PointAddress(commonAddress: UInt16(ca), objectAddress: UInt32(ioa)),
                                             value: value, quality: QualityDescriptor(rawValue: UInt8(quality)),
                                             time: row[8], cause: Cause(rawValue: UInt8(cause))))
            }
            return (events, undecodable)
        }
    }

    /// How many events the journal holds now.
    public func count() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0 }
    }

    /// Applies operations in one transaction: one commit (and, with `full`, one sync) for the whole batch.
    /// Consecutive removals of one station are one range delete.
    public func write(_ operations: [JournalOperation]) throws {
        try database.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                let insert = try db.cachedStatement(sql: """
                    INSERT OR REPLACE INTO events (station, sequence, ca, ioa, kind, a, b, quality, time, cause)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                let removeRange = try db.cachedStatement(sql: "DELETE FROM events WHERE station = ? AND sequence BETWEEN ? AND ?")
                let removeStation = try db.cachedStatement(sql: "DELETE FROM events WHERE station = ?")
                var range: (station: String, first: Int64, last: Int64)?
                func flushRange() throws {
                    guard let pending = range else { return }
                    try removeRange.execute(arguments: [pending.station, pending.first, pending.last])
                    range = nil
                }
                for operation in operations {
                    switch operation {
                    case .append(let event):
                        try flushRange()
                        try Self.insert(event, with: insert, in: db)
                    case .remove(let station, let sequence):
                        if let pending = range, pending.station == station, pending.last + 1 == sequence {
                            range?.last = sequence
                        } else {
                            try flushRange()
                            range = (station, sequence, sequence)
                        }
                    case .removeStation(let station):
                        try flushRange()
                        try removeStation.execute(arguments: [station])
                    }
                }
                try flushRange()
                return .commit
            }
        }
    }

    /// Binds and steps the prepared insert directly: GRDB's `StatementArguments` box every value, which at
    /// 100,000 events/s was the writer's largest cost after SQLite itself.
    private static func insert(_ event: JournaledEvent, with statement: Statement, in db: Database) throws {
        let handle = statement.sqliteStatement
        let value = JournalValueCoding.encode(event.value)
        sqlite3_reset(handle)
        let bound = event.station.withCString { name in sqlite3_bind_text(handle, 1, name, -1, transientDestructor) }
        guard bound == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: bound)) }
        sqlite3_bind_int64(handle, 2, event.sequence)
        sqlite3_bind_int64(handle, 3, Int64(event.address.commonAddress))
        sqlite3_bind_int64(handle, 4, Int64(event.address.objectAddress))
        sqlite3_bind_int64(handle, 5, Int64(value.kind))
        sqlite3_bind_int64(handle, 6, value.a)
        sqlite3_bind_int64(handle, 7, value.b)
        sqlite3_bind_int64(handle, 8, Int64(event.quality.rawValue))
        sqlite3_bind_int64(handle, 9, event.time)
        sqlite3_bind_int64(handle, 10, Int64(event.cause.rawValue))
        let stepped = sqlite3_step(handle)
        guard stepped == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: stepped), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    public func close() throws {
        try database.close()
    }
}

/// SQLite's own integrity check found the file damaged.
struct JournalDamage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// SQLITE_TRANSIENT: SQLite copies the text before the bind returns (the C macro does not import).
private let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
