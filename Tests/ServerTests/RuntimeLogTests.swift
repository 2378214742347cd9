import IEC104
import NIOCore
import NIOEmbedded
import Outstation
@testable import Server
import TestSupport
import Testing

/// The runtime and the channel handler over `EmbeddedChannel`s on one `EmbeddedEventLoop`: the pipeline the
/// server installs (decoder → StationChannelHandler → runtime), with time for the log summaries under the
/// test's control.
final class EmbeddedShell {
    let loop = EmbeddedEventLoop()
    let logs = LogRecorder()
    let outstation: Outstation
    let runtime: OutstationRuntime
    private let commands: AsyncStream<CommandJob>.Continuation

    init(points: [MonitorPointDefinition], stations: [StationConfiguration]) {
        outstation = Outstation(points: PointTable(monitorPoints: points), stations: stations,
                                now: SystemClock.monotonicNow(), wallTime: SystemClock.wallMilliseconds())
        let (_, sink) = AsyncStream.makeStream(of: CommandJob.self)
        commands = sink
        runtime = OutstationRuntime(eventLoop: loop, logger: logs.logger, outstation: outstation, commandSink: sink)
    }

    /// A connection from `peer` to station `name`, active.
    func connect(station name: String, peer: String = "127.0.0.1") throws -> EmbeddedChannel {
        let station = try #require(outstation.station(named: name))
        let channel = EmbeddedChannel(loop: loop)
        let decoder = APDUFrameDecoder(policy: .close) { _, _ in }
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(decoder, maximumBufferSize: ListenerSettings.maximumBufferedInput))
        try channel.pipeline.syncOperations.addHandler(
            StationChannelHandler(runtime: runtime, station: station, peer: peer, listener: "main", overTLS: false))
        try channel.connect(to: SocketAddress(ipAddress: peer, port: 40000)).wait()
        return channel
    }

    /// Every APDU the runtime wrote to `channel` since the last call (it writes at the end of the loop's turn).
    func written(_ channel: EmbeddedChannel) throws -> [APDU] {
        loop.run()
        var framer = StreamFramer()
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            framer.append(buffer.readableBytesView)
        }
        var frames: [APDU] = []
        while let frame = try framer.next() { frames.append(frame) }
        return frames
    }

    func finish() {
        _ = runtime.closeAll()
        commands.finish()
        loop.run()
        try? loop.syncShutdownGracefully()
    }
}

@Suite("Runtime and channel handler over EmbeddedChannel")
struct RuntimeLogTests {
    static let points = [point(200, .float, value: .float(1.5))]

    @Test func pipelineConfirmsStartDTAndAnswersAnInterrogation() throws {
        let shell = EmbeddedShell(points: Self.points, stations: [try station("a")])
        defer { shell.finish() }
        let channel = try shell.connect(station: "a")
        try channel.writeInbound(channel.allocator.buffer(bytes: APDU(apci: .unnumbered(.startDTActivation)).encoded))
        let started = try shell.written(channel)
        #expect(started.first == APDU(apci: .unnumbered(.startDTConfirmation)))
        // Then end of initialisation, M_EI_NA_1 with COT 4.
        #expect(started.dropFirst().compactMap { try? ASDU(decoding: $0.asdu) }.map(\.typeID) == [.M_EI_NA_1])
        try channel.writeInbound(channel.allocator.buffer(
            bytes: APDU(apci: .information(send: 0, receive: 0), asdu: try interrogation(47).encoded()).encoded))
        let asdus = try shell.written(channel).compactMap { try? ASDU(decoding: $0.asdu) }
        #expect(asdus.map(\.typeID) == [.C_IC_NA_1, .M_ME_NC_1, .C_IC_NA_1])
        #expect(asdus.map(\.cot) == [.activationConfirmation, .interrogatedByStation, .activationTermination])
        #expect(shell.outstation.station(named: "a")?.activeConnection != nil)
        try channel.close().wait()
        #expect(shell.runtime.connectionCount == 0)
        #expect(shell.outstation.station(named: "a")?.activeConnection == nil)
    }

    /// Five refusals per source and window are logged one by one, the rest in one summary at the window's end.
    @Test func refusedRequestsAreLoggedAFewTimesThenSummarised() throws {
        let shell = EmbeddedShell(points: Self.points, stations: [try station("a")])
        defer { shell.finish() }
        let channel = try shell.connect(station: "a")
        try channel.writeInbound(channel.allocator.buffer(bytes: APDU(apci: .unnumbered(.startDTActivation)).encoded))
        for sequence in UInt16(0)..<8 {
            let frame = APDU(apci: .information(send: sequence, receive: sequence), asdu: try interrogation(99).encoded())
            try channel.writeInbound(channel.allocator.buffer(bytes: frame.encoded))
        }
        // Every request was refused on the wire.
        let negative = try shell.written(channel).compactMap { try? ASDU(decoding: $0.asdu) }
            .filter { $0.cot == .unknownCommonAddress && $0.cause.isNegative }
        #expect(negative.count == 8)
        let lines = shell.logs.messages(containing: "refused with unknown common address")
        #expect(lines.count == 5)
        #expect(shell.logs.messages(containing: "not logged one by one").isEmpty)
        shell.loop.advanceTime(by: .seconds(11))
        let summary = shell.logs.messages(containing: "not logged one by one")
        #expect(summary == ["refused 3 more requests from 127.0.0.1 in 10 s, not logged one by one: "
                            + "unknown common address of ASDU (46)"])
        let entry = shell.logs.all.first { $0.message.hasPrefix("refused 3 more") }
        #expect(entry?.level == .warning)
        #expect(entry?.metadata["suppressed"] == "3" && entry?.metadata["peer"] == "127.0.0.1")
    }

    /// Connects and disconnects: 20 lines per source and window, then a summary of the rest.
    @Test func connectionChurnIsLoggedAFewTimesThenSummarised() throws {
        let shell = EmbeddedShell(points: Self.points, stations: [try station("a")])
        defer { shell.finish() }
        for _ in 0..<15 {
            let channel = try shell.connect(station: "a", peer: "127.0.0.9")
            try channel.close().wait()
        }
        let churn = shell.logs.all.filter { $0.message == "master connected" || $0.message == "master disconnected" }
        #expect(churn.count == 20)
        #expect(churn.allSatisfy { $0.level == .notice && $0.metadata["peer"] == "127.0.0.9" })
        shell.loop.advanceTime(by: .seconds(11))
        #expect(shell.logs.messages(containing: "not logged one by one")
            == ["10 more connection events (connect, replace, close, disconnect) from 127.0.0.9 in 10 s, not logged one by one"])
        // A new window logs again.
        let channel = try shell.connect(station: "a", peer: "127.0.0.9")
        #expect(shell.logs.all.filter { $0.message == "master connected" }.count == 11)
        try channel.close().wait()
    }

    /// A reconnect storm whose connections each send one bad octet (or one out-of-range N(R)) writes about 20 lines
    /// and a summary, as docs/robustness.md says of churn: its `closing connection` warnings count as churn, and a
    /// close the station decides is followed by its `master disconnected` like one the master decides.
    @Test(arguments: [[UInt8(0x00)], APDU(apci: .supervisory(receive: 5)).encoded])
    func closingLinesOfAReconnectStormAreLimited(bytes: [UInt8]) throws {
        let shell = EmbeddedShell(points: Self.points, stations: [try station("a")])
        defer { shell.finish() }
        for _ in 0..<100 {
            let channel = try shell.connect(station: "a", peer: "127.0.0.9")
            _ = try? channel.writeInbound(channel.allocator.buffer(bytes: bytes))
            #expect(!channel.isActive)
        }
        let churn = shell.logs.all.filter {
            ["master connected", "master disconnected"].contains($0.message) || $0.message.hasPrefix("closing connection: ")
        }
        #expect(churn.count == 20)
        // Connected, closing, disconnected: the first connections' lines in that order.
        #expect(churn.prefix(3).map(\.message.first) == ["m", "c", "m"])
        #expect(churn[2].message == "master disconnected")
        shell.loop.advanceTime(by: .seconds(11))
        #expect(shell.logs.messages(containing: "not logged one by one")
            == ["280 more connection events (connect, replace, close, disconnect) from 127.0.0.9 in 10 s, not logged one by one"])
    }

    /// A second connection to a station with room for one replaces the first: the runtime closes the old channel.
    @Test func replacementClosesTheOldChannel() throws {
        let shell = EmbeddedShell(points: Self.points, stations: [try station("a")])
        defer { shell.finish() }
        let first = try shell.connect(station: "a")
        let second = try shell.connect(station: "a")
        #expect(!first.isActive)
        #expect(second.isActive)
        #expect(shell.runtime.connectionCount == 1)
        #expect(shell.logs.messages(containing: "connection replaced by a new one from 127.0.0.1").count == 1)
        try second.close().wait()
    }
}

@Suite("StationChannelHandler back-pressure")
struct StationChannelHandlerTests {
    /// A master that does not read what it is sent is not read from until its output drains.
    @Test func aPeerThatDoesNotReadIsNotReadFrom() throws {
        let shell = EmbeddedShell(points: RuntimeLogTests.points, stations: [try station("a")])
        defer { shell.finish() }
        let channel = try shell.connect(station: "a")
        func autoRead() -> Bool? {
            channel.options.last { $0.option is ChannelOptions.Types.AutoReadOption }?.value as? Bool
        }
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(autoRead() == false)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(autoRead() == true)
        try channel.close().wait()
    }

    /// A frame error under the close policy reaches the handler, which logs it and closes the connection.
    @Test func aFrameErrorClosesTheConnectionWithOneWarning() throws {
        let shell = EmbeddedShell(points: RuntimeLogTests.points, stations: [try station("a")])
        defer { shell.finish() }
        let channel = try shell.connect(station: "a")
        _ = try? channel.writeInbound(channel.allocator.buffer(bytes: [0x68, 0x02, 0x00, 0x00]))
        #expect(!channel.isActive)
        #expect(shell.runtime.connectionCount == 0)
        let warnings = shell.logs.all.filter { $0.level == .warning }
        #expect(warnings.map(\.message) == ["closing connection: APDU length 2 is outside 4...253"])
        #expect(warnings.first?.metadata["station"] == "a" && warnings.first?.metadata["peer"] == "127.0.0.1")
    }
}
