import IEC104
@testable import Master

/// A scripted file server for one file, answering the master's requests the way clause 7.4.11.2 (and
/// rtu104d's design) has it: F_FR_NA_1, F_SR_NA_1 per section, segments of at most 236 octets, F_LS_NA_1.
struct ScriptedFileServer {
    let ca: UInt16
    let ioa: UInt32
    let nof: UInt16
    let data: [UInt8]
    let sectionSize: Int
    /// Section (NOS) → how many more times to send a wrong CHS for it.
    var corrupt: [UInt8: Int] = [:]
    /// Send an event, an interrogated point and a spontaneous directory before every reply.
    var interleaveEvents = false
    /// Replace the CHS of the last section (LSQ=1) with this.
    var fileChecksumOverride: UInt8?

    private(set) var section: UInt8 = 0
    private(set) var skipped: [UInt8] = []
    private(set) var sectionCalls: [UInt8] = []
    private(set) var sectionAcks: [AcknowledgeQualifier] = []
    private(set) var fileAck: AcknowledgeQualifier?
    private(set) var deactivated = false

    init(ca: UInt16 = 47, ioa: UInt32 = 30001, nof: UInt16 = 1, data: [UInt8], sectionSize: Int = 1024) {
        self.ca = ca
        self.ioa = ioa
        self.nof = nof
        self.data = data
        self.sectionSize = sectionSize
    }

    var sectionCount: Int { max(1, (data.count + sectionSize - 1) / sectionSize) }

    func sectionData(_ nos: UInt8) -> ArraySlice<UInt8> {
        let start = (Int(nos) - 1) * sectionSize
        return data[min(start, data.count)..<min(start + sectionSize, data.count)]
    }

    func reply(_ element: InformationElement, cause: Cause = .fileTransfer) -> ASDU {
        ASDU(cause: CauseOfTransmission(cause), commonAddress: ca, address: ioa, element: element)
    }

    static func event(ca: UInt16 = 47) -> ASDU {
        ASDU(cause: CauseOfTransmission(.spontaneous), commonAddress: ca, address: 30001,
             element: .singlePoint(SinglePointInformation(isOn: true)))
    }

    func spontaneousDirectory() -> ASDU {
        ASDU(cause: CauseOfTransmission(.spontaneous), commonAddress: ca, address: ioa,
             element: .directoryEntry(DirectoryEntry(nameOfFile: nof, lengthOfFile: UInt32(data.count),
                                                     status: FileStatus(lastFileOfDirectory: true, transferActive: true),
                                                     time: CP56Time2a(unixMilliseconds: 0))))
    }

    private func offer(_ nos: UInt8) -> ASDU {
        reply(.sectionReady(SectionReady(nameOfFile: nof, nameOfSection: nos,
                                         lengthOfSection: UInt32(sectionData(nos).count),
                                         qualifier: FileReadyQualifier(negative: false))))
    }

    private func nextSectionOrEnd() -> ASDU {
        if Int(section) < sectionCount { return offer(section + 1) }
        return reply(.lastSection(LastSection(nameOfFile: nof, nameOfSection: section,
                                              qualifier: .fileTransferWithoutDeactivation,
                                              checksum: fileChecksumOverride ?? fileChecksum(data))))
    }

    mutating func handle(_ request: ASDU) -> [ASDU] {
        var replies = handleRequest(request)
        if interleaveEvents, !replies.isEmpty {
            // An event, a point of an interrogation, a spontaneous directory: none of them is part of the transfer.
            var interrogated = Self.event(ca: ca)
            interrogated.cause = CauseOfTransmission(.interrogatedByStation)
            replies.insert(contentsOf: [Self.event(ca: ca), interrogated, spontaneousDirectory()], at: 0)
        }
        return replies
    }

    private mutating func handleRequest(_ request: ASDU) -> [ASDU] {
        guard request.commonAddress == ca, let object = request.objects.first, object.address == ioa else { return [] }
        switch object.element {
        case .fileCall(let call):
            switch call.qualifier.action {
            case .selectFile:
                return [reply(.fileReady(FileReady(nameOfFile: nof, lengthOfFile: UInt32(data.count),
                                                   qualifier: FileReadyQualifier(negative: false))))]
            case .requestFile:
                section = 0
                return [offer(1)]
            case .requestSection:
                if request.cause.isNegative {
                    skipped.append(call.nameOfSection)
                    section = call.nameOfSection
                    return [nextSectionOrEnd()]
                }
                sectionCalls.append(call.nameOfSection)
                let octets = Array(sectionData(call.nameOfSection))
                var replies: [ASDU] = []
                var start = 0
                while start < octets.count {
                    let end = min(start + FileSegment.maximumLength, octets.count)
                    replies.append(reply(.segment(FileSegment(nameOfFile: nof, nameOfSection: call.nameOfSection,
                                                              data: Array(octets[start..<end])))))
                    start = end
                }
                var checksum = fileChecksum(octets)
                if let left = corrupt[call.nameOfSection], left > 0 {
                    corrupt[call.nameOfSection] = left - 1
                    checksum &+= 1
                }
                replies.append(reply(.lastSection(LastSection(nameOfFile: nof, nameOfSection: call.nameOfSection,
                                                              qualifier: .sectionTransferWithoutDeactivation,
                                                              checksum: checksum))))
                return replies
            case .deactivateFile:
                deactivated = true
                return []
            default:
                return []
            }
        case .fileAcknowledgement(let ack):
            switch ack.qualifier.action {
            case .positiveSection:
                sectionAcks.append(ack.qualifier)
                section = ack.nameOfSection
                return [nextSectionOrEnd()]
            case .negativeSection:
                sectionAcks.append(ack.qualifier)
                return [offer(ack.nameOfSection)]
            case .positiveFile, .negativeFile:
                fileAck = ack.qualifier
                return []
            default:
                return []
            }
        default:
            return []
        }
    }
}

/// What a download left behind: the file as written, the last action, every request sent.
struct DownloadRun {
    var file: [UInt8] = []
    var outcome: FileDownload.Action?
    var sent: [ASDU] = []
    var truncations = 0
}

/// Runs `download` against `respond` until it is done, failed or waits for a reply that does not come.
func drive(_ download: inout FileDownload, clock: inout ManualClock,
           respond: (ASDU) -> [ASDU]) -> DownloadRun {
    var run = DownloadRun()
    var inbox: [ASDU] = []
    var actions = download.start(now: clock.now)
    while true {
        for action in actions {
            switch action {
            case .send(let asdu):
                run.sent.append(asdu)
                inbox += respond(asdu)
            case .write(let offset, let bytes):
                let start = Int(offset)
                if run.file.count < start + bytes.count {
                    run.file += [UInt8](repeating: 0, count: start + bytes.count - run.file.count)
                }
                run.file.replaceSubrange(start..<start + bytes.count, with: bytes)
            case .truncate(let length):
                run.truncations += 1
                run.file.removeSubrange(Int(length)...)
            case .done, .failed:
                run.outcome = action
            }
        }
        if run.outcome != nil || inbox.isEmpty { return run }
        clock.advance(.milliseconds(1))
        actions = download.received(inbox.removeFirst(), now: clock.now)
    }
}

/// Deterministic test octets.
func octets(_ count: Int, seed: UInt32 = 7) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 1_103_515_245 &+ 12_345
        return UInt8(truncatingIfNeeded: state >> 16)
    }
}
