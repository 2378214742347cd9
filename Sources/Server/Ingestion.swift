import IEC104
import Logging
import NIOCore
import Outstation

/// How a producer's batch of updates ended.
public enum IngestOutcome: Sendable, Equatable {
    /// Applied to the process image and queued for every station's masters; the number of events it caused.
    case applied(events: Int)
    /// Not applied: the daemon is stopping.
    case abandoned
}

/// A producer waiting on its batch: `applied` runs once the batch is in the process image and the stations'
/// queues (the producer may go on), `completion` once it is accepted — with an event journal, once its events
/// are on disk; without one, at the same moment.
struct IngestWaiter {
    let applied: (() -> Void)?
    let completion: (IngestOutcome) -> Void
}

/// What the runtime reports of its ingestion for status and the log.
public struct IngestStatistics: Sendable, Equatable {
    /// Updates waiting for room in the stations' queues now.
    public var waitingUpdates = 0
    /// Updates applied since start.
    public var updatesApplied: UInt64 = 0
    /// Time producers spent waiting because a station whose master keeps up was full, since start.
    public var heldNanoseconds: UInt64 = 0
    /// How often producers started to wait, since start.
    public var holds: UInt64 = 0

    public init() {}
}

/// The ingestion stage of the event path: producers (control socket, feeders, handlers) → process image →
/// stations' queues. Each call does a bounded amount of work so that the links keep their turns, and stops
/// where a station whose master keeps up is full; the producers wait for their answers meanwhile.
extension OutstationRuntime {
    /// Updates applied at most per drain; the rest goes on in a later turn of the event loop, after I/O.
    static let ingestBudget = 4096

    /// Queues validated updates; `completion` runs on the event loop once all of them are accepted (see
    /// ``IngestWaiter``), `applied` (if given) as soon as they are applied, which may be earlier.
    func ingest(_ updates: [PointUpdate], source: UpdateSource, applied: (() -> Void)? = nil,
                completion: @escaping (IngestOutcome) -> Void) {
        eventLoop.preconditionInEventLoop()
        guard !ingestStopped else { return completion(.abandoned) }
        if source != .simulation { noteExternalUpdates(updates) }
        ingestQueue.submit(updates, token: IngestWaiter(applied: applied, completion: { [self] outcome in
            if case .applied = outcome { serverStatistics.updatesApplied[source, default: 0] += UInt64(updates.count) }
            completion(outcome)
        }))
        drainIngest()
    }

    /// Applies what waits while there is room and budget, then sends what it queued for the masters.
    func drainIngest() {
        guard !ingestQueue.isEmpty, !draining else { return }
        draining = true
        var budget = Self.ingestBudget
        var applied = 0
        // With a journal, an update counts as accepted once its events are on disk: the answers wait for the commit.
        let journaling = journalWriter != nil && outstation.journalsEvents
        var accepted: [() -> Void] = []
        let wallTime = SystemClock.wallMilliseconds()
        while !ingestQueue.isEmpty, budget > 0 {
            let now = SystemClock.monotonicNow()
            let room = outstation.producerRoom(now: now)
            let progress = ingestQueue.drain(into: outstation, room: room, budget: budget, wallTime: wallTime, now: now)
            budget -= progress.applied
            applied += progress.applied
            // An answer may let its producer submit again; that goes on in this loop.
            for finished in progress.finished {
                if journaling {
                    finished.token.applied?()
                    accepted.append { finished.token.completion(.applied(events: finished.events)) }
                } else {
                    finished.token.completion(.applied(events: finished.events))
                }
            }
            if progress.applied == 0, progress.finished.isEmpty {
                // No room: a station whose master keeps up is full. Send what it has; its acknowledgements
                // (or its stall deadline) bring the next drain.
                serviceAll()
                guard outstation.producerRoom(now: SystemClock.monotonicNow()) > 0 else { break }
            }
        }
        draining = false
        ingestStatistics.updatesApplied += UInt64(applied)
        for station in outstation.takeStationsWithNewEvents() { service(station) }
        if !accepted.isEmpty { flushJournal(then: accepted) }
        noteHolding(ingestQueue.isEmpty ? nil : budget > 0)
        if !ingestQueue.isEmpty {
            if budget <= 0 { continueIngestNextTurn() } else { armStallRecheck() }
        }
    }

    /// Runs the next drain after the event loop has served its I/O once more.
    private func continueIngestNextTurn() {
        guard !continuationScheduled else { return }
        continuationScheduled = true
        let runtime = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute {
            runtime.value.continuationScheduled = false
            runtime.value.drainIngest()
        }
    }

    /// While producers wait for room, a master that stops acknowledging releases them at its stall deadline.
    private func armStallRecheck() {
        guard let deadline = outstation.earliestStallDeadline(now: SystemClock.monotonicNow()) else { return }
        if let armed = stallRecheck, armed.deadline <= deadline { return }
        stallRecheck?.task.cancel()
        let runtime = NIOLoopBound(self, eventLoop: eventLoop)
        let task = eventLoop.scheduleTask(deadline: SystemClock.deadline(deadline)) {
            runtime.value.stallRecheck = nil
            runtime.value.drainIngest()
        }
        stallRecheck = (deadline, task)
    }

    /// Accounts for the time producers are held back: `held` is true while a full station holds them,
    /// false while only the budget does, nil when nothing waits.
    private func noteHolding(_ held: Bool?) {
        let now = NIODeadline.now()
        if let since = holdingSince {
            ingestStatistics.heldNanoseconds += UInt64((now - since).nanoseconds)
            holdingSince = nil
        }
        if held == true {
            if !wasHolding { ingestStatistics.holds += 1 }
            holdingSince = now
        }
        wasHolding = held == true
    }

    /// The ingestion figures now, for status.
    func currentIngestStatistics() -> IngestStatistics {
        var statistics = ingestStatistics
        statistics.waitingUpdates = ingestQueue.waitingUpdates
        if let since = holdingSince { statistics.heldNanoseconds += UInt64((NIODeadline.now() - since).nanoseconds) }
        return statistics
    }

    /// Every ``QueueHealthReport/period``, logs which stations lost events and how long producers were held.
    func startQueueHealthReports() {
        let runtime = NIOLoopBound(self, eventLoop: eventLoop)
        let period = TimeAmount.nanoseconds(Int64(QueueHealthReport.period.components.seconds) * 1_000_000_000)
        queueHealthTask = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            runtime.value.reportQueueHealth()
        }
    }

    private func reportQueueHealth() {
        let samples = outstation.stations.map { station in
            QueueHealthReport.StationSample(name: station.name, dropped: station.eventBuffer.droppedCount,
                                            buffered: station.eventBuffer.count, capacity: station.eventBuffer.capacity,
                                            overflowPolicy: station.eventBuffer.overflowPolicy.rawValue,
                                            masterInDataTransfer: station.activeConnection != nil)
        }
        let statistics = currentIngestStatistics()
        for line in queueHealth.endPeriod(stations: samples, heldNanoseconds: statistics.heldNanoseconds,
                                          updatesApplied: statistics.updatesApplied) {
            let metadata = line.metadata.mapValues { Logger.MetadataValue.string($0) }
            switch line.level {
            case .notice: logger.notice("\(line.text)", metadata: metadata)
            case .warning: logger.warning("\(line.text)", metadata: metadata)
            }
        }
    }

    /// At shutdown: no more updates are taken, and those waiting are answered as not applied.
    func stopIngesting() {
        queueHealthTask?.cancel()
        queueHealthTask = nil
        stalenessTask?.cancel()
        stalenessTask = nil
        stopSimulation()
        ingestStopped = true
        stallRecheck?.task.cancel()
        stallRecheck = nil
        for waiting in ingestQueue.removeAll() { waiting.completion(.abandoned) }
    }
}
