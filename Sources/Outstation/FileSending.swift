public import IEC104

/// The owner's read of one section, asked for with ``StationAction/readFileSection(_:)``.
public struct FileSectionRead: Sendable, Hashable {
    public let station: String
    /// Matches the answer to the transfer that asked; a transfer that ended meanwhile ignores it.
    public let transfer: UInt64
    public let file: CatalogFile
    public let section: Int
    public let offset: Int
    public let length: Int
}

/// What the owner found when it read a section.
public enum FileReadResult: Sendable, Equatable {
    case data([UInt8])
    /// The file is not the one selected any more (size, modification time or inode differ) or is gone.
    case changed(String)
    case failed(String)
}

/// How a transfer ended, for the log.
public enum FileTransferOutcome: Sendable, Equatable {
    case completed(octets: Int, duration: Duration)
    case deleted
    /// Broken off by the outstation (F_LS_NA_1 "file transfer with deactivation").
    case brokenOff(String)
    /// The master ended it (negative acknowledgement, deactivation, a new select, a closed connection).
    case endedByMaster(String)
    case timedOut
}

/// The sending side of one file transfer, IEC 60870-5-101 clause 7.4.11 in monitor direction: select, call
/// file, section ready, call section, segments, last segment with the section's checksum, section acknowledged,
/// and the last section with the file's checksum. A value without I/O: section data comes in through
/// ``sectionRead(_:transfer:now:)``; segments leave through ``nextSegment()`` when the station has room.
struct FileSending {
    enum Phase: Equatable {
        /// F_FR_NA_1 sent; waits for call file (or delete, deactivate).
        case selected
        /// F_SR_NA_1 sent; waits for call section.
        case sectionOffered(Int)
        /// The owner reads the section.
        case reading(Int)
        /// Segments go out through ``nextSegment()``.
        case sending(Int)
        case awaitingSectionAck(Int)
        case awaitingFileAck
    }

    /// Sections a master may refuse (negative acknowledgement) before the transfer is broken off.
    static let retryLimit = 3
    /// A transfer with no step from the master for this long is dropped.
    static let idleLimit: Duration = .seconds(30)
    /// The most a transfer holds in memory: a section is read in pieces of this size (a whole number of segments,
    /// about 64 KiB), however large `section_size` is.
    static let readPiece = FileSegment.maximumLength * 277

    let file: CatalogFile
    let id: UInt64
    let originator: UInt8
    let startedAt: LinkInstant
    private(set) var phase: Phase = .selected
    private(set) var lastStep: LinkInstant
    /// The piece of the current section in memory, and how much of it went out as segments.
    private var data: [UInt8] = []
    private var sent = 0
    /// Octets of the current section read so far, and the piece asked for and not yet read.
    private var sectionRead = 0
    private var requested: (offset: Int, length: Int)?
    private var pendingRead: (offset: Int, length: Int)?
    private var sectionChecksum: UInt8 = 0
    private var fileChecksum: UInt8 = 0
    private var octetsAcknowledged = 0
    private var retries = 0

    init(file: CatalogFile, id: UInt64, originator: UInt8, now: LinkInstant) {
        self.file = file
        self.id = id
        self.originator = originator
        self.startedAt = now
        self.lastStep = now
    }

    var deadline: LinkInstant { lastStep + Self.idleLimit }
    var hasSegmentToSend: Bool { if case .sending = phase { true } else { false } }

    enum Output: Equatable {
        case reply([UInt8])
        case read(section: Int, offset: Int, length: Int)
        case delete
        case finished(FileTransferOutcome)
        /// The step does not fit the transfer's state: the request goes back negative (COT 13, P/N=1).
        case unexpected(String)
    }

    // MARK: Replies

    private var nameOfFile: UInt16 { file.nameOfFile }
    private var cause: CauseOfTransmission { CauseOfTransmission(.fileTransfer, originator: originator) }

    private func encode(_ element: InformationElement) -> [UInt8] {
        let asdu = ASDU(cause: cause, commonAddress: file.address.commonAddress, address: file.address.objectAddress,
                        element: element)
        return (try? asdu.encoded()) ?? []
    }

    func fileReady() -> [UInt8] {
        encode(.fileReady(FileReady(nameOfFile: nameOfFile, lengthOfFile: UInt32(clamping: file.size),
                                    qualifier: FileReadyQualifier(negative: false))))
    }

    private func sectionReady(_ section: Int) -> [UInt8] {
        let length = file.section(section)?.length ?? 0
        return encode(.sectionReady(SectionReady(nameOfFile: nameOfFile, nameOfSection: UInt8(clamping: section),
                                                 lengthOfSection: UInt32(clamping: length),
                                                 qualifier: FileReadyQualifier(negative: false))))
    }

    private func lastSection(_ section: Int, _ qualifier: LastSectionQualifier, checksum: UInt8) -> [UInt8] {
        encode(.lastSection(LastSection(nameOfFile: nameOfFile, nameOfSection: UInt8(clamping: section),
                                        qualifier: qualifier, checksum: checksum)))
    }

    private func acknowledgement(_ qualifier: AcknowledgeQualifier) -> [UInt8] {
        encode(.fileAcknowledgement(FileAcknowledgement(nameOfFile: nameOfFile, nameOfSection: 0, qualifier: qualifier)))
    }

    // MARK: The master's steps

    /// F_SC_NA_1 with COT 13 for this file. `negative`: the request's P/N bit (a skipped section).
    mutating func call(_ call: FileCall, negative: Bool, now: LinkInstant) -> [Output] {
        lastStep = now
        switch (call.qualifier.action, phase) {
        case (.requestFile, .selected):
            return offer(section: 1)
        case (.requestSection, .sectionOffered(let offered)) where Int(call.nameOfSection) == offered:
            if negative { return next(after: offered) }
            guard file.section(offered) != nil else { return [.unexpected("section \(offered) does not exist")] }
            phase = .reading(offered)
            sectionRead = 0
            sectionChecksum = 0
            return [nextPiece(of: offered)]
        case (.requestSection, .sectionOffered(let offered)):
            return [.unexpected("call of section \(call.nameOfSection) where section \(offered) is offered")]
        case (.deleteFile, .selected):
            guard file.allowDelete else {
                return [.reply(acknowledgement(AcknowledgeQualifier(.negativeFile, cause: .unexpectedService))),
                        .finished(.endedByMaster("delete refused: allow_delete is off"))]
            }
            return [.delete]
        case (.deactivateFile, _), (.deactivateSection, _):
            return [.finished(.endedByMaster("deactivated by the master"))]
        default:
            return [.unexpected("\(call.qualifier.action.name) while \(phaseText)")]
        }
    }

    /// F_AF_NA_1 for this file.
    mutating func acknowledge(_ ack: FileAcknowledgement, now: LinkInstant) -> [Output] {
        lastStep = now
        switch (ack.qualifier.action, phase) {
        case (.positiveSection, .awaitingSectionAck(let section)) where Int(ack.nameOfSection) == section:
            fileChecksum &+= sectionChecksum
            octetsAcknowledged += sectionRead
            data = []
            retries = 0
            return next(after: section)
        case (.negativeSection, .awaitingSectionAck(let section)) where Int(ack.nameOfSection) == section:
            retries += 1
            guard retries <= Self.retryLimit else {
                return breakOff("the master refused section \(section) \(retries) times (\(ack.qualifier.cause.name))")
            }
            data = []
            return offer(section: section)
        case (.positiveFile, .awaitingFileAck):
            return [.finished(.completed(octets: octetsAcknowledged, duration: now.duration(since: startedAt)))]
        case (.negativeFile, _):
            return [.finished(.endedByMaster("negative acknowledgement of the file (\(ack.qualifier.cause.name))"))]
        default:
            return [.unexpected("\(ack.qualifier.action.name) while \(phaseText)")]
        }
    }

    /// The owner read the section asked for.
    mutating func sectionRead(_ result: FileReadResult, now: LinkInstant) -> [Output] {
        guard case .reading(let section) = phase, let piece = requested else { return [] }
        requested = nil
        switch result {
        case .data(let octets):
            guard octets.count == piece.length else {
                return breakOff("section \(section) read \(octets.count) octets where \(piece.length) were asked for, "
                    + "the file changed")
            }
            data = octets
            sent = 0
            sectionRead += octets.count
            sectionChecksum = IEC104.fileChecksum(octets, adding: sectionChecksum)
            phase = .sending(section)
            return []
        case .changed(let reason):
            return breakOff("the file changed during the transfer: \(reason)")
        case .failed(let reason):
            return breakOff("reading the file failed: \(reason)")
        }
    }

    /// The next segment, or after the last one the F_LS_NA_1 "last segment" with the section's checksum.
    mutating func nextSegment() -> [UInt8]? {
        guard case .sending(let section) = phase else { return nil }
        guard sent < data.count else {
            if sectionRead < file.section(section)?.length ?? 0 {
                // The piece went out; the next one is read before the section goes on.
                phase = .reading(section)
                if case .read(_, let offset, let length) = nextPiece(of: section) { pendingRead = (offset, length) }
                return nil
            }
            phase = .awaitingSectionAck(section)
            return lastSection(section, .sectionTransferWithoutDeactivation, checksum: sectionChecksum)
        }
        let end = min(sent + FileSegment.maximumLength, data.count)
        let segment = FileSegment(nameOfFile: nameOfFile, nameOfSection: UInt8(clamping: section), data: Array(data[sent..<end]))
        sent = end
        return encode(.segment(segment))
    }

    /// The directory scan found the file changed or gone.
    mutating func fileChanged() -> [Output] {
        breakOff("the file changed during the transfer")
    }

    mutating func timeout(now: LinkInstant) -> [Output] {
        guard now >= deadline else { return [] }
        return [.finished(.timedOut)]
    }

    // MARK: Steps of the outstation

    private mutating func offer(section: Int) -> [Output] {
        phase = .sectionOffered(section)
        return [.reply(sectionReady(section))]
    }

    private mutating func next(after section: Int) -> [Output] {
        if section < file.sectionCount { return offer(section: section + 1) }
        phase = .awaitingFileAck
        return [.reply(lastSection(section, .fileTransferWithoutDeactivation, checksum: fileChecksum))]
    }

    private mutating func breakOff(_ reason: String) -> [Output] {
        let section = switch phase {
        case .sectionOffered(let n), .reading(let n), .sending(let n), .awaitingSectionAck(let n): n
        default: 0
        }
        return [.reply(lastSection(section, .fileTransferWithDeactivation, checksum: fileChecksum)),
                .finished(.brokenOff(reason))]
    }

    /// The read of the next piece of `section`, remembered so that only its answer is taken.
    private mutating func nextPiece(of section: Int) -> Output {
        let range = file.section(section) ?? (offset: 0, length: 0)
        let piece = (offset: range.offset + sectionRead, length: min(Self.readPiece, range.length - sectionRead))
        requested = piece
        return .read(section: section, offset: piece.offset, length: piece.length)
    }

    /// A read that ``nextSegment()`` found due when a piece of a section had gone out: the owner asks for it
    /// when the step ends.
    mutating func takePendingRead() -> Output? {
        guard let piece = pendingRead, case .reading(let section) = phase else { return nil }
        pendingRead = nil
        return .read(section: section, offset: piece.offset, length: piece.length)
    }

    private var phaseText: String {
        switch phase {
        case .selected: "the file is selected"
        case .sectionOffered(let n): "section \(n) is offered"
        case .reading(let n), .sending(let n): "section \(n) is being sent"
        case .awaitingSectionAck(let n): "section \(n) awaits its acknowledgement"
        case .awaitingFileAck: "the file awaits its acknowledgement"
        }
    }
}
