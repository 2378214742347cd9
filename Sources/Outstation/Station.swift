public import IEC104

/// One station of the outstation: the session its master (or redundancy group of masters) has with it.
///
/// It owns a link state machine per connection, the event buffer that outlives connections,
/// running interrogations and select-before-operate state. It does no I/O: the server shell feeds
/// it frames and time, writes what ``drainOutput(_:)`` hands over, and carries out the returned actions.
public final class Station {
    public private(set) var configuration: StationConfiguration
    private(set) var image: ProcessImage
    public private(set) var eventBuffer: EventBuffer
    public private(set) var statistics = StationStatistics()
    /// Master time minus system time at the last clock synchronisation.
    public private(set) var clockOffsetMilliseconds: Int64?

    final class Session {
        var link: LinkStateMachine
        let peer: String
        let openedAt: LinkInstant
        var hasStarted = false

        init(link: LinkStateMachine, peer: String, openedAt: LinkInstant) {
            self.link = link
            self.peer = peer
            self.openedAt = openedAt
        }
    }

    private var sessions: [ConnectionID: Session] = [:]
    /// Connections oldest first, for replacement.
    private var connectionOrder: [ConnectionID] = []
    /// The connection in data transfer, the only one that receives I-frames.
    public private(set) var activeConnection: ConnectionID?

    /// Spontaneous ASDUs sent on a connection that closed before they were acknowledged.
    private var resendQueue = RingBuffer<[UInt8]>()
    /// Confirmations and replies of the active session, sent before events and interrogations.
    private var responses = RingBuffer<[UInt8]>()
    private var jobs = RingBuffer<InterrogationJob>()
    private var preferEventsNext = true
    private var endOfInitializationSent = false
    var commands: CommandState

    private var periodicScans: [PeriodicScan]

    public init(configuration: StationConfiguration, image: ProcessImage, now: LinkInstant) {
        self.configuration = configuration
        self.image = image
        self.eventBuffer = EventBuffer(capacity: configuration.eventBufferSize, overflowPolicy: configuration.overflowPolicy)
        self.commands = CommandState()
        self.commands.selectTimeout = configuration.selectTimeout
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

    /// Takes a new connection. Returns connections the station gave up to make room (to be closed, already detached).
    public func attach(_ id: ConnectionID, peer: String, now: LinkInstant) -> [ConnectionID] {
        var replaced: [ConnectionID] = []
        while sessions.count >= max(configuration.redundancy, 1), let oldest = connectionOrder.first {
            detach(oldest)
            replaced.append(oldest)
            statistics.connectionsReplaced += 1
        }
        sessions[id] = Session(link: LinkStateMachine(role: .controlledStation, parameters: configuration.parameters, now: now),
                               peer: peer, openedAt: now)
        connectionOrder.append(id)
        statistics.connectionsAccepted += 1
        return replaced
    }

    /// Forgets a connection. Spontaneous ASDUs it left unacknowledged are sent again to the next master.
    public func detach(_ id: ConnectionID) {
        guard let session = sessions.removeValue(forKey: id) else { return }
        connectionOrder.removeAll { $0 == id }
        guard activeConnection == id else {
            // A connection stopped by STOPDT can still hold frames its master never acknowledged.
            keepUnacknowledgedSpontaneous(of: session)
            return
        }
        activeConnection = nil
        endActiveSession(keepingUnacknowledgedOf: session)
    }

    /// Events (spontaneous, and return information of commands) are the station's data and outlive the
    /// connection; confirmations and interrogation replies belong to the session that asked.
    private func keepUnacknowledgedSpontaneous(of session: Session) {
        let unacknowledged = session.link.unacknowledgedASDUs.filter {
            guard $0.count > ASDUHeader.causeOffset else { return false }
            let cause = Cause(rawValue: $0[ASDUHeader.causeOffset])
            return cause == .spontaneous || cause == .returnInformationRemote
        }
        resendQueue.prepend(contentsOf: unacknowledged)
    }

    private func endActiveSession(keepingUnacknowledgedOf session: Session) {
        keepUnacknowledgedSpontaneous(of: session)
        // Replies belong to the session that asked; a new master asks again.
        responses.removeAll()
        jobs.removeAll()
        commands.connectionEnded()
    }

    // MARK: Receiving

    /// Processes one received APDU on `id`.
    public func receive(_ apci: APCI, asdu: [UInt8], on id: ConnectionID, now: LinkInstant, wallTime: Int64) -> [StationAction] {
        guard let session = sessions[id] else { return [] }
        switch session.link.receive(apci, now: now) {
        case .handled:
            return []
        case .close(let error):
            return [.close(id, reason: error.description)]
        case .dataTransferStarted:
            return startDataTransfer(on: id, session: session)
        case .dataTransferStopped:
            if activeConnection == id { activeConnection = nil }
            return []
        case .deliver:
            return handleRequest(asdu, on: id, session: session, now: now, wallTime: wallTime)
        }
    }

    private func startDataTransfer(on id: ConnectionID, session: Session) -> [StationAction] {
        var actions: [StationAction] = []
        session.hasStarted = true
        if let previous = activeConnection, previous != id {
            // Redundancy group: one connection carries data; the one that started last wins.
            detach(previous)
            actions.append(.close(previous, reason: "another connection of the redundancy group started data transfer"))
        }
        activeConnection = id
        if !endOfInitializationSent {
            endOfInitializationSent = true
            for commonAddress in configuration.commonAddresses {
                let asdu = ASDU(cause: CauseOfTransmission(.initialized), commonAddress: commonAddress, address: 0,
                                element: .endOfInitialization(.localPowerOn))
                if let bytes = try? asdu.encoded() { responses.append(bytes) }
            }
        }
        return actions
    }

    // MARK: Sending

    /// Fills the active connection's k window from the queues: end of initialization and
    /// unacknowledged events first, then replies, then events and interrogations in turn.
    public func pump(now: LinkInstant, wallTime: Int64) {
        guard let id = activeConnection, let session = sessions[id] else { return }
        while session.link.canSend, let asdu = nextASDU(wallTime: wallTime) {
            session.link.send(asdu: asdu, now: now)
            statistics.asdusSent += 1
        }
    }

    /// Whether anything waits to be sent.
    public var hasPendingTransmission: Bool {
        !resendQueue.isEmpty || !responses.isEmpty || !jobs.isEmpty || !eventBuffer.isEmpty
    }

    private func nextASDU(wallTime: Int64) -> [UInt8]? {
        if !responses.isEmpty, responses.first?.first == TypeID.M_EI_NA_1.rawValue { return responses.removeFirst() }
        if let resend = resendQueue.removeFirst() { return resend }
        if let response = responses.removeFirst() { return response }
        let eventsWaiting = !eventBuffer.isEmpty
        if eventsWaiting, preferEventsNext || jobs.isEmpty {
            preferEventsNext = false
            return nextEventASDU()
        }
        preferEventsNext = true
        while let outcome = jobs.updateFirst({ $0.next(image: image) }) {
            if let asdu = outcome { return asdu }
            jobs.removeFirst()
        }
        return eventsWaiting ? nextEventASDU() : nil
    }

    /// Packs consecutive buffered events of one type and common address into one ASDU.
    private func nextEventASDU() -> [UInt8]? {
        guard let first = eventBuffer.first else { return nil }
        let point = image.record(at: first.pointIndex)
        let timeTagged = configuration.timeTags.timeTagged(pointSetting: point.timeTaggedEvents)
        let typeID = timeTagged ? point.kind.timeTaggedTypeID : point.kind.typeID
        let commonAddress = point.commonAddress
        let capacity = ASDU.capacity(of: typeID, sequence: false)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ASDU.maximumLength)
        ASDUHeader(rawTypeID: typeID.rawValue, isSequence: false, count: 0, cause: CauseOfTransmission(first.cause),
                   commonAddress: commonAddress).encode(into: &bytes)
        var count = 0
        let invalidTime = configuration.invalidTimeUntilSynchronized && clockOffsetMilliseconds == nil
        while count < capacity, let event = eventBuffer.first {
            let record = image.record(at: event.pointIndex)
            guard event.cause == first.cause, record.commonAddress == commonAddress, record.kind == point.kind,
                  configuration.timeTags.timeTagged(pointSetting: record.timeTaggedEvents) == timeTagged else { break }
            eventBuffer.removeFirst()
            bytes.appendAddress(record.objectAddress)
            let time = timeTagged ? CP56Time2a(unixMilliseconds: event.time, isInvalid: invalidTime) : nil
            event.value.element(quality: event.quality, time: time).encode(into: &bytes)
            count += 1
        }
        bytes[1] = UInt8(count)
        statistics.eventsSent += UInt64(count)
        return bytes
    }

    /// Queues an event for this station's masters (called for every station serving its common address).
    /// Set by the outstation while this station is on its list of stations with new events.
    var awaitsService = false

    public func enqueue(_ event: PointEvent) {
        eventBuffer.append(event)
    }

    /// Queues a reply of the active session ahead of events.
    func respond(_ asdu: [UInt8]) {
        responses.append(asdu)
    }

    func startJob(_ job: InterrogationJob) -> Bool {
        guard jobs.count < 16 else { return false }
        jobs.append(job)
        return true
    }

    func cancelJob(typeID: UInt8, commonAddress: UInt16) -> Bool {
        var kept: [InterrogationJob] = []
        var cancelled = false
        while let job = jobs.removeFirst() {
            if !cancelled, job.answers(typeID: typeID, commonAddress: commonAddress) { cancelled = true } else { kept.append(job) }
        }
        for job in kept { jobs.append(job) }
        return cancelled
    }

    /// Hands each connection's pending octets to `write`, then clears them.
    public func drainOutput(_ write: (ConnectionID, [UInt8]) -> Void) {
        for id in connectionOrder {
            guard let session = sessions[id], !session.link.output.isEmpty else { continue }
            write(id, session.link.output)
            session.link.clearOutput()
        }
    }

    // MARK: Time

    /// The earliest instant at which ``handleTimeout(now:wallTime:)`` has work.
    public var nextDeadline: LinkInstant? {
        var deadline: LinkInstant?
        func consider(_ instant: LinkInstant?) {
            guard let instant else { return }
            if deadline.map({ instant < $0 }) ?? true { deadline = instant }
        }
        for session in sessions.values {
            consider(session.link.nextDeadline)
            if !session.hasStarted, let timeout = configuration.startTimeout { consider(session.openedAt + timeout) }
        }
        consider(commands.nextDeadline)
        for scan in periodicScans { consider(scan.due) }
        return deadline
    }

    /// Runs the timers due at `now`: link timers, the STARTDT timeout, select expiry and periodic scans.
    public func handleTimeout(now: LinkInstant, wallTime: Int64) -> [StationAction] {
        var actions: [StationAction] = []
        for id in connectionOrder {
            guard let session = sessions[id] else { continue }
            if let error = session.link.handleTimeout(now: now) {
                actions.append(.close(id, reason: error.description))
            } else if !session.hasStarted, let timeout = configuration.startTimeout, session.openedAt + timeout <= now {
                actions.append(.close(id, reason: "no STARTDT act within \(timeout)"))
            }
        }
        commands.expireSelections(now: now)
        for index in periodicScans.indices where periodicScans[index].due <= now {
            periodicScans[index].due = now + periodicScans[index].period
            guard activeConnection != nil else { continue }
            let scan = periodicScans[index]
            _ = startJob(InterrogationJob(periodicScan: scan.indices, cause: scan.cause, commonAddress: scan.commonAddress,
                                          image: image))
        }
        return actions
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

    /// Moves the station onto a reloaded process image: buffered events follow their points
    /// (events of points that are gone or changed kind are dropped), periodic scans are planned anew.
    func rebind(to newImage: ProcessImage, indexMap: [Int32: Int32], now: LinkInstant) {
        eventBuffer.remap { event in
            indexMap[event.pointIndex].map { index in
                var moved = event
                moved.pointIndex = index
                moved.priority = newImage.record(at: index).priority
                return moved
            }
        }
        image = newImage
        periodicScans = PeriodicScan.plan(image: newImage, commonAddresses: configuration.commonAddresses, now: now)
    }

    /// Takes over another station's buffered events (a station whose settings changed on reload).
    func adoptEvents(of old: Station, indexMap: [Int32: Int32]) {
        var events = old.eventBuffer
        events.remap { event in
            guard let index = indexMap[event.pointIndex],
                  configuration.commonAddresses.contains(image.record(at: index).commonAddress) else { return nil }
            var moved = event
            moved.pointIndex = index
            moved.priority = image.record(at: index).priority
            return moved
        }
        while let event = events.removeFirst() { eventBuffer.append(event) }
        resendQueue.prepend(contentsOf: old.pendingResends)
    }

    var pendingResends: [[UInt8]] {
        var copy = resendQueue
        var all: [[UInt8]] = []
        while let asdu = copy.removeFirst() { all.append(asdu) }
        return all
    }

    /// Connections whose master this station's filter no longer admits (after a reload changed it).
    func connectionsNotAdmitted(by filter: AddressFilter, isAdmittedElsewhere: (IPAddress) -> Bool) -> [ConnectionID] {
        connectionOrder.filter { id in
            guard let peer = sessions[id].flatMap({ IPAddress($0.peer) }) else { return true }
            if filter == .others { return isAdmittedElsewhere(peer) }
            return !filter.matches(peer)
        }
    }

    /// Replaces the settings that a reload may change without a new session (the address filter).
    func update(configuration newConfiguration: StationConfiguration) {
        configuration = newConfiguration
    }

    func eventBufferDiscardAll() { eventBuffer.removeAll() }

    /// One event in an ASDU of its own, with the station's time tag policy.
    func encodeSingleEvent(_ event: PointEvent) -> [UInt8] {
        let definition = image.definition(at: event.pointIndex)
        let timeTagged = configuration.timeTags.timeTagged(definition)
        let invalidTime = configuration.invalidTimeUntilSynchronized && clockOffsetMilliseconds == nil
        let time = timeTagged ? CP56Time2a(unixMilliseconds: event.time, isInvalid: invalidTime) : nil
        let asdu = ASDU(cause: CauseOfTransmission(event.cause), commonAddress: definition.address.commonAddress,
                        address: definition.address.objectAddress, element: event.value.element(quality: event.quality, time: time))
        return (try? asdu.encoded()) ?? []
    }

    func recordClockSynchronization(offset: Int64) { clockOffsetMilliseconds = offset }

    func count(_ update: (inout StationStatistics) -> Void) { update(&statistics) }
}

/// The points of one common address sent with one period and cause.
struct PeriodicScan {
    let commonAddress: UInt16
    let period: Duration
    let cause: Cause
    let indices: [Int32]
    var due: LinkInstant

    static func plan(image: ProcessImage, commonAddresses: [UInt16], now: LinkInstant) -> [PeriodicScan] {
        var groups: [String: PeriodicScan] = [:]
        for (position, definition) in image.definitions.enumerated() {
            guard let periodic = definition.periodic,
                  commonAddresses.contains(definition.address.commonAddress) else { continue }
            let key = "\(definition.address.commonAddress)/\(periodic.cause.rawValue)/\(periodic.period)"
            if groups[key] == nil {
                groups[key] = PeriodicScan(commonAddress: definition.address.commonAddress, period: periodic.period,
                                           cause: periodic.cause, indices: [], due: now + periodic.period)
            }
            let existing = groups[key]!
            groups[key] = PeriodicScan(commonAddress: existing.commonAddress, period: existing.period, cause: existing.cause,
                                       indices: existing.indices + [Int32(position)], due: existing.due)
        }
        return groups.keys.sorted().compactMap { groups[$0] }
    }
}
