import IEC104

/// What a station sends its active master, in order: end of initialization, events a closed connection left
/// unacknowledged, replies to requests, then events and interrogations taking turns.
extension Station {
    /// Fills the active connection's k window from the queues.
    func fillWindow(now: LinkInstant) {
        guard let id = activeConnection, let session = sessions[id] else { return }
        while session.link.canSend, let asdu = nextASDU() {
            session.link.send(asdu: asdu, now: now)
            if journal != nil {
                session.journalInFlight.append(outgoingJournalSequences)
                outgoingJournalSequences = []
            }
            statistics.countSent(asdu)
        }
        if !session.link.canSend, session.link.dataTransfer == .started, hasPendingTransmission {
            statistics.windowFull += 1
        }
    }

    /// Whether anything waits to be sent.
    public var hasPendingTransmission: Bool {
        !initialization.isEmpty || !resendQueue.isEmpty || !responses.isEmpty || !jobs.isEmpty || !eventBuffer.isEmpty
            || fileTransfer?.hasSegmentToSend == true
    }

    private func nextASDU() -> [UInt8]? {
        if let endOfInitialization = initialization.removeFirst() { return endOfInitialization }
        if let resend = resendQueue.removeFirst() {
            if journal != nil { outgoingJournalSequences = resend.journalSequences }
            return resend.asdu
        }
        if let response = responses.removeFirst() { return response }
        // A file's segments take every other slot while events or interrogations wait, so neither starves.
        let segmentWaiting = fileTransfer?.hasSegmentToSend == true
        if segmentWaiting, fileSegmentNext || (eventBuffer.isEmpty && jobs.isEmpty) {
            fileSegmentNext = false
            return fileTransfer?.nextSegment()
        }
        fileSegmentNext = segmentWaiting
        let eventsWaiting = !eventBuffer.isEmpty
        if eventsWaiting, preferEventsNext || jobs.isEmpty {
            preferEventsNext = false
            return nextEventASDU()
        }
        preferEventsNext = true
        while let outcome = jobs.updateFirst({ $0.next(image: image) }) {
            if let asdu = outcome { return asdu }
            if let finished = jobs.removeFirst(), let kind = finished.measuredKind, let startedAt = finished.startedAt {
                finishedInterrogations.append((kind, startedAt))
            }
        }
        if eventsWaiting { return nextEventASDU() }
        return segmentWaiting ? fileTransfer?.nextSegment() : nil
    }

    /// Packs consecutive buffered events of one type and common address into one ASDU.
    private func nextEventASDU() -> [UInt8]? {
        guard let first = eventBuffer.first else { return nil }
        let point = image.record(at: first.pointIndex)
        let timeTagged = configuration.timeTags.timeTagged(pointSetting: point.timeTaggedEvents)
        let typeID = timeTagged ? point.kind.timeTaggedTypeID : point.kind.typeID
        let commonAddress = point.commonAddress
        var builder = ASDUBuilder(typeID: typeID, cause: CauseOfTransmission(first.cause), commonAddress: commonAddress)
        let invalidTime = configuration.invalidTimeUntilSynchronized && clockOffsetMilliseconds == nil
        while builder.hasRoom, let event = eventBuffer.first {
            let record = image.record(at: event.pointIndex)
            guard event.cause == first.cause, record.commonAddress == commonAddress, record.kind == point.kind,
                  configuration.timeTags.timeTagged(pointSetting: record.timeTaggedEvents) == timeTagged else { break }
            eventBuffer.removeFirst()
            if journal != nil { outgoingJournalSequences.append(event.journalSequence) }
            let time = timeTagged ? CP56Time2a(unixMilliseconds: event.time, isInvalid: invalidTime) : nil
            builder.append(address: record.objectAddress, element: event.value.element(quality: event.quality, time: time))
        }
        statistics.eventsSent += UInt64(builder.count)
        return builder.finish()
    }

    /// Queues an event for this station's masters (called for every station serving its common address).
    public func enqueue(_ event: PointEvent) {
        guard let journal else {
            eventBuffer.append(event)
            return
        }
        var event = event
        event.journalSequence = nextJournalSequence
        nextJournalSequence += 1
        journal.record(.append(journaled(event)))
        if let dropped = eventBuffer.appendReportingDrop(event) {
            journal.record(.remove(station: name, sequence: dropped.journalSequence))
        }
    }

    /// Puts back an event the journal kept at the last stop, under its own sequence number.
    func restore(_ event: PointEvent) -> Bool {
        nextJournalSequence = max(nextJournalSequence, event.journalSequence + 1)
        guard let dropped = eventBuffer.appendReportingDrop(event) else { return true }
        forgetJournaled([dropped.journalSequence])
        return false
    }

    func journaled(_ event: PointEvent) -> JournaledEvent {
        let record = image.record(at: event.pointIndex)
        return JournaledEvent(station: name, sequence: event.journalSequence,
                              address: PointAddress(commonAddress: record.commonAddress, objectAddress: record.objectAddress),
                              value: event.value, quality: event.quality, time: event.time, cause: event.cause)
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

    func cancelJob(typeID: TypeID, commonAddress: UInt16) -> Bool {
        var kept: [InterrogationJob] = []
        var cancelled = false
        while let job = jobs.removeFirst() {
            if !cancelled, job.answers(typeID: typeID, commonAddress: commonAddress) { cancelled = true } else { kept.append(job) }
        }
        for job in kept { jobs.append(job) }
        return cancelled
    }

    func eventBufferDiscardAll() {
        eventBuffer.removeAll { forgetJournaled([$0.journalSequence]) }
    }

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
}

/// An ASDU to send again, with the journal sequence numbers of the events it carries.
struct ResendFrame {
    let asdu: [UInt8]
    let journalSequences: [Int64]
}
