import IEC104
import Logging
import NIOCore
import NIOPosix
import Outstation
import TLS

/// Executes what the pure outstation asks for, on one event loop: writes frames to channels,
/// closes connections, runs station timers and hands commands to the command handler.
final class OutstationRuntime {
    let eventLoop: EventLoop
    let logger: Logger
    let outstation: Outstation

    private struct Connection {
        let channel: Channel
        let station: Station
        let peer: String
        let listener: String
        /// The connection's TLS handler on a TLS listener, for its peer identity and key renewals.
        let tls: TLSHandler?
    }

    private var connections: [ConnectionID: Connection] = [:]
    private var nextConnectionID: UInt64 = 1
    /// Connections written to while answering received frames and not yet flushed. A master that floods (TESTFR
    /// act, S-frames) gets one step per frame; its answers are flushed once per read (`readComplete`) or, at the
    /// latest, at the end of the loop's turn, so that no reply waits for `channelReadComplete`.
    private var unflushed: [ConnectionID] = []
    private var flushScheduled = false
    /// Whether the actions being performed answer a received frame.
    private var insideRead = false
    /// The timer each station asked for with its last `.armTimer`.
    private var timers: [ObjectIdentifier: Scheduled<Void>] = [:]
    /// Commands to run and to stop, as the outstation's command ledger decides; `OutstationServer.runCommands()`
    /// runs them.
    private let commandSink: AsyncStream<CommandJob>.Continuation

    // Ingestion (see Ingestion.swift): producers' updates waiting for room, and what the drains keep.
    var ingestQueue = IngestQueue<IngestWaiter>()
    var ingestStatistics = IngestStatistics()
    var serverStatistics = ServerStatistics()
    /// Hears the interrogation and command durations the stations measure (the metrics endpoint's histograms).
    var measurementSink: ((StationMeasurement) -> Void)?
    var draining = false
    var continuationScheduled = false
    var ingestStopped = false
    var stallRecheck: (deadline: LinkInstant, task: Scheduled<Void>)?
    var holdingSince: NIODeadline?
    var wasHolding = false
    var queueHealth = QueueHealthReport()
    var queueHealthTask: RepeatedTask?
    /// The periodic check of the outstation's staleness watch (Staleness.swift), while it has one.
    var stalenessTask: RepeatedTask?
    /// Built-in simulation (Simulation.swift): the schedule while some point is simulated, and its timer.
    var simulation: SimulationSchedule?
    var simulationTask: Scheduled<Void>?
    var simulationWaiting = false
    /// How long an update from outside holds a simulated point.
    var simulationHold = SimulationSchedule.defaultHold
    // Rate limits on lines a master can cause at will (LimitedLog.swift).
    var requestLog = LimitedLogKind.limiter(.refusedRequest)
    // The event journal (JournalFlushing.swift): nil when no station journals or no journal could be opened.
    var journalWriter: (any EventJournalWriting)?
    var journalFlushScheduled = false
    var journalFailures = 0
    var churnLog = LimitedLogKind.limiter(.connectionChurn)
    // File transfer (FileTransferShell.swift): the thread for blocking file-system calls and the directory scans.
    var fileThread: NIOThreadPool?
    var fileScanTasks: [String: RepeatedTask] = [:]
    var fileScanFailures: [String: String] = [:]
    var filesReportedTooLarge: [String: Set<String>] = [:]

    init(eventLoop: EventLoop, logger: Logger, outstation: Outstation, commandSink: AsyncStream<CommandJob>.Continuation) {
        self.eventLoop = eventLoop
        self.logger = logger
        self.outstation = outstation
        self.commandSink = commandSink
    }

    var connectionCount: Int { connections.count }

    /// Connections admitted at accept whose channel is not active yet. NIO can accept a burst of
    /// connections before the first becomes active; counting these keeps a burst within the limits.
    private var admitting: [AdmissionKey: Int] = [:]

    private struct AdmissionKey: Hashable {
        let listener: String
        let peer: String
    }

    // Asked on every accept: counted in place, without building filtered copies.
    func connectionCount(listener: String) -> Int {
        connections.values.count { $0.listener == listener }
            + admitting.reduce(0) { $0 + ($1.key.listener == listener ? $1.value : 0) }
    }

    func connectionCount(listener: String, peer: String) -> Int {
        connections.values.count { $0.listener == listener && $0.peer == peer }
            + admitting[AdmissionKey(listener: listener, peer: peer), default: 0]
    }

    /// Counts a connection from accept until ``admissionEnded(listener:peer:)`` (it became active or closed).
    func admissionStarted(listener: String, peer: String) {
        admitting[AdmissionKey(listener: listener, peer: peer), default: 0] += 1
    }

    func admissionEnded(listener: String, peer: String) {
        let key = AdmissionKey(listener: listener, peer: peer)
        guard let count = admitting[key] else { return }
        admitting[key] = count > 1 ? count - 1 : nil
    }

    // MARK: Connections

    func open(channel: Channel, station: Station, peer: String, listener: String, overTLS: Bool) -> ConnectionID {
        eventLoop.preconditionInEventLoop()
        let id = ConnectionID(nextConnectionID)
        nextConnectionID += 1
        let actions = station.attach(id, peer: peer, now: SystemClock.monotonicNow())
        // Looked up only where there is one: a failed lookup throws, which costs on every plain connection.
        let tls = overTLS ? try? channel.pipeline.syncOperations.handler(type: TLSHandler.self) : nil
        connections[id] = Connection(channel: channel, station: station, peer: peer, listener: listener, tls: tls)
        perform(actions, station: station, peer: peer, listener: listener)
        limitedLog(.connectionChurn, .notice, "master connected", listener: listener, peer: peer, reason: "churn",
                   metadata: ["listener": "\(listener)", "station": "\(station.name)", "peer": "\(peer)"])
        return id
    }

    /// The TLS side of every connection on a TLS listener: who the master is and how often its keys were renewed.
    func tlsConnections() -> [ConnectionID: ConnectionTLS] {
        var result: [ConnectionID: ConnectionTLS] = [:]
        for (id, connection) in connections {
            guard let handler = connection.tls, let peer = handler.peer else { continue }
            result[id] = ConnectionTLS(subject: peer.subject, protocolVersion: peer.protocolVersion, cipher: peer.cipher,
                                       renewals: handler.renewals)
        }
        return result
    }

    func closed(_ id: ConnectionID) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        limitedLog(.connectionChurn, .notice, "master disconnected", listener: connection.listener, peer: connection.peer,
                   reason: "churn", metadata: ["listener": "\(connection.listener)", "station": "\(connection.station.name)",
                                               "peer": "\(connection.peer)"])
        perform(connection.station.detach(id, now: SystemClock.monotonicNow()), station: connection.station, peer: nil,
                listener: nil)
        drainIngest()
    }

    // MARK: Frames

    func received(_ frame: ReceivedFrame, on id: ConnectionID) {
        guard let connection = connections[id] else { return }
        let actions = connection.station.receive(frame.apci, asdu: frame.asdu, on: id, now: SystemClock.monotonicNow(),
                                                 wallTime: SystemClock.wallMilliseconds())
        insideRead = true
        defer { insideRead = false }
        perform(actions, station: connection.station, peer: connection.peer, listener: connection.listener)
    }

    /// After a master's frames: flushes what they were answered with, and their acknowledgements may have made room
    /// for waiting producers. Replies do not depend on this: the flush at the end of the turn sends them too
    /// (and without it, the stall recheck still releases producers).
    func readComplete(on id: ConnectionID) {
        flushOutgoing()
        drainIngest()
    }

    func serviceAll() {
        for station in outstation.stations where station.hasPendingTransmission { service(station) }
    }

    // MARK: Sending and timers

    /// Sends what the station has queued (new events, the rest of an interrogation) as far as its window admits.
    func service(_ station: Station) {
        perform(station.pump(now: SystemClock.monotonicNow()), station: station, peer: nil, listener: nil)
    }

    /// The station asks only when its deadline moves earlier (see `StationAction.armTimer`), so the timer armed
    /// before is the one to replace; a station left without deadlines keeps its last timer, which finds nothing due.
    private func armTimer(for station: Station, deadline: LinkInstant) {
        let key = ObjectIdentifier(station)
        timers[key]?.cancel()
        let target = NIOLoopBound((runtime: self, station: station), eventLoop: eventLoop)
        timers[key] = eventLoop.scheduleTask(deadline: SystemClock.deadline(deadline)) {
            let (runtime, station) = target.value
            runtime.timers.removeValue(forKey: key)
            runtime.timerFired(for: station)
        }
    }

    private func timerFired(for station: Station) {
        let actions = station.timeout(now: SystemClock.monotonicNow())
        let current = connections.values.first { $0.station === station }
        perform(actions, station: station, peer: current?.peer, listener: current?.listener)
    }

    // MARK: Actions

    func perform(_ actions: [StationAction], station: Station) {
        let current = connections.values.first { $0.station === station }
        perform(actions, station: station, peer: current?.peer, listener: current?.listener)
    }

    private func perform(_ actions: [StationAction], station: Station, peer: String?, listener: String?) {
        var fields: Logger.Metadata = ["station": "\(station.name)"]
        if let peer { fields["peer"] = "\(peer)" }
        if let listener { fields["listener"] = "\(listener)" }
        for action in actions {
            switch action {
            case .send(let id, let bytes):
                guard let connection = connections[id] else { continue }
                let buffer = connection.channel.allocator.buffer(bytes: bytes)
                guard insideRead else {
                    // Events, timers and command results: the k window's round trip is the event path's limit,
                    // so they go out at once.
                    connection.channel.writeAndFlush(buffer, promise: nil)
                    continue
                }
                connection.channel.write(buffer, promise: nil)
                if !unflushed.contains(id) { unflushed.append(id) }
                scheduleFlush()
            case .armTimer(let deadline):
                armTimer(for: station, deadline: deadline)
            case .close(let id, let reason):
                close(id, reason: reason)
            case .feedbackRefused(let request, let reason):
                logger.warning("command feedback refused: \(reason)", metadata: [
                    "station": "\(request.station)", "peer": "\(request.peer)", "ca": "\(request.point.address.commonAddress)",
                    "ioa": "\(request.point.address.objectAddress)"])
            case .commandAccepted(let request):
                logger.info("command \(request.element.operatorText) on \(request.point.address)",
                            metadata: ["station": "\(request.station)", "peer": "\(request.peer)",
                                       "ca": "\(request.point.address.commonAddress)",
                                       "ioa": "\(request.point.address.objectAddress)",
                                       "type": "\(request.element.typeID.mnemonic)"])
            case .execute(let request):
                commandSink.yield(.run(request))
            case .cancel(let commandID):
                commandSink.yield(.cancel(commandID: commandID))
            case .notice(let message):
                logger.notice("\(message)", metadata: fields)
            case .warning(let message):
                logger.warning("\(message)", metadata: fields)
            case .refused(let refusal):
                logRefused(refusal, fields: fields, peer: peer ?? "unknown", listener: listener ?? "")
            case .measured(let measurement):
                measurementSink?(measurement)
            case .readFileSection(let read):
                readFileSection(read)
            case .deleteFile(let deletion):
                deleteFile(deletion)
            case .clockSynchronized(let offset):
                logger.info("clock synchronisation: master time is \(offset) ms ahead of system time",
                            metadata: fields.merging(["type": "C_CS_NA_1"]) { $1 })
            }
        }
        noteJournal()
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        let runtime = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { runtime.value.flushOutgoing() }
    }

    /// Flushes what this turn's steps wrote; a connection closed meanwhile has dropped its writes already.
    func flushOutgoing() {
        flushScheduled = false
        for id in unflushed { connections[id]?.channel.flush() }
        unflushed.removeAll(keepingCapacity: true)
    }

    /// The connection is forgotten here, before its channel goes inactive, so its disconnect is told here.
    private func close(_ id: ConnectionID, reason: CloseReason) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        let fields: Logger.Metadata = ["listener": "\(connection.listener)", "station": "\(connection.station.name)",
                                       "peer": "\(connection.peer)"]
        switch reason {
        case .ended(let text):
            // Limited like the rest of the churn: a master can cause it at will (a bad N(R) per connection).
            limitedLog(.connectionChurn, .warning, "closing connection: \(text)", listener: connection.listener,
                       peer: connection.peer, reason: "churn", metadata: fields)
            limitedLog(.connectionChurn, .notice, "master disconnected", listener: connection.listener,
                       peer: connection.peer, reason: "churn", metadata: fields)
        case .replaced(let peer):
            limitedLog(.connectionChurn, .notice, "connection replaced by a new one from \(peer)",
                       listener: connection.listener, peer: connection.peer, reason: "churn",
                       metadata: fields.merging(["by": "\(peer)"]) { $1 })
        case .reconfigured(let text):
            logger.notice("closing connection: \(text)", metadata: fields)
        }
        connection.channel.close(promise: nil)
    }

    /// A negative confirmation: `refused with unknown common address (46): C_IC_NA_1 for common address 9`.
    private func logRefused(_ refusal: RefusedRequest, fields: Logger.Metadata, peer: String, listener: String) {
        var metadata = fields
        metadata["cot"] = "\(refusal.cause.name)"
        if let type = refusal.typeID { metadata["type"] = "\(type.mnemonic)" }
        else if let raw = refusal.rawTypeID { metadata["type"] = "\(raw)" }
        if let ca = refusal.commonAddress { metadata["ca"] = "\(ca)" }
        let cause = "\(refusal.cause.name) (\(refusal.cause.rawValue))"
        let text = (44...47).contains(refusal.cause.rawValue) ? "refused with \(cause): \(refusal.reason)"
            : refusal.cause == .fileTransfer ? "file transfer request answered negatively: \(refusal.reason)"
            : "negative \(refusal.cause.name): \(refusal.reason)"
        limitedLog(.refusedRequest, .warning, text, listener: listener, peer: peer, reason: cause, metadata: metadata)
    }

    /// Called on the event loop when the handler has finished `request`.
    func finish(_ request: CommandRequest, result: CommandResult) {
        if case .failure(let reason) = result {
            // The command handler's audit line carries the outcome at notice; this is for tracing the runtime.
            logger.debug("command failed: \(reason)", metadata: [
                "station": "\(request.station)", "peer": "\(request.peer)", "ca": "\(request.point.address.commonAddress)",
                "ioa": "\(request.point.address.objectAddress)", "type": "\(request.element.typeID.mnemonic)"])
        }
        // Return information is an update from outside too: it holds a simulated feedback point.
        if case .success(let updates) = result { noteExternalUpdates(updates) }
        let actions = outstation.complete(request, result: result, now: SystemClock.monotonicNow(),
                                          wallTime: SystemClock.wallMilliseconds())
        if let station = outstation.station(named: request.station) {
            perform(actions, station: station, peer: request.peer, listener: request.listener)
        } else {
            // A reload removed the station: nothing to answer, but the point's next command starts.
            for case .execute(let next) in actions { commandSink.yield(.run(next)) }
        }
        // Return information went to the other stations serving the feedback point too.
        serviceAll()
    }

    /// Applies a reload to the outstation and closes what it drops; re-arms every station's timer.
    func reconfigure(points: PointTable, stations: [StationConfiguration]) -> ReconfigurationReport {
        let (report, actions) = outstation.reconfigure(points: points, stations: stations, now: SystemClock.monotonicNow(),
                                                       wallTime: SystemClock.wallMilliseconds())
        return finishReconfiguration(report, actions: actions)
    }

    func reconfigure(prepared: PreparedImage, stations: [StationConfiguration]) -> ReconfigurationReport {
        let (report, actions) = outstation.reconfigure(prepared: prepared, stations: stations,
                                                       now: SystemClock.monotonicNow(), wallTime: SystemClock.wallMilliseconds())
        return finishReconfiguration(report, actions: actions)
    }

    /// The outstation's actions after a reload are closes only: each station's own step follows in `service`.
    private func finishReconfiguration(_ report: ReconfigurationReport, actions: [StationAction]) -> ReconfigurationReport {
        for case .close(let id, let reason) in actions { close(id, reason: reason) }
        let current = Set(outstation.stations.map(ObjectIdentifier.init))
        for (key, timer) in timers where !current.contains(key) {
            timer.cancel()
            timers[key] = nil
        }
        for station in outstation.stations { service(station) }
        updateStalenessChecks()
        updateSimulation()
        drainIngest()
        return report
    }

    func closeConnections(listener: String, reason: String) {
        for (id, connection) in connections where connection.listener == listener {
            connections[id] = nil
            logger.notice("closing connection: \(reason)", metadata: ["listener": "\(listener)", "station": "\(connection.station.name)",
                                                                     "peer": "\(connection.peer)"])
            connection.channel.close(promise: nil)
            perform(connection.station.detach(id, now: SystemClock.monotonicNow()), station: connection.station, peer: nil,
                    listener: nil)
        }
    }

    /// Closes every connection; used at shutdown.
    func closeAll() -> [EventLoopFuture<Void>] {
        stopIngesting()
        stopFileTransfer()
        for (_, timer) in timers { timer.cancel() }
        timers.removeAll()
        let all = connections.values.map { $0.channel.close() }
        return all
    }
}
