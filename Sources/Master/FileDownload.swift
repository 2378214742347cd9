public import IEC104

/// The controlling station's side of a file transfer in monitor direction (IEC 60870-5-101 clause 7.4.11.2):
/// select file, call file, call each section, collect its segments, acknowledge sections and file.
///
/// Sans I/O: it takes received ASDUs and the time, and returns ``Action``s — the owner sends, writes and
/// truncates. Octets are never kept here, only their count and sum, so a file of any length streams through.
/// Unrelated ASDUs (events, interrogation replies, spontaneous directories) are ignored.
public struct FileDownload: Sendable {
    public enum Action: Hashable, Sendable {
        /// Send this request to the station.
        case send(ASDU)
        /// Write these octets of the file at `offset`.
        case write(offset: UInt64, [UInt8])
        /// Drop every octet from `length` on: a section is offered again.
        case truncate(length: UInt64)
        /// The file arrived whole, its checksum and length checked.
        case done(Result)
        case failed(FileTransferError)
    }

    public struct Result: Hashable, Sendable {
        public var nameOfFile: UInt16
        public var length: UInt64
        /// CHS of the whole file.
        public var checksum: UInt8
        public var sections: Int

        public init(nameOfFile: UInt16, length: UInt64, checksum: UInt8, sections: Int) {
            self.nameOfFile = nameOfFile
            self.length = length
            self.checksum = checksum
            self.sections = sections
        }
    }

    public let commonAddress: UInt16
    public let address: UInt32
    /// The NOF asked for (0: any); after F_FR_NA_1, the file's own.
    public private(set) var nameOfFile: UInt16
    public let originator: UInt8
    /// Longest silence accepted between two steps of the transfer.
    public let timeout: Duration
    /// How often one section may fail its checksum before the transfer is given up.
    public static let maximumRetries = 3
    /// Until when to wait for the next reply; then call ``deadlineReached(now:)``.
    public private(set) var deadline: LinkInstant
    /// LOF of F_FR_NA_1, once known.
    public private(set) var lengthOfFile: UInt32?
    public var isFinished: Bool { if case .finished = state { true } else { false } }

    private enum State: Hashable, Sendable {
        case idle
        case selecting
        /// Waiting for F_SR_NA_1 (or, after the last section, F_LS_NA_1 LSQ=1).
        case awaitingSection
        case receiving(Section)
        case finished
    }

    private struct Section: Hashable, Sendable {
        var name: UInt8
        var length: UInt32
        /// Where the section starts in the file.
        var start: UInt64
        var received: UInt64 = 0
        var sum: UInt8 = 0
    }

    private var state: State = .idle
    /// Octets of the sections acknowledged so far, and their sum.
    private var committed: UInt64 = 0
    private var fileSum: UInt8 = 0
    private var sections = 0
    /// The section that failed its checksum last, and how often in a row.
    private var failedSection: UInt8?
    private var failures = 0

    public init(commonAddress: UInt16, address: UInt32, nameOfFile: UInt16 = 0, originator: UInt8 = 0,
                timeout: Duration = .seconds(10), now: LinkInstant) {
        self.commonAddress = commonAddress
        self.address = address
        self.nameOfFile = nameOfFile
        self.originator = originator
        self.timeout = timeout
        deadline = now + timeout
    }

    /// Selects the file (F_SC_NA_1 SCQ=1).
    public mutating func start(now: LinkInstant) -> [Action] {
        guard case .idle = state else { return [] }
        state = .selecting
        deadline = now + timeout
        return [.send(call(.selectFile))]
    }

    /// A received ASDU; ones of other addresses, types or causes return no action.
    public mutating func received(_ asdu: ASDU, now: LinkInstant) -> [Action] {
        guard asdu.commonAddress == commonAddress, let object = asdu.objects.first, object.address == address else {
            return []
        }
        switch state {
        case .idle, .finished: return []
        default: break
        }
        if asdu.typeID == .F_SC_NA_1 || asdu.typeID == .F_AF_NA_1 {
            // Our own request mirrored: the station refuses it.
            guard asdu.cause.isNegative || (44...47).contains(asdu.cause.cause.rawValue) else { return [] }
            return fail(.refused(step: step(of: asdu), cause: asdu.cause.cause), deactivate: false)
        }
        guard asdu.cause.cause == .fileTransfer else { return [] }
        switch object.element {
        case .fileReady(let ready): return fileReady(ready, now: now)
        case .sectionReady(let ready): return sectionReady(ready, now: now)
        case .segment(let segment): return segmentReceived(segment, now: now)
        case .lastSection(let last): return lastSection(last, now: now)
        default: return []
        }
    }

    /// No reply came before ``deadline``: the transfer is given up (and deactivated at the station).
    public mutating func deadlineReached(now: LinkInstant) -> [Action] {
        guard now >= deadline else { return [] }
        let waiting: String
        switch state {
        case .idle, .finished: return []
        case .selecting: waiting = "F_FR_NA_1 (file ready)"
        case .awaitingSection: waiting = sections == 0 && failedSection == nil
            ? "F_SR_NA_1 (section ready)" : "the next F_SR_NA_1 (section ready) or F_LS_NA_1 (last section)"
        case .receiving(let section): waiting = "the segments of section \(section.name)"
        }
        return fail(.timeout(timeout, waitingFor: waiting), deactivate: true)
    }

    /// The owner gives up (e.g. it cannot write the file): deactivates the transfer at the station.
    public mutating func cancel() -> [Action] {
        let selected: Bool
        switch state {
        case .idle, .selecting, .finished: selected = false
        case .awaitingSection, .receiving: selected = true
        }
        state = .finished
        return selected ? [.send(call(.deactivateFile))] : []
    }

    // MARK: Steps

    private mutating func fileReady(_ ready: FileReady, now: LinkInstant) -> [Action] {
        guard case .selecting = state else { return [] }
        if ready.qualifier.isNegative { return fail(.fileNotReady, deactivate: false) }
        if nameOfFile != 0, ready.nameOfFile != nameOfFile {
            return fail(.unexpectedNameOfFile(requested: nameOfFile, offered: ready.nameOfFile), deactivate: true)
        }
        nameOfFile = ready.nameOfFile
        lengthOfFile = ready.lengthOfFile
        state = .awaitingSection
        deadline = now + timeout
        return [.send(call(.requestFile))]
    }

    private mutating func sectionReady(_ ready: SectionReady, now: LinkInstant) -> [Action] {
        guard ready.nameOfFile == nameOfFile else { return [] }
        guard case .awaitingSection = state else {
            return fail(.protocolViolation("F_SR_NA_1 for section \(ready.nameOfSection) in the middle of a section"),
                        deactivate: true)
        }
        if ready.qualifier.isNegative { return fail(.sectionNotReady(section: ready.nameOfSection), deactivate: true) }
        deadline = now + timeout
        if ready.lengthOfSection == 0 {
            // Nothing to call: skip it with a negative call section, as lib60870-C's masters do.
            var skip = call(.requestSection, section: ready.nameOfSection)
            skip.cause.isNegative = true
            return [.send(skip)]
        }
        if failedSection != ready.nameOfSection {
            failedSection = nil
            failures = 0
        }
        state = .receiving(Section(name: ready.nameOfSection, length: ready.lengthOfSection, start: committed))
        return [.send(call(.requestSection, section: ready.nameOfSection))]
    }

    private mutating func segmentReceived(_ segment: FileSegment, now: LinkInstant) -> [Action] {
        guard segment.nameOfFile == nameOfFile, case .receiving(var section) = state else { return [] }
        guard segment.nameOfSection == section.name else {
            return fail(.protocolViolation("a segment of section \(segment.nameOfSection) while receiving section \(section.name)"),
                        deactivate: true)
        }
        let offset = section.start + section.received
        section.received += UInt64(segment.data.count)
        guard section.received <= UInt64(section.length) else {
            return fail(.protocolViolation("section \(section.name) is \(section.length) octets long (LOF), "
                                           + "but \(section.received) came"), deactivate: true)
        }
        if let lengthOfFile, section.start + section.received > UInt64(lengthOfFile) {
            return fail(.fileLength(announced: lengthOfFile, received: section.start + section.received), deactivate: true)
        }
        section.sum = fileChecksum(segment.data, adding: section.sum)
        state = .receiving(section)
        deadline = now + timeout
        return segment.data.isEmpty ? [] : [.write(offset: offset, segment.data)]
    }

    private mutating func lastSection(_ last: LastSection, now: LinkInstant) -> [Action] {
        guard last.nameOfFile == nameOfFile else { return [] }
        switch last.qualifier {
        case .fileTransferWithDeactivation, .sectionTransferWithDeactivation:
            return fail(.aborted(last.qualifier), deactivate: false)
        case .sectionTransferWithoutDeactivation:
            guard case .receiving(let section) = state, section.name == last.nameOfSection else {
                return fail(.protocolViolation("last segment of section \(last.nameOfSection), which was not called"),
                            deactivate: true)
            }
            deadline = now + timeout
            state = .awaitingSection
            if section.sum == last.checksum, section.received == UInt64(section.length) {
                committed += section.received
                fileSum &+= section.sum
                sections += 1
                failedSection = nil
                failures = 0
                return [.send(acknowledge(.positiveSection, section: section.name))]
            }
            failures = failedSection == section.name ? failures + 1 : 1
            failedSection = section.name
            var actions: [Action] = [.truncate(length: section.start)]
            if failures > Self.maximumRetries {
                actions.append(.send(acknowledge(.negativeSection, section: section.name, cause: .checksumFailed)))
                return actions + fail(.sectionChecksum(section: section.name, attempts: failures), deactivate: true)
            }
            actions.append(.send(acknowledge(.negativeSection, section: section.name, cause: .checksumFailed)))
            return actions
        case .fileTransferWithoutDeactivation:
            guard case .awaitingSection = state else {
                return fail(.protocolViolation("last section (LSQ=1) in the middle of section transfer"), deactivate: true)
            }
            if let lengthOfFile, committed != UInt64(lengthOfFile) {
                return [.send(acknowledge(.negativeFile, section: last.nameOfSection, cause: .checksumFailed))]
                    + fail(.fileLength(announced: lengthOfFile, received: committed), deactivate: false)
            }
            if last.checksum != fileSum {
                return [.send(acknowledge(.negativeFile, section: last.nameOfSection, cause: .checksumFailed))]
                    + fail(.fileChecksum(expected: last.checksum, computed: fileSum), deactivate: false)
            }
            state = .finished
            return [.send(acknowledge(.positiveFile, section: last.nameOfSection)),
                    .done(Result(nameOfFile: nameOfFile, length: committed, checksum: fileSum, sections: sections))]
        default:
            return fail(.protocolViolation("F_LS_NA_1 with LSQ=\(last.qualifier.rawValue), which the standard reserves"),
                        deactivate: true)
        }
    }

    // MARK: Requests

    private mutating func fail(_ error: FileTransferError, deactivate: Bool) -> [Action] {
        // Deactivate file (SCQ=3) so that the station drops the transfer now rather than after its own timeout.
        let deactivation = cancel()
        return (deactivate ? deactivation : []) + [.failed(error)]
    }

    private func call(_ action: SelectCallQualifier.Action, section: UInt8 = 0) -> ASDU {
        ASDU(cause: CauseOfTransmission(.fileTransfer, originator: originator), commonAddress: commonAddress,
             address: address, element: .fileCall(FileCall(nameOfFile: nameOfFile, nameOfSection: section,
                                                          qualifier: SelectCallQualifier(action))))
    }

    private func acknowledge(_ action: AcknowledgeQualifier.Action, section: UInt8,
                             cause: FileErrorCause = .none) -> ASDU {
        ASDU(cause: CauseOfTransmission(.fileTransfer, originator: originator), commonAddress: commonAddress,
             address: address, element: .fileAcknowledgement(FileAcknowledgement(
                nameOfFile: nameOfFile, nameOfSection: section, qualifier: AcknowledgeQualifier(action, cause: cause))))
    }

    /// What a mirrored request of ours asked for, for the operator.
    private func step(of asdu: ASDU) -> String {
        switch asdu.objects.first?.element {
        case .fileCall(let call): call.qualifier.action.name + " (F_SC_NA_1)"
        case .fileAcknowledgement(let ack): ack.qualifier.action.name + " (F_AF_NA_1)"
        default: asdu.typeID.mnemonic
        }
    }
}
