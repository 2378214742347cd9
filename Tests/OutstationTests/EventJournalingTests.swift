import Testing
import IEC104
@testable import Outstation
import TestSupport

/// What a journaling station (`event_journal = on`) tells the journal: every accepted event, and its removal once
/// the master acknowledged it or the buffer gave it up. `Disk` plays the journal by applying the operations.
@Suite("Event journaling in the stations")
struct EventJournalingTests {
    struct Disk {
        var rows: [String: [Int64: JournaledEvent]] = [:]
        mutating func apply(_ operations: [JournalOperation]) {
            for operation in operations {
                switch operation {
                case .append(let event):
                    #expect(rows[event.station]?[event.sequence] == nil, "sequence \(event.sequence) appended twice")
                    rows[event.station, default: [:]][event.sequence] = event
                case .remove(let station, let sequence):
                    #expect(rows[station]?[sequence] != nil, "sequence \(sequence) removed but never appended")
                    rows[station]?[sequence] = nil
                case .removeStation(let station):
                    rows[station] = nil
                }
            }
        }
        func values(_ station: String = "s1") -> [Float] {
            (rows[station] ?? [:]).sorted { $0.key < $1.key }.compactMap {
                if case .float(let value) = $0.value.value { value } else { nil }
            }
        }
    }

    static let points: [MonitorPointDefinition] = [.point(1, .float, value: .float(0)), .point(2, .float, value: .float(0))]

    private func journaling(buffer: Int = 100, overflow: EventOverflowPolicy = .dropOldest) -> Harness {
        Harness(points: Self.points) {
            $0.eventJournal = true
            $0.eventBufferSize = buffer
            $0.overflowPolicy = overflow
        }
    }

    private func floats(_ asdus: [ASDU]) -> [Float] {
        asdus.filter { $0.cause.cause == .spontaneous }.flatMap(\.objects).compactMap {
            if case .float(let value, _, _) = $0.element { value } else { nil }
        }
    }

    @Test func anEventIsJournaledWhenAcceptedAndRemovedWhenAcknowledged() throws {
        let harness = journaling()
        var disk = Disk()
        let id = harness.connect().id
        _ = try harness.startDataTransfer(on: id)
        _ = try harness.exchange(on: id)  // end of initialization
        disk.apply(harness.outstation.journalOutbox.take())
        _ = try harness.apply((1...5).map { update(1, .float(Float($0))) })
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.values() == [1, 2, 3, 4, 5])
        #expect(disk.rows["s1"]?.values.allSatisfy { $0.address == address(1) && $0.cause == .spontaneous } == true)
        // Sent, not yet acknowledged: still on disk.
        #expect(floats(try harness.exchange(on: id, acknowledge: false)) == [1, 2, 3, 4, 5])
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.values() == [1, 2, 3, 4, 5])
        harness.acknowledge(on: id)
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.values().isEmpty)
    }

    @Test func whatAClosedConnectionLeftUnacknowledgedStaysJournaledAndGoesToTheNextMaster() throws {
        let harness = journaling()
        var disk = Disk()
        let first = harness.connect().id
        _ = try harness.startDataTransfer(on: first)
        _ = try harness.exchange(on: first)
        _ = try harness.apply([update(1, .float(1)), update(2, .float(2))])
        _ = try harness.exchange(on: first, acknowledge: false)
        harness.disconnect(first)
        _ = try harness.apply([update(1, .float(3))])
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.values() == [1, 2, 3])
        let second = harness.connect().id
        let early = try informationASDUs(harness.startDataTransfer(on: second))
        #expect(floats(early + (try harness.exchange(on: second))) == [1, 2, 3])
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.values().isEmpty)
    }

    @Test func eventsTheBufferGivesUpLeaveTheJournal() throws {
        let harness = journaling(buffer: 3)
        var disk = Disk()
        _ = try harness.apply((1...5).map { update(1, .float(Float($0))) })
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.values() == [3, 4, 5])
        #expect(harness.station().eventBuffer.droppedCount == 2)
    }

    @Test func aStationWithoutTheJournalRecordsNothing() throws {
        let harness = Harness(points: Self.points)
        let id = harness.connect().id
        _ = try harness.startDataTransfer(on: id)
        _ = try harness.apply([update(1, .float(1))])
        _ = try harness.exchange(on: id)
        #expect(harness.outstation.journalOutbox.isEmpty)
        #expect(!harness.outstation.journalsEvents)
    }

    @Test func keptEventsComeBackUnderTheirSequenceAheadOfNewOnes() throws {
        let harness = journaling()
        var disk = Disk()
        func kept(_ sequence: Int64, ioa: UInt32, _ value: Float, station: String = "s1") -> JournaledEvent {
            JournaledEvent(station: station, sequence: sequence, address: address(ioa), value: .float(value), quality: [],
                           time: 1_700_000_000_000, cause: .spontaneous)
        }
        let restored = [kept(10, ioa: 1, 1), kept(11, ioa: 2, 2), kept(12, ioa: 99, 0), kept(4, ioa: 1, 9, station: "gone")]
        disk.apply(restored.map { .append($0) })
        let report = harness.outstation.restoreJournal(restored)
        #expect(report.restored == ["s1": 2] && report.unknownPoints == 1 && report.otherStations == 1)
        _ = try harness.apply([update(1, .float(3))])
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.rows["gone"] == nil, "a station that is gone leaves the journal")
        #expect(disk.rows["s1"].map { $0.keys.sorted() } == [10, 11, 13], "the unknown point's event left; the new one follows")
        let id = harness.connect().id
        let early = try informationASDUs(harness.startDataTransfer(on: id))
        #expect(floats(early + (try harness.exchange(on: id))) == [1, 2, 3])
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.values().isEmpty)
    }

    @Test func aReloadThatReconfiguresTheStationKeepsItsJournaledEvents() throws {
        let harness = journaling()
        var disk = Disk()
        _ = try harness.apply([update(1, .float(1)), update(2, .float(2))])
        var changed = harness.station().configuration
        changed.timeTags = .always
        _ = harness.outstation.reconfigure(points: PointTable(monitorPoints: Self.points), stations: [changed],
                                           now: harness.now, wallTime: harness.wallTime)
        _ = try harness.apply([update(1, .float(3))])
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.values() == [1, 2, 3])
        #expect(disk.rows["s1"].map { $0.keys.sorted() } == [1, 2, 3])
        // Turning the journal off clears the station's part of it; removing the station too.
        changed.eventJournal = false
        _ = harness.outstation.reconfigure(points: PointTable(monitorPoints: Self.points), stations: [changed],
                                           now: harness.now, wallTime: harness.wallTime)
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.rows["s1"] == nil)
        #expect(harness.station().eventBuffer.count == 3, "the events stay in memory")
    }

    @Test func aRemovedStationLeavesTheJournal() throws {
        let harness = Harness(points: Self.points, stations: [
            { var c = Harness.configuration("s1", commonAddresses: [47]); c.eventJournal = true; return c }(),
            { var c = Harness.configuration("s2", commonAddresses: [47]); c.eventJournal = true; return c }()])
        var disk = Disk()
        _ = try harness.apply([update(1, .float(1))])
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.values("s1") == [1] && disk.values("s2") == [1])
        _ = harness.outstation.reconfigure(points: PointTable(monitorPoints: Self.points),
                                           stations: [harness.station("s1").configuration],
                                           now: harness.now, wallTime: harness.wallTime)
        disk.apply(harness.outstation.journalOutbox.take())
        #expect(disk.values("s1") == [1] && disk.rows["s2"] == nil)
    }
}
