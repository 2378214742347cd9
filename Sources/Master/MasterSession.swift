public import IEC104
public import TLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One connection of a controlling station: ``MasterStateMachine`` driven over a socket with poll() and
/// the monotonic clock, with a client `TLSSession` in between when TLS is on. Subcommands send ASDUs and
/// take received ones with ``next(until:)``; the bench receives in batches with
/// ``receiveBatched(until:stall:idleAcknowledgement:visit:done:)``.
public final class MasterSession {
    public let endpoint: String
    public let parameters: APCIParameters
    /// socket() to connected (and the TLS handshake done), in milliseconds.
    public let connectMilliseconds: Double
    public internal(set) var core: MasterStateMachine
    let transport: MasterTransport
    let buffer: ReceiveBuffer
    /// Octets at the start of `buffer` not yet consumed (the start of an incomplete APDU).
    var length = 0
    /// Nothing of IEC 104 has come yet: a close now means the station refused us (over TLS: after the handshake).
    var quiet = true
    /// The last receive filled the buffer: more may wait where poll() does not see it (in OpenSSL).
    var readAgain = false
    public internal(set) var closed = false
    public internal(set) var lastReception: LinkInstant
    /// Why ``receiveBatched(until:stall:idleAcknowledgement:visit:done:)`` found the connection closed.
    public internal(set) var failure: MasterError?
    private var inbox: [APDU] = []
    private var inboxHead = 0
    /// Called with every received S- and U-frame (for `monitor --raw`).
    public var controlFrameObserver: ((APDU) -> Void)?

    /// The TLS session, when connected over TLS (handshake done).
    public var tls: TLSSession? { transport.tls }

    init(transport: MasterTransport, buffer: ReceiveBuffer, endpoint: String, parameters: APCIParameters,
         connectMilliseconds: Double) {
        self.transport = transport
        self.buffer = buffer
        self.endpoint = endpoint
        self.parameters = parameters
        self.connectMilliseconds = connectMilliseconds
        let now = monotonicNow()
        core = MasterStateMachine(parameters: parameters, now: now)
        lastReception = now
    }

    deinit { close() }

    /// Resolves, optionally binds, and connects within t0; with `tls`, runs the TLS handshake within
    /// `handshakeTimeout` (`connectMilliseconds` then includes it). `context` reuses a client context
    /// made from `tls` before; `receiveBuffer` one shared with earlier sessions.
    public static func connect(to endpoint: Endpoint, from source: Endpoint?, parameters: APCIParameters,
                               tls: TLSClientOptions? = nil, context: TLSContext? = nil,
                               handshakeTimeout: Duration = .seconds(10),
                               receiveBuffer: ReceiveBuffer? = nil) throws(MasterError) -> MasterSession {
        let started = monotonicNow()
        // Certificate and key files are read before connecting: a bad path is a usage error, not a network one.
        var context = context
        if context == nil { context = try tls?.makeContext() }
        let addresses = try TCPConnector.resolve(endpoint)
        var lastError: MasterError = .connect(endpoint, "no usable address")
        for address in addresses {
            let descriptor: Int32
            do throws(MasterError) {
                descriptor = try TCPConnector.connect(address, endpoint: endpoint, source: source, t0: parameters.t0)
            } catch {
                lastError = error
                if case .bind = error { throw error }
                continue
            }
            var session: TLSSession?
            if let tls, let context {
                do throws(MasterError) {
                    session = try TLSClientIO.open(descriptor: descriptor, endpoint: endpoint, options: tls,
                                                   context: context, timeout: handshakeTimeout)
                } catch {
                    _ = Glibc.close(descriptor)
                    throw error
                }
            }
            let buffer = receiveBuffer ?? ReceiveBuffer(capacity: 65_536)
            let elapsed = monotonicNow().duration(since: started).secondsDouble * 1000
            return MasterSession(transport: MasterTransport(descriptor: descriptor, tls: session, buffer: buffer),
                                 buffer: buffer, endpoint: endpoint.description, parameters: parameters,
                                 connectMilliseconds: elapsed)
        }
        throw lastError
    }

    /// SO_RCVBUF, for a station that sends faster than one read per batch drains.
    public func setReceiveBufferSize(_ octets: Int32) {
        var size = octets
        setsockopt(transport.descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    // MARK: Link

    /// Sends STARTDT act and waits for STARTDT con; I-frames arriving before it are kept.
    public func startDataTransfer(timeout: Duration) throws(MasterError) {
        let now = monotonicNow()
        core.startDataTransfer(now: now)
        let deadline = now + timeout
        while core.dataTransfer != .started {
            if monotonicNow() >= deadline { throw .noStartConfirmation(timeout) }
            try pump(until: deadline)
        }
    }

    /// Sends an ASDU as an I-frame, waiting while the k window is full.
    public func send(_ asdu: [UInt8], timeout: Duration? = nil) throws(MasterError) {
        let deadline = monotonicNow() + (timeout ?? parameters.t1)
        while !core.canSend {
            if monotonicNow() >= deadline { throw .link(.timeout(.acknowledgement)) }
            try pump(until: deadline)
        }
        core.send(asdu: asdu, now: monotonicNow())
        try flush()
    }

    /// The next received I-frame, or nil when `deadline` passes first.
    public func next(until deadline: LinkInstant) throws(MasterError) -> APDU? {
        while true {
            if inboxHead < inbox.count {
                let apdu = inbox[inboxHead]
                inboxHead += 1
                if inboxHead == inbox.count {
                    inbox.removeAll(keepingCapacity: true)
                    inboxHead = 0
                }
                return apdu
            }
            if monotonicNow() >= deadline { return nil }
            try pump(until: deadline)
        }
    }

    /// Waits for readable data or a link timer once, up to `deadline`.
    private func pump(until deadline: LinkInstant) throws(MasterError) {
        guard !closed else { throw .closedByPeer }
        try flush()
        var readable = readAgain || transport.endPending
        if !readable {
            let now = monotonicNow()
            var wake = deadline
            if let linkDeadline = core.nextDeadline, linkDeadline < wake { wake = linkDeadline }
            let milliseconds = wake > now ? Int32(clamping: (wake.nanoseconds - now.nanoseconds + 999_999) / 1_000_000) : 0
            let ready = SocketIO.poll(transport.descriptor, events: Int16(POLLIN), milliseconds: milliseconds)
            if ready < 0 { throw .io("poll: \(SocketIO.lastErrorText)") }
            readable = ready > 0
        }
        if readable {
            try receiveOnce { frame in
                if frame.isInformation {
                    inbox.append(APDU(apci: frame.apci, asdu: Array(frame.asdu)))
                } else {
                    controlFrameObserver?(APDU(apci: frame.apci))
                }
            }
        }
        try handleTimers(now: monotonicNow())
        try flush()
    }

    /// One receive into the buffer, its complete frames through the core to `visit`. Throws when the
    /// connection ended or must close; returns the octets received (0: nothing there now).
    @discardableResult
    func receiveOnce(acknowledgingWholeBatch: Bool = false,
                     _ visit: (MasterStateMachine.Frame) -> Void) throws(MasterError) -> Int {
        let space = UnsafeMutableRawBufferPointer(start: buffer.base + length, count: buffer.capacity - length)
        switch transport.receive(into: space) {
        case .bytes(let count):
            quiet = false
            length += count
            readAgain = count == space.count
            let now = monotonicNow()
            lastReception = now
            let consumed: Int
            do throws(MasterError) {
                consumed = try core.receiveFrames(in: UnsafeRawBufferPointer(start: buffer.base, count: length),
                                                  now: now, acknowledgingWholeBatch: acknowledgingWholeBatch, visit)
            } catch {
                fail()
                throw error
            }
            length -= consumed
            if length > 0, consumed > 0 { buffer.base.update(from: buffer.base + consumed, count: length) }
            return count
        case .wouldBlock:
            readAgain = false
            return 0
        case .endOfStream:
            fail()
            if quiet { throw tls != nil ? .tls(Self.refusedAfterHandshake) : .closedBeforeAnswer }
            throw .closedByPeer
        case .failed(let error):
            fail()
            if error == ECONNRESET {
                if quiet { throw tls != nil ? .tls(Self.refusedAfterHandshake) : .closedBeforeAnswer }
                throw .closedByPeer
            }
            throw .io("receive: \(String(cString: strerror(error)))")
        case .tlsClosed:
            fail()
            throw .closedByPeer
        case .tlsFailed(let error):
            fail()
            throw .tls(describeTLSFailure(error))
        }
    }

    func handleTimers(now: LinkInstant) throws(MasterError) {
        guard let linkDeadline = core.nextDeadline, linkDeadline <= now else { return }
        do throws(MasterError) {
            try core.handleTimeout(now: now)
        } catch {
            fail()
            throw error
        }
    }

    static let refusedAfterHandshake = "the station closed the connection right after the TLS handshake, before any "
        + "IEC 104 frame: it refused our certificate (--tls-cert missing, or from a CA it does not trust) or this master"

    /// A TLS failure after the handshake: an alert from the station (e.g. it refused our certificate
    /// under TLS 1.3, where the client finishes its handshake first), or a bad record.
    private func describeTLSFailure(_ error: TLSError) -> String {
        let text: String
        switch error {
        case .protocolError(let reason): text = openSSLReason(reason)
        default: return describeHandshakeFailure(error, endpoint: endpoint)
        }
        if text.contains("alert") {
            if quiet { return "the station refused the TLS connection: it sent \(text)\(alertHint(text))" }
            return "the station ended TLS: it sent \(text)"
        }
        return "TLS error from \(endpoint): \(text)"
    }

    /// Writes what the core has to send.
    func flush() throws(MasterError) {
        guard !core.output.isEmpty else { return }
        defer { core.clearOutput() }
        var failure: MasterError?
        core.output.withUnsafeBytes { raw in
            do throws(MasterError) { try transport.send(raw) } catch { failure = error }
        }
        if let failure {
            closed = true
            throw failure
        }
    }

    func fail() {
        closed = true
        transport.markFailed()
    }

    /// STOPDT act, a short wait for STOPDT con (acknowledging what arrived), then close.
    public func stop(wait: Duration = .milliseconds(500)) {
        guard !closed else { return }
        let now = monotonicNow()
        core.stopDataTransfer(now: now)
        let deadline = now + wait
        while core.dataTransfer != .stopped, monotonicNow() < deadline {
            do { try pump(until: deadline) } catch { break }
        }
        close()
    }

    /// Closes the socket; over TLS, sends close_notify first unless the connection already failed.
    public func close() {
        closed = true
        transport.close()
    }
}
