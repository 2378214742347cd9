public import IEC104

/// The whole RTU without I/O: one process image and the stations that serve it.
///
/// Point updates fan out from here to the event buffer of every station that serves the
/// point's common address, in the order they are applied. Owned by one serial executor.
public final class Outstation {
    public private(set) var image: ProcessImage
    /// Counts the images put in force by reloads (see ``PreparedImage``).
    private(set) var imageGeneration: UInt64 = 0
    public private(set) var stations: [Station]
    /// Every command of every station, lent to the stations; outlives reloads.
    let commands = SharedCommandLedger()
    /// What the journaling stations (`event_journal`) did to their events, for the owner to write to disk.
    public let journalOutbox = JournalOutbox()
    /// The files of the `[files]` areas, which every station serves for its common addresses.
    public let files: FileCatalog
    private var stationsByName: [String: Station]
    private var stationsByCommonAddress: [UInt16: [Station]]
    private var observers: [UInt64: (PointEvent) -> Void] = [:]
    /// Stations that received events since ``takeStationsWithNewEvents()`` last ran, each once: after a batch of
    /// updates only they have something new to send, and with a thousand stations a scan of all of them per
    /// batch costs more than the batch.
    private var stationsWithNewEvents: [Station] = []
    private var nextObserver: UInt64 = 1
    /// The points with a `stale_after`, nil when there are none (then updates pay nothing for the feature).
    public private(set) var staleness: StalenessWatch?

    /// `startNotTopical`: every point starts not topical (counters invalid) until its first update
    /// (`start_quality = not_topical`); values restored from the state file afterwards bring their own quality.
    public init(points: PointTable, stations configurations: [StationConfiguration], now: LinkInstant, wallTime: Int64,
                startNotTopical: Bool = false, fileAreas: [FileArea] = []) {
        let files = FileCatalog(areas: fileAreas)
        self.files = files
        let image = ProcessImage(table: points, now: wallTime)
        if startNotTopical { image.markAllNotTopical() }
        self.image = image
        stations = configurations.map { [commands, journalOutbox, files] in
            Station(configuration: $0, image: image, commands: commands, journal: journalOutbox, files: files, now: now)
        }
        (stationsByName, stationsByCommonAddress) = Self.index(stations)
        staleness = StalenessWatch(limits: image.definitions.map(\.staleAfter), now: now)
    }

    private static func index(_ stations: [Station]) -> ([String: Station], [UInt16: [Station]]) {
        var byName: [String: Station] = [:]
        var byCommonAddress: [UInt16: [Station]] = [:]
        for station in stations {
            byName[station.name] = station
            for commonAddress in station.configuration.commonAddresses {
                byCommonAddress[commonAddress, default: []].append(station)
            }
        }
        return (byName, byCommonAddress)
    }

    public func station(named name: String) -> Station? { stationsByName[name] }

    /// Calls `body` with every event from now on (for `rtu104ctl watch`); returns a token for ``removeObserver(_:)``.
    public func observe(_ body: @escaping (PointEvent) -> Void) -> UInt64 {
        defer { nextObserver += 1 }
        observers[nextObserver] = body
        return nextObserver
    }

    public func removeObserver(_ token: UInt64) { observers.removeValue(forKey: token) }

    /// Applies updates all or nothing: if any names an unknown point or the wrong kind, none is applied.
    /// Returns how many events they caused.
    @discardableResult
    public func apply(_ updates: [PointUpdate], wallTime: Int64, now: LinkInstant? = nil,
                      cause: Cause = .spontaneous) throws(PointUpdateError) -> Int {
        try validate(updates)
        return applyValidated(updates[...], wallTime: wallTime, now: now, cause: cause)
    }

    /// Applies updates that ``validate(_:)`` accepted. A point a reload removed since then is skipped.
    /// Returns how many events they caused.
    /// `now` is when they arrived, for ``staleness`` (nil: the latest instant the watch knows).
    public func applyValidated(_ updates: ArraySlice<PointUpdate>, wallTime: Int64, now: LinkInstant? = nil,
                               cause: Cause = .spontaneous) -> Int {
        var events = 0
        for update in updates {
            guard let index = image.index(of: update.address) else { continue }
            // Every update counts as a sign of life, also one that changes nothing worth an event.
            staleness?.touch(index, now: now)
            guard let event = try? image.apply(update, at: index, now: wallTime, cause: cause) else { continue }
            fanOut(event, skipping: nil)
            events += 1
        }
        return events
    }

    /// Puts back the events the journal kept at the last stop (oldest first per station), ahead of anything new.
    /// Events of stations that no longer journal, or of points no longer configured for their station, leave
    /// the journal.
    public func restoreJournal(_ events: [JournaledEvent]) -> JournalRestoreReport {
        var report = JournalRestoreReport()
        var foreign: Set<String> = []
        for event in events {
            guard let station = stationsByName[event.station], station.journal != nil else {
                foreign.insert(event.station)
                report.otherStations += 1
                continue
            }
            guard let index = image.index(of: event.address), image.kind(at: event.address) == event.value.kind,
                  station.configuration.commonAddresses.contains(event.address.commonAddress) else {
                station.nextJournalSequence = max(station.nextJournalSequence, event.sequence + 1)
                station.forgetJournaled([event.sequence])
                report.unknownPoints += 1
                continue
            }
            var restored = PointEvent(pointIndex: index, value: event.value, quality: event.quality, time: event.time,
                                      cause: event.cause, priority: image.record(at: index).priority)
            restored.journalSequence = event.sequence
            if station.restore(restored) {
                report.restored[station.name, default: 0] += 1
            } else {
                report.overflowed += 1
            }
            if !station.awaitsService {
                station.awaitsService = true
                stationsWithNewEvents.append(station)
            }
        }
        for name in foreign.sorted() { journalOutbox.record(.removeStation(name)) }
        return report
    }

    /// Whether any station journals its events.
    public var journalsEvents: Bool { stations.contains { $0.journal != nil } }

    /// How many updates producers may apply now before a station whose master keeps up is full
    /// (`Int.max` when no station holds them back). See ``Station/producerRoom(now:)``.
    public func producerRoom(now: LinkInstant) -> Int {
        var room = Int.max
        // Runs on every drain of the ingest queue: a station whose queue leaves at least the room found so far
        // cannot lower it, so its link (a session lookup) is looked at only when it could.
        for station in stations where station.configuration.backpressure && station.queueRoom < room {
            if let own = station.producerRoom(now: now) { room = min(room, own) }
        }
        return room
    }

    /// The earliest moment a station that holds producers back would stop doing so for want of acknowledgements.
    public func earliestStallDeadline(now: LinkInstant) -> LinkInstant? {
        stations.compactMap { $0.stallDeadline(now: now) }.min()
    }

    /// Checks that every update names a monitor point of its kind; nothing is applied.
    public func validate(_ updates: [PointUpdate]) throws(PointUpdateError) {
        for update in updates {
            guard let kind = image.kind(at: update.address) else { throw .unknownPoint(update.address) }
            guard kind == update.value.kind else {
                throw .kindMismatch(update.address, expected: kind, found: update.value.kind)
            }
        }
    }

    /// Marks the points whose `stale_after` ran out by `now` not topical (IV for counters) and queues a spontaneous
    /// event for each to every station serving it. Returns the points newly marked, in deadline order. `budget`
    /// bounds the work of one call (see ``StalenessWatch/expire(now:budget:)``).
    @discardableResult
    public func expireStale(now: LinkInstant, wallTime: Int64, budget: Int = .max) -> [PointAddress] {
        // In place: a copy of the watch would copy its arrays (a million points) on every check.
        guard let expired = staleness?.expire(now: now, budget: budget), !expired.isEmpty else { return [] }
        var marked: [PointAddress] = []
        for index in expired {
            let kind = image.record(at: index).kind
            guard let event = image.impose(kind.lapseFlag, at: index, wallTime: wallTime) else { continue }
            fanOut(event, skipping: nil)
            marked.append(image.definitions[Int(index)].address)
        }
        return marked
    }

    /// Marks points invalid (IV) at once, their value kept, with a spontaneous event to every station serving
    /// them: their source is gone (a feeder that declared them stopped). Their next update clears it. Addresses
    /// that name no monitor point are skipped. Returns the points newly marked.
    @discardableResult
    public func invalidate(_ addresses: [PointAddress], wallTime: Int64) -> [PointAddress] {
        var marked: [PointAddress] = []
        for address in addresses {
            guard let index = image.index(of: address),
                  let event = image.impose(.invalid, at: index, wallTime: wallTime) else { continue }
            fanOut(event, skipping: nil)
            marked.append(address)
        }
        return marked
    }

    /// Per common address, how many monitor points carry NT or IV now, whoever set it (for status). One walk over
    /// the points: not for hot paths.
    public func lapsedPointCounts() -> [UInt16: Int] {
        var counts: [UInt16: Int] = [:]
        for index in 0..<Int32(image.count) {
            let record = image.record(at: index)
            if !record.quality.isDisjoint(with: [.notTopical, .invalid]) { counts[record.commonAddress, default: 0] += 1 }
        }
        return counts
    }

    private func fanOut(_ event: PointEvent, skipping origin: Station?) {
        for observer in observers.values { observer(event) }
        let commonAddress = image.record(at: event.pointIndex).commonAddress
        for station in stationsByCommonAddress[commonAddress] ?? [] where station !== origin {
            station.enqueue(event)
            if !station.awaitsService {
                station.awaitsService = true
                stationsWithNewEvents.append(station)
            }
        }
    }

    /// The stations that received events since the last call, in the order they first did; each then counts as
    /// serviced.
    public func takeStationsWithNewEvents() -> [Station] {
        var taken: [Station] = []
        swap(&taken, &stationsWithNewEvents)
        for station in taken { station.awaitsService = false }
        return taken
    }

    /// Reports a finished command to the ``CommandLedger``. Updates of a successful command go into the process
    /// image as return information (COT 11): inline between ACTCON and ACTTERM for the master that asked, buffered
    /// for the other stations (and for the commanding one when its master is gone or withdrew the command).
    /// Returns the commanding station's actions (its answers, the updates that were refused) and the next command
    /// to run on the point, which may be another station's; the other stations that took return information are
    /// among ``takeStationsWithNewEvents()``.
    public func complete(_ request: CommandRequest, result: CommandResult, now: LinkInstant,
                         wallTime: Int64) -> [StationAction] {
        // The station that sent the command may be gone (a reload removed it): the command still had its effect.
        let station = stationsByName[request.station]
        var actions: [StationAction] = []
        var feedback: [PointEvent] = []
        var succeeded = false
        if case .success(let updates) = result {
            succeeded = true
            for update in updates {
                do {
                    if let index = image.index(of: update.address) { staleness?.touch(index, now: now) }
                    guard let event = try image.apply(update, now: wallTime, cause: .returnInformationRemote) else { continue }
                    feedback.append(event)
                    fanOut(event, skipping: station)
                } catch {
                    actions.append(.feedbackRefused(request, reason: error.description))
                }
            }
        }
        let answer = commands.ledger.finish(request.id, succeeded: succeeded, now: now)
        if let station {
            actions += station.carryOut(answer, feedback: feedback, now: now)
            station.finishStep(now: now, into: &actions)
        } else {
            for case .execute(let next) in answer { actions.append(.execute(next)) }
        }
        return actions
    }

    /// An id for a command that does not come from a station (the control socket's `exec`), unique among the
    /// stations' command ids.
    public func reserveCommandID() -> UInt64 { commands.ledger.reserveID() }

    /// Every command from its activation to its last confirmation (for status and tests).
    public var commandLedger: CommandLedger { commands.ledger }

    // MARK: Reload

    /// Applies a reloaded configuration as a difference. Stations whose settings are unchanged keep
    /// their connections and event buffers; a station whose address filter alone changed keeps the
    /// masters it still admits; other changed stations start new sessions with the old buffered events.
    /// Points keep their values where their kind is unchanged; new points are reported spontaneously.
    /// Returns what changed, and the connections to close (already detached from their stations).
    public func reconfigure(points: PointTable, stations configurations: [StationConfiguration], now: LinkInstant,
                            wallTime: Int64) -> (report: ReconfigurationReport, actions: [StationAction]) {
        let newImage = ProcessImage(table: points, now: wallTime)
        let (indexMap, added) = newImage.carryOver(from: image)
        let changed = indexMap.filter { image.definition(at: $0.key) != newImage.definition(at: $0.value) }.count
        return reconfigure(newImage, indexMap: indexMap, added: added, pointsChanged: changed, stations: configurations,
                           now: now, wallTime: wallTime)
    }

    /// As ``reconfigure(points:stations:now:wallTime:)`` with an image prepared off the event loop: what is left
    /// here is copying the values over. If another reload came between, the match is made here again.
    public func reconfigure(prepared: PreparedImage, stations configurations: [StationConfiguration], now: LinkInstant,
                            wallTime: Int64) -> (report: ReconfigurationReport, actions: [StationAction]) {
        let newImage = prepared.image
        guard prepared.generation == imageGeneration else {
            let (indexMap, added) = newImage.carryOver(from: image)
            let changed = indexMap.filter { image.definition(at: $0.key) != newImage.definition(at: $0.value) }.count
            return reconfigure(newImage, indexMap: indexMap, added: added, pointsChanged: changed, stations: configurations,
                               now: now, wallTime: wallTime)
        }
        newImage.carryValues(from: image, oldIndexForNew: prepared.oldIndexForNew)
        return reconfigure(newImage, indexMap: prepared.indexMap, added: prepared.added, pointsChanged: prepared.pointsChanged,
                           stations: configurations, now: now, wallTime: wallTime, oldIndexForNew: prepared.oldIndexForNew)
    }

    /// `oldIndexForNew`: the old index of each new point (-1: new), when the prepared image has it already.
    private func reconfigure(_ newImage: ProcessImage, indexMap: [Int32: Int32], added: [Int32], pointsChanged: Int,
                             stations configurations: [StationConfiguration], now: LinkInstant,
                             wallTime: Int64, oldIndexForNew: [Int32]? = nil) -> (report: ReconfigurationReport, actions: [StationAction]) {
        var report = ReconfigurationReport()
        var closes: [(station: Station, id: ConnectionID, reason: String)] = []
        var adoptions: [(replacement: Station, old: Station)] = []
        report.pointsAdded = added.count
        report.pointsRemoved = image.count - indexMap.count
        report.pointsChanged = pointsChanged
        for (address, command) in newImage.commandPoints {
            guard let old = image.commandPoints[address] else { report.commandPointsAdded += 1; continue }
            if old != command { report.commandPointsChanged += 1 }
        }
        report.commandPointsRemoved = image.commandPoints.keys.filter { newImage.commandPoints[$0] == nil }.count

        var next: [Station] = []
        for configuration in configurations {
            guard let old = stationsByName[configuration.name] else {
                next.append(Station(configuration: configuration, image: newImage, commands: commands,
                                    journal: journalOutbox, files: files, now: now))
                report.stationsAdded.append(configuration.name)
                continue
            }
            var filterOnly = old.configuration
            filterOnly.filter = configuration.filter
            if old.configuration == configuration || filterOnly == configuration {
                old.rebind(to: newImage, indexMap: indexMap, now: now)
                if old.configuration != configuration {
                    old.update(configuration: configuration)
                    report.stationsRefiltered.append(configuration.name)
                } else {
                    report.stationsKept.append(configuration.name)
                }
                next.append(old)
            } else {
                let replacement = Station(configuration: configuration, image: newImage, commands: commands,
                                          journal: journalOutbox, files: files, now: now)
                adoptions.append((replacement, old))
                for connection in old.connections {
                    closes.append((old, connection.id, "station '\(old.name)' was reconfigured"))
                }
                next.append(replacement)
                report.stationsReplaced.append(configuration.name)
            }
        }
        let kept = Set(configurations.map(\.name))
        for old in stations where !kept.contains(old.name) {
            for connection in old.connections {
                closes.append((old, connection.id, "station '\(old.name)' was removed"))
            }
            report.stationsRemoved.append(old.name)
            if old.journal != nil { journalOutbox.record(.removeStation(old.name)) }
        }
        // A changed filter drops the masters the station no longer admits.
        for station in next where report.stationsRefiltered.contains(station.name) {
            let siblings = next.filter { $0 !== station && $0.configuration.listener == station.configuration.listener }
            let dropped = station.connectionsNotAdmitted(by: station.configuration.filter) { peer in
                siblings.contains { $0.configuration.filter.matches(peer) }
            }
            for id in dropped {
                closes.append((station, id, "station '\(station.name)' no longer admits this address"))
            }
        }
        // The new watch keeps each carried point's last update, so a reload does not restart its time.
        var previousIndex = oldIndexForNew ?? []
        if staleness != nil, oldIndexForNew == nil {
            previousIndex = [Int32](repeating: -1, count: newImage.count)
            for (old, new) in indexMap { previousIndex[Int(new)] = old }
        }
        let previousWatch = staleness
        staleness = StalenessWatch(limits: newImage.definitions.map(\.staleAfter), now: now) { index in
            guard let previousWatch, Int(index) < previousIndex.count, previousIndex[Int(index)] >= 0 else { return nil }
            return previousWatch.lastUpdate(of: previousIndex[Int(index)])
        }
        image = newImage
        imageGeneration &+= 1
        stations = next
        let current = Set(next.map(ObjectIdentifier.init))
        stationsWithNewEvents.removeAll { !current.contains(ObjectIdentifier($0)) }
        (stationsByName, stationsByCommonAddress) = Self.index(next)
        for index in added {
            let state = newImage[index]
            fanOut(PointEvent(pointIndex: index, value: state.value, quality: state.quality, time: wallTime, cause: .spontaneous,
                              priority: state.definition.priority),
                   skipping: nil)
        }
        var actions: [StationAction] = []
        for close in closes { close.station.close(close.id, reason: .reconfigured(close.reason), into: &actions) }
        // After the closes, so that what the old sessions left unacknowledged goes to the replacement too.
        for (replacement, old) in adoptions { replacement.adoptEvents(of: old, indexMap: indexMap) }
        return (report, actions)
    }
}

/// What a reload changed, for the log and the status.
public struct ReconfigurationReport: Sendable {
    public var stationsKept: [String] = []
    public var stationsRefiltered: [String] = []
    public var stationsReplaced: [String] = []
    public var stationsAdded: [String] = []
    public var stationsRemoved: [String] = []
    /// Monitor points new to the table, or whose kind changed (they start afresh).
    public var pointsAdded = 0
    /// Monitor points gone from the table, or whose kind changed.
    public var pointsRemoved = 0
    /// Monitor points of the same kind with other settings (they keep their value).
    public var pointsChanged = 0
    public var commandPointsAdded = 0
    public var commandPointsRemoved = 0
    public var commandPointsChanged = 0

    public init() {}

    /// `stations: 1 added (sub-b), 2 unchanged; points: 4 monitor added, 1 command added`: what changed, by
    /// name for stations, then what stayed.
    public var summary: String {
        "stations: \(stationSummary); points: \(pointSummary)"
    }

    private var stationSummary: String {
        func named(_ names: [String], _ what: String) -> String? {
            names.isEmpty ? nil : "\(names.count) \(what) (\(names.joined(separator: ", ")))"
        }
        let parts = [named(stationsAdded, "added"), named(stationsRemoved, "removed"),
                     named(stationsReplaced, "reconfigured"), named(stationsRefiltered, "with a new allow filter"),
                     stationsKept.isEmpty ? nil : "\(stationsKept.count) unchanged"].compactMap { $0 }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    private var pointSummary: String {
        let counts = [(pointsAdded, "monitor added"), (pointsRemoved, "monitor removed"), (pointsChanged, "monitor changed"),
                      (commandPointsAdded, "command added"), (commandPointsRemoved, "command removed"),
                      (commandPointsChanged, "command changed")]
        let parts = counts.filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        return parts.isEmpty ? "unchanged" : parts.joined(separator: ", ")
    }
}
