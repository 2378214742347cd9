import IEC104

/// A station's side of its commands: it checks a command request against its point and hands it to the
/// outstation's ``CommandLedger``, which owns the command from then on; it then carries out what the ledger
/// answers for this station (its confirmations and return information on the active connection, its log lines
/// and counters) and passes on what is for the owner (run a command, stop one).
extension Station {
    func handleCommand(_ asdu: ASDU, object: InformationObject, request: ASDURequest, on id: ConnectionID,
                       session: Session, now: LinkInstant) -> [StationAction] {
        let address = PointAddress(commonAddress: asdu.commonAddress, objectAddress: object.address)
        guard let point = image.commandPoints[address] else {
            countRefusedCommand(request)
            return refuse(request, cause: .unknownObjectAddress, because: "command for unknown point \(address)")
        }
        guard point.accepts(asdu.typeID) else {
            countRefusedCommand(request)
            return refuseActivation(request, because: "point \(address) does not take \(asdu.typeID.mnemonic)")
        }
        if asdu.cause.cause == .deactivation {
            return carryOut(commands.ledger.deactivate(station: name, connection: id, address: address, request: request,
                                                       now: now), now: now)
        }
        var feedback: PointUpdate?
        if let feedbackAddress = point.feedback, let state = image.state(at: feedbackAddress),
           let value = object.element.feedbackValue(for: state.definition.kind, current: state.value) {
            feedback = PointUpdate(address: feedbackAddress, value: value)
        }
        let command = ReceivedCommand(station: name, listener: configuration.listener, peer: session.peer, connection: id,
                                      request: request, point: point, element: object.element,
                                      originator: asdu.cause.originator, suggestedFeedback: feedback,
                                      selectTimeout: configuration.selectTimeout)
        return carryOut(commands.ledger.activate(command, now: now), now: now)
    }

    /// Carries out the ledger's answer for this station. `feedback` is the return information of a command that
    /// finished (already in the process image): inline between its ACTCON and ACTTERM when its master is the
    /// active one, else buffered like any event.
    func carryOut(_ ledgerActions: [CommandAction], feedback: [PointEvent] = [], now: LinkInstant) -> [StationAction] {
        var actions: [StationAction] = []
        for action in ledgerActions {
            switch action {
            case .accepted(let request):
                count { $0.commandsReceived += 1 }
                actions.append(.commandAccepted(request))
            case .execute(let request):
                actions.append(.execute(request))
            case .cancel(let commandID, _):
                actions.append(.cancel(commandID: commandID))
            case .refuse(let confirmation, let reason):
                countRefusedCommand(confirmation.request)
                actions += refuseActivation(confirmation.request, because: reason)
            case .confirm(let confirmation):
                // Confirmations belong to the session that asked; one stopped by STOPDT gets none.
                guard confirmation.connection == activeConnection else { continue }
                if confirmation.cause == .activationConfirmation, confirmation.negative { count { $0.commandsFailed += 1 } }
                respond(confirmation.asdu)
            case .returnInformation(_, let connection):
                if let connection, connection == activeConnection {
                    for event in feedback { respond(encodeSingleEvent(event)) }
                } else {
                    feedback.forEach(enqueue)
                }
            case .notice(_, let text):
                actions.append(.notice(text))
            case .finished(_, let typeID, let outcome, let activatedAt):
                count { $0.commandOutcomes[CommandOutcomeKey(typeID: typeID, outcome: outcome), default: 0] += 1 }
                actions.append(.measured(StationMeasurement(station: name, listener: configuration.listener,
                                                            subject: .command(typeID: typeID),
                                                            duration: now.duration(since: activatedAt))))
            }
        }
        return actions
    }

    private func countRefusedCommand(_ request: ASDURequest) {
        count { $0.commandOutcomes[CommandOutcomeKey(typeID: request.header.rawTypeID, outcome: .refused), default: 0] += 1 }
    }
}
