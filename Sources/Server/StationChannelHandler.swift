import IEC104
import Logging
import NIOCore
import Outstation

/// Connects one TCP connection to its station through the runtime.
final class StationChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ReceivedFrame

    private let runtime: OutstationRuntime
    private let station: Station
    private let peer: String
    private let listener: String
    private let overTLS: Bool
    private var connection: ConnectionID?
    /// Counted by the runtime as admitted until the channel is active (or goes away before).
    private var admitting = true

    init(runtime: OutstationRuntime, station: Station, peer: String, listener: String, overTLS: Bool) {
        self.runtime = runtime
        self.station = station
        self.peer = peer
        self.listener = listener
        self.overTLS = overTLS
    }

    func channelActive(context: ChannelHandlerContext) {
        endAdmission()
        connection = runtime.open(channel: context.channel, station: station, peer: peer, listener: listener, overTLS: overTLS)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let connection else { return }
        runtime.received(unwrapInboundIn(data), on: connection)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard let connection else { return }
        runtime.readComplete(on: connection)
    }

    /// A peer that does not read what it is sent (e.g. floods TESTFR act without taking the
    /// confirmations) is not read from until it catches up, so its output cannot grow without bound.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        context.channel.setOption(.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        if context.channel.isWritable { context.read() }
        context.fireChannelWritabilityChanged()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        endAdmission()
    }

    private func endAdmission() {
        guard admitting else { return }
        admitting = false
        runtime.admissionEnded(listener: listener, peer: peer)
    }

    func channelInactive(context: ChannelHandlerContext) {
        endAdmission()
        if let connection { runtime.closed(connection) }
        connection = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A master can cause this at will (a bad octet per connection): limited like the rest of the churn.
        runtime.limitedLog(.connectionChurn, .warning, "closing connection: \(OperatorErrorText.text(for: error))",
                           listener: listener, peer: peer, reason: "churn",
                           metadata: ["listener": "\(listener)", "station": "\(station.name)", "peer": "\(peer)"])
        context.close(promise: nil)
    }
}
