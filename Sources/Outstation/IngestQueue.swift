public import IEC104

/// Producers' point updates on their way into the process image: applied in arrival order, as fast as the
/// stations whose masters keep up can take them (``Outstation/producerRoom(now:)``), and at most a budget
/// per turn so that ingestion never starves the links.
///
/// Pure bookkeeping: the server shell submits a producer's validated updates, drains after anything that
/// may have made room (an acknowledgement, a turn of the event loop, a stall deadline) and answers each
/// producer when its batch is done. A producer waits for its answer before it is read from again, which
/// carries the back-pressure back to the writer.
public struct IngestQueue<Token> {
    private struct Batch {
        let updates: [PointUpdate]
        let token: Token
        var next = 0
        var events = 0
    }

    private var batches = RingBuffer<Batch>()
    /// Updates submitted and not yet applied.
    public private(set) var waitingUpdates = 0

    public init() {}

    public var isEmpty: Bool { batches.isEmpty }

    /// Queues a producer's updates (already validated) behind those that wait.
    public mutating func submit(_ updates: [PointUpdate], token: Token) {
        batches.append(Batch(updates: updates, token: token))
        waitingUpdates += updates.count
    }

    /// What one drain did.
    public struct Progress {
        /// Batches now wholly applied, in arrival order, with the events each caused.
        public var finished: [(token: Token, events: Int)] = []
        /// Updates applied in this drain.
        public var applied = 0
        /// Whether the budget, not the room, stopped the drain (so more can be applied right away).
        public var budgetExhausted = false
    }

    /// Applies waiting updates in order while `room` and `budget` allow.
    public mutating func drain(into outstation: Outstation, room: Int, budget: Int, wallTime: Int64,
                               now: LinkInstant? = nil) -> Progress {
        var progress = Progress()
        var allowance = min(room, budget)
        while allowance > 0, var batch = batches.removeFirst() {
            let take = min(allowance, batch.updates.count - batch.next)
            batch.events += outstation.applyValidated(batch.updates[batch.next..<(batch.next + take)], wallTime: wallTime,
                                                    now: now)
            batch.next += take
            allowance -= take
            progress.applied += take
            if batch.next == batch.updates.count {
                progress.finished.append((batch.token, batch.events))
            } else {
                batches.prepend(contentsOf: [batch])
            }
        }
        waitingUpdates -= progress.applied
        progress.budgetExhausted = !batches.isEmpty && progress.applied == budget && budget < room
        return progress
    }

    /// Empties the queue (at shutdown), returning every waiting producer's token.
    public mutating func removeAll() -> [Token] {
        var tokens: [Token] = []
        while let batch = batches.removeFirst() { tokens.append(batch.token) }
        waitingUpdates = 0
        return tokens
    }
}
