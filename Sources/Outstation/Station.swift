public import IEC104

/// One station of the outstation: the session its master (or redundancy group of masters) has with it.
///
/// It owns a link state machine per connection, the event buffer that outlives connections, running
/// interrogations and select-before-operate state. Like postgres-nio's `ConnectionStateMachine` it does no I/O
/// and reads no clock: every entry point (``attach(_:peer:now:)``, ``detach(_:now:)``,
/// ``receive(_:asdu:on:now:wallTime:)``, ``timeout(now:)``, ``pump(now:)``, and `Outstation.complete`) takes the
/// time and returns the ``StationAction``s its owner carries out, ending with what the step leaves to send and the
/// timer to arm. Nothing waits for the owner to ask again.
public final class Station {
    public internal(set) var configuration: StationConfiguration
    var image: ProcessImage
    public internal(set) var eventBuffer: EventBuffer
    public internal(set) var statistics = StationStatistics()
    /// Master time minus system time at the last clock synchronisation.
    public private(set) var clockOffsetMilliseconds: Int64?

    final class Session {
        var link: LinkStateMachine
        let peer: String
        let openedAt: LinkInstant
        var hasStarted = false
        /// For a journaling station: the journal sequence numbers each unacknowledged I-frame carries, oldest
        /// first, one entry per frame the link holds (empty for frames that are not events).
        var journalInFlight = RingBuffer<[Int64]>()

        init(link: LinkStateMachine, peer: String, openedAt: LinkInstant) {
            self.link = link
            self.peer = peer
            self.openedAt = openedAt
        }
    }

    var sessions: [ConnectionID: Session] = [:]
    /// Connections oldest first, for replacement.
    var connectionOrder: [ConnectionID] = []
    /// The connection in data transfer, the only one that receives I-frames.
    public private(set) var activeConnection: ConnectionID?

    /// End of initialization, one per common address, sent before anything else of the first session.
    var initialization = RingBuffer<[UInt8]>()
    /// Spontaneous ASDUs sent on a connection that closed before they were acknowledged.
    var resendQueue = RingBuffer<ResendFrame>()
    /// Confirmations and replies of the active session, sent before events and interrogations.
    var responses = RingBuffer<[UInt8]>()
    var jobs = RingBuffer<InterrogationJob>()
    /// Interrogations whose ACTTERM was queued in this step, reported as measurements when the step ends.
    var finishedInterrogations: [(kind: InterrogationKind, startedAt: LinkInstant)] = []
    var preferEventsNext = true
    private var endOfInitializationSent = false
    /// The outstation's command ledger: this station's selections and commands are kept there, beside the
    /// other stations', because a command point runs one command at a time whoever sends it.
    let commands: SharedCommandLedger
    var periodicScans: [PeriodicScan]
    /// The deadline the owner was last asked to arm a timer for, until that timer fires.
    private var armedDeadline: LinkInstant?
    /// Set by the outstation while this station is on its list of stations with new events.
    var awaitsService = false
    /// The outstation's journal outbox, when this station journals its events (`event_journal`): every event it
    /// accepts is recorded there, and removed when its master acknowledged it or the buffer gave it up.
    let journal: JournalOutbox?
    var nextJournalSequence: Int64 = 1
    /// The journal sequence numbers of the ASDU `nextASDU` returned last.
    var outgoingJournalSequences: [Int64] = []
    /// The outstation's file catalog (`[files]` areas), shared by every station.
    let files: FileCatalog
    /// The file transfer of the active master, one at a time (clause 7.4.11).
    var fileTransfer: FileSending?
    var nextFileTransferID: UInt64 = 1
    /// Whether the next ASDU slot goes to a file segment, so that segments and everything else take turns.
    var fileSegmentNext = false
    /// Log lines of transfers that ended outside a master's step (a closed connection), told when the step ends.
    var fileTransferNotices: [StationAction] = []

    /// Made by the ``Outstation`` only, with its one command ledger: a station with a ledger of its own would
    /// give out command ids another station also uses.
    init(configuration: StationConfiguration, image: ProcessImage, commands: SharedCommandLedger,
         journal: JournalOutbox? = nil, files: FileCatalog, now: LinkInstant) {
        self.configuration = configuration
        self.commands = commands
        self.files = files
        self.journal = configuration.eventJournal ? journal : nil
        self.image = image
        self.eventBuffer = EventBuffer(capacity: configuration.eventBufferSize, overflowPolicy: configuration.overflowPolicy)
        self.periodicScans = PeriodicScan.plan(image: image, commonAddresses: configuration.commonAddresses, now: now)
    }

    public var name: String { configuration.name }
    public var connectionCount: Int { sessions.count }
    public var connections: [(id: ConnectionID, peer: String, dataTransfer: LinkStateMachine.DataTransfer)] {
        connectionOrder.compactMap { id in sessions[id].map { (id, $0.peer, $0.link.dataTransfer) } }
    }

    /// The common addresses a request for `commonAddress` covers, or nil if the station does not serve it.
    func commonAddresses(for commonAddress: UInt16) -> [UInt16]? {
        if commonAddress == ASDU.broadcastAddress { return configuration.commonAddresses }
        return configuration.commonAddresses.contains(commonAddress) ? [commonAddress] : nil
    }

    // MARK: Connections

    /// Takes a new connection, giving up the oldest ones beyond the redundancy group's size.
    public func attach(_ id: ConnectionID, peer: String, now: LinkInstant) -> [StationAction] {
        var actions: [StationAction] = []
        while sessions.count >= max(configuration.redundancy, 1), let oldest = connectionOrder.first {
            close(oldest, reason: .replaced(byPeer: peer), into: &actions)
            statistics.connectionsReplaced += 1
        }
        sessions[id] = Session(link: LinkStateMachine(role: .controlledStation, parameters: configuration.parameters, now: now),
                               peer: peer, openedAt: now)
        connectionOrder.append(id)
        statistics.connectionsAccepted += 1
        finishStep(now: now, into: &actions)
        return actions
    }

    /// The connection went away. Spontaneous ASDUs it left unacknowledged are sent again to the next master.
    public func detach(_ id: ConnectionID, now: LinkInstant) -> [StationAction] {
        forget(id)
        var actions: [StationAction] = []
        finishStep(now: now, into: &actions)
        return actions
    }

    func close(_ id: ConnectionID, reason: CloseReason, into actions: inout [StationAction]) {
        forget(id)
        actions.append(.close(id, reason: reason))
    }

    func forget(_ id: ConnectionID) {
        guard let session = sessions.removeValue(forKey: id) else { return }
        connectionOrder.removeAll { $0 == id }
        keepUnacknowledgedSpontaneous(of: session)
        // Its selections are void; its commands run to their end, their return information buffered.
        commands.ledger.connectionEnded(id, station: name)
        // A connection stopped by STOPDT can still hold frames its master never acknowledged, but only the
        // active one has a session's replies queued.
        guard activeConnection == id else { return }
        activeConnection = nil
        if let transfer = fileTransfer {
            fileTransfer = nil
            statistics.fileTransfersFailed += 1
            fileTransferNotices.append(.notice(Self.fileTransferText(transfer.file, .endedByMaster("the connection closed"))))
        }
        // Replies belong to the session that asked; a new master asks again.
        initialization.removeAll()
        responses.removeAll()
        jobs.removeAll()
    }

    /// Events (spontaneous, and return information of commands) are the station's data and outlive the
    /// connection; confirmations and interrogation replies belong to the session that asked.
    private func keepUnacknowledgedSpontaneous(of session: Session) {
        let asdus = session.link.unacknowledgedASDUs
        var inFlight: [[Int64]] = []
        while let sequences = session.journalInFlight.removeFirst() { inFlight.append(sequences) }
        // The link holds the newest frames; the in-flight list ends with the same ones.
        let offset = inFlight.count - asdus.count
        var kept: [ResendFrame] = []
        for (position, asdu) in asdus.enumerated() {
            let sequences = offset + position >= 0 ? inFlight[offset + position] : []
            let cause = (try? ASDUHeader(decoding: asdu))?.cause.cause
            if cause == .spontaneous || cause == .returnInformationRemote {
                kept.append(ResendFrame(asdu: asdu, journalSequences: sequences))
            } else {
                forgetJournaled(sequences)
            }
        }
        resendQueue.prepend(contentsOf: kept)
    }

    /// What the master acknowledged (N(R)) leaves the journal.
    func settleAcknowledged(_ session: Session) {
        guard journal != nil else { return }
        while session.journalInFlight.count > session.link.unacknowledgedCount,
              let done = session.journalInFlight.removeFirst() {
            forgetJournaled(done)
        }
    }

    func forgetJournaled(_ sequences: [Int64]) {
        guard let journal else { return }
        for sequence in sequences { journal.record(.remove(station: name, sequence: sequence)) }
    }

    // MARK: Receiving

    /// Processes one received APDU on `id` and answers it in the same step.
    public func receive(_ apci: APCI, asdu: [UInt8], on id: ConnectionID, now: LinkInstant, wallTime: Int64) -> [StationAction] {
        guard let session = sessions[id] else { return [] }
        var actions: [StationAction] = []
        if case .unnumbered(.testFRActivation) = apci { statistics.testFramesReceived += 1 }
        let reception = session.link.receive(apci, now: now)
        settleAcknowledged(session)
        switch reception {
        case .handled:
            break
        case .close(let error):
            close(id, reason: .ended(error.description), into: &actions)
        case .dataTransferStarted:
            startDataTransfer(on: id, session: session, into: &actions)
        case .dataTransferStopped:
            if activeConnection == id { activeConnection = nil }
        case .deliver:
            actions += handleRequest(asdu, on: id, session: session, now: now, wallTime: wallTime)
        }
        finishStep(now: now, into: &actions)
        return actions
    }

    private func startDataTransfer(on id: ConnectionID, session: Session, into actions: inout [StationAction]) {
        session.hasStarted = true
        if let previous = activeConnection, previous != id {
            // Redundancy group: one connection carries data; the one that started last wins.
            close(previous, reason: .ended("another connection of the redundancy group started data transfer"),
                  into: &actions)
        }
        activeConnection = id
        guard !endOfInitializationSent else { return }
        endOfInitializationSent = true
        for commonAddress in configuration.commonAddresses {
            let asdu = ASDU(cause: CauseOfTransmission(.initialized), commonAddress: commonAddress, address: 0,
                            element: .endOfInitialization(.localPowerOn))
            if let bytes = try? asdu.encoded() { initialization.append(bytes) }
        }
    }

    // MARK: Time

    /// The timer armed by ``StationAction/armTimer(_:)`` fired: runs the link timers, the STARTDT timeout and
    /// periodic scans due at `now`. (Select expiry needs no timer: the command ledger checks it when an execute or
    /// a deactivation comes.)
    public func timeout(now: LinkInstant) -> [StationAction] {
        armedDeadline = nil
        var actions: [StationAction] = []
        for id in connectionOrder {
            guard let session = sessions[id] else { continue }
            let probesBefore = session.link.testFramesSent
            let error = session.link.handleTimeout(now: now)
            statistics.testFramesSent += session.link.testFramesSent - probesBefore
            if let error {
                if case .timeout = error { statistics.t1Timeouts += 1 }
                close(id, reason: .ended(error.description), into: &actions)
            } else if !session.hasStarted, let timeout = configuration.startTimeout, session.openedAt + timeout <= now {
                close(id, reason: .ended("no STARTDT act within \(timeout)"), into: &actions)
            }
        }
        if let outputs = fileTransfer?.timeout(now: now), !outputs.isEmpty {
            actions += applyFileOutputs(outputs, request: nil, now: now)
        }
        for index in periodicScans.indices where periodicScans[index].due <= now {
            periodicScans[index].due = now + periodicScans[index].period
            guard activeConnection != nil else { continue }
            let scan = periodicScans[index]
            _ = startJob(InterrogationJob(periodicScan: scan.indices, cause: scan.cause, commonAddress: scan.commonAddress,
                                          image: image))
        }
        finishStep(now: now, into: &actions)
        return actions
    }

    /// The earliest instant at which ``timeout(now:)`` has work.
    var nextDeadline: LinkInstant? {
        var deadline: LinkInstant?
        func consider(_ instant: LinkInstant?) {
            guard let instant else { return }
            if deadline.map({ instant < $0 }) ?? true { deadline = instant }
        }
        for session in sessions.values {
            consider(session.link.nextDeadline)
            if !session.hasStarted, let timeout = configuration.startTimeout { consider(session.openedAt + timeout) }
        }
        for scan in periodicScans { consider(scan.due) }
        consider(fileTransfer?.deadline)
        return deadline
    }

    // MARK: Ending a step

    /// Sends what waits (new events, the next ASDUs of an interrogation) as far as the k window admits.
    public func pump(now: LinkInstant) -> [StationAction] {
        var actions: [StationAction] = []
        finishStep(now: now, into: &actions)
        return actions
    }

    /// Every step ends here: the active connection's window is filled, each connection's octets go out as one
    /// `.send`, and a timer is asked for if the next deadline moved earlier than the armed one.
    func finishStep(now: LinkInstant, into actions: inout [StationAction]) {
        fillWindow(now: now)
        if let read = fileTransfer?.takePendingRead() { actions += applyFileOutputs([read], request: nil, now: now) }
        if !fileTransferNotices.isEmpty {
            actions += fileTransferNotices
            fileTransferNotices.removeAll()
        }
        if !finishedInterrogations.isEmpty {
            for (kind, startedAt) in finishedInterrogations {
                actions.append(.measured(StationMeasurement(station: name, listener: configuration.listener,
                                                            subject: .interrogation(kind), duration: now.duration(since: startedAt))))
            }
            finishedInterrogations.removeAll()
        }
        for id in connectionOrder {
            guard let session = sessions[id], !session.link.output.isEmpty else { continue }
            actions.append(.send(id, session.link.takeOutput()))
        }
        if let deadline = nextDeadline, armedDeadline.map({ deadline < $0 }) ?? true {
            armedDeadline = deadline
            actions.append(.armTimer(deadline))
        }
    }

    func session(_ id: ConnectionID) -> Session? { sessions[id] }

    /// The active connection's link, if a master is in data transfer: whether frames flow, and since when
    /// the oldest unacknowledged one waits.
    var activeLinkProgress: (started: Bool, oldestUnacknowledgedSentAt: LinkInstant?)? {
        // Read through the session, not `sessions[id]?.link`, which copies the whole link state machine: this runs
        // for every station on every drain of the ingest queue.
        guard let id = activeConnection, let session = sessions[id] else { return nil }
        return (session.link.dataTransfer == .started, session.link.oldestUnacknowledgedSentAt)
    }

    func recordClockSynchronization(offset: Int64) { clockOffsetMilliseconds = offset }

    func count(_ update: (inout StationStatistics) -> Void) { update(&statistics) }
}
