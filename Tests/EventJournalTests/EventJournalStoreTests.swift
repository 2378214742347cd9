import Foundation
import IEC104
import Logging
import Outstation
import Testing
import TestSupport
@testable import EventJournal

/// The journal's SQLite database: what is written comes back exactly, removals by range, group commits through
/// the writer, and a damaged file moved aside.
@Suite("Event journal store")
struct EventJournalStoreTests {
    static let values: [PointValue] = [
        .single(true), .single(false), .double(.on), .double(.indeterminate), .step(StepPosition(value: -64, isTransient: true)),
        .step(StepPosition(value: 63)), .bitstring(0xDEAD_BEEF), .normalized(NormalizedValue(rawValue: -32768)),
        .scaled(32767), .float(-0.0), .float(.infinity), .float(Float(bitPattern: 0x0000_1234)),  // a denormal
        .counter(BinaryCounterReading(value: Int32.min, sequenceNumber: 31, carry: true, adjusted: false, invalid: true)),
    ]

    private func event(_ sequence: Int64, _ value: PointValue = .float(1), station: String = "a") -> JournaledEvent {
        JournaledEvent(station: station, sequence: sequence, address: PointAddress(commonAddress: 65_534, objectAddress: 0xFF_FFFF),
                       value: value, quality: [.invalid, .notTopical], time: 1_764_979_200_123, cause: .returnInformationRemote)
    }

    @Test(arguments: EventJournalSync.allCases)
    func everyValueKindComesBackExactly(sync: EventJournalSync) throws {
        let scratch = Scratch()
        let store = try EventJournalStore(path: scratch.path + "/events.db", synchronous: sync)
        let written = Self.values.enumerated().map { event(Int64($0.offset + 1), $0.element) }
        try store.write(written.map { .append($0) })
        let (events, undecodable) = try store.load()
        #expect(undecodable == 0)
        #expect(events.count == written.count)
        for (read, original) in zip(events, written) {
            #expect(read.sequence == original.sequence && read.address == original.address && read.quality == original.quality
                    && read.time == original.time && read.cause == original.cause && read.station == original.station)
            // Floats by bit pattern: -0.0 and denormals too.
            if case .float(let a) = read.value, case .float(let b) = original.value {
                #expect(a.bitPattern == b.bitPattern)
            } else {
                #expect(read.value == original.value)
            }
        }
        try store.close()
    }

    @Test func removalsAndStationsLeaveOnlyWhatIsKept() throws {
        let scratch = Scratch()
        let store = try EventJournalStore(path: scratch.path + "/events.db", synchronous: .normal)
        try store.write((1...10).map { .append(event($0)) } + (1...3).map { .append(event($0, station: "b")) })
        try store.write([.remove(station: "a", sequence: 2), .remove(station: "a", sequence: 3), .remove(station: "a", sequence: 4),
                         .remove(station: "a", sequence: 7), .removeStation("b"), .append(event(11))])
        let kept = try store.load().events
        #expect(kept.map(\.sequence) == [1, 5, 6, 8, 9, 10, 11])
        #expect(kept.allSatisfy { $0.station == "a" })
        try store.close()
    }

    @Test func theWriterCommitsInGroupsAndAnswersInOrder() async throws {
        let scratch = Scratch()
        let store = try EventJournalStore(path: scratch.path + "/events.db", synchronous: .full)
        let writer = EventJournalWriter(store: store)
        let answered = Answers()
        for batch in 0..<200 {
            let sequence = Int64(batch + 1)
            writer.submit([.append(event(sequence))]) { failure in
                #expect(failure == nil)
                answered.add(batch)
            }
        }
        writer.finish()
        #expect(answered.all == Array(0..<200), "answers come in submission order, each after its commit")
        #expect(try store.count() == 200)
        let statistics = writer.statistics
        #expect(statistics.appended == 200 && statistics.kept == 200 && statistics.failedCommits == 0)
        #expect(statistics.commits >= 1 && statistics.commits <= 200)
        try store.close()
    }

    @Test func aDamagedJournalIsMovedAsideAndAnEmptyOneTakesItsPlace() throws {
        let scratch = Scratch()
        let path = scratch.path + "/events.db"
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        let logs = LogRecorder()
        let opened = try #require(EventJournalOpening.open(directory: scratch.path, synchronous: .full, logger: logs.logger,
                                                           now: Date(timeIntervalSince1970: 1_764_979_200)))
        #expect(opened.events.isEmpty)
        #expect(FileManager.default.fileExists(atPath: path + ".damaged-20251206T000000Z"))
        let line = try #require(logs.all.first { $0.level == .error })
        #expect(line.message.hasPrefix("event journal \(path) is damaged ("))
        #expect(line.message.hasSuffix("moved aside to \(path).damaged-20251206T000000Z, starting with an empty journal"))
        try opened.writer.store.write([.append(event(1))])
        #expect(try opened.writer.store.count() == 1)
        try opened.writer.store.close()
    }

    @Test func aDirectoryThatCannotBeMadeLeavesTheEventsInMemory() throws {
        let scratch = Scratch()
        let file = scratch.path + "/not-a-directory"
        try Data().write(to: URL(fileURLWithPath: file))
        let logs = LogRecorder()
        #expect(EventJournalOpening.open(directory: file + "/state", synchronous: .full, logger: logs.logger) == nil)
        #expect(logs.all.contains { $0.level == .error && $0.message.contains("events are kept in memory only") })
    }
}

private final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int] = []
    func add(_ value: Int) { lock.withLock { values.append(value) } }
    var all: [Int] { lock.withLock { values } }
}

/// A temporary directory, removed when the test is done with it.
private final class Scratch: Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "rtu104d-journal-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
