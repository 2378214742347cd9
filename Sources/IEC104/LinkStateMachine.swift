/// The link layer of IEC 60870-5-104 (clause 5) as a value type without I/O.
///
/// The owner feeds it received control fields, ASDUs to send and the passing of time, and
/// executes what comes back: it writes ``output`` to the connection, processes the ASDU of
/// every frame answered with `.deliver`, closes the connection on `.close`, and calls
/// ``handleTimeout(now:)`` when ``nextDeadline`` is reached. The same machine serves the
/// controlled station (outstation) and the controlling station (master).
public struct LinkStateMachine: Sendable {
    public enum Role: Hashable, Sendable {
        /// The outstation: answers STARTDT/STOPDT, sends monitor data.
        case controlledStation
        /// The master: sends STARTDT/STOPDT, sends commands.
        case controllingStation
    }

    public enum DataTransfer: Hashable, Sendable {
        case stopped
        /// STARTDT act sent, STARTDT con awaited (controlling station).
        case startPending
        case started
        /// STOPDT act received or sent; waiting until every sent I-frame is acknowledged
        /// (controlled station) or for STOPDT con (controlling station).
        case stopPending
    }

    /// What a received frame means for the owner.
    public enum Reception: Hashable, Sendable {
        case handled
        /// An I-frame: process its ASDU.
        case deliver
        case dataTransferStarted
        case dataTransferStopped
        case close(LinkError)
    }

    public let role: Role
    public let parameters: APCIParameters
    public private(set) var dataTransfer: DataTransfer = .stopped

    /// Octets to write to the connection, in order. The owner writes them and calls ``clearOutput()``.
    public private(set) var output: [UInt8] = []

    /// V(S): the send sequence number of the next I-frame.
    public private(set) var sendSequence: UInt16 = 0
    /// V(R): the send sequence number expected in the next received I-frame.
    public private(set) var receiveSequence: UInt16 = 0
    /// TESTFR act frames sent because t3 ran out (idle probes), for the owner's counters.
    public private(set) var testFramesSent: UInt64 = 0

    private var unacknowledged: UnacknowledgedFrames
    private var receivedSinceAcknowledgement = 0
    private var oldestUnacknowledgedReception: LinkInstant?
    private var lastReception: LinkInstant
    private var pendingConfirmation: (kind: LinkConfirmation, since: LinkInstant)?

    public init(role: Role, parameters: APCIParameters = .standard, now: LinkInstant) {
        self.role = role
        self.parameters = parameters
        self.lastReception = now
        self.unacknowledged = UnacknowledgedFrames(capacity: parameters.k)
        output.reserveCapacity(1024)
    }

    // MARK: Sending

    /// Whether an I-frame may be sent now: data transfer started and fewer than k frames unacknowledged.
    public var canSend: Bool { dataTransfer == .started && unacknowledged.count < parameters.k }

    /// How many more I-frames the k window admits now.
    public var sendWindow: Int { dataTransfer == .started ? parameters.k - unacknowledged.count : 0 }

    /// Number of sent I-frames not yet acknowledged.
    public var unacknowledgedCount: Int { unacknowledged.count }

    /// When the oldest I-frame still awaiting acknowledgement was sent; nil when all are acknowledged.
    public var oldestUnacknowledgedSentAt: LinkInstant? { unacknowledged.oldestSentAt }

    /// Frames an ASDU as an I-frame into ``output``. Returns false, sending nothing, if ``canSend`` is false.
    @discardableResult
    public mutating func send(asdu: [UInt8], now: LinkInstant) -> Bool {
        guard canSend, !asdu.isEmpty, asdu.count <= ASDU.maximumLength else { return false }
        APCI.information(send: sendSequence, receive: receiveSequence).encodeHeader(asduLength: asdu.count, into: &output)
        output.append(contentsOf: asdu)
        unacknowledged.append(sequence: sendSequence, asdu: asdu, sentAt: now)
        sendSequence = SequenceNumber.next(sendSequence)
        // The I-frame's N(R) acknowledges everything received so far.
        receivedSinceAcknowledgement = 0
        oldestUnacknowledgedReception = nil
        return true
    }

    /// Controlling station: asks the peer to start data transfer.
    public mutating func startDataTransfer(now: LinkInstant) {
        guard role == .controllingStation, dataTransfer == .stopped else { return }
        sendUnnumbered(.startDTActivation)
        dataTransfer = .startPending
        pendingConfirmation = (.startDataTransfer, now)
    }

    /// Controlling station: asks the peer to stop data transfer, acknowledging what was received first.
    public mutating func stopDataTransfer(now: LinkInstant) {
        guard role == .controllingStation, dataTransfer == .started || dataTransfer == .startPending else { return }
        acknowledgeReceivedFrames()
        sendUnnumbered(.stopDTActivation)
        dataTransfer = .stopPending
        pendingConfirmation = (.stopDataTransfer, now)
    }

    /// Call after writing ``output`` to the connection.
    public mutating func clearOutput() { output.removeAll(keepingCapacity: true) }

    /// Hands over ``output`` and starts an empty one, for owners that pass the octets on instead of writing them
    /// at once (clearing would copy them: the handed-over array still shares the storage).
    public mutating func takeOutput() -> [UInt8] {
        var taken: [UInt8] = []
        taken.reserveCapacity(output.capacity)
        swap(&taken, &output)
        return taken
    }

    /// The ASDUs sent but not acknowledged, oldest first: to be sent again on a later connection.
    public var unacknowledgedASDUs: [[UInt8]] { unacknowledged.asdus }

    // MARK: Receiving

    /// Processes the control field of one received APDU.
    public mutating func receive(_ apci: APCI, now: LinkInstant) -> Reception {
        lastReception = now
        switch apci {
        case .information(let send, let receive):
            return receiveInformation(send: send, receive: receive, now: now)
        case .supervisory(let receive):
            if let error = acknowledge(upTo: receive) { return .close(error) }
            finishStopIfAcknowledged()
            return .handled
        case .unnumbered(let function):
            return receiveUnnumbered(function, now: now)
        }
    }

    private mutating func receiveInformation(send: UInt16, receive: UInt16, now: LinkInstant) -> Reception {
        let accepting: Bool = switch (role, dataTransfer) {
        case (_, .started), (_, .stopPending): true
        case (.controllingStation, .startPending): true
        default: false
        }
        guard accepting else { return .close(.informationFrameWhileStopped) }
        guard send == receiveSequence else { return .close(.sequenceError(expected: receiveSequence, received: send)) }
        if let error = acknowledge(upTo: receive) { return .close(error) }
        receiveSequence = SequenceNumber.next(receiveSequence)
        receivedSinceAcknowledgement += 1
        if oldestUnacknowledgedReception == nil { oldestUnacknowledgedReception = now }
        if receivedSinceAcknowledgement >= parameters.w { acknowledgeReceivedFrames() }
        finishStopIfAcknowledged()
        return .deliver
    }

    private mutating func receiveUnnumbered(_ function: UFunction, now: LinkInstant) -> Reception {
        switch (function, role) {
        case (.testFRActivation, _):
            sendUnnumbered(.testFRConfirmation)
            return .handled
        case (.testFRConfirmation, _):
            if pendingConfirmation?.kind == .testFrame { pendingConfirmation = nil }
            return .handled
        case (.startDTActivation, .controlledStation):
            sendUnnumbered(.startDTConfirmation)
            let wasStarted = dataTransfer == .started
            dataTransfer = .started
            return wasStarted ? .handled : .dataTransferStarted
        case (.stopDTActivation, .controlledStation):
            guard dataTransfer != .stopped else {
                sendUnnumbered(.stopDTConfirmation)
                return .handled
            }
            // Clause 5.3: STOPDT con only once every I-frame sent is acknowledged.
            dataTransfer = .stopPending
            finishStopIfAcknowledged()
            return .dataTransferStopped
        case (.startDTConfirmation, .controllingStation):
            guard dataTransfer == .startPending else { return .handled }
            dataTransfer = .started
            pendingConfirmation = nil
            return .dataTransferStarted
        case (.stopDTConfirmation, .controllingStation):
            guard dataTransfer == .stopPending else { return .handled }
            dataTransfer = .stopped
            pendingConfirmation = nil
            return .dataTransferStopped
        default:
            return .close(.unexpectedFunction(function))
        }
    }

    /// Removes the frames that N(R) acknowledges; an error if it acknowledges a frame never sent.
    private mutating func acknowledge(upTo received: UInt16) -> LinkError? {
        let oldest = unacknowledged.oldestSequence ?? sendSequence
        let count = SequenceNumber.distance(from: oldest, to: received)
        guard count <= unacknowledged.count else {
            return .invalidAcknowledgement(received: received, oldestUnacknowledged: oldest, nextToSend: sendSequence)
        }
        unacknowledged.removeFirst(count)
        return nil
    }

    /// A controlled station in stopPending sends STOPDT con when nothing is left unacknowledged.
    private mutating func finishStopIfAcknowledged() {
        guard role == .controlledStation, dataTransfer == .stopPending, unacknowledged.count == 0 else { return }
        acknowledgeReceivedFrames()
        sendUnnumbered(.stopDTConfirmation)
        dataTransfer = .stopped
    }

    private mutating func acknowledgeReceivedFrames() {
        guard receivedSinceAcknowledgement > 0 else { return }
        APCI.supervisory(receive: receiveSequence).encodeHeader(asduLength: 0, into: &output)
        receivedSinceAcknowledgement = 0
        oldestUnacknowledgedReception = nil
    }

    private mutating func sendUnnumbered(_ function: UFunction) {
        APCI.unnumbered(function).encodeHeader(asduLength: 0, into: &output)
    }

    // MARK: Time

    /// The earliest instant at which ``handleTimeout(now:)`` has something to do.
    public var nextDeadline: LinkInstant? {
        var deadline: LinkInstant? = nil
        func consider(_ instant: LinkInstant?) {
            guard let instant else { return }
            if deadline.map({ instant < $0 }) ?? true { deadline = instant }
        }
        consider(unacknowledged.oldestSentAt.map { $0 + parameters.t1 })
        consider(pendingConfirmation.map { $0.since + parameters.t1 })
        consider(oldestUnacknowledgedReception.map { $0 + parameters.t2 })
        if pendingConfirmation == nil { consider(lastReception + parameters.t3) }
        return deadline
    }

    /// Acts on every timer that has run out by `now`: t1 closes, t2 acknowledges, t3 sends TESTFR act.
    public mutating func handleTimeout(now: LinkInstant) -> LinkError? {
        if let sentAt = unacknowledged.oldestSentAt, sentAt + parameters.t1 <= now {
            return .timeout(.acknowledgement)
        }
        if let pending = pendingConfirmation, pending.since + parameters.t1 <= now {
            return .timeout(pending.kind)
        }
        if let received = oldestUnacknowledgedReception, received + parameters.t2 <= now {
            acknowledgeReceivedFrames()
        }
        if pendingConfirmation == nil, lastReception + parameters.t3 <= now {
            sendUnnumbered(.testFRActivation)
            testFramesSent += 1
            pendingConfirmation = (.testFrame, now)
        }
        return nil
    }
}

/// The sent I-frames awaiting acknowledgement, oldest first, in a ring of k slots.
private struct UnacknowledgedFrames: Sendable {
    private var sequences: [UInt16]
    private var frames: [[UInt8]]
    private var sentAt: [LinkInstant]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        sequences = Array(repeating: 0, count: capacity)
        frames = Array(repeating: [], count: capacity)
        sentAt = Array(repeating: LinkInstant(nanoseconds: 0), count: capacity)
    }

    var oldestSequence: UInt16? { count > 0 ? sequences[head] : nil }
    var oldestSentAt: LinkInstant? { count > 0 ? sentAt[head] : nil }

    mutating func append(sequence: UInt16, asdu: [UInt8], sentAt instant: LinkInstant) {
        let slot = (head + count) % sequences.count
        sequences[slot] = sequence
        frames[slot] = asdu
        sentAt[slot] = instant
        count += 1
    }

    mutating func removeFirst(_ n: Int) {
        for _ in 0..<n {
            frames[head] = []
            head = (head + 1) % sequences.count
            count -= 1
        }
    }

    var asdus: [[UInt8]] { (0..<count).map { frames[(head + $0) % frames.count] } }
}
