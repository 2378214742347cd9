import IEC104
import Testing
@testable import Outstation
import TestSupport

/// The station as a state machine: each entry point's returned actions, without the harness in between.
@Suite("Station entry points return send, close and armTimer actions")
struct StationActionTests {
    let t0 = LinkInstant(nanoseconds: 1_000_000_000)

    func makeStation(points: Int = 0, configure: (inout StationConfiguration) -> Void = { _ in }) -> Station {
        var configuration = Harness.configuration("s1", commonAddresses: [47])
        configure(&configuration)
        let table = PointTable(monitorPoints: (0..<points).map { .point(UInt32($0 + 1), .float, value: .float(1)) })
        return Outstation(points: table, stations: [configuration], now: t0, wallTime: startWallTime).stations[0]
    }

    func sends(_ actions: [StationAction]) -> [(ConnectionID, [APDU])] {
        actions.compactMap { action in
            guard case .send(let id, let bytes) = action else { return nil }
            var framer = StreamFramer()
            framer.append(bytes)
            var frames: [APDU] = []
            while let frame = try? framer.next() { frames.append(frame) }
            #expect(framer.bufferedByteCount == 0, "a send carries whole APDUs")
            return (id, frames)
        }
    }

    func timers(_ actions: [StationAction]) -> [LinkInstant] {
        actions.compactMap { if case .armTimer(let deadline) = $0 { deadline } else { nil } }
    }

    func closes(_ actions: [StationAction]) -> [(ConnectionID, CloseReason)] {
        actions.compactMap { if case .close(let id, let reason) = $0 { (id, reason) } else { nil } }
    }

    @Test func attachArmsTheStartTimeoutAndSendsNothing() {
        let station = makeStation { $0.startTimeout = .seconds(5) }
        let actions = station.attach(ConnectionID(1), peer: "192.0.2.1:1", now: t0)
        #expect(sends(actions).isEmpty)
        #expect(timers(actions) == [t0 + .seconds(5)])
        // The deadline did not move earlier: no second timer.
        #expect(timers(station.pump(now: t0 + .seconds(1))).isEmpty)
    }

    @Test func startDTIsConfirmedAndEndOfInitializationSentInOneSend() throws {
        let station = makeStation()
        let id = ConnectionID(1)
        #expect(timers(station.attach(id, peer: "192.0.2.1:1", now: t0)) == [t0 + .seconds(20)], "t3")
        let actions = station.receive(.unnumbered(.startDTActivation), asdu: [], on: id, now: t0, wallTime: startWallTime)
        let sent = sends(actions)
        #expect(sent.count == 1)
        #expect(sent.first?.0 == id)
        #expect(sent.first?.1.map(\.apci) == [.unnumbered(.startDTConfirmation), .information(send: 0, receive: 0)])
        #expect(try sent.first.map { try ASDU(decoding: $0.1[1].asdu).typeID } == .M_EI_NA_1)
        #expect(timers(actions) == [t0 + .seconds(15)], "t1 of the unacknowledged M_EI_NA_1")
    }

    @Test func anInterrogationFillsTheWholeWindowInOneSendAndAcknowledgementsMoveItOn() throws {
        let station = makeStation(points: 2000)
        let id = ConnectionID(1)
        _ = station.attach(id, peer: "192.0.2.1:1", now: t0)
        _ = station.receive(.unnumbered(.startDTActivation), asdu: [], on: id, now: t0, wallTime: startWallTime)
        let request = try ASDU(cause: CauseOfTransmission(.activation), commonAddress: 47, address: 0,
                               element: .interrogation(InterrogationQualifier(rawValue: 20))).encoded()
        let actions = station.receive(.information(send: 0, receive: 1), asdu: request, on: id, now: t0,
                                      wallTime: startWallTime)
        let sent = sends(actions)
        #expect(sent.count == 1)
        let frames = try #require(sent.first?.1)
        #expect(frames.count == APCIParameters.standard.k)
        #expect(try ASDU(decoding: frames[0].asdu).cause.cause == .activationConfirmation)
        // Acknowledging the window lets the next one out in the same step.
        let next = sends(station.receive(.supervisory(receive: 13), asdu: [], on: id, now: t0, wallTime: startWallTime))
        #expect(next.first?.1.count == APCIParameters.standard.k)
    }

    @Test func t1RunningOutClosesTheConnectionWhichTheStationHasForgotten() {
        let station = makeStation()
        let id = ConnectionID(1)
        _ = station.attach(id, peer: "192.0.2.1:1", now: t0)
        let armed = timers(station.receive(.unnumbered(.startDTActivation), asdu: [], on: id, now: t0, wallTime: startWallTime))
        let deadline = try! #require(armed.first)
        let actions = station.timeout(now: deadline)
        #expect(closes(actions).map(\.0) == [id])
        if case .ended = closes(actions).first?.1 {} else { Issue.record("a timer's close is a session end") }
        #expect(station.connectionCount == 0)
        #expect(station.activeConnection == nil)
    }

    @Test func aConnectionBeyondTheRedundancyGroupReplacesTheOldest() {
        let station = makeStation()
        _ = station.attach(ConnectionID(1), peer: "192.0.2.1:1", now: t0)
        let actions = station.attach(ConnectionID(2), peer: "192.0.2.2:2", now: t0)
        #expect(closes(actions).map(\.0) == [ConnectionID(1)])
        #expect(closes(actions).first?.1 == .replaced(byPeer: "192.0.2.2:2"))
        #expect(station.connections.map(\.id) == [ConnectionID(2)])
    }

    @Test func aTimerThatFiresEarlyIsArmedAgain() {
        let station = makeStation { $0.startTimeout = .seconds(5) }
        _ = station.attach(ConnectionID(1), peer: "192.0.2.1:1", now: t0)
        let actions = station.timeout(now: t0 + .seconds(1))
        #expect(closes(actions).isEmpty)
        #expect(timers(actions) == [t0 + .seconds(5)])
    }
}
