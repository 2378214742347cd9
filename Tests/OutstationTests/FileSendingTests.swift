import Testing
import IEC104
@testable import Outstation

/// The sending state machine on its own: no station, no link, time given by the test.
@Suite("FileSending state machine")
struct FileSendingTests {
    private let start = LinkInstant(nanoseconds: 5_000_000_000)

    private func file(size: Int, sectionSize: Int = 1024) -> CatalogFile {
        CatalogFile(area: "a", name: "f.dat", path: "/d/f.dat", address: PointAddress(commonAddress: 1, objectAddress: 9),
                    nameOfFile: 3, identity: FileIdentity(device: 1, inode: 2, size: size, modifiedNanoseconds: 0),
                    sectionSize: sectionSize, allowDelete: false)
    }

    private func call(_ action: SelectCallQualifier.Action, section: UInt8 = 0) -> FileCall {
        FileCall(nameOfFile: 3, nameOfSection: section, qualifier: SelectCallQualifier(action))
    }

    private func decoded(_ outputs: [FileSending.Output]) throws -> [InformationElement] {
        try outputs.compactMap { output in
            guard case .reply(let bytes) = output else { return nil }
            return try ASDU(decoding: bytes).objects[0].element
        }
    }

    @Test("call file offers section 1; call section asks for its octets; segments then the last segment")
    func sectionFlow() throws {
        var sending = FileSending(file: file(size: 1500), id: 1, originator: 0, now: start)
        let offer = try decoded(sending.call(call(.requestFile), negative: false, now: start))
        #expect(offer == [.sectionReady(SectionReady(nameOfFile: 3, nameOfSection: 1, lengthOfSection: 1024,
                                                     qualifier: FileReadyQualifier(negative: false)))])
        #expect(sending.call(call(.requestSection, section: 1), negative: false, now: start)
                == [.read(section: 1, offset: 0, length: 1024)])
        #expect(sending.nextSegment() == nil, "nothing to send while the owner reads")
        let data = (0..<1024).map { UInt8(truncatingIfNeeded: $0) }
        #expect(sending.sectionRead(.data(data), now: start).isEmpty)
        var segments: [[UInt8]] = []
        while let bytes = sending.nextSegment() { segments.append(bytes) }
        let elements = try segments.map { try ASDU(decoding: $0).objects[0].element }
        #expect(elements.count == 6)  // 4 × 236 + 80, then F_LS_NA_1
        #expect(elements.last == .lastSection(LastSection(nameOfFile: 3, nameOfSection: 1,
                                                         qualifier: .sectionTransferWithoutDeactivation,
                                                         checksum: fileChecksum(data))))
        let next = try decoded(sending.acknowledge(FileAcknowledgement(nameOfFile: 3, nameOfSection: 1,
                                                                       qualifier: AcknowledgeQualifier(.positiveSection)),
                                                   now: start))
        #expect(next == [.sectionReady(SectionReady(nameOfFile: 3, nameOfSection: 2, lengthOfSection: 476,
                                                    qualifier: FileReadyQualifier(negative: false)))])
    }

    @Test("a large section is read in pieces of about 64 KiB: never more than one piece in memory")
    func pieces() throws {
        let size = 150_000
        let content = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        var sending = FileSending(file: file(size: size, sectionSize: size), id: 1, originator: 0, now: start)
        _ = sending.call(call(.requestFile), negative: false, now: start)
        var reads = sending.call(call(.requestSection, section: 1), negative: false, now: start)
        var received: [UInt8] = []
        var pieces: [Int] = []
        var last: LastSection?
        while last == nil {
            guard case .read(1, let offset, let length)? = reads.first else { Issue.record("no read: \(reads)"); return }
            pieces.append(length)
            #expect(sending.sectionRead(.data(Array(content[offset..<(offset + length)])), now: start).isEmpty)
            while let bytes = sending.nextSegment() {
                switch try ASDU(decoding: bytes).objects[0].element {
                case .segment(let segment):
                    #expect(segment.data.count == FileSegment.maximumLength || received.count + segment.data.count == size)
                    received += segment.data
                case .lastSection(let section): last = section
                default: Issue.record("unexpected ASDU")
                }
            }
            reads = sending.takePendingRead().map { [$0] } ?? []
        }
        #expect(pieces == [FileSending.readPiece, FileSending.readPiece, size - 2 * FileSending.readPiece])
        #expect(received == content)
        #expect(last?.checksum == fileChecksum(content))
    }

    @Test("a short read means the file changed: broken off with LSQ 2")
    func shortRead() throws {
        var sending = FileSending(file: file(size: 100), id: 1, originator: 0, now: start)
        _ = sending.call(call(.requestFile), negative: false, now: start)
        _ = sending.call(call(.requestSection, section: 1), negative: false, now: start)
        let outputs = sending.sectionRead(.data([1, 2, 3]), now: start)
        guard case .lastSection(let last) = try decoded(outputs).first else { Issue.record("\(outputs)"); return }
        #expect(last.qualifier == .fileTransferWithDeactivation)
        #expect(outputs.last == .finished(.brokenOff("section 1 read 3 octets where 100 were asked for, the file changed")))
    }

    @Test("the idle limit counts from the master's last step")
    func idleLimit() {
        var sending = FileSending(file: file(size: 10), id: 1, originator: 0, now: start)
        #expect(sending.deadline == start + .seconds(30))
        _ = sending.call(call(.requestFile), negative: false, now: start + .seconds(20))
        #expect(sending.timeout(now: start + .seconds(45)).isEmpty)
        #expect(sending.timeout(now: start + .seconds(50)) == [.finished(.timedOut)])
    }

    @Test("a positive file acknowledgement reports the octets and the time taken")
    func completion() {
        var sending = FileSending(file: file(size: 0), id: 1, originator: 0, now: start)
        _ = sending.call(call(.requestFile), negative: false, now: start)
        _ = sending.call(call(.requestSection, section: 1), negative: true, now: start)
        let done = sending.acknowledge(FileAcknowledgement(nameOfFile: 3, nameOfSection: 1,
                                                           qualifier: AcknowledgeQualifier(.positiveFile)),
                                       now: start + .milliseconds(250))
        #expect(done == [.finished(.completed(octets: 0, duration: .milliseconds(250)))])
    }

    @Test("sections: a file of 255 full sections is the most; an empty file has one empty section")
    func sections() {
        #expect(file(size: 0).sectionCount == 1 && file(size: 0).section(1)! == (0, 0))
        #expect(file(size: 255 * 1024).sectionCount == 255)
        #expect(file(size: 2049).section(3)! == (2048, 1))
        #expect(file(size: 2049).section(4) == nil)
        #expect(FileArea.largestFileSize(sectionSize: 65536) == 16_711_680)
        #expect(FileArea.largestFileSize(sectionSize: 1 << 20) == FileArea.largestFile)
    }
}
