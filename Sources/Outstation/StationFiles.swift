import IEC104

/// File transfer as a station serves it (clause 7.4.11, monitor direction): the directory, and one transfer at a
/// time for the active master. The transfer itself is ``FileSending``; this routes requests to it and carries
/// out what it asks.
extension Station {
    func handleFileRequest(_ request: ASDURequest, typeID: TypeID, now: LinkInstant) -> [StationAction] {
        let header = request.header
        guard typeID == .F_SC_NA_1 || typeID == .F_AF_NA_1 else {
            let what = typeID == .F_SC_NB_1 ? "query log (F_SC_NB_1) is not supported"
                : "\(typeID.mnemonic) from a master: file transfer in control direction is not supported"
            return refuse(request, cause: .unknownTypeID, because: what)
        }
        let cause = header.cause.cause
        guard cause == .fileTransfer || (typeID == .F_SC_NA_1 && cause == .request) else {
            return refuse(request, cause: .unknownCause, because: "\(typeID.mnemonic) with cause \(cause)")
        }
        guard let commonAddresses = commonAddresses(for: header.commonAddress),
              cause == .request || header.commonAddress != ASDU.broadcastAddress else {
            return refuse(request, cause: .unknownCommonAddress, because: "\(typeID.mnemonic) for common address \(header.commonAddress)")
        }
        let asdu: ASDU
        do {
            asdu = try request.decoded()
        } catch {
            return refuse(request, cause: .fileTransfer, because: "\(typeID.mnemonic): \(error)")
        }
        guard asdu.objects.count == 1, let object = asdu.objects.first else {
            return refuse(request, cause: .fileTransfer, because: "\(typeID.mnemonic) with \(asdu.objects.count) objects")
        }
        let address = PointAddress(commonAddress: header.commonAddress, objectAddress: object.address)
        switch object.element {
        case .fileCall where cause == .request:
            return sendDirectory(request, commonAddresses: commonAddresses)
        case .fileCall(let call) where call.qualifier.action == .selectFile:
            return select(call, at: address, request: request, now: now)
        case .fileCall(let call):
            guard var transfer = fileTransfer, transfer.file.address == address else {
                return refuse(request, cause: .fileTransfer, because: "\(call.qualifier.action.name) of \(address), which is not selected")
            }
            let outputs = transfer.call(call, negative: header.cause.isNegative, now: now)
            fileTransfer = transfer
            return applyFileOutputs(outputs, request: request, now: now)
        case .fileAcknowledgement(let ack):
            guard var transfer = fileTransfer, transfer.file.address == address else {
                return refuse(request, cause: .fileTransfer, because: "\(ack.qualifier.action.name) of \(address), which is not in transfer")
            }
            let outputs = transfer.acknowledge(ack, now: now)
            fileTransfer = transfer
            return applyFileOutputs(outputs, request: request, now: now)
        default:
            return refuse(request, cause: .fileTransfer, because: "\(typeID.mnemonic) cannot be decoded as such")
        }
    }

    /// Call directory: F_DR_TA_1 with COT 5 per common address; a common address without files gets the request
    /// back negative (an F_DR_TA_1 cannot be empty).
    private func sendDirectory(_ request: ASDURequest, commonAddresses: [UInt16]) -> [StationAction] {
        let cause = CauseOfTransmission(.request, originator: request.header.cause.originator)
        let active: Set<PointAddress> = fileTransfer.map { [$0.file.address] } ?? []
        var answered = false
        for commonAddress in commonAddresses {
            let asdus = files.directoryASDUs(commonAddress: commonAddress, cause: cause, active: active)
            for asdu in asdus { respond(asdu) }
            answered = answered || !asdus.isEmpty
            let isBroadcast = request.header.commonAddress == ASDU.broadcastAddress
            if asdus.isEmpty, !isBroadcast || files.servesFiles(commonAddress: commonAddress) {
                respond(request.reply(cause: .request, negative: true, commonAddress: commonAddress))
                answered = true
            }
        }
        if !answered { respond(request.reply(cause: .request, negative: true)) }
        return []
    }

    private func select(_ call: FileCall, at address: PointAddress, request: ASDURequest, now: LinkInstant) -> [StationAction] {
        guard files.area(containing: address) != nil else {
            return refuse(request, cause: .unknownObjectAddress, because: "select file \(address): no [files] area holds this address")
        }
        var actions: [StationAction] = []
        if let previous = fileTransfer {
            fileTransfer = nil
            actions.append(.notice(Self.fileTransferText(previous.file, .endedByMaster("the master selected another file"))))
        }
        guard let file = files.file(at: address), call.nameOfFile == 0 || call.nameOfFile == file.nameOfFile else {
            let notReady = FileReady(nameOfFile: call.nameOfFile, lengthOfFile: 0, qualifier: FileReadyQualifier(negative: true))
            let asdu = ASDU(cause: CauseOfTransmission(.fileTransfer, originator: request.header.cause.originator),
                            commonAddress: address.commonAddress, address: address.objectAddress, element: .fileReady(notReady))
            if let bytes = try? asdu.encoded() { respond(bytes) }
            let reason = files.file(at: address) == nil ? "no file at this address now"
                : "name of file \(call.nameOfFile) is not the file's \(files.file(at: address)?.nameOfFile ?? 0)"
            return actions + [.refused(RefusedRequest(cause: .fileTransfer, typeID: .F_SC_NA_1, rawTypeID: request.header.rawTypeID,
                                                      commonAddress: address.commonAddress,
                                                      reason: "select file \(address): \(reason); answered file not ready"))]
        }
        let transfer = FileSending(file: file, id: nextFileTransferID, originator: request.header.cause.originator, now: now)
        nextFileTransferID += 1
        fileTransfer = transfer
        respond(transfer.fileReady())
        actions.append(.notice("file transfer: \(address) \(file.area)/\(file.name) (\(file.sizeText), "
            + "\(file.sectionCount) section\(file.sectionCount == 1 ? "" : "s")) selected"))
        return actions
    }

    /// Carries out what the transfer asked for. `request`: the master's request, when there is one to answer.
    func applyFileOutputs(_ outputs: [FileSending.Output], request: ASDURequest?, now: LinkInstant) -> [StationAction] {
        guard let transfer = fileTransfer else { return [] }
        var actions: [StationAction] = []
        for output in outputs {
            switch output {
            case .reply(let asdu):
                respond(asdu)
            case .read(let section, let offset, let length):
                actions.append(.readFileSection(FileSectionRead(station: name, transfer: transfer.id, file: transfer.file,
                                                                section: section, offset: offset, length: length)))
            case .delete:
                actions.append(.deleteFile(FileDeletion(station: name, transfer: transfer.id, file: transfer.file)))
            case .finished(let outcome):
                fileTransfer = nil
                countFileTransfer(outcome)
                actions.append(Self.fileTransferAction(transfer.file, outcome))
            case .unexpected(let reason):
                if let request { actions += refuse(request, cause: .fileTransfer, because: reason) }
            }
        }
        return actions
    }

    /// The owner read what ``StationAction/readFileSection(_:)`` asked for.
    func fileSectionRead(_ read: FileSectionRead, result: FileReadResult, now: LinkInstant) -> [StationAction] {
        var actions: [StationAction] = []
        if var transfer = fileTransfer, transfer.id == read.transfer {
            let outputs = transfer.sectionRead(result, now: now)
            fileTransfer = transfer
            actions = applyFileOutputs(outputs, request: nil, now: now)
        }
        finishStep(now: now, into: &actions)
        return actions
    }

    /// The owner deleted (or failed to delete) the file of ``StationAction/deleteFile(_:)``.
    func fileDeleted(_ deletion: FileDeletion, failure: String?, now: LinkInstant) -> [StationAction] {
        var actions: [StationAction] = []
        if let transfer = fileTransfer, transfer.id == deletion.transfer {
            fileTransfer = nil
            let qualifier = failure == nil ? AcknowledgeQualifier(.positiveFile)
                : AcknowledgeQualifier(.negativeFile, cause: .unexpectedNameOfFile)
            let ack = FileAcknowledgement(nameOfFile: transfer.file.nameOfFile, nameOfSection: 0, qualifier: qualifier)
            let asdu = ASDU(cause: CauseOfTransmission(.fileTransfer, originator: transfer.originator),
                            commonAddress: transfer.file.address.commonAddress, address: transfer.file.address.objectAddress,
                            element: .fileAcknowledgement(ack))
            if let bytes = try? asdu.encoded() { respond(bytes) }
            let outcome: FileTransferOutcome = failure.map { .brokenOff("deleting failed: \($0)") } ?? .deleted
            countFileTransfer(outcome)
            actions.append(Self.fileTransferAction(transfer.file, outcome))
        }
        finishStep(now: now, into: &actions)
        return actions
    }

    /// A directory scan changed what a common address lists: a transfer of a changed or removed file is broken off,
    /// and the active master gets the new directory spontaneously (COT 3).
    func filesChanged(_ change: CatalogChange, now: LinkInstant) -> [StationAction] {
        var actions: [StationAction] = []
        if var transfer = fileTransfer,
           (change.changed + change.removed).contains(where: { $0.address == transfer.file.address }) {
            let outputs = transfer.fileChanged()
            fileTransfer = transfer
            actions += applyFileOutputs(outputs, request: nil, now: now)
        }
        if activeConnection != nil, configuration.commonAddresses.contains(change.commonAddress) {
            let active: Set<PointAddress> = fileTransfer.map { [$0.file.address] } ?? []
            for asdu in files.directoryASDUs(commonAddress: change.commonAddress, cause: CauseOfTransmission(.spontaneous),
                                              active: active) {
                respond(asdu)
            }
        }
        finishStep(now: now, into: &actions)
        return actions
    }

    /// A reload removed or changed the area of `commonAddress`: a transfer of a file no area lists any more ends.
    func filesReplaced(commonAddress: UInt16, now: LinkInstant) -> [StationAction] {
        var actions: [StationAction] = []
        if let transfer = fileTransfer, transfer.file.address.commonAddress == commonAddress,
           files.file(at: transfer.file.address) != transfer.file {
            var sending = transfer
            let outputs = sending.fileChanged()
            fileTransfer = sending
            actions += applyFileOutputs(outputs, request: nil, now: now)
        }
        finishStep(now: now, into: &actions)
        return actions
    }

    private func countFileTransfer(_ outcome: FileTransferOutcome) {
        switch outcome {
        case .completed, .deleted: statistics.fileTransfersCompleted += 1
        case .brokenOff, .endedByMaster, .timedOut: statistics.fileTransfersFailed += 1
        }
    }

    /// The transfer in progress, for status: `47:30001 records/fault.cfg`.
    public var fileTransferInProgress: String? {
        fileTransfer.map { "\($0.file.address) \($0.file.area)/\($0.file.name)" }
    }

    static func fileTransferAction(_ file: CatalogFile, _ outcome: FileTransferOutcome) -> StationAction {
        switch outcome {
        case .completed, .deleted: .notice(fileTransferText(file, outcome))
        case .brokenOff, .endedByMaster, .timedOut: .warning(fileTransferText(file, outcome))
        }
    }

    static func fileTransferText(_ file: CatalogFile, _ outcome: FileTransferOutcome) -> String {
        let subject = "file transfer: \(file.address) \(file.area)/\(file.name)"
        switch outcome {
        case .completed(let octets, let duration):
            let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
            return "\(subject) complete, \(CatalogFile.octetText(octets)) in \(milliseconds) ms, acknowledged by the master"
        case .deleted: return "\(subject) deleted at the master's request"
        case .brokenOff(let reason): return "\(subject) broken off: \(reason)"
        case .endedByMaster(let reason): return "\(subject) ended: \(reason)"
        case .timedOut: return "\(subject) dropped: no step from the master for \(FileSending.idleLimit)"
        }
    }
}
