import IEC104

/// What a reload does to a station that lives on: it moves onto the new image, hands its events to a replacement,
/// or drops the masters its new filter no longer admits.
extension Station {
    /// Moves the station onto a reloaded process image: buffered events follow their points
    /// (events of points that are gone or changed kind are dropped), periodic scans are planned anew.
    func rebind(to newImage: ProcessImage, indexMap: [Int32: Int32], now: LinkInstant) {
        eventBuffer.remap({ event in
            indexMap[event.pointIndex].map { index in
                var moved = event
                moved.pointIndex = index
                moved.priority = newImage.record(at: index).priority
                return moved
            }
        }, dropped: { forgetJournaled([$0.journalSequence]) })
        image = newImage
        periodicScans = PeriodicScan.plan(image: newImage, commonAddresses: configuration.commonAddresses, now: now)
    }

    /// Takes over another station's buffered events and unacknowledged frames (a station whose settings changed on
    /// reload; its connections are closed first, so that what they left unacknowledged is among the frames).
    /// Journaled events keep their sequence numbers when both journal; a station that starts journaling records
    /// the events it takes; one that stops clears the old station's journal.
    func adoptEvents(of old: Station, indexMap: [Int32: Int32]) {
        let keepsSequences = journal != nil && old.journal != nil
        if keepsSequences { nextJournalSequence = old.nextJournalSequence }
        var events = old.eventBuffer
        events.remap({ event in
            guard let index = indexMap[event.pointIndex],
                  configuration.commonAddresses.contains(image.record(at: index).commonAddress) else { return nil }
            var moved = event
            moved.pointIndex = index
            moved.priority = image.record(at: index).priority
            return moved
        }, dropped: { old.forgetJournaled([$0.journalSequence]) })
        if old.journal != nil, journal == nil { old.journal?.record(.removeStation(name)) }
        while let event = events.removeFirst() {
            if keepsSequences {
                _ = restore(event)
            } else {
                enqueue(event)
            }
        }
        var resends = old.resendQueue
        var frames: [ResendFrame] = []
        while let frame = resends.removeFirst() {
            frames.append(keepsSequences ? frame : ResendFrame(asdu: frame.asdu, journalSequences: []))
        }
        resendQueue.prepend(contentsOf: frames)
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
}
