public import NIOCore

/// What a `TLSHandler` reports to its owner (who logs it): security events with the peer's certificate subject.
public enum TLSHandlerEvent: Sendable {
    /// Handshake done and the peer admitted; the application sees the connection from now on.
    case established(TLSPeerIdentity)
    /// Handshake failed (unknown CA, expired, revoked, not on the allow-list, protocol error) or timed out,
    /// or the owner's `authorize` refused the peer.
    case refused(TLSError)
    /// TLS failed on an established connection (including a renegotiation that failed or was refused).
    case failed(TLSError)
    /// New session keys: a completed renegotiation (TLS 1.2) or a KeyUpdate sent (TLS 1.3).
    case rekeyed(TLSPeerIdentity, TLSRekeyKind)
    /// Session keys are not renewed on this connection, and why (the peer cannot or will not renegotiate).
    case rekeyUnavailable(reason: String, subject: String?)
}

public enum TLSRekeyKind: String, Sendable {
    case renegotiation
    case keyUpdate = "key update"
}

/// TLS over a NIO channel: ciphertext below, plaintext above, OpenSSL in between through a `TLSSession`
/// (memory BIOs, so nothing blocks the event loop). The handshake runs as soon as the channel is active and
/// must finish within the handshake timeout. Handlers above it see `channelActive` only once the handshake is
/// done and `authorize` admitted the peer, so an unauthenticated connection never reaches the application;
/// their writes are buffered until then. An orderly close sends close_notify first; a close_notify from the
/// peer is answered and closes the channel. With a rekey interval, session keys are renewed periodically
/// (IEC 62351-3): a TLS 1.2 renegotiation that must finish within the handshake timeout, or a TLS 1.3 KeyUpdate.
/// Modelled on swift-nio-ssl's `NIOSSLHandler`.
public final class TLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case handshaking
        case active
        /// close_notify sent (or failed), waiting for the channel to close.
        case closing
        case closed
    }

    /// The most plaintext encrypted into one record (TLS's maximum fragment).
    static let recordSize = 16_384

    private let session: TLSSession
    private let handshakeTimeout: TimeAmount
    private let rekeyInterval: TimeAmount?
    private let authorize: (TLSPeerIdentity) -> String?
    private let onEvent: (TLSHandlerEvent) -> Void
    private var state = State.idle
    private var timeout: Scheduled<Void>?
    private var nextRekey: Scheduled<Void>?
    private var renegotiating = false
    private var renegotiationStarted = NIODeadline.now()
    /// How long a HelloRequest may go unanswered before the peer counts as ignoring it.
    static let answerTimeout = TimeAmount.seconds(5)
    /// The peer's certificate subject from the first handshake (OpenSSL has none while a renegotiation runs).
    private var peerSubject: String?
    private var pendingWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var flushPending = false
    private var closePromise: EventLoopPromise<Void>?
    private var readSomething = false

    /// - Parameters:
    ///   - rekeyInterval: how often to renew the session keys; nil never.
    ///   - authorize: called once the handshake verified the peer; a non-nil reason refuses it.
    ///   - onEvent: security events, for the log.
    public init(session: TLSSession, handshakeTimeout: TimeAmount = .seconds(10), rekeyInterval: TimeAmount? = nil,
                authorize: @escaping (TLSPeerIdentity) -> String? = { _ in nil },
                onEvent: @escaping (TLSHandlerEvent) -> Void = { _ in }) {
        self.session = session
        self.handshakeTimeout = handshakeTimeout
        self.rekeyInterval = rekeyInterval
        self.authorize = authorize
        self.onEvent = onEvent
    }

    public var peer: TLSPeerIdentity? { session.peer }

    /// Session key renewals completed on this connection (renegotiations and key updates).
    public var renewals: Int { session.renegotiations + session.keyUpdates }

    // MARK: inbound

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startHandshake(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        // Not forwarded: the handlers above hear of the connection when the handshake is done.
        startHandshake(context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let wasActive = state == .active || state == .closing
        state = .closed
        cancelTimers()
        failPendingWrites(ChannelError.ioOnClosedChannel)
        _ = wasActive
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let ciphertext = unwrapInboundIn(data)
        guard state == .handshaking || state == .active else { return }
        ciphertext.withUnsafeReadableBytes { session.feed($0) }
        if state == .handshaking { advanceHandshake(context: context) }
        if state == .active { readPlaintext(context: context) }
        if state == .active, renegotiating { checkRenegotiation(context: context) }
        sendCiphertext(context: context, promise: nil, flush: true)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if readSomething {
            readSomething = false
            context.fireChannelReadComplete()
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        if state == .active { context.fireErrorCaught(error) } else { context.close(promise: nil) }
    }

    // MARK: outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch state {
        case .closing, .closed: promise?.fail(ChannelError.ioOnClosedChannel)
        default: pendingWrites.append((unwrapOutboundIn(data), promise))
        }
    }

    public func flush(context: ChannelHandlerContext) {
        flushPending = true
        if state == .active { encryptPendingWrites(context: context) }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all else {
            context.close(mode: mode, promise: promise)
            return
        }
        switch state {
        case .active:
            encryptPendingWrites(context: context)
            state = .closing
            closePromise = promise
            session.shutdown()
            sendCloseNotifyAndClose(context: context)
        case .closing:
            if let promise {
                if let closePromise { closePromise.futureResult.cascade(to: promise) } else { closePromise = promise }
            }
        case .idle, .handshaking, .closed:
            state = state == .closed ? .closed : .closing
            failPendingWrites(ChannelError.ioOnClosedChannel)
            context.close(mode: mode, promise: promise)
        }
    }

    // MARK: internals

    private func startHandshake(context: ChannelHandlerContext) {
        guard state == .idle else { return }
        state = .handshaking
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) { [weak self] in
            guard let self, self.state == .handshaking else { return }
            self.refuse(.handshakeTimedOut, context: context)
        }
        advanceHandshake(context: context)
        sendCiphertext(context: context, promise: nil, flush: true)
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        switch session.handshake() {
        case .wantMore: return
        case .failed(let error): refuse(error, context: context)
        case .complete:
            timeout?.cancel()
            timeout = nil
            guard let peer = session.peer else { return refuse(.protocolError("no peer after the handshake"), context: context) }
            if let reason = authorize(peer) {
                refuse(.peerRefused(reason: reason, subject: peer.subject), context: context, orderly: true)
                return
            }
            state = .active
            peerSubject = peer.subject
            onEvent(.established(peer))
            scheduleRekey(context: context)
            context.fireChannelActive()
            if state == .active, flushPending { encryptPendingWrites(context: context) }
        }
    }

    /// Ends a connection that never became active: the alert OpenSSL queued (or close_notify) goes out first.
    private func refuse(_ error: TLSError, context: ChannelHandlerContext, orderly: Bool = false) {
        cancelTimers()
        onEvent(.refused(error))
        state = .closing
        if orderly { session.shutdown() }
        failPendingWrites(error)
        sendCloseNotifyAndClose(context: context)
    }

    private func sendCloseNotifyAndClose(context: ChannelHandlerContext) {
        let done = context.eventLoop.makePromise(of: Void.self)
        done.futureResult.assumeIsolated().whenComplete { [weak self] _ in
            let promise = self?.closePromise
            self?.closePromise = nil
            context.close(promise: promise)
        }
        sendCiphertext(context: context, promise: done, flush: true)
    }

    private func readPlaintext(context: ChannelHandlerContext) {
        var plaintext = context.channel.allocator.buffer(capacity: Self.recordSize)
        var end = TLSSession.ReadResult.wantMore
        reading: while true {
            plaintext.reserveCapacity(minimumWritableBytes: Self.recordSize)
            var outcome = TLSSession.ReadResult.wantMore
            plaintext.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.recordSize) { space in
                outcome = session.readPlaintext(into: space)
                if case .bytes(let count) = outcome { return count }
                return 0
            }
            switch outcome {
            case .bytes(let count) where count > 0: continue reading
            case .bytes: break reading
            default:
                end = outcome
                break reading
            }
        }
        if plaintext.readableBytes > 0 {
            readSomething = true
            context.fireChannelRead(wrapInboundOut(plaintext))
        }
        guard state == .active else { return }
        switch end {
        case .closed:
            // The peer's orderly close: answer with our close_notify and close.
            state = .closing
            session.shutdown()
            failPendingWrites(ChannelError.outputClosed)
            sendCloseNotifyAndClose(context: context)
        case .failed(let error):
            fail(error, context: context)
        default: break
        }
    }

    private func fail(_ error: TLSError, context: ChannelHandlerContext) {
        onEvent(.failed(error))
        state = .closing
        cancelTimers()
        failPendingWrites(error)
        sendCloseNotifyAndClose(context: context)
    }

    private func cancelTimers() {
        timeout?.cancel()
        timeout = nil
        nextRekey?.cancel()
        nextRekey = nil
    }

    // MARK: session key renewal

    private func scheduleRekey(context: ChannelHandlerContext) {
        guard let rekeyInterval, state == .active else { return }
        nextRekey = context.eventLoop.assumeIsolated().scheduleTask(in: rekeyInterval) { [weak self] in
            self?.rekey(context: context)
        }
    }

    private func rekey(context: ChannelHandlerContext) {
        nextRekey = nil
        guard state == .active else { return }
        let subject = peerSubject
        switch session.requestRekey() {
        case .keyUpdate:
            if let peer = session.peer { onEvent(.rekeyed(peer, .keyUpdate)) }
            scheduleRekey(context: context)
        case .renegotiation:
            renegotiating = true
            renegotiationStarted = context.eventLoop.now
            // The peer may ignore a HelloRequest (it then keeps its keys) and our frames wait meanwhile, so its
            // answer is not awaited longer than IEC 104's timers allow; a handshake it started must finish in time.
            let wait = min(handshakeTimeout, Self.answerTimeout)
            nextRekey = context.eventLoop.assumeIsolated().scheduleTask(in: wait) { [weak self] in
                self?.renegotiationDeadline(context: context)
            }
        case .pending:
            scheduleRekey(context: context)
        case .unsupported:
            onEvent(.rekeyUnavailable(reason: "the peer does not support secure renegotiation (RFC 5746)", subject: subject))
        case .refusedEarlier:
            onEvent(.rekeyUnavailable(reason: "the peer's certificate refused renegotiation on an earlier connection; "
                                      + "not asked again until the certificates are reloaded", subject: subject))
        case .failed(let error):
            fail(error, context: context)
        }
        sendCiphertext(context: context, promise: nil, flush: true)
    }

    private func checkRenegotiation(context: ChannelHandlerContext) {
        do {
            guard try session.renegotiationProgress() == .completed else { return }
            nextRekey?.cancel()
            renegotiationCompleted(context: context)
        } catch {
            fail(error, context: context)
        }
    }

    private func renegotiationCompleted(context: ChannelHandlerContext) {
        renegotiating = false
        if let peer = session.peer { onEvent(.rekeyed(peer, .renegotiation)) }
        scheduleRekey(context: context)
    }

    private func renegotiationDeadline(context: ChannelHandlerContext) {
        nextRekey = nil
        guard state == .active, renegotiating else { return }
        do {
            switch try session.renegotiationProgress() {
            case .inHandshake:
                let left = renegotiationStarted + handshakeTimeout - context.eventLoop.now
                if left > .zero {
                    nextRekey = context.eventLoop.assumeIsolated().scheduleTask(in: left) { [weak self] in
                        self?.renegotiationDeadline(context: context)
                    }
                    return
                }
                let seconds = Double(handshakeTimeout.nanoseconds) / 1e9
                fail(.renegotiationFailed(reason: "the peer did not finish the handshake within \(seconds) s", subject: peerSubject),
                     context: context)
            case .waitingForPeer:
                // Still polled: a late answer is checked and reported like any renegotiation.
                try session.stopWaitingForRenegotiation()
                onEvent(.rekeyUnavailable(reason: "the peer ignored the renegotiation request", subject: peerSubject))
            case .completed:
                renegotiationCompleted(context: context)
            case .none:
                renegotiating = false
            }
        } catch {
            fail(error, context: context)
        }
        sendCiphertext(context: context, promise: nil, flush: true)
    }

    /// Plaintext writes are coalesced into records of up to 16 KiB, then sent as one ciphertext buffer.
    private func encryptPendingWrites(context: ChannelHandlerContext) {
        guard flushPending, !pendingWrites.isEmpty else {
            flushPending = false
            return
        }
        flushPending = false
        let writes = pendingWrites
        pendingWrites.removeAll(keepingCapacity: true)
        var batch = context.channel.allocator.buffer(capacity: Self.recordSize)
        do {
            for (buffer, _) in writes {
                var buffer = buffer
                while buffer.readableBytes > 0 {
                    let room = Self.recordSize - batch.readableBytes
                    if room == 0 {
                        try encrypt(&batch)
                        continue
                    }
                    if var slice = buffer.readSlice(length: min(room, buffer.readableBytes)) {
                        batch.writeBuffer(&slice)
                    }
                }
            }
            try encrypt(&batch)
        } catch {
            for (_, promise) in writes { promise?.fail(error) }
            onEvent(.failed(error))
            context.close(promise: nil)
            return
        }
        let promises = writes.compactMap(\.1)
        var combined: EventLoopPromise<Void>?
        if !promises.isEmpty {
            let promise = context.eventLoop.makePromise(of: Void.self)
            for each in promises { promise.futureResult.cascade(to: each) }
            combined = promise
        }
        sendCiphertext(context: context, promise: combined, flush: true)
    }

    private func encrypt(_ batch: inout ByteBuffer) throws(TLSError) {
        guard batch.readableBytes > 0 else { return }
        var failure: TLSError?
        batch.withUnsafeReadableBytes { bytes in
            do throws(TLSError) { try session.write(bytes) } catch { failure = error }
        }
        batch.clear()
        if let failure { throw failure }
    }

    private func sendCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?, flush: Bool) {
        let pending = session.pendingCiphertext
        guard pending > 0 else {
            promise?.succeed(())
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { session.takeCiphertext(into: $0) }
        context.write(wrapOutboundOut(buffer), promise: promise)
        if flush { context.flush() }
    }

    private func failPendingWrites(_ error: Error) {
        let writes = pendingWrites
        pendingWrites.removeAll()
        for (_, promise) in writes { promise?.fail(error) }
    }
}
