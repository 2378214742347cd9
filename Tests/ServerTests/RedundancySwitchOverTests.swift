import IEC104
import NIOCore
import NIOEmbedded
import Outstation
@testable import Server
import TestSupport
import Testing

/// A redundancy group over the shell: two connections to one station, the one that starts data transfer last
/// carries the data, and the runtime closes the other's channel.
@Suite("Redundancy switch-over over EmbeddedChannel")
struct RedundancySwitchOverTests {
    static let points = [point(200, .float, value: .float(1.5))]

    func startDataTransfer(_ channel: EmbeddedChannel) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: APDU(apci: .unnumbered(.startDTActivation)).encoded))
    }

    @Test func theConnectionThatStartsLastCarriesTheDataAndTheOtherIsClosed() throws {
        let shell = EmbeddedShell(points: Self.points, stations: [try station("a", redundancy: 2)])
        defer { shell.finish() }
        let first = try shell.connect(station: "a", peer: "127.0.0.1")
        let second = try shell.connect(station: "a", peer: "127.0.0.2")
        #expect(shell.runtime.connectionCount == 2, "a group of two holds both connections")
        try startDataTransfer(first)
        #expect(try shell.written(first).first == APDU(apci: .unnumbered(.startDTConfirmation)))

        try startDataTransfer(second)
        #expect(try shell.written(second).first == APDU(apci: .unnumbered(.startDTConfirmation)))
        #expect(!first.isActive, "the connection that was in data transfer is closed")
        #expect(second.isActive)
        #expect(shell.runtime.connectionCount == 1)
        #expect(shell.outstation.station(named: "a")?.activeConnection != nil)
        #expect(shell.logs.messages(containing: "another connection of the redundancy group started data transfer").count == 1)

        // The new carrier is answered as the only master.
        try second.writeInbound(second.allocator.buffer(
            bytes: APDU(apci: .information(send: 0, receive: 0), asdu: try interrogation(47).encoded()).encoded))
        let asdus = try shell.written(second).compactMap { try? ASDU(decoding: $0.asdu) }
        #expect(asdus.map(\.typeID) == [.C_IC_NA_1, .M_ME_NC_1, .C_IC_NA_1])
        #expect(asdus.map(\.cot) == [.activationConfirmation, .interrogatedByStation, .activationTermination])
        try second.close().wait()
    }

    @Test func aStandbyConnectionThatNeverStartsIsLeftAlone() throws {
        let shell = EmbeddedShell(points: Self.points, stations: [try station("a", redundancy: 2)])
        defer { shell.finish() }
        let active = try shell.connect(station: "a", peer: "127.0.0.1")
        let standby = try shell.connect(station: "a", peer: "127.0.0.2")
        try startDataTransfer(active)
        _ = try shell.written(active)
        // The standby's TESTFR is answered; it gets no I-frames and keeps its connection.
        try standby.writeInbound(standby.allocator.buffer(bytes: APDU(apci: .unnumbered(.testFRActivation)).encoded))
        #expect(try shell.written(standby) == [APDU(apci: .unnumbered(.testFRConfirmation))])
        #expect(active.isActive && standby.isActive)
        #expect(shell.runtime.connectionCount == 2)
        try active.close().wait()
        try standby.close().wait()
    }
}
