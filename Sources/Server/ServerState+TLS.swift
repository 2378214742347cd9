import Logging
import NIOCore
import TLS

extension ServerState {
    /// The TLS handler for one accepted connection: security events go to the log with the peer, the station
    /// and the certificate subject.
    func tlsHandler(_ tls: ListenerTLS, station: String, peer: String, listener: String,
                    eventLoop: EventLoop) throws -> TLSHandler {
        let session = try TLSSession(context: tls.context)
        let logger = runtime.logger
        let server = NIOLoopBound(self, eventLoop: eventLoop)
        let metadata: Logger.Metadata = ["peer": "\(peer)", "listener": "\(listener)", "station": "\(station)"]
        // Handshake timeout and rekey interval come from the context's settings.
        return TLSHandler(
            session: session,
            authorize: { peer in tls.authorize(station, peer) },
            onEvent: { event in
                switch event {
                case .established(let identity):
                    server.value.runtime.serverStatistics.countHandshake(succeeded: true, listener: listener)
                    var details = metadata
                    details["subject"] = "\(identity.subject ?? "none")"
                    details["tls"] = "\(identity.protocolVersion) \(identity.cipher)\(identity.resumed ? " resumed" : "")"
                    logger.info("TLS connection established", metadata: details)
                case .refused(let error):
                    server.value.runtime.serverStatistics.countHandshake(succeeded: false, listener: listener)
                    server.value.runtime.serverStatistics.countRefusal(.tls, listener: listener)
                    var details = metadata
                    details["reason"] = "\(Self.reason(error))"
                    if let subject = Self.subject(error) { details["subject"] = "\(subject)" }
                    server.value.logRefusal("refused TLS connection: \(Self.reason(error))", listener: listener, peer: peer,
                                            reason: "TLS: \(Self.reason(error))", metadata: details, eventLoop: eventLoop)
                case .failed(.renegotiationRefused):
                    logger.warning("\(Self.renegotiationRefusedText)", metadata: metadata)
                case .failed(let error):
                    var details = metadata
                    if case .renegotiationFailed(_, let subject?) = error { details["subject"] = "\(subject)" }
                    logger.warning("TLS connection failed: \(error)", metadata: details)
                case .rekeyed(let identity, let kind):
                    var details = metadata
                    details["subject"] = "\(identity.subject ?? "none")"
                    details["tls"] = "\(identity.protocolVersion) \(identity.cipher)\(identity.resumed ? " resumed" : "")"
                    logger.info("TLS session keys renewed (\(kind.rawValue))", metadata: details)
                case .rekeyUnavailable(let reason, let subject):
                    var details = metadata
                    details["subject"] = "\(subject ?? "none")"
                    logger.warning("TLS session keys are not renewed on this connection: \(reason)", metadata: details)
                }
            })
    }

    static let renegotiationRefusedText = "TLS connection failed: the master refused to renegotiate (no_renegotiation "
        + "alert), which ends the connection; its certificate is not asked again until the next reload"

    static func reason(_ error: TLSError) -> String {
        switch error {
        case .handshakeFailed(let reason, _), .peerRefused(let reason, _): reason
        case .handshakeTimedOut: "handshake timed out"
        default: "\(error)"
        }
    }

    static func subject(_ error: TLSError) -> String? {
        switch error {
        case .handshakeFailed(_, let subject), .peerRefused(_, let subject): subject
        default: nil
        }
    }
}
