public import NIOCore
public import TLS

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

    enum State {
        case idle
        case handshaking
        case active
        /// close_notify sent (or failed), waiting for the channel to close.
        case closing
        case closed
    }

    /// The most plaintext encrypted into one record (TLS's maximum fragment).
    static let recordSize = 16_384

    // Internal rather than private: session key renewal and the write path are extensions in files of their own.
    let session: TLSSession
    let handshakeTimeout: TimeAmount
    let rekeyInterval: TimeAmount?
    let authorize: (TLSPeerIdentity) -> String?
    let onEvent: (TLSHandlerEvent) -> Void
    var state = State.idle
    var timeout: Scheduled<Void>?
    var nextRekey: Scheduled<Void>?
    var renegotiating = false
    var renegotiationStarted = NIODeadline.now()
    /// How long a HelloRequest may go unanswered before the peer counts as ignoring it.
    static let answerTimeout = TimeAmount.seconds(5)
    /// The peer's certificate subject from the first handshake (OpenSSL has none while a renegotiation runs).
    var peerSubject: String?
    var pendingWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    var flushPending = false
    var closePromise: EventLoopPromise<Void>?
    var readSomething = false

    /// - Parameters:
    ///   - handshakeTimeout: nil takes the context's `TLSSettings.handshakeTimeout`.
    ///   - rekeyInterval: how often to renew the session keys; nil takes the context's
    ///     `TLSSettings.renegotiationInterval` (itself nil: never).
    ///   - authorize: called once the handshake verified the peer; a non-nil reason refuses it.
    ///   - onEvent: security events, for the log.
    public init(session: TLSSession, handshakeTimeout: TimeAmount? = nil, rekeyInterval: TimeAmount? = nil,
                authorize: @escaping (TLSPeerIdentity) -> String? = { _ in nil },
                onEvent: @escaping (TLSHandlerEvent) -> Void = { _ in }) {
        let settings = session.context.settings
        self.session = session
        self.handshakeTimeout = handshakeTimeout ?? TimeAmount(settings.handshakeTimeout)
        self.rekeyInterval = rekeyInterval ?? settings.renegotiationInterval.map { TimeAmount($0) }
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

    func startHandshake(context: ChannelHandlerContext) {
        guard state == .idle else { return }
        state = .handshaking
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) { [weak self] in
            guard let self, self.state == .handshaking else { return }
            self.refuse(.handshakeTimedOut, context: context)
        }
        advanceHandshake(context: context)
        sendCiphertext(context: context, promise: nil, flush: true)
    }

    func advanceHandshake(context: ChannelHandlerContext) {
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
    func refuse(_ error: TLSError, context: ChannelHandlerContext, orderly: Bool = false) {
        cancelTimers()
        onEvent(.refused(error))
        state = .closing
        if orderly { session.shutdown() }
        failPendingWrites(error)
        sendCloseNotifyAndClose(context: context)
    }

    func sendCloseNotifyAndClose(context: ChannelHandlerContext) {
        let done = context.eventLoop.makePromise(of: Void.self)
        done.futureResult.assumeIsolated().whenComplete { [weak self] _ in
            let promise = self?.closePromise
            self?.closePromise = nil
            context.close(promise: promise)
        }
        sendCiphertext(context: context, promise: done, flush: true)
    }

    func readPlaintext(context: ChannelHandlerContext) {
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

    func fail(_ error: TLSError, context: ChannelHandlerContext) {
        onEvent(.failed(error))
        state = .closing
        cancelTimers()
        failPendingWrites(error)
        sendCloseNotifyAndClose(context: context)
    }

    func cancelTimers() {
        timeout?.cancel()
        timeout = nil
        nextRekey?.cancel()
        nextRekey = nil
    }
}
