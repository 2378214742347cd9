public import IEC104

/// Counters a station keeps: the one source of `rtu104ctl status` and of the metrics endpoint, which copies them
/// at each scrape. Plain integers bumped on the station's executor, so counting costs the hot path next to nothing.
public struct StationStatistics: Hashable, Sendable {
    public var connectionsAccepted: UInt64 = 0
    public var connectionsReplaced: UInt64 = 0
    /// Information objects sent spontaneously or as return information, not ASDUs.
    public var eventsSent: UInt64 = 0
    public var asdusSent: UInt64 = 0
    /// ASDUs sent, by cause of transmission (0–63).
    public var asdusSentByCause = CodeCounts(codes: 64)
    /// ASDUs sent with the P/N bit set, by cause of transmission.
    public var negativeConfirmationsByCause = CodeCounts(codes: 64)
    /// ASDUs received from masters, by type identification (0–255).
    public var asdusReceivedByType = CodeCounts(codes: 256)
    public var commandsReceived: UInt64 = 0
    public var commandsFailed: UInt64 = 0
    /// Finished commands by type and result.
    public var commandOutcomes: [CommandOutcomeKey: UInt64] = [:]
    public var stationInterrogations: UInt64 = 0
    public var groupInterrogations: UInt64 = 0
    public var counterInterrogations: UInt64 = 0
    /// Connections closed because t1 ran out.
    public var t1Timeouts: UInt64 = 0
    /// Fills of the k window that left data waiting.
    public var windowFull: UInt64 = 0
    /// TESTFR act frames the station sent (t3 probes) and received.
    public var testFramesSent: UInt64 = 0
    public var testFramesReceived: UInt64 = 0
    /// File transfers acknowledged by the master, and those that ended otherwise (broken off, refused, timed out).
    public var fileTransfersCompleted: UInt64 = 0
    public var fileTransfersFailed: UInt64 = 0

    public init() {}

    public var negativeConfirmations: UInt64 { negativeConfirmationsByCause.total }
    public var interrogations: UInt64 { stationInterrogations + groupInterrogations + counterInterrogations }

    mutating func countInterrogation(_ kind: InterrogationKind) {
        switch kind {
        case .station: stationInterrogations += 1
        case .group: groupInterrogations += 1
        case .counter: counterInterrogations += 1
        }
    }

    mutating func countSent(_ asdu: [UInt8]) {
        asdusSent += 1
        guard asdu.count > 2 else { return }
        let cause = Int(asdu[2] & 0x3F)
        asdusSentByCause.values[cause] &+= 1
        if asdu[2] & 0x40 != 0 { negativeConfirmationsByCause.values[cause] &+= 1 }
    }
}

/// A counter per protocol code (cause of transmission, type identification): a flat array, so that counting is
/// an index and the number of series stays bounded by the code's range.
public struct CodeCounts: Hashable, Sendable {
    public var values: [UInt64]

    public init(codes: Int) { values = Array(repeating: 0, count: codes) }

    public subscript(code: Int) -> UInt64 { values[code] }
    public var total: UInt64 { values.reduce(0, &+) }
    /// The codes counted at least once, with their counts.
    public var nonZero: [(code: Int, count: UInt64)] {
        values.indices.compactMap { values[$0] == 0 ? nil : ($0, values[$0]) }
    }
}

/// Which interrogation: station (C_IC_NA_1 QOI 20), group (QOI 21–36) or counter (C_CI_NA_1).
public enum InterrogationKind: String, Hashable, Sendable, CaseIterable {
    case station
    case group
    case counter
}

/// How a command ended: carried out, refused by its handler (negative ACTCON), or refused by the station before
/// any handler saw it (unknown point, a type the point does not take, the select-before-operate rules).
public enum CommandOutcome: String, Hashable, Sendable, CaseIterable {
    case success
    case failed
    case refused
}

public struct CommandOutcomeKey: Hashable, Sendable {
    /// The command's type identification, as received.
    public let typeID: UInt8
    public let outcome: CommandOutcome

    public init(typeID: UInt8, outcome: CommandOutcome) {
        self.typeID = typeID
        self.outcome = outcome
    }
}

/// A duration the station measured, for the owner's histograms.
public struct StationMeasurement: Sendable, Equatable {
    public enum Subject: Sendable, Equatable {
        /// From the request to the ACTTERM queued for sending.
        case interrogation(InterrogationKind)
        /// From the ACT to the command's last confirmation (ACTTERM, or the ACTCON when none follows), for commands
        /// that reached a handler (the built-in feedback handler included); refused ones are not timed.
        case command(typeID: UInt8)
    }

    public let station: String
    public let listener: String
    public let subject: Subject
    public let duration: Duration

    public init(station: String, listener: String, subject: Subject, duration: Duration) {
        self.station = station
        self.listener = listener
        self.subject = subject
        self.duration = duration
    }
}
