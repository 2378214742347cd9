import IEC104

/// The application functions of a station (IEC 60870-5-101 clause 7.4 as 104 uses them):
/// interrogations, read, clock synchronisation, test, reset process, delay acquisition and commands.
extension Station {
    func handleRequest(_ bytes: [UInt8], on id: ConnectionID, session: Session, now: LinkInstant,
                       wallTime: Int64) -> [StationAction] {
        let request: ASDURequest
        do {
            request = try ASDURequest(decoding: bytes)
        } catch {
            return [.warning("ignored an ASDU of \(bytes.count) octets, shorter than its header")]
        }
        let header = request.header
        statistics.asdusReceivedByType.values[Int(header.rawTypeID)] &+= 1
        if let typeID = header.typeID, typeID.isFileTransfer, !files.isEmpty {
            return handleFileRequest(request, typeID: typeID, now: now)
        }
        guard let typeID = header.typeID, isHandled(typeID) else {
            return refuse(request, cause: .unknownTypeID, because: "type identification \(header.rawTypeID) is not supported")
        }
        guard acceptedCauses(for: typeID).contains(header.cause.cause) else {
            return refuse(request, cause: .unknownCause, because: "\(typeID.mnemonic) with cause \(header.cause.cause)")
        }
        let broadcastAllowed = typeID == .C_IC_NA_1 || typeID == .C_CI_NA_1 || typeID == .C_CS_NA_1 || typeID == .C_RP_NA_1
        guard let commonAddresses = commonAddresses(for: header.commonAddress),
              broadcastAllowed || header.commonAddress != ASDU.broadcastAddress else {
            return refuse(request, cause: .unknownCommonAddress,
                          because: "\(typeID.mnemonic) for common address \(header.commonAddress)")
        }
        let asdu: ASDU
        do {
            asdu = try request.decoded()
        } catch {
            return refuseActivation(request, because: "\(typeID.mnemonic): \(error)")
        }
        guard asdu.objects.count == 1, let object = asdu.objects.first else {
            return refuseActivation(request, because: "\(typeID.mnemonic) with \(asdu.objects.count) objects")
        }
        if typeID.isCommand {
            return handleCommand(asdu, object: object, request: request, on: id, session: session, now: now)
        }
        if typeID != .C_RD_NA_1, object.address != 0 {
            return refuse(request, cause: .unknownObjectAddress,
                          because: "\(typeID.mnemonic) for information object \(object.address) (must be 0)")
        }
        switch object.element {
        case .interrogation(let qualifier):
            return interrogate(qualifier, request: request, commonAddresses: commonAddresses, now: now)
        case .counterInterrogation(let qualifier):
            return interrogateCounters(qualifier, request: request, commonAddresses: commonAddresses, now: now)
        case .read:
            return read(PointAddress(commonAddress: asdu.commonAddress, objectAddress: object.address), request: request)
        case .clockSynchronization(let time):
            guard let masterTime = time.unixMilliseconds() else {
                return refuseActivation(request, because: "clock synchronisation with the impossible date \(time.iso8601)")
            }
            let offset = masterTime - wallTime
            recordClockSynchronization(offset: offset)
            respond(request.reply(cause: .activationConfirmation))
            return [.clockSynchronized(offsetMilliseconds: offset)]
        case .test, .testWithTime:
            respond(request.reply(cause: .activationConfirmation))
            return []
        case .resetProcess(let qualifier):
            guard qualifier == .general || qualifier == .eventBuffer else {
                return refuseActivation(request, because: "reset process qualifier \(qualifier.rawValue)")
            }
            if qualifier == .eventBuffer { eventBufferDiscardAll() }
            respond(request.reply(cause: .activationConfirmation))
            return [.notice("C_RP_NA_1 reset process, QRP=\(qualifier.rawValue)")]
        case .delayAcquisition:
            if header.cause.cause == .activation {
                respond(request.reply(cause: .activationConfirmation))
            }
            return []
        default:
            return refuse(request, cause: .unknownTypeID, because: "\(typeID.mnemonic) is not served")
        }
    }

    private func isHandled(_ typeID: TypeID) -> Bool {
        StationRequestTable.isHandled(typeID, acceptTestCommandWithoutTime: configuration.acceptTestCommandWithoutTime)
    }

    private func acceptedCauses(for typeID: TypeID) -> [Cause] {
        StationRequestTable.acceptedCauses(for: typeID)
    }

    // MARK: Negative confirmations

    /// Mirrors the request with `cause` and P/N set (COT 44–47).
    func refuse(_ request: ASDURequest, cause: Cause, because reason: String) -> [StationAction] {
        respond(request.reply(cause: cause, negative: true))
        return [.refused(Self.refusal(request, cause: cause, reason: reason))]
    }

    /// A negative ACTCON (or DEACTCON for a deactivation) for a request the station understood but cannot do.
    func refuseActivation(_ request: ASDURequest, because reason: String) -> [StationAction] {
        let cause: Cause = request.header.cause.cause == .deactivation ? .deactivationConfirmation : .activationConfirmation
        return refuse(request, cause: cause, because: reason)
    }

    private static func refusal(_ request: ASDURequest, cause: Cause, reason: String) -> RefusedRequest {
        RefusedRequest(cause: cause, typeID: request.header.typeID, rawTypeID: request.header.rawTypeID,
                       commonAddress: request.header.commonAddress, reason: reason)
    }

    // MARK: Interrogations and read

    private func interrogate(_ qualifier: InterrogationQualifier, request: ASDURequest,
                             commonAddresses: [UInt16], now: LinkInstant) -> [StationAction] {
        if request.header.cause.cause == .deactivation {
            let cancelled = cancelJob(typeID: .C_IC_NA_1, commonAddress: request.header.commonAddress)
            respond(request.reply(cause: .deactivationConfirmation, negative: !cancelled))
            return []
        }
        guard let replyCause = qualifier.replyCause else {
            return refuseActivation(request, because: "interrogation qualifier \(qualifier.rawValue)")
        }
        let job = InterrogationJob(kind: .interrogation(group: qualifier.group), request: request, replyCause: replyCause,
                                   commonAddresses: commonAddresses, startedAt: now)
        guard startJob(job) else { return refuseActivation(request, because: "too many interrogations queued") }
        count { $0.countInterrogation(qualifier.group == nil ? .station : .group) }
        return []
    }

    private func interrogateCounters(_ qualifier: CounterInterrogationQualifier, request: ASDURequest,
                                     commonAddresses: [UInt16], now: LinkInstant) -> [StationAction] {
        guard (1...5).contains(qualifier.request) else {
            return refuseActivation(request, because: "counter interrogation request \(qualifier.request)")
        }
        let kind: InterrogationJob.Kind = qualifier.freeze == .read ? .counterRead(group: qualifier.group) : .counterFreeze(qualifier)
        let replyCause = qualifier.group.map(Cause.requestedByCounterGroup) ?? .requestedByGeneralCounter
        let job = InterrogationJob(kind: kind, request: request, replyCause: replyCause, commonAddresses: commonAddresses,
                                   startedAt: now)
        guard startJob(job) else { return refuseActivation(request, because: "too many interrogations queued") }
        count { $0.countInterrogation(.counter) }
        return []
    }

    private func read(_ address: PointAddress, request: ASDURequest) -> [StationAction] {
        guard let index = image.index(of: address) else {
            return refuse(request, cause: .unknownObjectAddress, because: "read of unknown point \(address)")
        }
        let point = image.record(at: index)
        let asdu = ASDU(cause: CauseOfTransmission(.request, originator: request.header.cause.originator),
                        commonAddress: address.commonAddress, address: address.objectAddress,
                        element: point.value.element(quality: point.quality, time: nil))
        guard let reply = try? asdu.encoded() else { return [] }
        respond(reply)
        return []
    }
}
