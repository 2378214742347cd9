import IEC104

/// The application functions of a station (IEC 60870-5-101 clause 7.4 as 104 uses them):
/// interrogations, read, clock synchronisation, test, reset process, delay acquisition and commands.
extension Station {
    func handleRequest(_ bytes: [UInt8], on id: ConnectionID, session: Session, now: LinkInstant,
                       wallTime: Int64) -> [StationAction] {
        let header: ASDUHeader
        do {
            header = try ASDUHeader(decoding: bytes)
        } catch {
            return [.warning("ignored an ASDU of \(bytes.count) octets, shorter than its header")]
        }
        guard let typeID = header.typeID, isHandled(typeID) else {
            return refuse(bytes, cause: .unknownTypeID, because: "type identification \(header.rawTypeID) is not supported", session)
        }
        guard acceptedCauses(for: typeID).contains(header.cause.cause) else {
            return refuse(bytes, cause: .unknownCause, because: "\(typeID.mnemonic) with cause \(header.cause.cause)", session)
        }
        let broadcastAllowed = typeID == .C_IC_NA_1 || typeID == .C_CI_NA_1 || typeID == .C_CS_NA_1 || typeID == .C_RP_NA_1
        guard let commonAddresses = commonAddresses(for: header.commonAddress),
              broadcastAllowed || header.commonAddress != ASDU.broadcastAddress else {
            return refuse(bytes, cause: .unknownCommonAddress,
                          because: "\(typeID.mnemonic) for common address \(header.commonAddress)", session)
        }
        let asdu: ASDU
        do {
            asdu = try ASDU(decoding: bytes)
        } catch {
            return refuseActivation(bytes, because: "\(typeID.mnemonic): \(error)", session)
        }
        guard asdu.objects.count == 1, let object = asdu.objects.first else {
            return refuseActivation(bytes, because: "\(typeID.mnemonic) with \(asdu.objects.count) objects", session)
        }
        if typeID.isCommand {
            return handleCommand(asdu, object: object, bytes: bytes, on: id, session: session, now: now)
        }
        if typeID != .C_RD_NA_1, object.address != 0 {
            return refuse(bytes, cause: .unknownObjectAddress,
                          because: "\(typeID.mnemonic) for information object \(object.address) (must be 0)", session)
        }
        switch object.element {
        case .interrogation(let qualifier):
            return interrogate(qualifier, asdu: asdu, bytes: bytes, commonAddresses: commonAddresses, session: session)
        case .counterInterrogation(let qualifier):
            return interrogateCounters(qualifier, asdu: asdu, bytes: bytes, commonAddresses: commonAddresses, session: session)
        case .read:
            return read(PointAddress(commonAddress: asdu.commonAddress, objectAddress: object.address), bytes: bytes,
                        originator: asdu.cause.originator, session: session)
        case .clockSynchronization(let time):
            guard let masterTime = time.unixMilliseconds() else {
                return refuseActivation(bytes, because: "clock synchronisation with the impossible date \(time.iso8601)", session)
            }
            let offset = masterTime - wallTime
            recordClockSynchronization(offset: offset)
            respond(ASDU.confirmation(of: bytes, cause: .activationConfirmation, negative: false))
            return [.clockSynchronized(offsetMilliseconds: offset)]
        case .test, .testWithTime:
            respond(ASDU.confirmation(of: bytes, cause: .activationConfirmation, negative: false))
            return []
        case .resetProcess(let qualifier):
            guard qualifier == .general || qualifier == .eventBuffer else {
                return refuseActivation(bytes, because: "reset process qualifier \(qualifier.rawValue)", session)
            }
            if qualifier == .eventBuffer { discardBufferedEvents() }
            respond(ASDU.confirmation(of: bytes, cause: .activationConfirmation, negative: false))
            return [.notice("C_RP_NA_1 reset process, QRP=\(qualifier.rawValue)")]
        case .delayAcquisition:
            if asdu.cause.cause == .activation {
                respond(ASDU.confirmation(of: bytes, cause: .activationConfirmation, negative: false))
            }
            return []
        default:
            return refuse(bytes, cause: .unknownTypeID, because: "\(typeID.mnemonic) is not served", session)
        }
    }

    private func isHandled(_ typeID: TypeID) -> Bool {
        if typeID.isCommand { return true }
        switch typeID {
        case .C_IC_NA_1, .C_CI_NA_1, .C_RD_NA_1, .C_CS_NA_1, .C_RP_NA_1, .C_CD_NA_1, .C_TS_TA_1: return true
        case .C_TS_NA_1: return configuration.acceptTestCommandWithoutTime
        default: return false
        }
    }

    private func acceptedCauses(for typeID: TypeID) -> [Cause] {
        if typeID.isCommand { return [.activation, .deactivation] }
        switch typeID {
        case .C_IC_NA_1: return [.activation, .deactivation]
        case .C_RD_NA_1: return [.request]
        case .C_CD_NA_1: return [.activation, .spontaneous]
        default: return [.activation]
        }
    }

    // MARK: Negative confirmations

    /// Mirrors the request with `cause` and P/N set (COT 44–47).
    func refuse(_ bytes: [UInt8], cause: Cause, because reason: String, _ session: Session) -> [StationAction] {
        respond(ASDU.confirmation(of: bytes, cause: cause, negative: true))
        count { $0.negativeConfirmations += 1 }
        return [.refused(Self.refusal(bytes, cause: cause, reason: reason))]
    }

    /// A negative ACTCON (or DEACTCON for a deactivation) for a request the station understood but cannot do.
    func refuseActivation(_ bytes: [UInt8], because reason: String, _ session: Session) -> [StationAction] {
        let deactivation = bytes.count > ASDUHeader.causeOffset
            && Cause(rawValue: bytes[ASDUHeader.causeOffset]) == .deactivation
        let cause: Cause = deactivation ? .deactivationConfirmation : .activationConfirmation
        respond(ASDU.confirmation(of: bytes, cause: cause, negative: true))
        count { $0.negativeConfirmations += 1 }
        return [.refused(Self.refusal(bytes, cause: cause, reason: reason))]
    }

    private static func refusal(_ bytes: [UInt8], cause: Cause, reason: String) -> RefusedRequest {
        let header = try? ASDUHeader(decoding: bytes)
        return RefusedRequest(cause: cause, typeID: header?.typeID, rawTypeID: header?.rawTypeID,
                              commonAddress: header?.commonAddress, reason: reason)
    }

    // MARK: Interrogations and read

    private func interrogate(_ qualifier: InterrogationQualifier, asdu: ASDU, bytes: [UInt8], commonAddresses: [UInt16],
                             session: Session) -> [StationAction] {
        if asdu.cause.cause == .deactivation {
            let cancelled = cancelJob(typeID: TypeID.C_IC_NA_1.rawValue, commonAddress: asdu.commonAddress)
            respond(ASDU.confirmation(of: bytes, cause: .deactivationConfirmation, negative: !cancelled))
            return []
        }
        guard let replyCause = qualifier.replyCause else {
            return refuseActivation(bytes, because: "interrogation qualifier \(qualifier.rawValue)", session)
        }
        let job = InterrogationJob(kind: .interrogation(group: qualifier.group), request: bytes,
                                   originator: asdu.cause.originator, replyCause: replyCause,
                                   commonAddresses: commonAddresses)
        guard startJob(job) else { return refuseActivation(bytes, because: "too many interrogations queued", session) }
        count { $0.interrogations += 1 }
        return []
    }

    private func interrogateCounters(_ qualifier: CounterInterrogationQualifier, asdu: ASDU, bytes: [UInt8],
                                     commonAddresses: [UInt16], session: Session) -> [StationAction] {
        guard (1...5).contains(qualifier.request) else {
            return refuseActivation(bytes, because: "counter interrogation request \(qualifier.request)", session)
        }
        let kind: InterrogationJob.Kind = qualifier.freeze == .read ? .counterRead(group: qualifier.group) : .counterFreeze
        let replyCause = qualifier.group.map(Cause.requestedByCounterGroup) ?? .requestedByGeneralCounter
        let job = InterrogationJob(kind: kind, request: bytes, originator: asdu.cause.originator, replyCause: replyCause,
                                   commonAddresses: commonAddresses)
        guard startJob(job) else { return refuseActivation(bytes, because: "too many interrogations queued", session) }
        count { $0.interrogations += 1 }
        return []
    }

    private func read(_ address: PointAddress, bytes: [UInt8], originator: UInt8, session: Session) -> [StationAction] {
        guard let index = image.index(of: address) else {
            return refuse(bytes, cause: .unknownObjectAddress, because: "read of unknown point \(address)", session)
        }
        let point = image.record(at: index)
        let asdu = ASDU(cause: CauseOfTransmission(.request, originator: originator), commonAddress: address.commonAddress,
                        address: address.objectAddress, element: point.value.element(quality: point.quality, time: nil))
        guard let reply = try? asdu.encoded() else { return [] }
        respond(reply)
        return []
    }

    private func discardBufferedEvents() {
        eventBufferDiscardAll()
    }

    // MARK: Commands

    private func handleCommand(_ asdu: ASDU, object: InformationObject, bytes: [UInt8], on id: ConnectionID,
                               session: Session, now: LinkInstant) -> [StationAction] {
        let address = PointAddress(commonAddress: asdu.commonAddress, objectAddress: object.address)
        guard let point = image.commandPoints[address] else {
            return refuse(bytes, cause: .unknownObjectAddress, because: "command for unknown point \(address)", session)
        }
        guard point.accepts(asdu.typeID) else {
            return refuseActivation(bytes, because: "point \(address) does not take \(asdu.typeID.mnemonic)", session)
        }
        if asdu.cause.cause == .deactivation {
            // A deactivation withdraws the selection and any command on the point still running for this master.
            let selectionCancelled = commands.cancelSelection(at: address)
            let withdrawn = commands.cancelPending(at: address, connection: id)
            let cancelled = selectionCancelled || !withdrawn.isEmpty
            respond(ASDU.confirmation(of: bytes, cause: .deactivationConfirmation, negative: !cancelled))
            var actions: [StationAction] = withdrawn.map { .cancel(station: name, commandID: $0) }
            if selectionCancelled { actions.append(.notice("selection of \(address) cancelled")) }
            if !withdrawn.isEmpty { actions.append(.notice("running command on \(address) cancelled")) }
            return actions
        }
        let isSelect = object.element.commandSelectBit ?? false
        let identity = object.element.commandIdentity
        switch (point.selectBeforeOperate, isSelect) {
        case (.no, true):
            return refuseActivation(bytes, because: "point \(address) does not take select-before-operate", session)
        case (.required, false):
            guard commands.takeSelection(matching: identity, at: address, now: now) else {
                return refuseActivation(bytes, because: "execute of \(address) without a matching select", session)
            }
        case (.optional, false):
            if commands.selections[address] != nil,
               !commands.takeSelection(matching: identity, at: address, now: now) {
                return refuseActivation(bytes, because: "execute of \(address) does not match its select", session)
            }
        default:
            break
        }
        var feedback: PointUpdate?
        if let feedbackAddress = point.feedback, let state = image.state(at: feedbackAddress),
           let value = object.element.feedbackValue(for: state.definition.kind, current: state.value) {
            feedback = PointUpdate(address: feedbackAddress, value: value)
        }
        let commandID = commands.makeID()
        commands.add(CommandState.Pending(request: bytes, connection: id, point: point, isSelect: isSelect,
                                          element: identity), id: commandID)
        count { $0.commandsReceived += 1 }
        return [.execute(CommandRequest(id: commandID, station: name, listener: configuration.listener, peer: session.peer, point: point,
                                        element: object.element, isSelect: isSelect, originator: asdu.cause.originator,
                                        time: object.element.time, suggestedFeedback: feedback))]
    }

    /// Answers a command the handler has finished: ACTCON (positive or negative), the return
    /// information of the feedback point (COT 11), then ACTTERM when the point asks for it.
    func completeCommand(_ id: UInt64, succeeded: Bool, feedback: [PointEvent], now: LinkInstant) {
        guard let pending = commands.finish(id) else { return }
        guard pending.connection == activeConnection else {
            // The master that asked is gone; its return information still reaches the next one.
            if succeeded { feedback.forEach(enqueue) }
            return
        }
        guard succeeded else {
            count { $0.commandsFailed += 1 }
            respond(ASDU.confirmation(of: pending.request, cause: .activationConfirmation, negative: true))
            return
        }
        respond(ASDU.confirmation(of: pending.request, cause: .activationConfirmation, negative: false))
        if pending.isSelect {
            commands.select(pending.element, at: pending.point.address, now: now)
            return
        }
        for event in feedback { respond(encodeSingleEvent(event)) }
        if pending.point.sendsTermination {
            respond(ASDU.confirmation(of: pending.request, cause: .activationTermination, negative: false))
        }
    }
}
