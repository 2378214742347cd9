import NIOCore
import TLS

/// Periodic session key renewal (IEC 62351-3): a TLS 1.3 KeyUpdate, or a TLS 1.2 renegotiation that must finish
/// within the handshake timeout; a peer that ignores the request keeps its connection and its keys.
extension TLSHandler {
    func scheduleRekey(context: ChannelHandlerContext) {
        guard let rekeyInterval, state == .active else { return }
        nextRekey = context.eventLoop.assumeIsolated().scheduleTask(in: rekeyInterval) { [weak self] in
            self?.rekey(context: context)
        }
    }

    func rekey(context: ChannelHandlerContext) {
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

    func checkRenegotiation(context: ChannelHandlerContext) {
        do {
            guard try session.renegotiationProgress() == .completed else { return }
            nextRekey?.cancel()
            renegotiationCompleted(context: context)
        } catch {
            fail(error, context: context)
        }
    }

    func renegotiationCompleted(context: ChannelHandlerContext) {
        renegotiating = false
        if let peer = session.peer { onEvent(.rekeyed(peer, .renegotiation)) }
        scheduleRekey(context: context)
    }

    func renegotiationDeadline(context: ChannelHandlerContext) {
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
}
