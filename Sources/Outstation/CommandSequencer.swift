/// Runs the commands on one command point one at a time, in arrival order, whichever station sent them;
/// commands on different points run side by side. Pure bookkeeping for the server shell.
public struct CommandSequencer: Sendable {
    private var queues: [PointAddress: [CommandRequest]] = [:]

    public init() {}

    /// What a deactivation found.
    public enum Withdrawal: Equatable, Sendable {
        /// The command is with the handler: ask the handler to stop it.
        case running
        /// The command was still waiting and has been dropped.
        case dropped
        case unknown
    }

    /// Queues `request`; returns it if it may start now.
    public mutating func arrived(_ request: CommandRequest) -> CommandRequest? {
        let address = request.point.address
        queues[address, default: []].append(request)
        return queues[address]?.count == 1 ? request : nil
    }

    /// Removes a finished command; returns the next one on its point if that may start now.
    public mutating func finished(_ request: CommandRequest) -> CommandRequest? {
        let address = request.point.address
        guard var queue = queues[address],
              let index = queue.firstIndex(where: { $0.station == request.station && $0.id == request.id }) else { return nil }
        queue.remove(at: index)
        queues[address] = queue.isEmpty ? nil : queue
        return index == 0 ? queue.first : nil
    }

    public mutating func withdraw(station: String, commandID: UInt64) -> Withdrawal {
        for (address, queue) in queues {
            guard let index = queue.firstIndex(where: { $0.station == station && $0.id == commandID }) else { continue }
            if index == 0 { return .running }
            queues[address]?.remove(at: index)
            return .dropped
        }
        return .unknown
    }

    /// Commands running or waiting.
    public var count: Int { queues.values.reduce(0) { $0 + $1.count } }
}
