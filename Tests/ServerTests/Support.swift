import IEC104
import Logging
import NIOCore
import NIOPosix
import Outstation
import Server
import Synchronization
import TestSupport
import Testing

// MARK: Waiting

/// Polls `condition` until it holds or `timeout` passes; every wait in this target is bounded. The bound is
/// generous because it only costs time when a test fails, and a loaded CI machine can stall a loop for seconds.
func eventually(_ timeout: Duration = .seconds(15), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

// MARK: A master on a real socket

/// What a test master received: every octet, and whether the outstation closed the connection.
final class MasterInbox: Sendable {
    private struct State {
        var bytes: [UInt8] = []
        var closed = false
    }

    private let state = Mutex(State())

    var isClosed: Bool { state.withLock { $0.closed } }
    var byteCount: Int { state.withLock { $0.bytes.count } }

    /// Every complete APDU received so far.
    var frames: [APDU] {
        var framer = StreamFramer(policy: .close)
        framer.append(state.withLock { $0.bytes })
        var frames: [APDU] = []
        while let frame = try? framer.next() { frames.append(frame) }
        return frames
    }

    /// The decoded ASDUs of the I-frames received so far.
    var asdus: [ASDU] {
        frames.compactMap { frame in
            guard case .information = frame.apci else { return nil }
            return try? ASDU(decoding: frame.asdu)
        }
    }

    fileprivate func received(_ bytes: [UInt8]) { state.withLock { $0.bytes += bytes } }
    fileprivate func close() { state.withLock { $0.closed = true } }
}

private final class InboxHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let inbox: MasterInbox

    init(inbox: MasterInbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        inbox.received(buffer.readBytes(length: buffer.readableBytes) ?? [])
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.close()
        context.fireChannelInactive()
    }
}

/// A minimal controlling station over TCP: it sends what the test says, numbers its I-frames and keeps
/// every octet the outstation sends.
final class TestMaster: Sendable {
    let channel: Channel
    let inbox: MasterInbox
    private let sendSequence = Mutex<UInt16>(0)

    private init(channel: Channel, inbox: MasterInbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects from `source` (any 127.x.y.z address works on Linux loopback) to `host`:`port`.
    static func connect(port: Int, from source: String = "127.0.0.1", to host: String = "127.0.0.1",
                        group: EventLoopGroup) async throws -> TestMaster {
        let inbox = MasterInbox()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(2))
            .bind(to: try SocketAddress(ipAddress: source, port: 0))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(InboxHandler(inbox: inbox))
                }
            }
            .connect(host: host, port: port).get()
        return TestMaster(channel: channel, inbox: inbox)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
    }

    func send(_ apci: APCI) async throws { try await send(APDU(apci: apci).encoded) }

    /// Sends `asdu` in the next I-frame, acknowledging every I-frame received so far.
    func send(_ asdu: ASDU) async throws {
        let received = UInt16(inbox.frames.count { if case .information = $0.apci { true } else { false } })
        let send = sendSequence.withLock { value in
            defer { value = (value + 1) & 0x7FFF }
            return value
        }
        try await self.send(APDU(apci: .information(send: send, receive: received), asdu: try asdu.encoded()).encoded)
    }

    /// An S-frame acknowledging every I-frame received so far.
    func acknowledge() async throws {
        let received = UInt16(inbox.frames.count { if case .information = $0.apci { true } else { false } } & 0x7FFF)
        try await send(.supervisory(receive: received))
    }

    /// STARTDT act, then waits for STARTDT con.
    func startDataTransfer() async throws -> Bool {
        try await send(.unnumbered(.startDTActivation))
        return await eventually { self.inbox.frames.contains { $0.apci == .unnumbered(.startDTConfirmation) } }
    }

    /// Waits until an I-frame satisfying `condition` has arrived.
    func waitFor(_ condition: @escaping (ASDU) -> Bool) async -> Bool {
        await eventually { self.inbox.asdus.contains(where: condition) }
    }

    func close() async {
        try? await channel.close()
    }
}

// MARK: The server

/// A started server on loopback with its event loop group, and a group for the test masters.
struct ServerFixture {
    let server: OutstationServer
    let ports: [String: Int]
    let logs: LogRecorder
    let clients: EventLoopGroup

    func port(_ listener: String = "main") -> Int { ports[listener] ?? 0 }

    func master(from source: String = "127.0.0.1", to host: String = "127.0.0.1",
                listener: String = "main") async throws -> TestMaster {
        try await TestMaster.connect(port: port(listener), from: source, to: host, group: clients)
    }

    /// A master in data transfer whose end of initialisation is acknowledged, so that no frame of the outstation
    /// waits on it (t1, the stall limit) when a test starts.
    func masterInDataTransfer() async throws -> TestMaster {
        let master = try await master()
        #expect(try await master.startDataTransfer())
        #expect(await master.waitFor { $0.typeID == .M_EI_NA_1 })
        try await master.acknowledge()
        return master
    }

    /// Builds the server as `DaemonRunner` does (outstation and server made on the loop, then `start`),
    /// runs `body`, and always stops the server and shuts both groups down.
    /// Commands go to `commandHandler` through `runCommands()`, which runs for the whole test and is awaited after `stop()`.
    static func with(points: [MonitorPointDefinition], commands: [CommandPointDefinition] = [],
                     stations: [StationConfiguration],
                     listeners: [ListenerSettings] = [ListenerSettings.test(name: "main", host: "127.0.0.1", port: 0)],
                     commandHandler: any CommandHandler = FeedbackCommandHandler(),
                     _ body: (ServerFixture) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clients = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let logs = LogRecorder()
        let logger = logs.logger
        var server: OutstationServer?
        var commandRunner: Task<Void, Never>?
        do {
            let made = try await eventLoop.submit {
                let outstation = Outstation(points: PointTable(monitorPoints: points, commandPoints: commands),
                                            stations: stations, now: SystemClock.monotonicNow(),
                                            wallTime: SystemClock.wallMilliseconds())
                return OutstationServer(eventLoop: eventLoop, logger: logger, outstation: outstation,
                                        commandHandler: commandHandler)
            }.get()
            server = made
            commandRunner = Task { await made.runCommands() }
            try await made.start(listeners: listeners).get()
            let ports = try await made.boundPorts().get()
            try await body(ServerFixture(server: made, ports: ports, logs: logs, clients: clients))
        } catch {
            try? await server?.stop().get()
            await commandRunner?.value
            try? await clients.shutdownGracefully()
            try? await group.shutdownGracefully()
            throw error
        }
        try await server?.stop().get()
        // runCommands() returns once stop() has ended its stream and the running commands are done.
        await commandRunner?.value
        try await clients.shutdownGracefully()
        try await group.shutdownGracefully()
    }
}

// MARK: Building blocks


func point(_ ioa: UInt32, _ kind: PointKind, ca: UInt16 = 47, value: PointValue? = nil) -> MonitorPointDefinition {
    MonitorPointDefinition(address: address(ioa, ca: ca), kind: kind, initialValue: value)
}

func station(_ name: String, filter: String = "any", commonAddresses: [UInt16] = [47], listener: String = "main",
             redundancy: Int = 1, startTimeout: Duration? = nil, eventBufferSize: Int = 10_000,
             parameters: APCIParameters = .standard) throws -> StationConfiguration {
    StationConfiguration(name: name, listener: listener, filter: try AddressFilter(parsing: filter),
                         commonAddresses: commonAddresses, parameters: parameters, eventBufferSize: eventBufferSize,
                         redundancy: redundancy, startTimeout: startTimeout)
}

func interrogation(_ ca: UInt16 = 47) -> ASDU {
    ASDU(cause: CauseOfTransmission(.activation), commonAddress: ca, address: 0,
         element: .interrogation(InterrogationQualifier(rawValue: 20)))
}

extension ASDU {
    var cot: Cause { cause.cause }
    var addresses: [UInt32] { objects.map(\.address) }
}
