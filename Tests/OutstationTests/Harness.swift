import Testing
import IEC104
@testable import Outstation
import TestSupport

/// The wall clock at the start of every scenario: 2025-01-02 03:04:05.678 UTC, in Unix milliseconds.
let startWallTime: Int64 = 1_735_787_045_678

/// A scenario harness: an ``Outstation`` without sockets, driven the way the server shell drives it,
/// with one simulated master per connection that frames, numbers and acknowledges like a real one.
///
/// Time is fake: ``advance(by:)`` moves the monotonic clock and the wall clock together and runs the
/// stations' timers. Every APDU the outstation writes lands in the master of its connection.
final class Harness {
    let outstation: Outstation
    private(set) var now = LinkInstant(nanoseconds: 1_000_000_000)
    private(set) var wallTime: Int64 = startWallTime
    /// Every action the stations returned, in order.
    private(set) var actions: [StationAction] = []
    /// Connections the outstation gave up: replaced on attach or closed by a `.close` action.
    private(set) var closed: [ConnectionID] = []
    /// The deadline of the timer each station last asked for with `.armTimer`, until it fires.
    private var timers: [ObjectIdentifier: LinkInstant] = [:]

    private var nextConnection: UInt64 = 1
    private var masters: [ConnectionID: Master] = [:]

    /// The master end of one connection.
    struct Master {
        let station: Station
        var framer = StreamFramer()
        /// V(S) of the master: N(S) of its next I-frame.
        var sendSequence: UInt16 = 0
        /// V(R) of the master: I-frames received from the outstation.
        var receiveSequence: UInt16 = 0
        /// The N(R) the master last sent.
        var acknowledged: UInt16 = 0
        /// Every APDU received, in order.
        var frames: [APDU] = []
        /// How many of `frames` a test has taken.
        var taken = 0
    }

    init(points: [MonitorPointDefinition] = [], commands: [CommandPointDefinition] = [],
         stations: [StationConfiguration], startNotTopical: Bool = false, fileAreas: [FileArea] = []) {
        outstation = Outstation(points: PointTable(monitorPoints: points, commandPoints: commands), stations: stations,
                                now: LinkInstant(nanoseconds: 1_000_000_000), wallTime: startWallTime,
                                startNotTopical: startNotTopical, fileAreas: fileAreas)
    }

    /// A harness with one station `s1` serving `commonAddresses`.
    convenience init(points: [MonitorPointDefinition] = [], commands: [CommandPointDefinition] = [],
                     commonAddresses: [UInt16] = [47], startNotTopical: Bool = false, fileAreas: [FileArea] = [],
                     configure: (inout StationConfiguration) -> Void = { _ in }) {
        var configuration = Harness.configuration("s1", commonAddresses: commonAddresses)
        configure(&configuration)
        self.init(points: points, commands: commands, stations: [configuration], startNotTopical: startNotTopical,
                  fileAreas: fileAreas)
    }

    static func configuration(_ name: String, commonAddresses: [UInt16]) -> StationConfiguration {
        StationConfiguration(name: name, listener: "main", filter: .any, commonAddresses: commonAddresses)
    }

    func station(_ name: String = "s1") -> Station {
        guard let station = outstation.station(named: name) else {
            Issue.record("no station \(name)")
            return outstation.stations[0]
        }
        return station
    }

    // MARK: Connections

    /// Attaches a new connection to a station; returns its id and the connections the station gave up.
    @discardableResult
    func connect(_ stationName: String = "s1", peer: String = "192.0.2.1:40000") -> (id: ConnectionID, replaced: [ConnectionID]) {
        let station = station(stationName)
        let id = ConnectionID(nextConnection)
        nextConnection += 1
        masters[id] = Master(station: station)
        let actions = station.attach(id, peer: peer, now: now)
        execute(actions, of: station)
        let replaced = actions.compactMap { action -> ConnectionID? in
            if case .close(let old, reason: .replaced) = action { old } else { nil }
        }
        return (id, replaced)
    }

    /// The master closes its connection.
    func disconnect(_ id: ConnectionID) {
        guard let station = masters[id]?.station else { return }
        masters[id] = nil
        execute(station.detach(id, now: now), of: station)
    }

    /// The deadline of the station's armed timer, as its `.armTimer` actions asked.
    func armedTimer(_ stationName: String = "s1") -> LinkInstant? { timers[ObjectIdentifier(station(stationName))] }

    func isOpen(_ id: ConnectionID) -> Bool { masters[id] != nil }

    // MARK: Master → outstation

    /// Sends one APDU from the master and lets the outstation answer (no acknowledgement).
    @discardableResult
    func send(_ apci: APCI, asdu: [UInt8] = [], on id: ConnectionID) -> [StationAction] {
        guard let station = masters[id]?.station else {
            Issue.record("connection \(id) is not open")
            return []
        }
        // Through the wire format and the framer, as the server shell would receive it.
        var framer = StreamFramer()
        framer.append(APDU(apci: apci, asdu: asdu).encoded)
        guard let apdu = try? framer.next() else {
            Issue.record("the master built an invalid APDU")
            return []
        }
        // The station answers in the same step: no pump, as the shell does not wait for the end of a read.
        let result = station.receive(apdu.apci, asdu: apdu.asdu, on: id, now: now, wallTime: wallTime)
        execute(result, of: station)
        return result
    }

    /// STARTDT act; returns what the outstation answered, acknowledging its I-frames.
    @discardableResult
    func startDataTransfer(on id: ConnectionID) throws -> [APDU] {
        send(.unnumbered(.startDTActivation), on: id)
        return try exchangeFrames(on: id)
    }

    /// Sends an ASDU in an I-frame with the master's sequence numbers. Its N(R) acknowledges
    /// everything received so far unless `acknowledging` is false (it repeats the last N(R)).
    @discardableResult
    func request(_ asdu: [UInt8], on id: ConnectionID, acknowledging: Bool = true) -> [StationAction] {
        guard var master = masters[id] else {
            Issue.record("connection \(id) is not open")
            return []
        }
        if acknowledging { master.acknowledged = master.receiveSequence }
        let apci = APCI.information(send: master.sendSequence, receive: master.acknowledged)
        master.sendSequence = (master.sendSequence + 1) & 0x7FFF
        masters[id] = master
        return send(apci, asdu: asdu, on: id)
    }

    @discardableResult
    func request(_ asdu: ASDU, on id: ConnectionID, acknowledging: Bool = true) throws -> [StationAction] {
        request(try asdu.encoded(), on: id, acknowledging: acknowledging)
    }

    /// S-frame acknowledging every I-frame received so far.
    func acknowledge(on id: ConnectionID) {
        guard var master = masters[id] else { return }
        master.acknowledged = master.receiveSequence
        masters[id] = master
        send(.supervisory(receive: master.receiveSequence), on: id)
    }

    // MARK: Outstation → master

    /// Pumps every station (as the shell does after applying updates) and carries out what they return.
    func flush() {
        for station in outstation.stations {
            execute(station.pump(now: now), of: station)
        }
    }

    /// Hands the octets of a `.send` to the master of the connection.
    private func deliver(_ bytes: [UInt8], to id: ConnectionID) {
        guard var master = masters[id] else { return }
        master.framer.append(bytes)
        while let apdu = try? master.framer.next() {
            master.frames.append(apdu)
            if case .information = apdu.apci { master.receiveSequence = (master.receiveSequence + 1) & 0x7FFF }
        }
        #expect(master.framer.bufferedByteCount == 0, "the outstation wrote a partial frame")
        masters[id] = master
    }

    /// Frames received on `id` that no test has taken yet; marks them taken.
    func takeFrames(on id: ConnectionID) -> [APDU] {
        guard var master = masters[id] else { return [] }
        let fresh = Array(master.frames[master.taken...])
        master.taken = master.frames.count
        masters[id] = master
        return fresh
    }

    /// Lets the outstation send until it has nothing more, acknowledging like a master
    /// (an S-frame after each burst, at most `acknowledgeEvery` I-frames apart) and confirming TESTFR.
    /// Returns every frame received.
    func exchangeFrames(on id: ConnectionID, acknowledge: Bool = true, acknowledgeEvery: Int = 8) throws -> [APDU] {
        var all: [APDU] = []
        var unacknowledged = 0
        while true {
            flush()
            let fresh = takeFrames(on: id)
            if fresh.isEmpty { break }
            all += fresh
            for frame in fresh {
                if case .unnumbered(.testFRActivation) = frame.apci { send(.unnumbered(.testFRConfirmation), on: id) }
                if case .information = frame.apci {
                    unacknowledged += 1
                    if acknowledge, unacknowledged >= acknowledgeEvery {
                        self.acknowledge(on: id)
                        unacknowledged = 0
                    }
                }
            }
            if acknowledge, unacknowledged > 0 {
                self.acknowledge(on: id)
                unacknowledged = 0
            }
            if !acknowledge { break }
        }
        return all
    }

    /// The ASDU octets of the I-frames received until the outstation has nothing more to send.
    func exchangeRaw(on id: ConnectionID, acknowledge: Bool = true) throws -> [[UInt8]] {
        try exchangeFrames(on: id, acknowledge: acknowledge).compactMap { frame in
            if case .information = frame.apci { return frame.asdu }
            return nil
        }
    }

    /// The decoded ASDUs received until the outstation has nothing more to send.
    func exchange(on id: ConnectionID, acknowledge: Bool = true) throws -> [ASDU] {
        try exchangeRaw(on: id, acknowledge: acknowledge).map { bytes in
            #expect(bytes.count <= ASDU.maximumLength)
            return try ASDU(decoding: bytes)
        }
    }

    // MARK: Time

    /// Moves both clocks on and fires the timers the stations armed that are due (unless `runTimers` is false:
    /// the shell's timer has not fired yet when the next frame arrives).
    func advance(by duration: Duration, runTimers: Bool = true) {
        let (seconds, attoseconds) = duration.components
        now = now + duration
        wallTime += seconds * 1000 + attoseconds / 1_000_000_000_000_000
        guard runTimers else { return }
        for station in outstation.stations {
            let key = ObjectIdentifier(station)
            guard let deadline = timers[key], deadline <= now else { continue }
            timers[key] = nil
            execute(station.timeout(now: now), of: station)
        }
        flush()
    }

    // MARK: Process and commands

    @discardableResult
    func apply(_ updates: [PointUpdate]) throws -> Int {
        try outstation.apply(updates, wallTime: wallTime, now: now)
    }

    /// The commands the stations handed out since `index` of ``actions``.
    func commandRequests(in actions: [StationAction]) -> [CommandRequest] {
        actions.compactMap { if case .execute(let request) = $0 { request } else { nil } }
    }

    /// Finishes a command through the built-in handler (or with `result`) and lets the outstation answer.
    /// Returns the reasons feedback updates were refused.
    @discardableResult
    func complete(_ request: CommandRequest, result: CommandResult? = nil) async -> [String] {
        let outcome: CommandResult
        if let result {
            outcome = result
        } else {
            outcome = await FeedbackCommandHandler().execute(request)
        }
        let result = outstation.complete(request, result: outcome, now: now, wallTime: wallTime)
        if let station = outstation.station(named: request.station) { execute(result, of: station) }
        flush()
        return result.compactMap { action in if case .feedbackRefused(_, let reason) = action { reason } else { nil } }
    }

    /// Carries out a station's actions as the shell does: octets to the masters, closes, timers.
    func execute(_ result: [StationAction], of station: Station) {
        actions += result
        for action in result {
            switch action {
            case .send(let id, let bytes):
                deliver(bytes, to: id)
            case .close(let id, _):
                // The station has already forgotten the connection; the shell closes the socket.
                masters[id] = nil
                closed.append(id)
            case .armTimer(let deadline):
                timers[ObjectIdentifier(station)] = deadline
            default:
                break
            }
        }
        // An event loop runs a timer whose deadline has passed at once, before the next frame.
        let key = ObjectIdentifier(station)
        if let deadline = timers[key], deadline <= now {
            timers[key] = nil
            execute(station.timeout(now: now), of: station)
        }
    }
}

// MARK: Building blocks

extension MonitorPointDefinition {
    static func point(_ ioa: UInt32, _ kind: PointKind, ca: UInt16 = 47, value: PointValue? = nil,
                      timeTagged: Bool = false, groups: [Int] = [], counterGroup: Int? = nil,
                      deadband: Deadband? = nil, periodic: PeriodicTransmission? = nil,
                      priority: EventPriority? = nil, staleAfter: Duration? = nil) -> MonitorPointDefinition {
        MonitorPointDefinition(address: PointAddress(commonAddress: ca, objectAddress: ioa), kind: kind,
                               initialValue: value, timeTaggedEvents: timeTagged,
                               groups: InterrogationGroups(groups: groups), counterGroup: counterGroup,
                               deadband: deadband, periodic: periodic, priority: priority, staleAfter: staleAfter)
    }
}

func update(_ ioa: UInt32, _ value: PointValue, ca: UInt16 = 47, quality: QualityDescriptor = [],
            time: Int64? = nil) -> PointUpdate {
    PointUpdate(address: address(ioa, ca: ca), value: value, quality: quality, time: time)
}

func interrogation(_ ca: UInt16 = 47, qoi: UInt8 = 20, cause: Cause = .activation, originator: UInt8 = 0) -> ASDU {
    ASDU(cause: CauseOfTransmission(cause, originator: originator), commonAddress: ca, address: 0,
         element: .interrogation(InterrogationQualifier(rawValue: qoi)))
}

func counterInterrogation(_ ca: UInt16 = 47, request: UInt8 = 5, freeze: CounterFreeze = .read) -> ASDU {
    ASDU(cause: CauseOfTransmission(.activation), commonAddress: ca, address: 0,
         element: .counterInterrogation(CounterInterrogationQualifier(request: request, freeze: freeze)))
}

func command(_ element: InformationElement, ioa: UInt32, ca: UInt16 = 47, cause: Cause = .activation) -> ASDU {
    ASDU(cause: CauseOfTransmission(cause), commonAddress: ca, address: ioa, element: element)
}

extension ASDU {
    var cot: Cause { cause.cause }
    var addresses: [UInt32] { objects.map(\.address) }
}

extension InformationElement {
    /// The value of a monitor element as a PointValue-like number, for "last value seen" checks.
    var floatValue: Float? {
        if case .float(let value, _, _) = self { return value }
        return nil
    }
}

/// The decoded ASDUs of the I-frames among `frames`.
func informationASDUs(_ frames: [APDU]) throws -> [ASDU] {
    try frames.compactMap { frame in
        guard case .information = frame.apci else { return nil }
        return try ASDU(decoding: frame.asdu)
    }
}
