public import IEC104

/// One event as the persistent journal keeps it: by address, not by process-image index, so that it means the
/// same point after a restart or a reload.
public struct JournaledEvent: Sendable, Equatable {
    public var station: String
    /// The station's journal sequence number: the order the station accepted its events in.
    public var sequence: Int64
    public var address: PointAddress
    public var value: PointValue
    public var quality: QualityDescriptor
    /// Milliseconds since 1970 (UTC), as the event's time tag.
    public var time: Int64
    public var cause: Cause

    public init(station: String, sequence: Int64, address: PointAddress, value: PointValue, quality: QualityDescriptor,
                time: Int64, cause: Cause) {
        self.station = station
        self.sequence = sequence
        self.address = address
        self.value = value
        self.quality = quality
        self.time = time
        self.cause = cause
    }
}

/// What the journal on disk must do, in the order the stations did it.
public enum JournalOperation: Sendable, Equatable {
    /// A station accepted an event.
    case append(JournaledEvent)
    /// The event is done with: its master acknowledged it (N(R)), or the buffer gave it up (overflow, a reload
    /// that removed its point, a counter interrogation's freeze that discards the buffer).
    case remove(station: String, sequence: Int64)
    /// The station is gone, or no longer journals: none of its events are kept.
    case removeStation(String)
}

/// Where the stations that journal their events put the operations of a step, for the owner to hand to the
/// journal writer. The pure outstation only records; writing is the owner's (see `EventJournalWriting`).
public final class JournalOutbox {
    public private(set) var operations: [JournalOperation] = []

    public init() {}

    public var isEmpty: Bool { operations.isEmpty }

    /// The operations recorded since the last call, oldest first.
    public func take() -> [JournalOperation] {
        var taken: [JournalOperation] = []
        swap(&taken, &operations)
        operations.reserveCapacity(taken.count)
        return taken
    }

    func record(_ operation: JournalOperation) { operations.append(operation) }
}

/// The journal writer as the owner of an outstation sees it: operations go in, in order, and `completion` runs
/// once they (and everything submitted before them) are on disk, or could not be written.
public protocol EventJournalWriting: AnyObject, Sendable {
    func submit(_ operations: [JournalOperation], completion: @escaping @Sendable (JournalWriteFailure?) -> Void)
}

/// Why the journal could not write a batch (the disk is full, the file went away); the events stay in memory.
public struct JournalWriteFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How the events a journal kept at the last stop went back into the stations.
public struct JournalRestoreReport: Sendable, Equatable {
    /// Events put back in each station's buffer, to be sent before anything new.
    public var restored: [String: Int] = [:]
    /// Events of points no longer configured (or of another kind now), dropped from the journal.
    public var unknownPoints = 0
    /// Events of stations that are gone or no longer journal, dropped from the journal.
    public var otherStations = 0
    /// Events the buffer could not hold (more than `event_buffer`), given up as its overflow policy says.
    public var overflowed = 0

    public init() {}
}

/// How hard the journal insists that a commit is on the platter (SQLite's `synchronous` in WAL mode).
public enum EventJournalSync: String, CaseIterable, Hashable, Sendable {
    /// A commit survives a crash or `kill -9` of the daemon; a power cut or a kernel crash can lose the last
    /// commits (SQLite syncs the write-ahead log at checkpoints only). Cheaper.
    case normal
    /// Every commit is synced to the disk before the events count as accepted: nothing accepted is lost even
    /// to a power cut.
    case full
}
