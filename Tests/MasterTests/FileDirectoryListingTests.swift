import IEC104
import Testing
@testable import Master

@Suite struct FileDirectoryListingTests {
    private static let time = CP56Time2a(unixMilliseconds: 1_795_000_000_000)

    /// F_DR_TA_1 COT 5 of `ioas`, LFD on the last one when `last`.
    private func directory(ca: UInt16, _ ioas: [UInt32], last: Bool, cause: Cause = .request) -> ASDU {
        let objects = ioas.enumerated().map { index, ioa in
            InformationObject(address: ioa, element: .directoryEntry(DirectoryEntry(
                nameOfFile: 1, lengthOfFile: ioa * 10,
                status: FileStatus(lastFileOfDirectory: last && index == ioas.count - 1), time: Self.time)))
        }
        return ASDU(typeID: .F_DR_TA_1, cause: CauseOfTransmission(cause), commonAddress: ca, objects: objects)
    }

    private func started(_ ca: UInt16, clock: ManualClock) -> (FileDirectoryListing, ASDU?) {
        var listing = FileDirectoryListing(commonAddress: ca, timeout: .seconds(10), now: clock.now)
        var request: ASDU?
        if case .send(let asdu) = listing.start(now: clock.now).first { request = asdu }
        return (listing, request)
    }

    @Test func theRequestIsCallDirectory() throws {
        let (_, sent) = started(47, clock: ManualClock())
        let request = try #require(sent)
        #expect(request.typeID == .F_SC_NA_1)
        #expect(request.cause.cause == .request)
        #expect(request.commonAddress == 47)
        #expect(request.objects.first?.address == 0)
        #expect(request.objects.first?.element == .fileCall(FileCall(nameOfFile: 0, qualifier: SelectCallQualifier(.default))))
        #expect(try request.encoded() == [122, 1, 5, 0, 47, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func twentyEntriesInTwoASDUs() throws {
        var clock = ManualClock()
        var (listing, _) = started(47, clock: clock)
        let ioas = (30001...30020).map { UInt32($0) }
        clock.advance(.milliseconds(5))
        #expect(listing.received(directory(ca: 47, Array(ioas[..<15]), last: false), now: clock.now).isEmpty)
        #expect(listing.entries.count == 15)
        // An event in between is no part of it.
        #expect(listing.received(ASDU(cause: CauseOfTransmission(.spontaneous), commonAddress: 47, address: 1,
                                      element: .singlePoint(SinglePointInformation(isOn: true))), now: clock.now).isEmpty)
        let actions = listing.received(directory(ca: 47, Array(ioas[15...]), last: true), now: clock.now)
        guard case .done(let entries) = actions.first else {
            Issue.record("expected done, got \(actions)")
            return
        }
        #expect(entries.map(\.address) == ioas)
        #expect(entries.allSatisfy { $0.commonAddress == 47 })
        #expect(entries.last?.entry.lengthOfFile == 300_200)
        #expect(listing.isFinished)
    }

    @Test func emptyDirectory() throws {
        let clock = ManualClock()
        var (listing, sent) = started(47, clock: clock)
        var mirror = try #require(sent)
        mirror.cause.isNegative = true
        #expect(listing.received(mirror, now: clock.now) == [.done([])])
    }

    @Test func unknownCommonAddress() throws {
        let clock = ManualClock()
        var (listing, sent) = started(48, clock: clock)
        var mirror = try #require(sent)
        mirror.cause = CauseOfTransmission(.unknownCommonAddress, isNegative: true)
        let actions = listing.received(mirror, now: clock.now)
        #expect(actions == [.failed(.refused(step: "call directory (F_SC_NA_1)", cause: .unknownCommonAddress))])
    }

    @Test func spontaneousDirectoryIsIgnored() throws {
        let clock = ManualClock()
        var (listing, _) = started(47, clock: clock)
        #expect(listing.received(directory(ca: 47, [30001], last: true, cause: .spontaneous), now: clock.now).isEmpty)
        #expect(listing.entries.isEmpty)
        #expect(!listing.isFinished)
    }

    @Test func otherCommonAddressIsIgnored() throws {
        let clock = ManualClock()
        var (listing, _) = started(47, clock: clock)
        #expect(listing.received(directory(ca: 48, [30001], last: true), now: clock.now).isEmpty)
        #expect(listing.entries.isEmpty)
    }

    @Test func broadcastWaitsAQuietPeriodForMoreCommonAddresses() throws {
        var clock = ManualClock()
        var (listing, sent) = started(ASDU.broadcastAddress, clock: clock)
        #expect(sent?.commonAddress == 65535)
        clock.advance(.milliseconds(10))
        #expect(listing.received(directory(ca: 47, [30001, 30002], last: true), now: clock.now).isEmpty)
        #expect(listing.deadline == clock.now + .milliseconds(500))
        clock.advance(.milliseconds(300))
        #expect(listing.deadlineReached(now: clock.now).isEmpty)
        // A CA without files answers with the request mirrored negatively.
        var empty = try #require(sent)
        empty.commonAddress = 49
        empty.cause.isNegative = true
        #expect(listing.received(empty, now: clock.now).isEmpty)
        #expect(listing.received(directory(ca: 48, [40001], last: true), now: clock.now).isEmpty)
        clock.advance(.milliseconds(499))
        #expect(listing.deadlineReached(now: clock.now).isEmpty)
        clock.advance(.milliseconds(1))
        let actions = listing.deadlineReached(now: clock.now)
        guard case .done(let entries) = actions.first else {
            Issue.record("expected done, got \(actions)")
            return
        }
        #expect(entries.map { "\($0.commonAddress):\($0.address)" } == ["47:30001", "47:30002", "48:40001"])
        #expect(listing.completed == [47, 48, 49])
    }

    @Test func broadcastAnsweredByNoneIsATimeout() throws {
        var clock = ManualClock()
        var (listing, _) = started(ASDU.broadcastAddress, clock: clock)
        clock.advance(.seconds(10))
        #expect(listing.deadlineReached(now: clock.now)
                == [.failed(.timeout(.seconds(10), waitingFor: "the directory (F_DR_TA_1)"))])
    }

    @Test func directoryWithoutLFDTimesOut() throws {
        var clock = ManualClock()
        var (listing, _) = started(47, clock: clock)
        _ = listing.received(directory(ca: 47, [30001], last: false), now: clock.now)
        clock.advance(.seconds(10))
        #expect(listing.deadlineReached(now: clock.now)
                == [.failed(.timeout(.seconds(10), waitingFor: "the rest of the directory (the entry with LFD set)"))])
    }
}
