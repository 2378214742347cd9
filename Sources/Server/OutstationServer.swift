import IEC104
public import Logging
public import NIOCore
import NIOPosix
public import Outstation

/// The IEC 104 TCP server: listeners whose stations admit masters by address filter,
/// all served on one event loop together with the process image.
public final class OutstationServer: Sendable {
    public let eventLoop: EventLoop
    private let state: NIOLoopBound<ServerState>
    private let commandHandler: any CommandHandler
    private let commands: AsyncStream<CommandJob>
    private let commandSink: AsyncStream<CommandJob>.Continuation

    /// Must be called on `eventLoop`. Commands run only while `runCommands()` does.
    public init(eventLoop: EventLoop, logger: Logger, outstation: Outstation,
                commandHandler: any CommandHandler = FeedbackCommandHandler()) {
        self.eventLoop = eventLoop
        self.commandHandler = commandHandler
        (commands, commandSink) = AsyncStream.makeStream(of: CommandJob.self)
        let runtime = OutstationRuntime(eventLoop: eventLoop, logger: logger, outstation: outstation, commandSink: commandSink)
        state = NIOLoopBound(ServerState(runtime: runtime), eventLoop: eventLoop)
        runtime.startQueueHealthReports()
        runtime.updateStalenessChecks()
        runtime.updateSimulation()
        runtime.updateFileTransfer()
    }

    /// Puts a reload's `[files]` areas in force: the scans restart and a transfer of a file no area lists any more
    /// is broken off.
    public func replaceFileAreas(_ areas: [FileArea]) -> EventLoopFuture<Void> {
        eventLoop.submit { [state] in state.value.runtime.replaceFileAreas(areas) }
    }

    /// Marks `points` invalid (IV) at once, their values kept, and sends each as a spontaneous event to every
    /// station serving it: their source went away (a feeder that declared them stopped). Their next update clears
    /// it. Returns the points newly marked (those that exist and were not invalid already).
    public func invalidate(points: [PointAddress]) -> EventLoopFuture<[PointAddress]> {
        eventLoop.submit { [state] in state.value.runtime.invalidate(points) }
    }

    /// Runs the commands the outstation's command ledger starts and stops (see ``CommandTasks``). Returns after
    /// `stop()` once the running commands have finished; cancelling it cancels them.
    public func runCommands() async {
        let (loop, state) = (eventLoop, state)
        await CommandTasks.run(commands, on: commandHandler) { request, result in
            loop.execute { state.value.runtime.finish(request, result: result) }
        }
    }

    /// Binds every listener; fails (and closes what was bound) if one cannot bind.
    public func start(listeners: [ListenerSettings]) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit { [state, eventLoop] in
            let server = state.value
            let bound = listeners.map { settings in server.bind(settings, eventLoop: eventLoop) }
            return EventLoopFuture.whenAllComplete(bound, on: eventLoop).flatMapThrowing { [state] results in
                let server = state.value
                var failure: Error?
                for (index, result) in results.enumerated() {
                    switch result {
                    case .success(let channel):
                        server.listenerChannels[listeners[index].name] = channel
                        server.listenerSettings[listeners[index].name] = listeners[index]
                    case .failure(let error): failure = failure ?? ListenerBindError(listener: listeners[index], underlying: error)
                    }
                }
                if let failure {
                    for channel in server.listenerChannels.values { channel.close(promise: nil) }
                    server.listenerChannels.removeAll()
                    server.listenerSettings.removeAll()
                    throw failure
                }
            }
        }
    }

    /// Starts journaling: `events` (what the journal kept at the last stop) go back into their stations ahead of
    /// anything new, and from now on what journaling stations accept is written by `writer`.
    public func attachJournal(_ writer: any EventJournalWriting,
                              restoring events: [JournaledEvent]) -> EventLoopFuture<JournalRestoreReport> {
        eventLoop.submit { [state] in
            let runtime = state.value.runtime
            runtime.journalWriter = writer
            let report = runtime.outstation.restoreJournal(events)
            for station in runtime.outstation.takeStationsWithNewEvents() { runtime.service(station) }
            runtime.flushJournal(then: [])
            return report
        }
    }

    /// Completes once everything the stations recorded so far is written to the journal (at shutdown).
    public func syncJournal() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit { [state, eventLoop] in
            let promise = eventLoop.makePromise(of: Void.self)
            state.value.runtime.flushJournal(then: [{ promise.succeed() }])
            return promise.futureResult
        }
    }

    /// Whether a journal writer is attached (for a reload that turns `event_journal` on).
    public func hasJournal() -> EventLoopFuture<Bool> {
        eventLoop.submit { [state] in state.value.runtime.journalWriter != nil }
    }

    /// The port each listener is bound to (useful with port 0).
    public func boundPorts() -> EventLoopFuture<[String: Int]> {
        eventLoop.submit { [state] in state.value.listenerChannels.compactMapValues { $0.localAddress?.port } }
    }

    /// Applies point updates all or nothing, as soon as the stations whose masters keep up have room for them
    /// (back-pressure: the future completes later when they are full). Fails with a `PointUpdateError`
    /// if an update names an unknown point or the wrong kind; then nothing is applied.
    public func ingest(_ updates: [PointUpdate], source: UpdateSource = .control) -> EventLoopFuture<IngestOutcome> {
        eventLoop.flatSubmit { [state, eventLoop] in
            let runtime = state.value.runtime
            do {
                try runtime.outstation.validate(updates)
            } catch {
                return eventLoop.makeFailedFuture(error)
            }
            let promise = eventLoop.makePromise(of: IngestOutcome.self)
            runtime.ingest(updates, source: source) { promise.succeed($0) }
            return promise.futureResult
        }
    }

    /// The same for a caller already on ``eventLoop`` (the control socket) with updates that
    /// `Outstation.validate` accepted: `completion` runs on the loop, at once when there is room.
    /// `applied`, if given, runs once the updates are applied, which with an event journal is before they are
    /// accepted (on disk): a client may send its next request meanwhile.
    public func ingestOnLoop(validated updates: [PointUpdate], source: UpdateSource = .control,
                             applied: (() -> Void)? = nil, completion: @escaping (IngestOutcome) -> Void) {
        state.value.runtime.ingest(updates, source: source, applied: applied, completion: completion)
    }

    /// How long an update from outside (a `set`, a feeder, a handler) holds a simulated point before its generator
    /// goes on; ``SimulationSchedule/defaultHold`` unless set. Makes the schedule again.
    public func setSimulationHold(_ hold: Duration) -> EventLoopFuture<Void> {
        eventLoop.submit { [state] in
            state.value.runtime.simulationHold = hold
            state.value.runtime.updateSimulation()
        }
    }

    /// Makes the simulation schedule again from the values in the process image (after restoring saved state).
    public func resumeSimulation() -> EventLoopFuture<Void> {
        eventLoop.submit { [state] in state.value.runtime.updateSimulation() }
    }

    /// The outstation, for a caller already on ``eventLoop``.
    public var outstationOnLoop: Outstation { state.value.runtime.outstation }

    /// Ingestion figures (waiting updates, time producers were held back), for a caller on ``eventLoop``.
    public var ingestStatisticsOnLoop: IngestStatistics { state.value.runtime.currentIngestStatistics() }

    /// The listeners in force and the TLS side of every connection, for a status reply made on ``eventLoop``.
    public var statusInputsOnLoop: (listeners: [ListenerSettings], tls: [ConnectionID: ConnectionTLS]) {
        let server = state.value
        return (server.listenerSettings.values.sorted { $0.name < $1.name }, server.runtime.tlsConnections())
    }

    /// Stops accepting, closes every connection and ends `runCommands()` once its commands are done.
    public func stop() -> EventLoopFuture<Void> {
        commandSink.finish()
        return eventLoop.flatSubmit { [state, eventLoop] in
            let server = state.value
            var closing = server.listenerChannels.values.map { $0.close() }
            server.listenerChannels.removeAll()
            closing += server.runtime.closeAll()
            return EventLoopFuture.andAllComplete(closing, on: eventLoop)
        }
    }

    /// Runs `body` on the event loop with the outstation, then sends whatever it queued for the masters.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (Outstation) throws -> T) -> EventLoopFuture<T> {
        eventLoop.submit { [state] in
            let runtime = state.value.runtime
            defer { runtime.serviceAll() }
            return try body(runtime.outstation)
        }
    }

    /// Applies a reloaded configuration. New and moved listeners are bound first; if one cannot bind,
    /// they are closed again and nothing changes. Then the outstation is reconfigured as a difference,
    /// listeners that went away are closed with their connections, and what the reload drops is closed.
    public func reload(listeners: [ListenerSettings], points: PointTable,
                       stations: [StationConfiguration]) -> EventLoopFuture<ReconfigurationReport> {
        reload(listeners: listeners, stations: stations) { $0.reconfigure(points: points, stations: stations) }
    }

    /// Builds the process image of `points` on the caller's thread, off the event loop, against the image in
    /// force; hand it to ``reload(listeners:prepared:stations:)``. The old image serves meanwhile.
    public func prepareImage(points: PointTable) async throws -> PreparedImage {
        let basis = try await eventLoop.submit { [state] in state.value.runtime.outstation.imageBasis }.get()
        return Outstation.prepareImage(points: points, basis: basis, wallTime: SystemClock.wallMilliseconds())
    }

    /// As ``reload(listeners:points:stations:)`` with an image from ``prepareImage(points:)``: the event loop only
    /// copies the values over and swaps the images.
    public func reload(listeners: [ListenerSettings], prepared: PreparedImage,
                       stations: [StationConfiguration]) -> EventLoopFuture<ReconfigurationReport> {
        reload(listeners: listeners, stations: stations) { $0.reconfigure(prepared: prepared, stations: stations) }
    }

    private func reload(listeners: [ListenerSettings], stations: [StationConfiguration],
                        reconfigure: @escaping @Sendable (OutstationRuntime) -> ReconfigurationReport) -> EventLoopFuture<ReconfigurationReport> {
        eventLoop.flatSubmit { [state, eventLoop] in
            let server = state.value
            let toBind = listeners.filter { listener in
                guard let current = server.listenerSettings[listener.name] else { return true }
                return current.host != listener.host || current.port != listener.port
            }
            let binding = toBind.map { server.bind($0, eventLoop: eventLoop) }
            return EventLoopFuture.whenAllComplete(binding, on: eventLoop).flatMapThrowing { [state] results in
                let server = state.value
                var bound: [(ListenerSettings, Channel)] = []
                var failure: Error?
                for (index, result) in results.enumerated() {
                    switch result {
                    case .success(let channel): bound.append((toBind[index], channel))
                    case .failure(let error): failure = failure ?? ListenerBindError(listener: toBind[index], underlying: error)
                    }
                }
                if let failure {
                    for (_, channel) in bound { channel.close(promise: nil) }
                    throw failure
                }
                let wanted = Set(listeners.map(\.name))
                let moved = Set(toBind.map(\.name))
                for (name, channel) in server.listenerChannels where !wanted.contains(name) || moved.contains(name) {
                    channel.close(promise: nil)
                    server.listenerChannels[name] = nil
                    server.listenerSettings[name] = nil
                    if !wanted.contains(name) { server.runtime.closeConnections(listener: name, reason: "listener removed") }
                }
                for (settings, channel) in bound { server.listenerChannels[settings.name] = channel }
                for settings in listeners { server.listenerSettings[settings.name] = settings }
                return reconfigure(server.runtime)
            }
        }
    }

    /// The listeners and their settings in force (after the last reload), for status reports.
    public func listenersInForce() -> EventLoopFuture<[ListenerSettings]> {
        eventLoop.submit { [state] in state.value.listenerSettings.values.sorted { $0.name < $1.name } }
    }

    /// The TLS side of every connection on a TLS listener, by connection, for status reports.
    public func tlsConnections() -> EventLoopFuture<[ConnectionID: ConnectionTLS]> {
        eventLoop.submit { [state] in state.value.runtime.tlsConnections() }
    }

    /// Runs `body` on the event loop with the outstation, for status reports.
    /// Every counter of the stations and the server, read in one step on the event loop.
    public func counters() -> EventLoopFuture<ServerCounters> {
        eventLoop.submit { [state] in state.value.runtime.counters() }
    }

    /// The same, for a caller already on ``eventLoop`` (the control socket's status).
    public var countersOnLoop: ServerCounters { state.value.runtime.counters() }

    /// Hears every interrogation and command duration the stations measure; set once, before masters connect.
    public func onMeasurement(_ sink: @escaping @Sendable (StationMeasurement) -> Void) -> EventLoopFuture<Void> {
        eventLoop.submit { [state] in state.value.runtime.measurementSink = sink }
    }

    public func inspect<T: Sendable>(_ body: @escaping @Sendable (Outstation) -> T) -> EventLoopFuture<T> {
        eventLoop.submit { [state] in body(state.value.runtime.outstation) }
    }
}

/// Loop-bound state of the server.
final class ServerState {
    let runtime: OutstationRuntime
    var listenerChannels: [String: Channel] = [:]
    /// The settings in force: a reload may change the error policy and limits of a bound listener.
    var listenerSettings: [String: ListenerSettings] = [:]
    private var refusalLog = RefusalLogLimiter()

    init(runtime: OutstationRuntime) { self.runtime = runtime }

    /// Logs a refused connection (a warning with `metadata`), unless this source has been refused so often in
    /// the current window that it is only counted, for one summary line at the window's end.
    func logRefusal(_ message: String, listener: String, peer: String, reason: String,
                    metadata: @autoclosure () -> Logger.Metadata, eventLoop: EventLoop) {
        let source = RefusalLogLimiter.Source(listener: listener, peer: peer, reason: reason)
        switch refusalLog.refusal(source, now: .now) {
        case .log:
            runtime.logger.warning("\(message)", metadata: metadata())
        case .suppress(let firstInWindow):
            guard firstInWindow, let end = refusalLog.windowEnd else { return }
            let bound = NIOLoopBound(self, eventLoop: eventLoop)
            eventLoop.scheduleTask(in: Self.timeAmount(max(ContinuousClock.now.duration(to: end), .zero))) {
                bound.value.logRefusalSummary()
            }
        }
    }

    private func logRefusalSummary() {
        let seconds = refusalLog.window.components.seconds
        let report = refusalLog.endWindow()
        for summary in report.summaries {
            let plural = summary.suppressed == 1 ? "" : "s"
            let text = "refused \(summary.suppressed) more connection\(plural) from \(summary.source.peer) in \(seconds) s, "
                + "not logged one by one: \(summary.source.reason)"
            runtime.logger.warning("\(text)", metadata: ["peer": "\(summary.source.peer)", "listener": "\(summary.source.listener)",
                                              "suppressed": "\(summary.suppressed)"])
        }
        if report.otherRefusals > 0 {
            let text = "refused \(report.otherRefusals) more connections from \(report.otherSources) other "
                + "source\(report.otherSources == 1 ? "" : "s") in \(seconds) s, not logged one by one"
            runtime.logger.warning("\(text)", metadata: ["suppressed": "\(report.otherRefusals)"])
        }
    }

    func bind(_ initial: ListenerSettings, eventLoop: EventLoop) -> EventLoopFuture<Channel> {
        let name = initial.name
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        return ServerBootstrap(group: eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(
                low: ListenerSettings.outputLowWatermark, high: ListenerSettings.outputHighWatermark))
            .childChannelInitializer { channel in
                let server = bound.value
                let runtime = server.runtime
                // Read at accept time, so that a reload's stations and limits apply to the next master.
                let settings = server.listenerSettings[name] ?? initial
                let admission = StationAdmission(stations: runtime.outstation.stations.filter { $0.configuration.listener == name })
                let remote = channel.remoteAddress
                let peerText = remote?.ipAddress ?? "unknown"
                guard let peer = remote.flatMap(IPAddress.init), let station = admission.station(for: peer) else {
                    runtime.serverStatistics.countRefusal(.notAdmitted, listener: settings.name)
                    server.logRefusal("refused connection: no station admits this address", listener: settings.name,
                                      peer: peerText, reason: "no station admits this address",
                                      metadata: ["peer": "\(peerText)", "listener": "\(settings.name)"],
                                      eventLoop: channel.eventLoop)
                    return channel.close()
                }
                // A replacing connection from the same address is still counted, so a flood from one
                // address cannot starve the others.
                func refuse(_ holder: String, limit: Int, counted refusal: ConnectionRefusal) -> EventLoopFuture<Void> {
                    runtime.serverStatistics.countRefusal(refusal, listener: settings.name)
                    let reason = "\(holder) at its connection limit"
                    server.logRefusal("refused connection: \(reason)", listener: settings.name, peer: peerText, reason: reason,
                                      metadata: ["peer": "\(peerText)", "listener": "\(settings.name)", "limit": "\(limit)"],
                                      eventLoop: channel.eventLoop)
                    return channel.close()
                }
                guard runtime.connectionCount(listener: settings.name, peer: peerText) < settings.maxConnectionsPerAddress else {
                    return refuse("address", limit: settings.maxConnectionsPerAddress, counted: .addressLimit)
                }
                guard runtime.connectionCount(listener: settings.name) < settings.maxConnections else {
                    return refuse("listener", limit: settings.maxConnections, counted: .listenerLimit)
                }
                do {
                    if let tls = settings.tls {
                        try channel.pipeline.syncOperations.addHandler(
                            server.tlsHandler(tls, station: station.name, peer: peerText, listener: settings.name,
                                              eventLoop: channel.eventLoop))
                    }
                    let decoder = APDUFrameDecoder(policy: settings.errorPolicy) { error, octets in
                        runtime.logger.warning("discarded \(octets) octets: \(error)",
                                               metadata: ["listener": "\(settings.name)", "peer": "\(peerText)",
                                                          "station": "\(station.name)"])
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(decoder, maximumBufferSize: ListenerSettings.maximumBufferedInput))
                    try channel.pipeline.syncOperations.addHandler(
                        StationChannelHandler(runtime: runtime, station: station, peer: peerText, listener: settings.name,
                                              overTLS: settings.tls != nil))
                    runtime.admissionStarted(listener: settings.name, peer: peerText)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: initial.host, port: initial.port)
    }
}

extension ServerState {
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let parts = duration.components
        return .seconds(parts.seconds) + .nanoseconds(parts.attoseconds / 1_000_000_000)
    }
}
