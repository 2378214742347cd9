import Logging
import NIOCore
import Outstation

/// The event journal seen from the event loop: what the journaling stations recorded in a turn goes to the
/// writer once, at the end of the turn; producers whose updates reached a journaling station get their answer
/// only once the commit holding those events is on disk.
extension OutstationRuntime {
    /// After any step: hands what the stations recorded to the writer at the end of this turn.
    func noteJournal() {
        guard journalWriter != nil else {
            // No journal could be opened: the stations keep their events in memory only, and nothing piles up here.
            if !outstation.journalOutbox.isEmpty { _ = outstation.journalOutbox.take() }
            return
        }
        guard !journalFlushScheduled, !outstation.journalOutbox.isEmpty else { return }
        journalFlushScheduled = true
        let runtime = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { runtime.value.flushJournal(then: []) }
    }

    /// Submits what the stations recorded; `answers` run on the loop once it is written (or failed to be).
    func flushJournal(then answers: [() -> Void]) {
        journalFlushScheduled = false
        guard let writer = journalWriter else {
            for answer in answers { answer() }
            return
        }
        let operations = outstation.journalOutbox.take()
        guard !operations.isEmpty || !answers.isEmpty else { return }
        let runtime = NIOLoopBound(self, eventLoop: eventLoop)
        let pending = NIOLoopBound(answers, eventLoop: eventLoop)
        let loop = eventLoop
        writer.submit(operations) { failure in
            loop.execute {
                runtime.value.journalWritten(failure: failure)
                for answer in pending.value { answer() }
            }
        }
    }

    /// Logs the journal's failures when they start and when they end, not once per commit.
    private func journalWritten(failure: JournalWriteFailure?) {
        if let failure {
            journalFailures += 1
            if journalFailures == 1 {
                logger.error("event journal: cannot write (\(failure.description)); events are kept in memory only until it can")
            }
        } else if journalFailures > 0 {
            logger.notice("event journal: writing again after \(journalFailures) failed commits")
            journalFailures = 0
        }
    }
}
