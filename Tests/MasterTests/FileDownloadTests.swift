import IEC104
import Testing
@testable import Master

@Suite struct FileDownloadTests {
    private func download(nof: UInt16 = 0, now: LinkInstant) -> FileDownload {
        FileDownload(commonAddress: 47, address: 30001, nameOfFile: nof, timeout: .seconds(10), now: now)
    }

    /// Runs a whole download of `data` against the scripted server.
    private func get(_ data: [UInt8], sectionSize: Int = 1024,
                     configure: (inout ScriptedFileServer) -> Void = { _ in }) -> (DownloadRun, ScriptedFileServer) {
        var clock = ManualClock()
        var server = ScriptedFileServer(data: data, sectionSize: sectionSize)
        configure(&server)
        var transfer = download(now: clock.now)
        let run = drive(&transfer, clock: &clock) { server.handle($0) }
        return (run, server)
    }

    private func result(_ run: DownloadRun) -> FileDownload.Result? {
        if case .done(let result) = run.outcome { return result }
        return nil
    }

    private func failure(_ run: DownloadRun) -> FileTransferError? {
        if case .failed(let error) = run.outcome { return error }
        return nil
    }

    private func calls(_ run: DownloadRun) -> [FileCall] {
        run.sent.compactMap { if case .fileCall(let call) = $0.objects.first?.element { call } else { nil } }
    }

    @Test func emptyFileSkipsItsEmptySectionWithANegativeCall() throws {
        let (run, server) = get([])
        let done = try #require(result(run))
        #expect(done.length == 0)
        #expect(done.checksum == 0)
        #expect(done.sections == 0)
        #expect(run.file.isEmpty)
        #expect(server.skipped == [1], "the section of length 0 is skipped by call section with P/N=1")
        #expect(server.sectionCalls.isEmpty)
        let skip = try #require(run.sent.first { $0.cause.isNegative })
        #expect(skip.typeID == .F_SC_NA_1)
        #expect(skip.cause.cause == .fileTransfer)
        if case .fileCall(let call) = skip.objects.first?.element {
            #expect(call.qualifier.action == .requestSection)
            #expect(call.nameOfSection == 1)
        } else {
            Issue.record("the skip is no F_SC_NA_1")
        }
        #expect(server.fileAck?.action == .positiveFile)
    }

    @Test func oneOctet() throws {
        let (run, server) = get([0xA5])
        let done = try #require(result(run))
        #expect(done.length == 1)
        #expect(done.checksum == 0xA5)
        #expect(run.file == [0xA5])
        #expect(server.sectionCalls == [1])
        #expect(server.fileAck?.action == .positiveFile)
    }

    @Test func oneFullSegmentOf236Octets() throws {
        let data = octets(236)
        let (run, server) = get(data)
        #expect(try #require(result(run)).length == 236)
        #expect(run.file == data)
        #expect(server.sectionAcks.map(\.action) == [.positiveSection])
    }

    @Test func exactlyOneSection() throws {
        let data = octets(1024)
        let (run, server) = get(data, sectionSize: 1024)
        let done = try #require(result(run))
        #expect(done.sections == 1)
        #expect(done.checksum == fileChecksum(data))
        #expect(run.file == data)
        #expect(server.sectionCalls == [1], "no second, empty section")
    }

    @Test func manySections() throws {
        let data = octets(5000, seed: 99)
        let (run, server) = get(data, sectionSize: 1024)
        let done = try #require(result(run))
        #expect(done.sections == 5)
        #expect(done.length == 5000)
        #expect(done.nameOfFile == 1)
        #expect(run.file == data)
        #expect(server.sectionCalls == [1, 2, 3, 4, 5])
        #expect(server.sectionAcks.count == 5)
        #expect(server.fileAck == AcknowledgeQualifier(.positiveFile))
    }

    @Test func nameOfFileZeroAdoptsTheStationsName() throws {
        var clock = ManualClock()
        var server = ScriptedFileServer(nof: 7, data: octets(10))
        var transfer = download(now: clock.now)
        let run = drive(&transfer, clock: &clock) { server.handle($0) }
        #expect(try #require(result(run)).nameOfFile == 7)
        let names = calls(run).map(\.nameOfFile)
        #expect(names.first == 0, "select asks for any file")
        #expect(names.dropFirst().allSatisfy { $0 == 7 }, "every later step names the file's own NOF")
    }

    @Test func checksumMismatchIsAcknowledgedNegativelyAndTheSectionComesAgain() throws {
        let data = octets(3000)
        let (run, server) = get(data) { $0.corrupt = [2: 1] }
        let done = try #require(result(run))
        #expect(done.length == 3000)
        #expect(run.file == data, "the bad copy of section 2 was cut off, not appended to")
        #expect(run.truncations == 1)
        #expect(server.sectionCalls == [1, 2, 2, 3])
        #expect(server.sectionAcks == [AcknowledgeQualifier(.positiveSection),
                                       AcknowledgeQualifier(.negativeSection, cause: .checksumFailed),
                                       AcknowledgeQualifier(.positiveSection), AcknowledgeQualifier(.positiveSection)])
        #expect(server.sectionAcks[1].octet == 0x24, "AFQ 4 with cause 2 in the upper four bits")
    }

    @Test func threeRetriesThenTheTransferFails() throws {
        let (run, server) = get(octets(100)) { $0.corrupt = [1: 4] }
        #expect(failure(run) == .sectionChecksum(section: 1, attempts: 4))
        #expect(failure(run)?.description == "checksum of section 1 failed 4 times")
        #expect(server.sectionCalls == [1, 1, 1, 1])
        #expect(server.deactivated, "the transfer is deactivated at the station")
        #expect(run.file.isEmpty)
        #expect(server.fileAck == nil)
    }

    @Test func threeMismatchesStillSucceed() throws {
        let data = octets(100)
        let (run, server) = get(data) { $0.corrupt = [1: 3] }
        #expect(try #require(result(run)).length == 100)
        #expect(run.file == data)
        #expect(server.sectionCalls.count == 4)
    }

    @Test func wrongFileChecksumIsAcknowledgedNegatively() throws {
        let data = octets(50)
        let (run, server) = get(data) { $0.fileChecksumOverride = fileChecksum(data) &+ 3 }
        #expect(failure(run) == .fileChecksum(expected: fileChecksum(data) &+ 3, computed: fileChecksum(data)))
        #expect(server.fileAck == AcknowledgeQualifier(.negativeFile, cause: .checksumFailed))
    }

    @Test func eventsInterleavedDoNotDisturbTheTransfer() throws {
        let data = octets(2500)
        let (run, _) = get(data) { $0.interleaveEvents = true }
        #expect(try #require(result(run)).length == 2500)
        #expect(run.file == data)
    }

    // MARK: Scripted replies

    private func select(_ transfer: inout FileDownload, clock: ManualClock) -> ASDU? {
        if case .send(let asdu) = transfer.start(now: clock.now).first { return asdu }
        return nil
    }

    @Test func fileNotReady() throws {
        let clock = ManualClock()
        var transfer = download(now: clock.now)
        let request = try #require(select(&transfer, clock: clock))
        #expect(request.typeID == .F_SC_NA_1)
        #expect(request.cause.cause == .fileTransfer)
        let notReady = ScriptedFileServer(data: []).reply(.fileReady(FileReady(nameOfFile: 0, lengthOfFile: 0,
                                                                               qualifier: FileReadyQualifier(negative: true))))
        #expect(transfer.received(notReady, now: clock.now) == [.failed(.fileNotReady)])
        #expect(transfer.isFinished)
        #expect(FileTransferError.fileNotReady.description.hasPrefix("file not ready"))
    }

    @Test("negative mirrors of select", arguments: [
        (UInt8(47), "unknown information object address (COT 47): no file area there"),
        (46, "unknown common address (COT 46)"),
        (44, "the station does not support select file (F_SC_NA_1): type not supported (COT 44)"),
        (45, "the station refused select file (F_SC_NA_1): cause of transmission not supported (COT 45)"),
    ])
    func negativeMirror(cot: UInt8, message: String) throws {
        let clock = ManualClock()
        var transfer = download(now: clock.now)
        var mirror = try #require(select(&transfer, clock: clock))
        mirror.cause = CauseOfTransmission(Cause(rawValue: cot), isNegative: true)
        let actions = transfer.received(mirror, now: clock.now)
        #expect(actions == [.failed(.refused(step: "select file (F_SC_NA_1)", cause: Cause(rawValue: cot)))])
        if case .failed(let error) = actions.first { #expect(error.description == message) }
    }

    @Test func mirrorOfAnotherAddressIsIgnored() throws {
        let clock = ManualClock()
        var transfer = download(now: clock.now)
        var mirror = try #require(select(&transfer, clock: clock))
        mirror.cause = CauseOfTransmission(.unknownObjectAddress, isNegative: true)
        mirror.objects[0].address = 30002
        #expect(transfer.received(mirror, now: clock.now).isEmpty)
        #expect(!transfer.isFinished)
    }

    @Test func abortByTheOutstationDuringASection() throws {
        var clock = ManualClock()
        var server = ScriptedFileServer(data: octets(600))
        var transfer = download(now: clock.now)
        // The station breaks off after the first segment of section 1.
        let run = drive(&transfer, clock: &clock) { request in
            let replies = server.handle(request)
            guard case .segment = replies.first?.objects.first?.element else { return replies }
            return [replies[0], server.reply(.lastSection(LastSection(nameOfFile: 1, nameOfSection: 1,
                                                                      qualifier: .fileTransferWithDeactivation,
                                                                      checksum: 0)))]
        }
        #expect(failure(run) == .aborted(.fileTransferWithDeactivation))
        #expect(failure(run)?.description.hasPrefix("aborted by the outstation") == true)
        #expect(run.file.count == 236, "what was written is the caller's to discard")
        #expect(!server.deactivated, "no deactivation for a transfer the station already ended")
    }

    @Test func sectionAbortLSQ4Fails() throws {
        let clock = ManualClock()
        var transfer = download(now: clock.now)
        _ = transfer.start(now: clock.now)
        let server = ScriptedFileServer(data: [1, 2, 3])
        _ = transfer.received(server.reply(.fileReady(FileReady(nameOfFile: 1, lengthOfFile: 3,
                                                                qualifier: FileReadyQualifier(negative: false)))),
                              now: clock.now)
        let abort = server.reply(.lastSection(LastSection(nameOfFile: 1, nameOfSection: 1,
                                                          qualifier: .sectionTransferWithDeactivation, checksum: 0)))
        #expect(transfer.received(abort, now: clock.now) == [.failed(.aborted(.sectionTransferWithDeactivation))])
    }

    @Test func timeoutWithoutProgress() throws {
        var clock = ManualClock()
        var transfer = download(now: clock.now)
        _ = transfer.start(now: clock.now)
        #expect(transfer.deadline == clock.now + .seconds(10))
        clock.advance(.seconds(9))
        #expect(transfer.deadlineReached(now: clock.now).isEmpty, "not yet")
        clock.advance(.seconds(1))
        #expect(transfer.deadlineReached(now: clock.now)
                == [.failed(.timeout(.seconds(10), waitingFor: "F_FR_NA_1 (file ready)"))])
        #expect(transfer.isFinished)
    }

    @Test func timeoutInTheMiddleDeactivatesTheFile() throws {
        var clock = ManualClock()
        var server = ScriptedFileServer(data: octets(300))
        var transfer = download(now: clock.now)
        // Segments never come.
        _ = drive(&transfer, clock: &clock) { request in
            let replies = server.handle(request)
            if case .segment = replies.first?.objects.first?.element { return [] }
            return replies
        }
        let before = transfer.deadline
        clock.advance(.seconds(10))
        #expect(clock.now >= before)
        let actions = transfer.deadlineReached(now: clock.now)
        #expect(actions.count == 2)
        if case .send(let asdu) = actions.first, case .fileCall(let call) = asdu.objects.first?.element {
            #expect(call.qualifier.action == .deactivateFile)
            #expect(call.nameOfFile == 1)
        } else {
            Issue.record("expected deactivate file first, got \(actions)")
        }
        #expect(actions.last == .failed(.timeout(.seconds(10), waitingFor: "the segments of section 1")))
    }

    @Test func progressRestartsTheTimeout() throws {
        var clock = ManualClock()
        var transfer = download(now: clock.now)
        _ = transfer.start(now: clock.now)
        clock.advance(.seconds(8))
        let ready = ScriptedFileServer(data: octets(3)).reply(.fileReady(FileReady(
            nameOfFile: 1, lengthOfFile: 3, qualifier: FileReadyQualifier(negative: false))))
        _ = transfer.received(ready, now: clock.now)
        #expect(transfer.deadline == clock.now + .seconds(10))
        #expect(transfer.lengthOfFile == 3)
    }

    @Test func moreOctetsThanTheSectionAnnouncedIsAProtocolError() throws {
        var clock = ManualClock()
        var server = ScriptedFileServer(data: octets(10))
        var transfer = download(now: clock.now)
        let run = drive(&transfer, clock: &clock) { request in
            var replies = server.handle(request)
            if case .segment(var segment) = replies.first?.objects.first?.element {
                segment.data += [1]
                replies[0] = server.reply(.segment(segment))
            }
            return replies
        }
        #expect(failure(run) == .protocolViolation("section 1 is 10 octets long (LOF), but 11 came"))
        #expect(server.deactivated)
    }

    @Test func requestsAreWellFormed() throws {
        var clock = ManualClock()
        var server = ScriptedFileServer(data: octets(10))
        var transfer = FileDownload(commonAddress: 47, address: 30001, originator: 9, now: clock.now)
        let run = drive(&transfer, clock: &clock) { server.handle($0) }
        #expect(result(run) != nil)
        for asdu in run.sent {
            #expect(throws: Never.self) { try asdu.encoded() }
            #expect(asdu.cause.originator == 9)
            #expect(asdu.commonAddress == 47)
            #expect(asdu.objects.first?.address == 30001)
        }
        #expect(calls(run).map(\.qualifier.action) == [.selectFile, .requestFile, .requestSection])
        #expect(run.sent.map(\.typeID) == [.F_SC_NA_1, .F_SC_NA_1, .F_SC_NA_1, .F_AF_NA_1, .F_AF_NA_1])
    }
}
