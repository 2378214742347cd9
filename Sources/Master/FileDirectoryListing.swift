public import IEC104

/// Call directory (IEC 60870-5-101 clause 7.4.11.1): F_SC_NA_1 COT 5 (request), SCQ=0, and the F_DR_TA_1
/// entries the station answers with, COT 5, until the entry with LFD set.
///
/// For the broadcast common address every served CA answers with its own directory (LFD on its last entry),
/// so after each LFD the listing waits ``quietPeriod`` for another CA before it ends. A CA without files answers
/// with the request mirrored with P/N=1 (an empty directory). Sans I/O like ``FileDownload``.
public struct FileDirectoryListing: Sendable {
    public enum Action: Hashable, Sendable {
        case send(ASDU)
        case done([Entry])
        case failed(FileTransferError)
    }

    /// One file of one common address.
    public struct Entry: Hashable, Sendable {
        public var commonAddress: UInt16
        public var address: UInt32
        public var entry: DirectoryEntry

        public init(commonAddress: UInt16, address: UInt32, entry: DirectoryEntry) {
            self.commonAddress = commonAddress
            self.address = address
            self.entry = entry
        }
    }

    public let commonAddress: UInt16
    public let originator: UInt8
    public let timeout: Duration
    public let quietPeriod: Duration
    public private(set) var deadline: LinkInstant
    public private(set) var entries: [Entry] = []
    public private(set) var isFinished = false
    private var started = false
    /// A broadcast call: some CA completed its directory, and the listing ends at ``deadline`` unless more come.
    private var settling = false
    /// The common addresses whose directory ended (LFD or empty).
    public private(set) var completed: Set<UInt16> = []

    public var isBroadcast: Bool { commonAddress == ASDU.broadcastAddress }

    public init(commonAddress: UInt16 = ASDU.broadcastAddress, originator: UInt8 = 0, timeout: Duration = .seconds(10),
                quietPeriod: Duration = .milliseconds(500), now: LinkInstant) {
        self.commonAddress = commonAddress
        self.originator = originator
        self.timeout = timeout
        self.quietPeriod = quietPeriod
        deadline = now + timeout
    }

    /// The request: F_SC_NA_1, COT 5, IOA 0, SCQ=0.
    public var request: ASDU {
        ASDU(cause: CauseOfTransmission(.request, originator: originator), commonAddress: commonAddress, address: 0,
             element: .fileCall(FileCall(nameOfFile: 0, qualifier: SelectCallQualifier(.default))))
    }

    public mutating func start(now: LinkInstant) -> [Action] {
        guard !started else { return [] }
        started = true
        deadline = now + timeout
        return [.send(request)]
    }

    public mutating func received(_ asdu: ASDU, now: LinkInstant) -> [Action] {
        guard started, !isFinished else { return [] }
        guard isBroadcast || asdu.commonAddress == commonAddress else { return [] }
        if asdu.typeID == .F_SC_NA_1 {
            guard let refusal = FileTransferError.refusal(asdu, of: request, step: "call directory (F_SC_NA_1)") else {
                return []
            }
            if asdu.cause.cause == .request {
                // Mirrored with P/N=1 and COT 5: this CA has no files.
                completed.insert(asdu.commonAddress)
                return directoryEnded(now: now)
            }
            if isBroadcast, !entries.isEmpty || !completed.isEmpty { return [] }
            isFinished = true
            return [.failed(refusal)]
        }
        // Only the answer to the call (COT 5); spontaneous directories (COT 3) are another matter.
        guard asdu.typeID == .F_DR_TA_1, asdu.cause.cause == .request, !asdu.cause.isNegative else { return [] }
        var last = false
        for object in asdu.objects {
            guard case .directoryEntry(let entry) = object.element else { continue }
            entries.append(Entry(commonAddress: asdu.commonAddress, address: object.address, entry: entry))
            if entry.status.isLastFileOfDirectory { last = true }
        }
        if last {
            completed.insert(asdu.commonAddress)
            return directoryEnded(now: now)
        }
        deadline = now + (settling ? quietPeriod : timeout)
        return []
    }

    /// Nothing came before ``deadline``.
    public mutating func deadlineReached(now: LinkInstant) -> [Action] {
        guard started, !isFinished, now >= deadline else { return [] }
        isFinished = true
        if settling { return [.done(entries)] }
        return [.failed(.timeout(timeout, waitingFor: entries.isEmpty
            ? "the directory (F_DR_TA_1)" : "the rest of the directory (the entry with LFD set)"))]
    }

    private mutating func directoryEnded(now: LinkInstant) -> [Action] {
        if !isBroadcast {
            isFinished = true
            return [.done(entries)]
        }
        settling = true
        deadline = now + quietPeriod
        return []
    }
}
