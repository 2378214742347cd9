import IEC104
import NIOCore
import NIOPosix
import Outstation
@testable import Server
import Synchronization
import TestSupport
import Testing

/// The server on real loopback sockets: accept → address filter → station → frames, and back.
@Suite("OutstationServer on loopback", .timeLimit(.minutes(1)))
struct OutstationServerTests {
    /// CA 47: a single point and two floats; CA 48: one scaled value.
    static let points = [
        point(100, .single, value: .single(true)),
        point(200, .float, value: .float(1.5)),
        point(201, .float, value: .float(2.5)),
        point(300, .scaled, ca: 48, value: .scaled(-7)),
    ]

    /// Station `a` takes 127.0.0.1 and serves CA 47, station `b` takes 127.0.0.2 and serves CA 48.
    static func twoStations() throws -> [StationConfiguration] {
        [try station("a", filter: "127.0.0.1", commonAddresses: [47]),
         try station("b", filter: "127.0.0.2", commonAddresses: [48])]
    }

    @Test func startDTActIsConfirmed() async throws {
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations()) { fixture in
            #expect(fixture.port() > 0)
            let master = try await fixture.master()
            #expect(try await master.startDataTransfer())
            // TESTFR act is confirmed too, and the connection stays open.
            try await master.send(.unnumbered(.testFRActivation))
            #expect(await eventually { master.inbox.frames.contains { $0.apci == .unnumbered(.testFRConfirmation) } })
            #expect(!master.inbox.isClosed)
            await master.close()
        }
    }

    @Test func generalInterrogationAnswersActconPointsActterm() async throws {
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations()) { fixture in
            let master = try await fixture.master()
            #expect(try await master.startDataTransfer())
            try await master.send(interrogation(47))
            #expect(await master.waitFor { $0.typeID == .C_IC_NA_1 && $0.cot == .activationTermination })
            // End of initialisation (M_EI_NA_1) comes first after STARTDT, then the interrogation.
            #expect(master.inbox.asdus.first?.typeID == .M_EI_NA_1)
            let asdus = master.inbox.asdus.filter { $0.typeID != .M_EI_NA_1 }
            #expect(asdus.first?.typeID == .C_IC_NA_1)
            #expect(asdus.first?.cot == .activationConfirmation)
            #expect(asdus.first?.cause.isNegative == false)
            let replies = asdus.dropFirst().dropLast()
            #expect(replies.allSatisfy { $0.cot == .interrogatedByStation && $0.commonAddress == 47 })
            #expect(Set(replies.flatMap(\.addresses)) == [100, 200, 201])
            #expect(replies.contains { $0.typeID == .M_SP_NA_1 } && replies.contains { $0.typeID == .M_ME_NC_1 })
            await master.close()
        }
    }

    /// The master's address chooses the station: 127.0.0.2 reaches station b, which serves CA 48 and not 47.
    @Test func addressFilterChoosesTheStation() async throws {
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations()) { fixture in
            let master = try await fixture.master(from: "127.0.0.2")
            #expect(try await master.startDataTransfer())
            try await master.send(interrogation(47))
            #expect(await master.waitFor { $0.cot == .unknownCommonAddress && $0.cause.isNegative })
            try await master.send(interrogation(48))
            #expect(await master.waitFor { $0.commonAddress == 48 && $0.cot == .activationTermination })
            #expect(master.inbox.asdus.filter { $0.cot == .interrogatedByStation }.flatMap(\.addresses) == [300])
            #expect(!fixture.logs.messages(containing: "refused with unknown common address of ASDU (46)").isEmpty)
            await master.close()
        }
    }

    @Test func anAddressNoStationAdmitsIsClosedAtOnce() async throws {
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations()) { fixture in
            let master = try await fixture.master(from: "127.0.0.3")
            #expect(await eventually { master.inbox.isClosed })
            #expect(master.inbox.byteCount == 0)
            #expect(!fixture.logs.messages(containing: "refused connection: no station admits this address").isEmpty)
            // The refused master is never counted as connected.
            #expect(fixture.logs.messages(containing: "master connected").isEmpty)
        }
    }

    @Test func aSecondConnectionFromTheSameAddressReplacesTheFirst() async throws {
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations()) { fixture in
            let first = try await fixture.master()
            #expect(try await first.startDataTransfer())
            let second = try await fixture.master()
            #expect(await eventually { first.inbox.isClosed })
            #expect(try await second.startDataTransfer())
            try await second.send(interrogation(47))
            #expect(await second.waitFor { $0.cot == .activationTermination })
            #expect(!second.inbox.isClosed)
            #expect(await eventually { !fixture.logs.messages(containing: "connection replaced by a new one").isEmpty })
            await second.close()
        }
    }

    /// With one connection per address, a second connection from it is refused (not a replacement), and the
    /// first keeps working.
    @Test func perAddressLimitRefuses() async throws {
        let listener = ListenerSettings.test(name: "main", host: "127.0.0.1", port: 0, maxConnectionsPerAddress: 1)
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations(), listeners: [listener]) { fixture in
            let first = try await fixture.master()
            #expect(try await first.startDataTransfer())
            let second = try await fixture.master()
            #expect(await eventually { second.inbox.isClosed })
            #expect(second.inbox.byteCount == 0)
            #expect(!fixture.logs.messages(containing: "refused connection: address at its connection limit").isEmpty)
            try await first.send(.unnumbered(.testFRActivation))
            #expect(await eventually { first.inbox.frames.contains { $0.apci == .unnumbered(.testFRConfirmation) } })
            #expect(!first.inbox.isClosed)
            await first.close()
        }
    }

    @Test func listenerLimitRefuses() async throws {
        let listener = ListenerSettings.test(name: "main", host: "127.0.0.1", port: 0, maxConnections: 2)
        let stations = [try station("redundant", filter: "any", redundancy: 4)]
        try await ServerFixture.with(points: Self.points, stations: stations, listeners: [listener]) { fixture in
            let one = try await fixture.master(from: "127.0.0.1")
            let two = try await fixture.master(from: "127.0.0.2")
            // Both admitted: each answers TESTFR.
            for master in [one, two] {
                try await master.send(.unnumbered(.testFRActivation))
                #expect(await eventually { master.inbox.frames.contains { $0.apci == .unnumbered(.testFRConfirmation) } })
            }
            let three = try await fixture.master(from: "127.0.0.3")
            #expect(await eventually { three.inbox.isClosed })
            #expect(!fixture.logs.messages(containing: "refused connection: listener at its connection limit").isEmpty)
            #expect(!one.inbox.isClosed && !two.inbox.isClosed)
            // A place freed is taken by the next master.
            await two.close()
            #expect(await eventually { !fixture.logs.messages(containing: "master disconnected").isEmpty })
            let four = try await fixture.master(from: "127.0.0.4")
            #expect(try await four.startDataTransfer())
            await one.close()
            await four.close()
        }
    }

    @Test func ingestedUpdatesArriveAsSpontaneousEvents() async throws {
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations()) { fixture in
            let master = try await fixture.master()
            #expect(try await master.startDataTransfer())
            let outcome = try await fixture.server.ingest([
                PointUpdate(address: address(200), value: .float(42.5)),
                PointUpdate(address: address(100), value: .single(false)),
            ]).get()
            #expect(outcome == .applied(events: 2))
            #expect(await master.waitFor { $0.cot == .spontaneous && $0.addresses == [200] })
            #expect(await master.waitFor { $0.cot == .spontaneous && $0.addresses == [100] })
            let float = master.inbox.asdus.first { $0.cot == .spontaneous && $0.addresses == [200] }
            if case .float(let value, _, _) = float?.objects.first?.element { #expect(value == 42.5) }
            else { Issue.record("no M_ME_NC_1 event for IOA 200: \(String(describing: float))") }
            // CA 48 belongs to station b: nothing of it reaches station a's master.
            _ = try await fixture.server.ingest([PointUpdate(address: address(300, ca: 48), value: .scaled(9))]).get()
            try await Task.sleep(for: .milliseconds(100))
            #expect(!master.inbox.asdus.contains { $0.commonAddress == 48 })
            await master.close()
        }
    }

    /// A station whose master keeps up holds producers back when its queue is full, instead of dropping events:
    /// the ingest completes only as the master acknowledges, and every event arrives, in order.
    @Test func ingestWaitsForAMasterThatKeepsUpAndLosesNothing() async throws {
        // A stall limit a loaded machine cannot reach by pausing this test: with the default second, a pause of
        // the test's task between two acknowledgements would make the master count as stalled and drop events.
        var keepingUp = try station("a", filter: "127.0.0.1", eventBufferSize: 4)
        keepingUp.stallLimit = .seconds(60)
        let stations = [keepingUp]
        try await ServerFixture.with(points: Self.points, stations: stations) { fixture in
            let master = try await fixture.masterInDataTransfer()
            // About 30 floats fit one ASDU: 12 unacknowledged I-frames hold some 360 events.
            let values = (0..<1000).map { Float($0) }
            let done = Mutex<IngestOutcome?>(nil)
            fixture.server.ingest(values.map { PointUpdate(address: address(200), value: .float($0)) })
                .whenSuccess { outcome in done.withLock { $0 = outcome } }
            // Without acknowledgements: k = 12 frames in flight and 4 events queued hold the rest back.
            try await Task.sleep(for: .milliseconds(200))
            #expect(done.withLock { $0 } == nil)
            func received() -> [Float] {
                master.inbox.asdus.filter { $0.cot == .spontaneous }.flatMap(\.objects).compactMap { object in
                    if case .float(let value, _, _) = object.element { value } else { nil }
                }
            }
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline, done.withLock({ $0 }) == nil || received().count < values.count {
                try await master.acknowledge()
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(done.withLock { $0 } == .applied(events: values.count))
            #expect(received() == values)
            let server = fixture.server
            let statistics = try await server.eventLoop.submit { server.ingestStatisticsOnLoop }.get()
            #expect(statistics.holds >= 1 && statistics.heldNanoseconds > 0)
            #expect(statistics.updatesApplied == UInt64(values.count) && statistics.waitingUpdates == 0)
            #expect(try await server.inspect { $0.station(named: "a")?.eventBuffer.droppedCount }.get() == 0)
            await master.close()
        }
    }

    /// A master that stops acknowledging holds producers back only for the stall limit (1 s): then the updates are
    /// applied and its small buffer overflows.
    @Test func aStalledMasterReleasesProducersAtTheStallLimit() async throws {
        let stations = [try station("a", filter: "127.0.0.1", eventBufferSize: 4)]
        try await ServerFixture.with(points: Self.points, stations: stations) { fixture in
            // End of initialisation acknowledged: the stall limit then counts from the first event frame.
            let master = try await fixture.masterInDataTransfer()
            let started = ContinuousClock.now
            let outcome = try await fixture.server.ingest((0..<1000).map {
                PointUpdate(address: address(200), value: .float(Float($0)))
            }).get()
            let waited = ContinuousClock.now - started
            #expect(outcome == .applied(events: 1000))
            // Held at least the stall limit; the upper bound only says it was released, since a loaded machine
            // may run the loop's timer seconds late.
            #expect(waited >= .milliseconds(900) && waited < .seconds(30), "held for \(waited)")
            #expect(try await fixture.server.inspect { $0.station(named: "a")?.eventBuffer.droppedCount ?? 0 }.get() > 0)
            await master.close()
        }
    }

    /// Events of updates ingested while no master is connected wait in the station's buffer for the next one.
    @Test func eventsIngestedBeforeAMasterConnectsAreDeliveredAfterSTARTDT() async throws {
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations()) { fixture in
            let outcome = try await fixture.server.ingest([PointUpdate(address: address(201), value: .float(-4))]).get()
            #expect(outcome == .applied(events: 1))
            let master = try await fixture.master()
            #expect(try await master.startDataTransfer())
            #expect(await master.waitFor { $0.cot == .spontaneous && $0.addresses == [201] })
            await master.close()
        }
    }

    /// `perform` runs on the loop and then sends what the body queued.
    @Test func performSendsWhatTheBodyQueued() async throws {
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations()) { fixture in
            let master = try await fixture.master()
            #expect(try await master.startDataTransfer())
            let events = try await fixture.server.perform { outstation in
                try outstation.apply([PointUpdate(address: address(200), value: .float(8))], wallTime: SystemClock.wallMilliseconds())
            }.get()
            #expect(events == 1)
            #expect(await master.waitFor { $0.cot == .spontaneous && $0.addresses == [200] })
            await master.close()
        }
    }

    @Test func anUpdateForAnUnknownPointIsRefusedWhole() async throws {
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations()) { fixture in
            await #expect(throws: (any Error).self) {
                _ = try await fixture.server.ingest([PointUpdate(address: address(200), value: .float(1)),
                                                     PointUpdate(address: address(999), value: .float(2))]).get()
            }
            let value = try await fixture.server.inspect { $0.image.state(at: address(200))?.value }.get()
            #expect(value == .float(1.5))
        }
    }

    @Test func stopClosesEveryConnectionAndTheListener() async throws {
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations()) { fixture in
            let a = try await fixture.master(from: "127.0.0.1")
            let b = try await fixture.master(from: "127.0.0.2")
            #expect(try await a.startDataTransfer())
            #expect(try await b.startDataTransfer())
            try await fixture.server.stop().get()
            #expect(await eventually { a.inbox.isClosed && b.inbox.isClosed })
            await #expect(throws: (any Error).self) { _ = try await fixture.master() }
            // Producers are told their updates were not applied.
            let outcome = try await fixture.server.ingest([PointUpdate(address: address(200), value: .float(3))]).get()
            #expect(outcome == .abandoned)
        }
    }

    /// A frame error on a `close` listener closes the connection with one warning; on a `discard` listener the
    /// junk is skipped, reported once, and the link goes on.
    @Test(arguments: FrameErrorPolicy.allCases)
    func frameErrorsFollowTheListenerPolicy(policy: FrameErrorPolicy) async throws {
        let listener = ListenerSettings.test(name: "main", host: "127.0.0.1", port: 0, errorPolicy: policy)
        try await ServerFixture.with(points: Self.points, stations: Self.twoStations(), listeners: [listener]) { fixture in
            let master = try await fixture.master()
            #expect(try await master.startDataTransfer())
            try await master.send([0x01, 0x02, 0x03] + APDU(apci: .unnumbered(.testFRActivation)).encoded)
            switch policy {
            case .close:
                #expect(await eventually { master.inbox.isClosed })
                #expect(!fixture.logs.messages(containing: "closing connection: ").isEmpty)
                #expect(!master.inbox.frames.contains { $0.apci == .unnumbered(.testFRConfirmation) })
            case .discard:
                #expect(await eventually { master.inbox.frames.contains { $0.apci == .unnumbered(.testFRConfirmation) } })
                #expect(fixture.logs.messages(containing: "discarded 3 octets").count == 1)
                #expect(!master.inbox.isClosed)
            }
            await master.close()
        }
    }
}
