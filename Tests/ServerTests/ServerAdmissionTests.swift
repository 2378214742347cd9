import IEC104
import NIOCore
import NIOPosix
import Outstation
@testable import Server
import TestSupport
import Testing

/// More of the shell on loopback: the `others` station, IPv6 peers, the station timers, refused-connection log
/// limits and reloads.
@Suite("OutstationServer admission, timers and reload", .timeLimit(.minutes(1)))
struct ServerAdmissionTests {
    static let points = [point(200, .float, value: .float(1.5)), point(300, .scaled, ca: 48, value: .scaled(-7))]

    @Test func othersTakesWhatNoOtherStationAdmits() async throws {
        let stations = [try station("a", filter: "127.0.0.1", commonAddresses: [47]),
                        try station("rest", filter: "others", commonAddresses: [48])]
        try await ServerFixture.with(points: Self.points, stations: stations) { fixture in
            let master = try await fixture.master(from: "127.0.0.5")
            #expect(try await master.startDataTransfer())
            try await master.send(interrogation(48))
            #expect(await master.waitFor { $0.commonAddress == 48 && $0.cot == .activationTermination })
            #expect(master.inbox.asdus.filter { $0.cot == .interrogatedByStation }.flatMap(\.addresses) == [300])
            #expect(await eventually { fixture.logs.all.contains { $0.message == "master connected" && $0.metadata["station"] == "rest" } })
            await master.close()
        }
    }

    @Test func anIPv6MasterIsAdmittedByItsIPv6Filter() async throws {
        let listener = ListenerSettings.test(name: "main", host: "::1", port: 0)
        let stations = [try station("v6", filter: "::1", commonAddresses: [47])]
        try await ServerFixture.with(points: Self.points, stations: stations, listeners: [listener]) { fixture in
            let master = try await fixture.master(from: "::1", to: "::1")
            #expect(try await master.startDataTransfer())
            #expect(await eventually { fixture.logs.all.contains { $0.message == "master connected" && $0.metadata["peer"] == "::1" } })
            await master.close()
        }
    }

    /// A master that never sends STARTDT act is closed at the station's start timeout, by the runtime's timer;
    /// another station's master is not. (That STARTDT stops the timer is the session's, tested without a clock in
    /// SessionTests; here station b's timeout is long so that a loaded machine cannot close it before its STARTDT.)
    @Test func aSilentMasterIsClosedAtTheStartTimeout() async throws {
        let stations = [try station("a", filter: "127.0.0.1", startTimeout: .milliseconds(300)),
                        try station("b", filter: "127.0.0.2", startTimeout: .seconds(30))]
        try await ServerFixture.with(points: Self.points, stations: stations) { fixture in
            let silent = try await fixture.master(from: "127.0.0.1")
            let started = try await fixture.master(from: "127.0.0.2")
            #expect(try await started.startDataTransfer())
            #expect(await eventually { silent.inbox.isClosed })
            #expect(fixture.logs.all.contains { $0.level == .warning && $0.message.hasPrefix("closing connection: ")
                && $0.metadata["station"] == "a" })
            try await Task.sleep(for: .milliseconds(400))
            #expect(!started.inbox.isClosed)
            await started.close()
        }
    }

    /// Refused connections: five lines per source (listener, address, reason) in a window, the rest counted for
    /// a summary at the window's end (10 s, beyond this test).
    @Test func refusedConnectionsAreLoggedAFewTimesPerSource() async throws {
        let stations = [try station("a", filter: "127.0.0.1")]
        try await ServerFixture.with(points: Self.points, stations: stations) { fixture in
            for _ in 0..<8 {
                let master = try await fixture.master(from: "127.0.0.3")
                #expect(await eventually { master.inbox.isClosed })
            }
            let other = try await fixture.master(from: "127.0.0.4")
            #expect(await eventually { other.inbox.isClosed })
            let refused = fixture.logs.all.filter { $0.message == "refused connection: no station admits this address" }
            #expect(refused.count(where: { $0.metadata["peer"] == "127.0.0.3" }) == 5)
            #expect(refused.count(where: { $0.metadata["peer"] == "127.0.0.4" }) == 1)
            #expect(refused.allSatisfy { $0.level == .warning && $0.metadata["listener"] == "main" })
        }
    }

    /// A reload that drops a listener closes its connections; one that adds a listener binds it.
    @Test func reloadClosesARemovedListenersConnectionsAndBindsANewOne() async throws {
        let listeners = [ListenerSettings.test(name: "main", host: "127.0.0.1", port: 0),
                         ListenerSettings.test(name: "second", host: "127.0.0.1", port: 0)]
        let stations = [try station("a", filter: "any", commonAddresses: [47]),
                        try station("b", filter: "any", commonAddresses: [48], listener: "second")]
        try await ServerFixture.with(points: Self.points, stations: stations, listeners: listeners) { fixture in
            #expect(fixture.port("main") != fixture.port("second"))
            let onMain = try await fixture.master(listener: "main")
            let onSecond = try await fixture.master(listener: "second")
            #expect(try await onMain.startDataTransfer())
            #expect(try await onSecond.startDataTransfer())
            _ = try await fixture.server.reload(
                listeners: [listeners[0], ListenerSettings.test(name: "third", host: "127.0.0.1", port: 0)],
                points: PointTable(monitorPoints: Self.points),
                stations: [stations[0], try station("c", filter: "any", commonAddresses: [48], listener: "third")]).get()
            #expect(await eventually { onSecond.inbox.isClosed })
            #expect(!fixture.logs.messages(containing: "closing connection: listener removed").isEmpty)
            #expect(!onMain.inbox.isClosed)
            let ports = try await fixture.server.boundPorts().get()
            #expect(Set(ports.keys) == ["main", "third"])
            #expect(ports["main"] == fixture.port("main"))
            let onThird = try await TestMaster.connect(port: ports["third"] ?? 0, group: fixture.clients)
            #expect(try await onThird.startDataTransfer())
            try await onThird.send(interrogation(48))
            #expect(await onThird.waitFor { $0.commonAddress == 48 && $0.cot == .activationTermination })
            await onMain.close()
            await onThird.close()
        }
    }

    /// A reload that narrows a station's filter closes the connections it no longer admits, and only those.
    @Test func reloadClosesConnectionsTheNewFilterNoLongerAdmits() async throws {
        let before = [try station("a", filter: "127.0.0.1, 127.0.0.2", commonAddresses: [47], redundancy: 2)]
        try await ServerFixture.with(points: Self.points, stations: before) { fixture in
            let one = try await fixture.master(from: "127.0.0.1")
            let two = try await fixture.master(from: "127.0.0.2")
            #expect(try await one.startDataTransfer())
            try await two.send(.unnumbered(.testFRActivation))
            #expect(await eventually { two.inbox.frames.contains { $0.apci == .unnumbered(.testFRConfirmation) } })
            let after = [try station("a", filter: "127.0.0.2", commonAddresses: [47], redundancy: 2)]
            _ = try await fixture.server.reload(listeners: [ListenerSettings.test(name: "main", host: "127.0.0.1", port: 0)],
                                                points: PointTable(monitorPoints: Self.points), stations: after).get()
            #expect(await eventually { one.inbox.isClosed })
            #expect(fixture.logs.all.contains { $0.message.contains("no longer admits this address") && $0.metadata["peer"] == "127.0.0.1" })
            #expect(!two.inbox.isClosed)
            // Same host and port as in force (port 0 as configured): the listener is kept, not rebound.
            #expect(try await two.startDataTransfer())
            try await two.send(interrogation(47))
            #expect(await two.waitFor { $0.cot == .activationTermination })
            await two.close()
        }
    }

    /// The link timers run on the server's loop: an idle link is tested with TESTFR act after t3, and a master
    /// that does not confirm it is closed after t1, for that reason. t1 is long enough for the master to
    /// acknowledge the end of initialisation on a loaded machine. Which timer fired is told by the order and the
    /// close reason, not by sub-second margins (a loaded CI machine stalls the test for seconds); the timer
    /// arithmetic itself is the link state machine's, tested without a clock.
    @Test func anIdleLinkIsTestedAndAnUnansweredTestCloses() async throws {
        let parameters = try APCIParameters(t1: .seconds(4), t2: .milliseconds(300), t3: .milliseconds(300))
        let stations = [try station("a", filter: "127.0.0.1", parameters: parameters)]
        try await ServerFixture.with(points: Self.points, stations: stations) { fixture in
            // End of initialisation is acknowledged (else t1 closes the link for it); then the link is idle.
            let master = try await fixture.masterInDataTransfer()
            let idle = ContinuousClock.now
            #expect(await eventually { master.inbox.frames.contains { $0.apci == .unnumbered(.testFRActivation) } })
            let tested = ContinuousClock.now - idle
            #expect(!master.inbox.isClosed, "tested before closed")
            #expect(await eventually { master.inbox.isClosed })
            let closed = ContinuousClock.now - idle
            #expect(tested < .seconds(4), "TESTFR act after \(tested): t3, not t1")
            #expect(closed < .seconds(20), "closed after \(closed)")
            let closing = fixture.logs.all.filter { $0.level == .warning && $0.message.hasPrefix("closing connection: ") }
            #expect(closing.count == 1 && closing.first?.metadata["peer"] == "127.0.0.1", "\(closing.map(\.message))")
            #expect(closing.first?.message == "closing connection: t1 expired waiting for TESTFR con", "\(closing.map(\.message))")
        }
    }

    /// On a dual-stack listener an IPv4 master arrives as ::ffff:a.b.c.d and still matches its IPv4 filter.
    @Test func anIPv4MasterOnADualStackListenerMatchesItsIPv4Filter() async throws {
        let listener = ListenerSettings.test(name: "main", host: "::", port: 0)
        let stations = [try station("a", filter: "127.0.0.1", commonAddresses: [47])]
        try await ServerFixture.with(points: Self.points, stations: stations, listeners: [listener]) { fixture in
            let admitted = try await fixture.master(from: "127.0.0.1")
            #expect(try await admitted.startDataTransfer())
            let refused = try await fixture.master(from: "127.0.0.2")
            #expect(await eventually { refused.inbox.isClosed })
            #expect(!admitted.inbox.isClosed)
            await admitted.close()
        }
    }
}
