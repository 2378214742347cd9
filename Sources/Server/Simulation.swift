import IEC104
import NIOCore
import Outstation

/// Built-in simulation (`simulate` in the point tables), on the event loop: a timer at the schedule's next due
/// instant, armed only while some point is simulated. The values are the outstation's ``SimulationSchedule``'s;
/// here only time is read, and the values go the way of every producer's updates (``ingest``), so that deadbands,
/// quality rules and back-pressure apply to them as to any other update.
extension OutstationRuntime {
    /// Makes the schedule for the outstation's points (at start, and again after each reload: new and removed
    /// simulated points, new generators) and arms its timer. A reload keeps the schedule's origin, so that sines and
    /// ramps keep their phase, and the generators go on from the values in the process image; holds end.
    func updateSimulation() {
        simulationTask?.cancel()
        simulationTask = nil
        let now = SystemClock.monotonicNow()
        let image = outstation.image
        simulation = SimulationSchedule(points: image.definitions, origin: simulation?.origin ?? now, now: now,
                                        hold: simulationHold) { image.state(at: $0)?.value }
        armSimulation()
    }

    private func armSimulation() {
        guard !ingestStopped, let deadline = simulation?.nextDeadline else { return }
        let runtime = NIOLoopBound(self, eventLoop: eventLoop)
        simulationTask = eventLoop.scheduleTask(deadline: SystemClock.deadline(deadline)) {
            runtime.value.simulationTask = nil
            runtime.value.runSimulation()
        }
    }

    private func runSimulation() {
        guard !ingestStopped, var schedule = simulation else { return }
        let updates = schedule.due(now: SystemClock.monotonicNow())
        simulation = schedule
        // While the last values wait for room (a full station), new ones are not queued behind them: the next
        // tick brings fresher values anyway, and nothing piles up behind a master that stopped acknowledging.
        if !updates.isEmpty, !simulationWaiting {
            simulationWaiting = true
            let runtime = NIOLoopBound(self, eventLoop: eventLoop)
            ingest(updates, source: .simulation) { _ in runtime.value.simulationWaiting = false }
        }
        armSimulation()
    }

    /// An update from outside (control socket `set`, feeder, handler) to a simulated point holds its generator for
    /// the schedule's hold time, from the value it set.
    func noteExternalUpdates(_ updates: [PointUpdate]) {
        guard var schedule = simulation else { return }
        let now = SystemClock.monotonicNow()
        var held = false
        for update in updates where schedule.simulates(update.address) {
            schedule.override(update.address, with: update.value, now: now)
            held = true
        }
        if held { simulation = schedule }
    }

    func stopSimulation() {
        simulationTask?.cancel()
        simulationTask = nil
    }
}
