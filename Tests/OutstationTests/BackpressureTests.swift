import Testing
import IEC104
@testable import Outstation

/// The scheduling rules of the event path without sockets: producers' updates go in in order, at most a
/// budget at a time, and wait only for a station whose master keeps up; a stalled or absent master holds
/// nobody back and loses only what its own buffer cannot keep.
@Suite("Back-pressure: ingestion waits for masters that keep up, never for stalled or absent ones")
struct BackpressureTests {
    static let points = (UInt32(1)...1000).map { MonitorPointDefinition.point($0, .float) }

    /// A producer's updates: `count` of them, values `first`, `first + 1`, … on IOAs 1…1000 in turn
    /// (every point starts at 0, so a sequence from 1 changes a point with every update).
    static func batch(_ count: Int, first: Int) -> [PointUpdate] {
        (0..<count).map { offset in
            let sequence = first + offset
            return update(UInt32(sequence % 1000) + 1, .float(Float(sequence)))
        }
    }

    /// Every float value received in spontaneous ASDUs, in order.
    static func sequenceNumbers(_ asdus: [ASDU]) -> [Int] {
        asdus.filter { $0.cot == .spontaneous }.flatMap { $0.objects.compactMap { $0.element.floatValue.map(Int.init) } }
    }

    @Test func withoutAMasterNobodyIsHeldBack() {
        let harness = Harness(points: Self.points)
        #expect(harness.station().producerRoom(now: harness.now) == nil)
        #expect(harness.outstation.producerRoom(now: harness.now) == Int.max)
        let connection = harness.connect()
        // Connected but not in data transfer (no STARTDT): still away.
        #expect(harness.station().producerRoom(now: harness.now) == nil)
        _ = connection
    }

    @Test func aMasterInDataTransferHoldsProducersAtTheLimit() throws {
        let harness = Harness(points: Self.points)
        let connection = harness.connect()
        try harness.startDataTransfer(on: connection.id)
        #expect(harness.station().producerRoom(now: harness.now) == Station.producerHoldLimit)
        try harness.apply(Self.batch(100, first: 1))
        #expect(harness.station().producerRoom(now: harness.now) == Station.producerHoldLimit - 100)
    }

    @Test func aSmallEventBufferIsTheLimit() throws {
        let harness = Harness(points: Self.points) { $0.eventBufferSize = 50 }
        let connection = harness.connect()
        try harness.startDataTransfer(on: connection.id)
        try harness.apply(Self.batch(20, first: 1))
        #expect(harness.station().producerRoom(now: harness.now) == 30)
    }

    @Test func backpressureOffHoldsNobody() throws {
        let harness = Harness(points: Self.points) { $0.backpressure = false }
        let connection = harness.connect()
        try harness.startDataTransfer(on: connection.id)
        #expect(harness.station().producerRoom(now: harness.now) == nil)
    }

    /// A station whose master's window is full but acknowledged recently still holds producers; once its
    /// oldest frame has waited `stallLimit`, it holds nobody back and ingestion goes on.
    @Test func aFullWindowHoldsUntilTheMasterStalls() throws {
        let harness = Harness(points: Self.points)
        let connection = harness.connect()
        try harness.startDataTransfer(on: connection.id)
        try harness.apply(Self.batch(2000, first: 1))
        harness.flush()  // fills the k window; the master does not acknowledge
        let room = try #require(harness.station().producerRoom(now: harness.now))
        #expect(room == Station.producerHoldLimit - harness.station().eventBuffer.count)
        #expect(harness.outstation.earliestStallDeadline(now: harness.now) != nil)
        harness.advance(by: .milliseconds(999), runTimers: false)
        #expect(harness.station().producerRoom(now: harness.now) != nil)
        harness.advance(by: .milliseconds(1), runTimers: false)
        #expect(harness.station().producerRoom(now: harness.now) == nil)
        #expect(harness.outstation.producerRoom(now: harness.now) == Int.max)
        // A stalled master has no deadline left: nothing to wait for.
        #expect(harness.outstation.earliestStallDeadline(now: harness.now) == nil)
    }

    /// The queue applies in arrival order, stops at the room, resumes a batch where it stopped, and
    /// reports each batch once, with its events.
    @Test func theQueueAppliesInOrderWithinRoomAndBudget() {
        let harness = Harness(points: Self.points)
        var queue = IngestQueue<String>()
        queue.submit(Self.batch(300, first: 1), token: "a")
        queue.submit(Self.batch(200, first: 301), token: "b")
        #expect(queue.waitingUpdates == 500)

        var progress = queue.drain(into: harness.outstation, room: 250, budget: 1000, wallTime: harness.wallTime)
        #expect(progress.applied == 250)
        #expect(progress.finished.isEmpty)
        #expect(!progress.budgetExhausted)
        #expect(queue.waitingUpdates == 250)

        progress = queue.drain(into: harness.outstation, room: 1000, budget: 100, wallTime: harness.wallTime)
        #expect(progress.applied == 100)
        #expect(progress.finished.map(\.token) == ["a"])
        #expect(progress.finished.map(\.events) == [300])
        #expect(progress.budgetExhausted)

        progress = queue.drain(into: harness.outstation, room: 1000, budget: 1000, wallTime: harness.wallTime)
        #expect(progress.applied == 150)
        #expect(progress.finished.map(\.token) == ["b"])
        #expect(queue.isEmpty)
        #expect(harness.station().eventBuffer.count == 500)
    }

    @Test func noRoomAppliesNothing() {
        let harness = Harness(points: Self.points)
        var queue = IngestQueue<Int>()
        queue.submit(Self.batch(10, first: 1), token: 1)
        let progress = queue.drain(into: harness.outstation, room: 0, budget: 100, wallTime: harness.wallTime)
        #expect(progress.applied == 0)
        #expect(progress.finished.isEmpty)
        #expect(queue.removeAll() == [1])
        #expect(queue.waitingUpdates == 0)
    }

    /// The shell's loop in miniature: a producer offers far more than the hold limit while its master keeps
    /// up; updates go in only as the master acknowledges, the buffer never overflows, and the master receives
    /// every update in order.
    @Test func aMasterThatKeepsUpReceivesEverythingInOrder() throws {
        let harness = Harness(points: Self.points)
        let connection = harness.connect()
        try harness.startDataTransfer(on: connection.id)
        var queue = IngestQueue<Int>()
        let total = 20_000
        queue.submit(Self.batch(total, first: 1), token: 1)
        var finished = false
        var received: [ASDU] = []
        var rounds = 0
        while !finished, rounds < 10_000 {
            rounds += 1
            let room = harness.outstation.producerRoom(now: harness.now)
            let progress = queue.drain(into: harness.outstation, room: room, budget: 4096, wallTime: harness.wallTime)
            finished = !progress.finished.isEmpty
            #expect(harness.station().eventBuffer.count <= Station.producerHoldLimit)
            received += try harness.exchange(on: connection.id)
            harness.advance(by: .milliseconds(1), runTimers: false)
        }
        received += try harness.exchange(on: connection.id)
        #expect(finished)
        #expect(harness.station().eventBuffer.droppedCount == 0)
        #expect(Self.sequenceNumbers(received) == Array(1...total))
    }

    /// A stalled master fills only its own buffer (and loses only what it cannot keep); the other station's
    /// master keeps receiving every update and the producer is never held back by the stalled one.
    @Test func aStalledMasterDoesNotHoldBackTheOthers() throws {
        let harness = Harness(points: Self.points, stations: [Harness.configuration("live", commonAddresses: [47]),
                                                              {
                                                                  var stalled = Harness.configuration("stalled", commonAddresses: [47])
                                                                  stalled.eventBufferSize = 1000
                                                                  return stalled
                                                              }()])
        let live = harness.connect("live", peer: "192.0.2.1:1")
        let stalled = harness.connect("stalled", peer: "192.0.2.2:1")
        try harness.startDataTransfer(on: live.id)
        try harness.startDataTransfer(on: stalled.id)
        var queue = IngestQueue<Int>()
        let total = 12_000
        for chunk in 0..<12 { queue.submit(Self.batch(1000, first: chunk * 1000 + 1), token: chunk) }
        var finished: [Int] = []
        var received: [ASDU] = []
        var rounds = 0
        while finished.count < 12, rounds < 10_000 {
            rounds += 1
            let room = harness.outstation.producerRoom(now: harness.now)
            finished += queue.drain(into: harness.outstation, room: room, budget: 4096, wallTime: harness.wallTime)
                .finished.map(\.token)
            received += try harness.exchange(on: live.id)
            harness.flush()  // the stalled master receives its first window and never acknowledges
            harness.advance(by: .milliseconds(10), runTimers: false)
        }
        #expect(finished == Array(0..<12))
        #expect(Self.sequenceNumbers(received) == Array(1...total))
        // The stalled station kept what fits and counted the rest.
        let station = harness.station("stalled")
        #expect(station.eventBuffer.count == 1000)
        #expect(station.eventBuffer.droppedCount > 0)
        #expect(station.producerRoom(now: harness.now) == nil)
    }
}
