public import IEC104

/// Every command of the outstation from its activation (ACT) to its last confirmation (ACTCON, ACTTERM), in one
/// place: the select-before-operate selections, the commands waiting for their point, the ones the handler runs,
/// and their cancellation. Pure bookkeeping without I/O; time is handed in. Owned by the ``Outstation``, shared
/// by its stations (on the one serial executor that owns them), so that:
///
/// - command ids are unique across stations: the handler and the daemon use the same id all the way down;
/// - a command point runs one command at a time, in arrival order, whichever station sent them (a breaker is
///   not switched by two masters at once); commands on different points run side by side;
/// - a deactivation (COT 8) withdraws a waiting command at once and has a running one stopped, a select
///   expires after the station's `select_timeout`, and the command of a master that is gone still runs to its
///   end, its return information going to the next master (IEC 60870-5-101 clause 7.4.4: the outstation's
///   process image changed, whoever asked).
public struct CommandLedger: Sendable {
    /// Where a command stands.
    public enum Phase: Sendable, Equatable {
        /// Accepted, waiting for the commands before it on its point.
        case waiting
        /// With the handler.
        case running
        /// With the handler, but withdrawn by a deactivation: its result is not answered.
        case withdrawn
    }

    private struct Entry {
        let request: CommandRequest
        let connection: ConnectionID
        let requestASDU: ASDURequest
        let selectTimeout: Duration
        let activatedAt: LinkInstant
        var phase: Phase
        /// False once the connection the command came in on has ended: its answers have nowhere to go.
        var connectionOpen = true
    }

    private struct SelectionKey: Hashable {
        let station: String
        let address: PointAddress
    }

    /// A confirmed select, waiting for its execute.
    private struct Selection {
        /// The command element with the select bit cleared, compared with the execute that follows.
        let identity: InformationElement
        let connection: ConnectionID
        let expires: LinkInstant
    }

    private var nextID: UInt64 = 1
    private var entries: [UInt64: Entry] = [:]
    /// Per command point, the commands in arrival order: the first is with the handler, the rest wait.
    private var queues: [PointAddress: [UInt64]] = [:]
    private var selections: [SelectionKey: Selection] = [:]

    public init() {}

    // MARK: Activation

    /// A command request with cause activation. Checks the select-before-operate rules (a select where the point
    /// takes none, an execute without the select the point requires or unlike the select before it), gives the
    /// command its id and starts it if its point is free.
    public mutating func activate(_ command: ReceivedCommand, now: LinkInstant) -> [CommandAction] {
        expireSelections(now: now)
        let address = command.point.address
        let isSelect = command.element.commandSelectBit ?? false
        let identity = command.element.commandIdentity
        let key = SelectionKey(station: command.station, address: address)
        switch (command.point.selectBeforeOperate, isSelect) {
        case (.no, true):
            return [refusal(command, because: "point \(address) does not take select-before-operate")]
        case (.required, false):
            guard selections.removeValue(forKey: key)?.identity == identity else {
                return [refusal(command, because: "execute of \(address) without a matching select")]
            }
        case (.optional, false):
            // A selection is used up by the execute that follows it, matching or not.
            if let selection = selections.removeValue(forKey: key), selection.identity != identity {
                return [refusal(command, because: "execute of \(address) does not match its select")]
            }
        default:
            break
        }
        let id = nextID
        nextID += 1
        let request = CommandRequest(id: id, station: command.station, listener: command.listener, peer: command.peer,
                                     point: command.point, element: command.element, isSelect: isSelect,
                                     originator: command.originator, time: command.element.time,
                                     suggestedFeedback: command.suggestedFeedback)
        queues[address, default: []].append(id)
        let startsNow = queues[address]?.count == 1
        entries[id] = Entry(request: request, connection: command.connection, requestASDU: command.request,
                            selectTimeout: command.selectTimeout, activatedAt: now, phase: startsNow ? .running : .waiting)
        return startsNow ? [.accepted(request), .execute(request)] : [.accepted(request)]
    }

    private func refusal(_ command: ReceivedCommand, because reason: String) -> CommandAction {
        .refuse(CommandConfirmation(station: command.station, connection: command.connection, request: command.request,
                                    cause: .activationConfirmation, negative: true), reason: reason)
    }

    // MARK: Deactivation

    /// A command request with cause deactivation (COT 8) for `address`: withdraws the station's selection of the
    /// point and the commands on it that this connection is still waiting for (a waiting one is dropped, a running
    /// one is stopped and left unanswered). DEACTCON is positive if anything was withdrawn.
    public mutating func deactivate(station: String, connection: ConnectionID, address: PointAddress,
                                    request: ASDURequest, now: LinkInstant) -> [CommandAction] {
        expireSelections(now: now)
        let selectionCancelled = selections.removeValue(forKey: SelectionKey(station: station, address: address)) != nil
        var actions: [CommandAction] = []
        var withdrawn = false
        for id in queues[address] ?? [] {
            guard let entry = entries[id], entry.request.station == station, entry.connection == connection else { continue }
            switch entry.phase {
            case .waiting:
                remove(id, at: address)
                withdrawn = true
            case .running:
                entries[id]?.phase = .withdrawn
                actions.append(.cancel(commandID: id, station: station))
                withdrawn = true
            case .withdrawn:
                continue
            }
        }
        let cancelled = selectionCancelled || withdrawn
        actions.append(.confirm(CommandConfirmation(station: station, connection: connection, request: request,
                                                    cause: .deactivationConfirmation, negative: !cancelled)))
        if selectionCancelled { actions.append(.notice(station: station, "selection of \(address) cancelled")) }
        if withdrawn { actions.append(.notice(station: station, "running command on \(address) cancelled")) }
        return actions
    }

    // MARK: Completion

    /// The handler has finished command `id`. Answers it (ACTCON, the place of its return information, ACTTERM;
    /// a select becomes a selection) unless it was withdrawn or its connection has ended, then starts the next
    /// command on its point. An unknown id (finished already) changes nothing.
    public mutating func finish(_ id: UInt64, succeeded: Bool, now: LinkInstant) -> [CommandAction] {
        guard let entry = entries[id] else { return [] }
        let address = entry.request.point.address
        var actions = answer(entry, succeeded: succeeded, now: now)
        if let next = remove(id, at: address) {
            entries[next.id]?.phase = .running
            actions.append(.execute(next))
        }
        return actions
    }

    private mutating func answer(_ entry: Entry, succeeded: Bool, now: LinkInstant) -> [CommandAction] {
        let request = entry.request
        let finished = CommandAction.finished(station: request.station, typeID: entry.requestASDU.header.rawTypeID,
                                              outcome: succeeded ? .success : .failed, activatedAt: entry.activatedAt)
        guard entry.phase != .withdrawn, entry.connectionOpen else {
            // Nobody waits for an answer, but the point's new state is data every master must see.
            return succeeded ? [.returnInformation(station: request.station, connection: nil), finished] : [finished]
        }
        func confirmation(_ cause: Cause, negative: Bool = false) -> CommandAction {
            .confirm(CommandConfirmation(station: request.station, connection: entry.connection, request: entry.requestASDU,
                                         cause: cause, negative: negative))
        }
        guard succeeded else { return [confirmation(.activationConfirmation, negative: true), finished] }
        if request.isSelect {
            selections[SelectionKey(station: request.station, address: request.point.address)] =
                Selection(identity: request.element.commandIdentity, connection: entry.connection,
                          expires: now + entry.selectTimeout)
            return [confirmation(.activationConfirmation), finished]
        }
        var actions = [confirmation(.activationConfirmation),
                       .returnInformation(station: request.station, connection: entry.connection)]
        if request.point.sendsTermination { actions.append(confirmation(.activationTermination)) }
        actions.append(finished)
        return actions
    }

    /// Forgets command `id`; returns the command that may start now on its point, if `id` was the one running.
    @discardableResult
    private mutating func remove(_ id: UInt64, at address: PointAddress) -> CommandRequest? {
        entries.removeValue(forKey: id)
        guard var queue = queues[address], let index = queue.firstIndex(of: id) else { return nil }
        queue.remove(at: index)
        queues[address] = queue.isEmpty ? nil : queue
        guard index == 0, let next = queue.first else { return nil }
        return entries[next]?.request
    }

    /// An id for a command that runs outside the ledger (the control socket's `exec`), so that ids stay unique
    /// in the daemon: a handler knows a command by its id.
    public mutating func reserveID() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }

    // MARK: Connections and time

    /// The connection has ended (its master is gone, or a reload closed it): its selections are void, and its
    /// commands still run to their end, unanswered, their return information buffered for the next master.
    public mutating func connectionEnded(_ connection: ConnectionID, station: String) {
        selections = selections.filter { $0.key.station != station || $0.value.connection != connection }
        for (id, entry) in entries where entry.request.station == station && entry.connection == connection {
            entries[id]?.connectionOpen = false
        }
    }

    /// Drops the selections whose select timeout has run out. Every entry point calls it with its `now`, so an
    /// expired selection never counts, whether or not a timer came by first.
    public mutating func expireSelections(now: LinkInstant) {
        guard selections.values.contains(where: { $0.expires <= now }) else { return }
        selections = selections.filter { $0.value.expires > now }
    }

    // MARK: Reading

    /// Where command `id` stands; nil once it has finished (or was withdrawn while waiting).
    public func phase(of id: UInt64) -> Phase? { entries[id]?.phase }

    /// Whether `station` holds a confirmed select of `address` that has not expired at `now`.
    public func isSelected(_ address: PointAddress, station: String, now: LinkInstant) -> Bool {
        selections[SelectionKey(station: station, address: address)].map { $0.expires > now } ?? false
    }

    /// The earliest moment a selection expires, for a timer that tidies up (answers never depend on it).
    public var nextDeadline: LinkInstant? { selections.values.map(\.expires).min() }

    /// Commands accepted and not yet finished: waiting, running or withdrawn while running.
    public var count: Int { entries.count }

    /// The commands of `station` not yet finished, oldest first.
    public func commands(of station: String) -> [CommandRequest] {
        entries.values.filter { $0.request.station == station }.map(\.request).sorted { $0.id < $1.id }
    }
}

/// The outstation's one ``CommandLedger``, lent to each of its stations: a station takes its commands' requests
/// and connection ends to it, the outstation the handler's results. A reference so that stations replaced by a
/// reload hand over to the same ledger; all of them run on the one executor that owns the outstation.
final class SharedCommandLedger {
    var ledger = CommandLedger()
}
