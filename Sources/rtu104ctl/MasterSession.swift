import IEC104
import TLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a master subcommand could not talk to the station, in words for the operator.
enum MasterError: Error, CustomStringConvertible {
    case usage(String)
    case resolve(Endpoint, String)
    case refused(Endpoint)
    case connectTimeout(Endpoint, Duration)
    case connect(Endpoint, String)
    case bind(Endpoint, String)
    case noStartConfirmation(Duration)
    case closedByPeer
    /// Closed before a single octet of IEC 104 came back.
    case closedBeforeAnswer
    case link(LinkError)
    case frame(FrameError)
    case io(String)
    /// TLS set-up or handshake failed, or the station ended TLS.
    case tls(String)
    case tlsTimeout(Duration)

    var description: String {
        switch self {
        case .usage(let message): message
        case .resolve(let endpoint, let reason): "cannot resolve \(endpoint.host): \(reason)"
        case .refused(let endpoint): "connection refused by \(endpoint) (is the station running and listening on that port?)"
        case .connectTimeout(let endpoint, let t0):
            "no connection to \(endpoint) within t0 = \(t0.seconds2) s (host down or a firewall dropping packets?)"
        case .connect(let endpoint, let reason): "cannot connect to \(endpoint): \(reason)"
        case .bind(let endpoint, let reason): "cannot bind the source address \(endpoint): \(reason)"
        case .noStartConfirmation(let t1):
            "no STARTDT con within t1 = \(t1.seconds2) s (the station may accept only one master, or none from this address)"
        case .closedByPeer: "the station closed the connection"
        case .closedBeforeAnswer:
            "the station closed the connection before answering (a TLS port? then connect with --tls --tls-ca …; "
                + "or the station does not accept this master)"
        case .link(let error): "link layer: \(error); connection closed"
        case .frame(let error): "invalid frame from the station: \(error); connection closed"
        case .io(let message): message
        case .tls(let message): message
        case .tlsTimeout(let timeout):
            "no TLS handshake within --timeout = \(timeout.seconds2) s (is TLS on at that port?)"
        }
    }
}

extension Duration {
    var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    var seconds2: String { secondsDouble.formatted2 }
}

/// The monotonic clock the link layer runs on.
func monotonicNow() -> LinkInstant {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return LinkInstant(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
}

/// Wall-clock milliseconds since 1970 (UTC), for time tags.
func wallMilliseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}

/// One connection of a controlling station: a blocking socket driven by poll(), the codec's
/// `StreamFramer` and `LinkStateMachine(.controllingStation)`, which owns sequence numbers, the k/w
/// window and the t1–t3 timers. Subcommands send ASDUs and take received ones with ``next(until:)``.
/// With TLS, a client `TLSSession` sits between the socket and the framer: received ciphertext is fed
/// to it and its plaintext to the framer; the link's output is encrypted before it is sent.
final class MasterSession {
    let endpoint: String
    let parameters: APCIParameters
    /// socket() to connected, in milliseconds.
    let connectMilliseconds: Double
    private(set) var link: LinkStateMachine
    private var framer = StreamFramer(policy: .close)
    private let descriptor: Int32
    /// The TLS session, when connected over TLS (handshake done).
    let tls: TLSSession?
    /// Nothing of IEC 104 has come yet: a close now means the station refused us (over TLS: after the handshake).
    private var quiet = true
    private var inbox: [APDU] = []
    private var inboxHead = 0
    private var readBuffer = [UInt8](repeating: 0, count: 65_536)
    private var closed = false
    /// Called with every received S- and U-frame (for `monitor --raw`).
    var controlFrameObserver: ((APDU) -> Void)?

    private init(descriptor: Int32, endpoint: String, parameters: APCIParameters, connectMilliseconds: Double,
                 tls: TLSSession?) {
        self.descriptor = descriptor
        self.tls = tls
        self.endpoint = endpoint
        self.parameters = parameters
        self.connectMilliseconds = connectMilliseconds
        self.link = LinkStateMachine(role: .controllingStation, parameters: parameters, now: monotonicNow())
    }

    deinit { close() }

    /// Resolves, optionally binds, and connects within t0; with `tls`, runs the TLS handshake within
    /// `handshakeTimeout` (`connectMilliseconds` then includes it).
    static func connect(to endpoint: Endpoint, from source: Endpoint?, parameters: APCIParameters,
                        tls: TLSClientOptions? = nil, handshakeTimeout: Duration = .seconds(10)) throws(MasterError) -> MasterSession {
        let started = monotonicNow()
        // Certificate and key files are read before connecting: a bad path is a usage error, not a network one.
        let context = try tls?.makeContext()
        let addresses = try resolve(endpoint)
        var lastError: MasterError = .connect(endpoint, "no usable address")
        for address in addresses {
            let descriptor: Int32
            do throws(MasterError) {
                descriptor = try connectOne(address, endpoint: endpoint, source: source, t0: parameters.t0)
            } catch {
                lastError = error
                if case .bind = error { throw error }
                continue
            }
            var session: TLSSession?
            if let tls, let context {
                do throws(MasterError) {
                    let created: TLSSession
                    do throws(TLSError) {
                        created = try TLSSession(context: context, serverName: tls.serverName(for: endpoint),
                                                 expectedIdentity: tls.expectedIdentity(for: endpoint))
                    } catch {
                        throw .tls("cannot set up TLS: \(error)")
                    }
                    try TLSClientIO.handshake(created, descriptor: descriptor, endpoint: endpoint.description,
                                              timeout: handshakeTimeout)
                    session = created
                } catch {
                    _ = Glibc.close(descriptor)
                    throw error
                }
            }
            let elapsed = monotonicNow().duration(since: started).secondsDouble * 1000
            return MasterSession(descriptor: descriptor, endpoint: endpoint.description, parameters: parameters,
                                 connectMilliseconds: elapsed, tls: session)
        }
        throw lastError
    }

    struct ResolvedAddress {
        var family: Int32
        var storage: sockaddr_storage
        var length: socklen_t
    }

    static func resolve(_ endpoint: Endpoint, passive: Bool = false) throws(MasterError) -> [ResolvedAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE | AI_NUMERICHOST : 0
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard status == 0, let list else {
            throw .resolve(endpoint, String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var result: [ResolvedAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor {
            var storage = sockaddr_storage()
            let length = entry.pointee.ai_addrlen
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: entry.pointee.ai_addr, count: Int(length)))
            }
            result.append(ResolvedAddress(family: entry.pointee.ai_family, storage: storage, length: length))
            cursor = entry.pointee.ai_next
        }
        return result
    }

    /// A connected, blocking TCP socket with TCP_NODELAY.
    static func connectOne(_ address: ResolvedAddress, endpoint: Endpoint, source: Endpoint?,
                           t0: Duration) throws(MasterError) -> Int32 {
        let descriptor = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw .connect(endpoint, lastErrorText()) }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let source {
            do throws(MasterError) {
                try bindSource(descriptor, source: source, family: address.family)
            } catch {
                _ = Glibc.close(descriptor)
                throw error
            }
        }
        let flags = fcntl(descriptor, F_GETFL, 0)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        var storage = address.storage
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, address.length) }
        }
        if result != 0 {
            guard errno == EINPROGRESS else {
                let error = errno
                _ = Glibc.close(descriptor)
                throw error == ECONNREFUSED ? .refused(endpoint) : .connect(endpoint, String(cString: strerror(error)))
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let milliseconds = Int32(clamping: Int64(t0.secondsDouble * 1000))
            var ready: Int32
            repeat { ready = poll(&poller, 1, milliseconds) } while ready < 0 && errno == EINTR
            guard ready > 0 else {
                _ = Glibc.close(descriptor)
                throw .connectTimeout(endpoint, t0)
            }
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &socketError, &length)
            if socketError != 0 {
                _ = Glibc.close(descriptor)
                throw socketError == ECONNREFUSED ? .refused(endpoint)
                    : .connect(endpoint, String(cString: strerror(socketError)))
            }
        }
        _ = fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK)
        return descriptor
    }

    static func bindSource(_ descriptor: Int32, source: Endpoint, family: Int32) throws(MasterError) {
        let candidates = try resolve(source, passive: true)
        guard var address = candidates.first(where: { $0.family == family }) else {
            throw .bind(source, "not an address of the station's family (IPv4 vs IPv6)")
        }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = withUnsafePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, address.length) }
        }
        guard result == 0 else { throw .bind(source, lastErrorText()) }
    }

    static func lastErrorText() -> String { String(cString: strerror(errno)) }

    // MARK: Link

    /// Sends STARTDT act and waits for STARTDT con; I-frames arriving before it are kept.
    func startDataTransfer(timeout: Duration) throws(MasterError) {
        let now = monotonicNow()
        link.startDataTransfer(now: now)
        let deadline = now + timeout
        while link.dataTransfer != .started {
            if monotonicNow() >= deadline { throw .noStartConfirmation(timeout) }
            try pump(until: deadline)
        }
    }

    /// Sends an ASDU as an I-frame, waiting while the k window is full.
    func send(_ asdu: [UInt8], timeout: Duration? = nil) throws(MasterError) {
        let deadline = monotonicNow() + (timeout ?? parameters.t1)
        while !link.canSend {
            if monotonicNow() >= deadline { throw .link(.timeout(.acknowledgement)) }
            try pump(until: deadline)
        }
        link.send(asdu: asdu, now: monotonicNow())
        try flush()
    }

    /// The next received I-frame, or nil when `deadline` passes first.
    func next(until deadline: LinkInstant) throws(MasterError) -> APDU? {
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

    /// Waits for I-frames, readable data or timers once, up to `deadline`.
    private func pump(until deadline: LinkInstant) throws(MasterError) {
        guard !closed else { throw .closedByPeer }
        try flush()
        let now = monotonicNow()
        var wake = deadline
        if let linkDeadline = link.nextDeadline, linkDeadline < wake { wake = linkDeadline }
        let milliseconds = wake > now ? Int32(clamping: (wake.nanoseconds - now.nanoseconds + 999_999) / 1_000_000) : 0
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, milliseconds)
        if ready < 0, errno != EINTR { throw .io("poll: \(Self.lastErrorText())") }
        if ready > 0 { try readAvailable() }
        let after = monotonicNow()
        if let linkDeadline = link.nextDeadline, linkDeadline <= after {
            if let error = link.handleTimeout(now: after) { throw .link(error) }
        }
        try flush()
    }

    private func readAvailable() throws(MasterError) {
        let count = readBuffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR || errno == EAGAIN { return }
            let reason = Self.lastErrorText()
            let reset = errno == ECONNRESET
            closed = true
            if reset, quiet { throw tls != nil ? .tls(Self.refusedAfterHandshake) : .closedBeforeAnswer }
            throw reset ? .closedByPeer : .io("receive: \(reason)")
        }
        if count == 0 {
            closed = true
            if quiet { throw tls != nil ? .tls(Self.refusedAfterHandshake) : .closedBeforeAnswer }
            throw .closedByPeer
        }
        var tlsEnd: TLSSession.ReadResult = .wantMore
        if let tls {
            tls.feed(Array(readBuffer[..<count]))
            let (plaintext, end) = tls.readAvailablePlaintext()
            tlsEnd = end
            // Whatever reading produced (alerts, key update replies) goes out now.
            _ = TLSClientIO.sendAll(descriptor, tls.takeCiphertext())
            if !plaintext.isEmpty {
                quiet = false
                framer.append(plaintext[...])
            }
        } else {
            quiet = false
            framer.append(readBuffer[..<count])
        }
        try deliverFrames()
        switch tlsEnd {
        case .closed:
            closed = true
            throw .closedByPeer
        case .failed(let error):
            closed = true
            throw .tls(describeTLSFailure(error))
        case .wantMore, .bytes:
            break
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

    private func deliverFrames() throws(MasterError) {
        let now = monotonicNow()
        while true {
            let apdu: APDU?
            do { apdu = try framer.next() } catch { throw .frame(error) }
            guard let apdu else { break }
            switch link.receive(apdu.apci, now: now) {
            case .deliver:
                inbox.append(apdu)
            case .close(let error):
                throw .link(error)
            case .handled, .dataTransferStarted, .dataTransferStopped:
                controlFrameObserver?(apdu)
            }
        }
    }

    private func flush() throws(MasterError) {
        guard !link.output.isEmpty else { return }
        if let tls {
            do throws(TLSError) {
                try tls.write(link.output)
            } catch {
                link.clearOutput()
                closed = true
                throw .tls("TLS: \(error)")
            }
            link.clearOutput()
            guard TLSClientIO.sendAll(descriptor, tls.takeCiphertext()) else {
                closed = true
                throw errno == EPIPE || errno == ECONNRESET ? .closedByPeer : .io("send: \(Self.lastErrorText())")
            }
            return
        }
        let ok = link.output.withUnsafeBytes { bytes -> Bool in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
        link.clearOutput()
        guard ok else {
            closed = true
            throw errno == EPIPE || errno == ECONNRESET ? .closedByPeer : .io("send: \(Self.lastErrorText())")
        }
    }

    /// STOPDT act, a short wait for STOPDT con (acknowledging what arrived), then close.
    func stop(wait: Duration = .milliseconds(500)) {
        guard !closed else { return }
        let now = monotonicNow()
        link.stopDataTransfer(now: now)
        let deadline = now + wait
        while link.dataTransfer != .stopped, monotonicNow() < deadline {
            do { try pump(until: deadline) } catch { break }
        }
        close()
    }

    /// Closes the socket; over TLS, sends close_notify first unless the connection already failed.
    func close() {
        guard descriptor >= 0, !closedDescriptor else { return }
        closedDescriptor = true
        if let tls, !closed {
            tls.shutdown()
            _ = TLSClientIO.sendAll(descriptor, tls.takeCiphertext())
        }
        closed = true
        _ = Glibc.close(descriptor)
    }

    private var closedDescriptor = false
}
