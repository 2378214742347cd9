import Testing
import IEC104
@testable import Outstation
import TestSupport

/// A `[files]` area on CA 47, IOA 30001-30020, sections of 1024 octets, and files "on disk" that the test hands the
/// outstation through scans and reads, as the server shell does.
private final class FileScenario {
    let harness: Harness
    let id: ConnectionID
    let area: FileArea
    /// The disk: file name → content.
    var disk: [String: [UInt8]] = [:]
    var modified: [String: Int64] = [:]
    /// Reads the station asked for and the test has not answered.
    private var answered = 0

    init(allowDelete: Bool = false, range: ClosedRange<UInt32> = 30001...30020,
         points: [MonitorPointDefinition] = []) throws {
        area = FileArea(name: "records", directory: "/data/records", commonAddress: 47, objectAddresses: range,
                        nameOfFile: 7, sectionSize: 1024, allowDelete: allowDelete)
        harness = Harness(points: points, fileAreas: [area])
        id = harness.connect().id
        try harness.startDataTransfer(on: id)
    }

    /// A scenario whose master has seen the spontaneous directory listing one file.
    static func listing(allowDelete: Bool = false, points: [MonitorPointDefinition] = [], _ name: String,
                        _ content: [UInt8]) throws -> FileScenario {
        let scenario = try FileScenario(allowDelete: allowDelete, points: points)
        scenario.put(name, content)
        scenario.scan()
        _ = try scenario.harness.exchange(on: scenario.id)
        return scenario
    }

    /// Select file, then call file: what the outstation answered to the call.
    func selectAndCallFile(_ ioa: UInt32) throws -> [ASDU] {
        _ = try call(ioa, .selectFile)
        return try call(ioa, .requestFile)
    }

    func put(_ name: String, _ content: [UInt8], modified time: Int64? = nil) {
        disk[name] = content
        modified[name] = time ?? (modified[name].map { $0 + 1 } ?? Int64(disk.count))
    }

    func identity(_ name: String) -> FileIdentity {
        FileIdentity(device: 1, inode: UInt64(abs(name.hashValue) % 100_000), size: disk[name]?.count ?? 0,
                     modifiedNanoseconds: (modified[name] ?? 0) * 1_000_000_000)
    }

    @discardableResult
    func scan() -> CatalogChange? {
        let files = disk.keys.map { ScannedFile(name: $0, identity: identity($0)) }
        let (change, actions) = harness.outstation.applyFileScan(files, area: "records", now: harness.now)
        for (station, stationActions) in actions { harness.execute(stationActions, of: station) }
        return change
    }

    /// Answers every read the station asked for from the disk, as the shell's file thread does.
    func serveReads(_ result: ((FileSectionRead) -> FileReadResult)? = nil) {
        while answered < harness.actions.count {
            let action = harness.actions[answered]
            answered += 1
            guard case .readFileSection(let read) = action else { continue }
            let outcome = result?(read) ?? {
                guard let content = disk[read.file.name] else { return .changed("it was removed") }
                guard identity(read.file.name) == read.file.identity else { return .changed("it was modified") }
                return .data(Array(content[read.offset..<(read.offset + read.length)]))
            }()
            if let (station, actions) = harness.outstation.fileSectionRead(read, result: outcome, now: harness.now) {
                harness.execute(actions, of: station)
            }
        }
    }

    func call(_ ioa: UInt32, _ action: SelectCallQualifier.Action, section: UInt8 = 0, nameOfFile: UInt16 = 0,
              negative: Bool = false, cause: Cause = .fileTransfer) throws -> [ASDU] {
        let asdu = ASDU(cause: CauseOfTransmission(cause, isNegative: negative), commonAddress: 47, address: ioa,
                        element: .fileCall(FileCall(nameOfFile: nameOfFile, nameOfSection: section,
                                                    qualifier: SelectCallQualifier(action))))
        try harness.request(asdu, on: id)
        serveReads()
        return try harness.exchange(on: id)
    }

    func acknowledge(_ ioa: UInt32, _ action: AcknowledgeQualifier.Action, section: UInt8,
                     cause: FileErrorCause = .none) throws -> [ASDU] {
        let asdu = ASDU(cause: CauseOfTransmission(.fileTransfer), commonAddress: 47, address: ioa,
                        element: .fileAcknowledgement(FileAcknowledgement(nameOfFile: 7, nameOfSection: section,
                                                                          qualifier: AcknowledgeQualifier(action, cause: cause))))
        try harness.request(asdu, on: id)
        serveReads()
        return try harness.exchange(on: id)
    }

    /// A master that fetches the whole file the way the standard's sequence goes; returns the octets and every
    /// ASDU that was not part of the transfer (events).
    func fetch(_ ioa: UInt32) throws -> (content: [UInt8], others: [ASDU]) {
        var others: [ASDU] = []
        var replies = try call(ioa, .selectFile)
        guard case .fileReady(let ready) = try #require(replies.first(where: { $0.typeID == .F_FR_NA_1 })).objects[0].element
        else { throw FileScenarioError.unexpected("no file ready") }
        #expect(!ready.qualifier.isNegative)
        replies = try call(ioa, .requestFile)
        var content: [UInt8] = []
        var fileSum: UInt8 = 0
        while true {
            others += replies.filter { !$0.typeID.isFileTransfer }
            let transfer = replies.filter(\.typeID.isFileTransfer)
            guard let last = transfer.last else { throw FileScenarioError.unexpected("no reply") }
            switch last.objects[0].element {
            case .sectionReady(let section):
                replies = try call(ioa, .requestSection, section: section.nameOfSection)
            case .lastSection(let last) where last.qualifier == .sectionTransferWithoutDeactivation:
                let data = transfer.compactMap { asdu -> [UInt8]? in
                    if case .segment(let segment) = asdu.objects[0].element { return segment.data }
                    return nil
                }.flatMap { $0 }
                #expect(fileChecksum(data) == last.checksum)
                content += data
                fileSum &+= last.checksum
                replies = try acknowledge(ioa, .positiveSection, section: last.nameOfSection)
            case .lastSection(let last) where last.qualifier == .fileTransferWithoutDeactivation:
                #expect(last.checksum == fileSum)
                #expect(content.count == Int(ready.lengthOfFile))
                others += try acknowledge(ioa, .positiveFile, section: 0)
                return (content, others)
            default:
                throw FileScenarioError.unexpected("unexpected \(last.typeID.mnemonic)")
            }
        }
    }

    var notices: [String] {
        harness.actions.compactMap { action in
            switch action {
            case .notice(let text), .warning(let text): text
            default: nil
            }
        }
    }
}

private enum FileScenarioError: Error {
    case unexpected(String)
}

private func octets(_ count: Int, seed: Int = 3) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &+ ($0 >> 8)) }
}

@Suite("File transfer, outstation side (clause 7.4.11)")
struct FileTransferTests {
    @Test("files of every shape arrive whole, with section and file checksums",
          arguments: [0, 1, 236, 237, 1023, 1024, 1025, 3 * 1024 + 500])
    func wholeFile(size: Int) throws {
        let scenario = try FileScenario()
        scenario.put("record.dat", octets(size))
        scenario.scan()
        let (content, _) = try scenario.fetch(30001)
        #expect(content == octets(size))
        #expect(scenario.notices.contains { $0.contains("47:30001 records/record.dat complete, \(CatalogFile.octetText(size)) in") })
        #expect(scenario.harness.station().fileTransfer == nil)
    }

    @Test("a section's segments are at most 236 octets and the last segment names the section")
    func segmentLayout() throws {
        let scenario = try FileScenario()
        scenario.put("a.dat", octets(1024))
        scenario.scan()
        _ = try scenario.selectAndCallFile(30001)
        let section = try scenario.call(30001, .requestSection, section: 1)
        let segments = section.compactMap { asdu -> FileSegment? in
            if case .segment(let segment) = asdu.objects[0].element { return segment } else { return nil }
        }
        #expect(segments.map(\.data.count) == [236, 236, 236, 236, 80])
        #expect(segments.allSatisfy { $0.nameOfFile == 7 && $0.nameOfSection == 1 })
        #expect(section.allSatisfy { $0.cot == .fileTransfer && $0.commonAddress == 47 && $0.objects[0].address == 30001 })
        #expect(section.last?.typeID == .F_LS_NA_1)
    }

    @Test("call directory lists every file with LFD on the last entry, 15 entries per ASDU")
    func directory() throws {
        let scenario = try FileScenario()
        for index in 0..<20 { scenario.put("r\(index).dat", octets(index), modified: 1_700_000_000 + Int64(index)) }
        scenario.scan()
        let spontaneous = try scenario.harness.exchange(on: scenario.id)
        #expect(spontaneous.map(\.objects.count) == [15, 5] && spontaneous.allSatisfy { $0.cot == .spontaneous })
        let asdus = try scenario.call(0, .default, cause: .request)
        #expect(asdus.map(\.objects.count) == [15, 5])
        #expect(asdus.allSatisfy { $0.typeID == .F_DR_TA_1 && $0.cot == .request && !$0.cause.isNegative })
        let entries = asdus.flatMap(\.objects)
        #expect(entries.map(\.address) == Array(30001...30020))
        let lastFlags = entries.map { object -> Bool in
            if case .directoryEntry(let entry) = object.element { return entry.status.isLastFileOfDirectory }
            return false
        }
        #expect(lastFlags == Array(repeating: false, count: 19) + [true])
        guard case .directoryEntry(let first) = entries[0].element else { Issue.record("not an entry"); return }
        #expect(first.nameOfFile == 7 && first.lengthOfFile == 0)
        #expect(first.time.unixMilliseconds() == 1_700_000_000_000)
    }

    @Test("an empty directory comes back negative; a common address not served gets COT 46")
    func emptyDirectory() throws {
        let scenario = try FileScenario()
        scenario.scan()
        let empty = try scenario.call(0, .default, cause: .request)
        #expect(empty.count == 1 && empty[0].typeID == .F_SC_NA_1 && empty[0].cot == .request && empty[0].cause.isNegative)
        let request = ASDU(cause: CauseOfTransmission(.request), commonAddress: 9, address: 0,
                           element: .fileCall(FileCall(nameOfFile: 0, qualifier: SelectCallQualifier(.default))))
        try scenario.harness.request(request, on: scenario.id)
        let refused = try scenario.harness.exchange(on: scenario.id)
        #expect(refused.count == 1 && refused[0].cot == .unknownCommonAddress && refused[0].cause.isNegative)
    }

    @Test("new files take the lowest free address, oldest first, and keep it; a full range leaves files out")
    func addressAllocation() throws {
        let scenario = try FileScenario(range: 30001...30003)
        scenario.put("b.dat", octets(1), modified: 20)
        scenario.put("a.dat", octets(2), modified: 10)
        let first = try #require(scenario.scan())
        #expect(first.added.map(\.name) == ["a.dat", "b.dat"])
        #expect(first.added.map(\.address.objectAddress) == [30001, 30002])
        scenario.disk["a.dat"] = nil
        scenario.put("c.dat", octets(3), modified: 30)
        scenario.put("d.dat", octets(4), modified: 40)
        scenario.put("e.dat", octets(5), modified: 50)
        let second = try #require(scenario.scan())
        #expect(second.removed.map(\.name) == ["a.dat"])
        #expect(second.added.map(\.name) == ["c.dat", "d.dat"])
        #expect(second.added.map(\.address.objectAddress) == [30001, 30003])
        #expect(second.unlisted == ["e.dat"])
        #expect(scenario.harness.outstation.files.file(at: PointAddress(commonAddress: 47, objectAddress: 30002))?.name == "b.dat")
        // Said once: the next scan does not list it as new again.
        #expect(try #require(scenario.scan()).unlisted.isEmpty)
    }

    @Test("a new file reaches the master as a spontaneous directory (COT 3)")
    func spontaneousDirectory() throws {
        let scenario = try FileScenario()
        scenario.put("a.dat", octets(10))
        scenario.scan()
        let asdus = try scenario.harness.exchange(on: scenario.id)
        #expect(asdus.count == 1 && asdus[0].typeID == .F_DR_TA_1 && asdus[0].cot == .spontaneous)
        scenario.scan()
        #expect(try scenario.harness.exchange(on: scenario.id).isEmpty, "an unchanged directory is not sent again")
    }

    @Test("select: outside every area COT 47, an area's address without a file 'not ready', a wrong NOF 'not ready'")
    func selectRefusals() throws {
        let scenario = try FileScenario.listing("a.dat", octets(10))
        let outside = try scenario.call(5, .selectFile)
        #expect(outside.count == 1 && outside[0].cot == .unknownObjectAddress && outside[0].cause.isNegative)
        let empty = try scenario.call(30005, .selectFile)
        guard case .fileReady(let notReady) = try #require(empty.first).objects[0].element else {
            Issue.record("no F_FR_NA_1"); return
        }
        #expect(notReady.qualifier.isNegative)
        let wrongName = try scenario.call(30001, .selectFile, nameOfFile: 99)
        guard case .fileReady(let wrong) = try #require(wrongName.first).objects[0].element else {
            Issue.record("no F_FR_NA_1"); return
        }
        #expect(wrong.qualifier.isNegative)
        let right = try scenario.call(30001, .selectFile, nameOfFile: 7)
        guard case .fileReady(let ready) = try #require(right.first).objects[0].element else {
            Issue.record("no F_FR_NA_1"); return
        }
        #expect(!ready.qualifier.isNegative && ready.lengthOfFile == 10 && ready.nameOfFile == 7)
    }

    @Test("steps out of order are refused with COT 13 negative and do not disturb the transfer")
    func unexpectedSteps() throws {
        let scenario = try FileScenario.listing("a.dat", octets(3000))
        let early = try scenario.call(30001, .requestSection, section: 1)
        #expect(early.count == 1 && early[0].cot == .fileTransfer && early[0].cause.isNegative)
        _ = try scenario.call(30001, .selectFile)
        let wrongSection = try scenario.call(30001, .requestSection, section: 2)
        #expect(wrongSection.count == 1 && wrongSection[0].cause.isNegative)
        let (content, _) = try scenario.fetch(30001)
        #expect(content == octets(3000))
    }

    @Test("a negative section acknowledgement offers the section again; the fourth breaks the transfer off")
    func negativeSectionAcknowledgements() throws {
        let scenario = try FileScenario.listing("a.dat", octets(100))
        _ = try scenario.selectAndCallFile(30001)
        for attempt in 1...4 {
            let section = try scenario.call(30001, .requestSection, section: 1)
            #expect(section.last?.typeID == .F_LS_NA_1)
            let reply = try scenario.acknowledge(30001, .negativeSection, section: 1, cause: .checksumFailed)
            guard case .sectionReady = try #require(reply.last).objects[0].element else {
                guard attempt == 4, case .lastSection(let last) = try #require(reply.last).objects[0].element else {
                    Issue.record("attempt \(attempt): \(reply.map(\.typeID))"); return
                }
                #expect(last.qualifier == .fileTransferWithDeactivation)
                #expect(scenario.notices.last?.contains("broken off: the master refused section 1 4 times") == true)
                return
            }
            #expect(attempt < 4)
        }
    }

    @Test("a file that changes while a section is read is broken off with F_LS_NA_1 'file transfer with deactivation'")
    func changedDuringRead() throws {
        let scenario = try FileScenario.listing("a.dat", octets(2000))
        _ = try scenario.selectAndCallFile(30001)
        scenario.put("a.dat", octets(2100))
        let replies = try scenario.call(30001, .requestSection, section: 1)
        guard case .lastSection(let last) = try #require(replies.last).objects[0].element else {
            Issue.record("\(replies.map(\.typeID))"); return
        }
        #expect(last.qualifier == .fileTransferWithDeactivation)
        #expect(scenario.notices.contains { $0.contains("broken off: the file changed during the transfer: it was modified") })
        #expect(scenario.harness.station().fileTransfer == nil)
    }

    @Test("a scan that finds the file changed between sections breaks the transfer off at once")
    func changedBetweenSections() throws {
        let scenario = try FileScenario.listing("a.dat", octets(3000))
        _ = try scenario.selectAndCallFile(30001)
        _ = try scenario.call(30001, .requestSection, section: 1)
        scenario.disk["a.dat"] = nil
        scenario.scan()
        let asdus = try scenario.harness.exchange(on: scenario.id)
        let broken = asdus.first { $0.typeID == .F_LS_NA_1 }
        guard case .lastSection(let last) = try #require(broken).objects[0].element else { return }
        #expect(last.qualifier == .fileTransferWithDeactivation)
        let acknowledged = try scenario.acknowledge(30001, .positiveSection, section: 1)
        #expect(acknowledged.count == 1 && acknowledged[0].cause.isNegative, "the transfer is over")
    }

    @Test("events keep flowing while a file is sent: segments and events take turns")
    func eventsInterleave() throws {
        let scenario = try FileScenario(points: [.point(1, .scaled, value: .scaled(0)), .point(2, .single, value: .single(false))])
        scenario.put("big.dat", octets(1024))
        scenario.scan()
        _ = try scenario.harness.exchange(on: scenario.id)
        _ = try scenario.selectAndCallFile(30001)
        // The section's data arrives while events wait in the buffer.
        let request = ASDU(cause: CauseOfTransmission(.fileTransfer), commonAddress: 47, address: 30001,
                           element: .fileCall(FileCall(nameOfFile: 0, nameOfSection: 1, qualifier: SelectCallQualifier(.requestSection))))
        try scenario.harness.request(request, on: scenario.id)
        // Alternating kinds, so that each event goes in an ASDU of its own.
        for value in 1...3 {
            try scenario.harness.apply([update(1, .scaled(Int16(value)))])
            try scenario.harness.apply([update(2, .single(value % 2 == 1))])
        }
        scenario.serveReads()
        let asdus = try scenario.harness.exchange(on: scenario.id)
        let kinds = asdus.map { $0.typeID == .F_SG_NA_1 || $0.typeID == .F_LS_NA_1 ? "F" : "E" }.joined()
        #expect(kinds.contains("FE") && kinds.contains("EF"), "interleaved: \(kinds)")
        #expect(asdus.filter { $0.typeID == .F_SG_NA_1 }.count == 5)
    }

    @Test("a section ready of length 0 (empty file) can be skipped with a negative call section")
    func skippedSection() throws {
        let scenario = try FileScenario.listing("empty.dat", [])
        _ = try scenario.call(30001, .selectFile)
        let ready = try scenario.call(30001, .requestFile)
        guard case .sectionReady(let section) = try #require(ready.last).objects[0].element else { return }
        #expect(section.lengthOfSection == 0 && section.nameOfSection == 1)
        let last = try scenario.call(30001, .requestSection, section: 1, negative: true)
        guard case .lastSection(let file) = try #require(last.last).objects[0].element else { return }
        #expect(file.qualifier == .fileTransferWithoutDeactivation && file.checksum == 0)
        #expect(try scenario.acknowledge(30001, .positiveFile, section: 0).isEmpty)
        #expect(scenario.notices.contains { $0.contains("complete, 0 octets") })
    }

    @Test("delete: refused with a negative file acknowledgement unless the area allows it")
    func delete() throws {
        let refusing = try FileScenario.listing("a.dat", octets(5))
        _ = try refusing.call(30001, .selectFile)
        let refused = try refusing.call(30001, .deleteFile)
        guard case .fileAcknowledgement(let no) = try #require(refused.last).objects[0].element else { return }
        #expect(no.qualifier.action == .negativeFile && no.qualifier.cause == .unexpectedService)
        #expect(!refusing.harness.actions.contains { if case .deleteFile = $0 { true } else { false } })

        let allowing = try FileScenario.listing(allowDelete: true, "a.dat", octets(5))
        _ = try allowing.call(30001, .selectFile)
        _ = try allowing.call(30001, .deleteFile)
        let deletion = try #require(allowing.harness.actions.compactMap { action -> FileDeletion? in
            if case .deleteFile(let deletion) = action { deletion } else { nil }
        }.first)
        #expect(deletion.file.path == "/data/records/a.dat")
        for (station, actions) in allowing.harness.outstation.fileDeleted(deletion, failure: nil, now: allowing.harness.now) {
            allowing.harness.execute(actions, of: station)
        }
        let answer = try allowing.harness.exchange(on: allowing.id)
        guard case .fileAcknowledgement(let yes) = try #require(answer.first).objects[0].element else { return }
        #expect(yes.qualifier.action == .positiveFile)
        #expect(allowing.harness.outstation.files.fileCount == 0)
    }

    @Test("a master that stops for 30 s loses the transfer; a closed connection ends it")
    func timeoutAndDisconnect() throws {
        let scenario = try FileScenario.listing("a.dat", octets(5))
        _ = try scenario.call(30001, .selectFile)
        scenario.harness.advance(by: .seconds(29))
        #expect(scenario.harness.station().fileTransfer != nil)
        scenario.harness.advance(by: .seconds(2))
        #expect(scenario.harness.station().fileTransfer == nil)
        #expect(scenario.notices.last?.contains("dropped: no step from the master") == true)

        _ = try scenario.call(30001, .selectFile)
        scenario.harness.disconnect(scenario.id)
        scenario.harness.flush()
        #expect(scenario.harness.station().fileTransfer == nil)
        #expect(scenario.notices.last?.contains("ended: the connection closed") == true)
    }

    /// Every answer decodes (the harness decodes them), and a proper transfer afterwards brings the whole file.
    @Test("a master that sends file steps at random never breaks the station", arguments: UInt64(0)..<40)
    func randomSteps(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let scenario = try FileScenario(allowDelete: false, points: [.point(1, .scaled, value: .scaled(0))])
        scenario.put("a.dat", octets(2500))
        scenario.put("b.dat", octets(0))
        scenario.scan()
        _ = try scenario.harness.exchange(on: scenario.id)
        let actions: [SelectCallQualifier.Action] = [.default, .selectFile, .requestFile, .deactivateFile, .deleteFile,
                                                     .selectSection, .requestSection, .deactivateSection, .init(rawValue: 15)]
        let acknowledgements: [AcknowledgeQualifier.Action] = [.positiveFile, .negativeFile, .positiveSection,
                                                               .negativeSection, .init(rawValue: 0)]
        for _ in 0..<60 {
            let ioa = [UInt32(30001), 30002, 30003, 5].randomElement(using: &random)!
            let section = UInt8.random(in: 0...4, using: &random)
            let answers: [ASDU]
            switch Int.random(in: 0..<10, using: &random) {
            case 0...5:
                answers = try scenario.call(ioa, actions.randomElement(using: &random)!, section: section,
                                            negative: Bool.random(using: &random),
                                            cause: [.fileTransfer, .request, .activation].randomElement(using: &random)!)
            case 6...7:
                answers = try scenario.acknowledge(ioa, acknowledgements.randomElement(using: &random)!, section: section,
                                                   cause: FileErrorCause(rawValue: UInt8.random(in: 0...15, using: &random)))
            case 8:
                try scenario.harness.apply([update(1, .scaled(Int16.random(in: -100...100, using: &random)))])
                answers = try scenario.harness.exchange(on: scenario.id)
            default:
                scenario.harness.advance(by: .seconds(Int64.random(in: 0...40, using: &random)))
                answers = try scenario.harness.exchange(on: scenario.id)
            }
            for answer in answers {
                #expect(answer.commonAddress == 47)
                if answer.typeID.isFileTransfer, answer.typeID != .F_DR_TA_1, answer.typeID != .F_SC_NA_1 {
                    #expect(answer.cot == .fileTransfer)
                }
            }
        }
        // Whatever state the steps left: a new select starts over and the file arrives whole.
        let (content, _) = try scenario.fetch(30001)
        #expect(content == octets(2500))
        #expect(!scenario.harness.closed.contains(scenario.id), "file steps never close the connection")
    }

    @Test("query log and files from the master are not supported: COT 44")
    func unsupported() throws {
        let scenario = try FileScenario()
        let ready = ASDU(cause: CauseOfTransmission(.fileTransfer), commonAddress: 47, address: 30001,
                         element: .fileReady(FileReady(nameOfFile: 1, lengthOfFile: 10, qualifier: FileReadyQualifier(negative: false))))
        try scenario.harness.request(ready, on: scenario.id)
        let answer = try scenario.harness.exchange(on: scenario.id)
        #expect(answer.count == 1 && answer[0].cot == .unknownTypeID && answer[0].cause.isNegative)
    }
}
