import Foundation
import IEC104
import Master
import Testing
import TestSupport
@testable import rtu104ctl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `files get`'s loop over a real TCP connection: the station's whole script is written into the socket
/// before the master starts (the procedure is strictly request → reply, so the order is all that matters),
/// then what the master sent is read back and checked.
@Suite(.timeLimit(.minutes(1))) struct FilesTransferLoopbackTests {
    /// The station's frames: STARTDT con, then `asdus` as I-frames numbered from 0.
    private static func script(_ asdus: [ASDU]) throws -> [UInt8] {
        var bytes = APCI.unnumbered(.startDTConfirmation).encodedFrame
        for (number, asdu) in asdus.enumerated() {
            let encoded = try asdu.encoded()
            APCI.information(send: UInt16(number), receive: 0).encodeHeader(asduLength: encoded.count, into: &bytes)
            bytes += encoded
        }
        return bytes
    }

    private func reply(_ element: InformationElement) -> ASDU {
        ASDU(cause: CauseOfTransmission(.fileTransfer), commonAddress: 47, address: 30001, element: element)
    }

    /// The I-frames' ASDUs among what the master wrote.
    private static func sentASDUs(_ station: Int32) -> [ASDU] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while SocketIO.poll(station, events: Int16(POLLIN), milliseconds: 200) > 0 {
            let count = chunk.withUnsafeMutableBytes { recv(station, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        var result: [ASDU] = []
        var index = 0
        while index + 6 <= bytes.count, bytes[index] == 0x68 {
            let length = Int(bytes[index + 1])
            if bytes[index + 2] & 1 == 0, let asdu = try? ASDU(decoding: Array(bytes[(index + 6)..<(index + 2 + length)])) {
                result.append(asdu)
            }
            index += 2 + length
        }
        return result
    }

    private static func session(_ listener: LoopbackListener) throws -> MasterSession {
        let parameters = try APCIParameters(k: 12, w: 8, t0: .seconds(2), t1: .seconds(2), t2: .seconds(1), t3: .seconds(20))
        return try MasterSession.connect(to: Endpoint(host: "127.0.0.1", port: listener.port), from: nil,
                                         parameters: parameters)
    }

    @Test func twoSectionsTheSecondOnceCorruptedLandOnDiskWhole() throws {
        let data = (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
        let first = Array(data[..<200]), second = Array(data[200...])
        func segments(_ section: UInt8, _ octets: [UInt8]) -> [ASDU] {
            stride(from: 0, to: octets.count, by: 236).map {
                reply(.segment(FileSegment(nameOfFile: 1, nameOfSection: section,
                                           data: Array(octets[$0..<min($0 + 236, octets.count)]))))
            }
        }
        func offer(_ section: UInt8, _ length: Int) -> ASDU {
            reply(.sectionReady(SectionReady(nameOfFile: 1, nameOfSection: section, lengthOfSection: UInt32(length),
                                             qualifier: FileReadyQualifier(negative: false))))
        }
        func last(_ section: UInt8, _ qualifier: LastSectionQualifier, _ checksum: UInt8) -> ASDU {
            reply(.lastSection(LastSection(nameOfFile: 1, nameOfSection: section, qualifier: qualifier, checksum: checksum)))
        }
        let event = ASDU(cause: CauseOfTransmission(.spontaneous), commonAddress: 47, address: 100,
                         element: .singlePoint(SinglePointInformation(isOn: true)))
        var asdus = [reply(.fileReady(FileReady(nameOfFile: 1, lengthOfFile: 300, qualifier: FileReadyQualifier(negative: false)))),
                     offer(1, 200)]
        asdus += segments(1, first) + [event, last(1, .sectionTransferWithoutDeactivation, fileChecksum(first))]
        asdus += [offer(2, 100)] + segments(2, second)
        asdus += [last(2, .sectionTransferWithoutDeactivation, fileChecksum(second) &+ 1), offer(2, 100)]
        asdus += segments(2, second) + [last(2, .sectionTransferWithoutDeactivation, fileChecksum(second)),
                                        last(2, .fileTransferWithoutDeactivation, fileChecksum(data))]

        let run = try Self.download(scripted: asdus, into: "record.dat")
        defer { run.finish() }
        let (station, folder, part, lines, outcome) = (run.station, run.folder, run.part, run.lines, run.outcome)
        guard case .success(let result) = outcome else {
            Issue.record("expected success, got \(outcome)")
            return
        }
        #expect(result.length == 300)
        #expect(result.sections == 2)
        #expect(lines.contains("file ready: NOF 1, 300 octets"))
        #expect(lines.contains("a section's checksum failed: called it again"))
        let digest = try part.commit()
        #expect(FileManager.default.contents(atPath: folder + "/record.dat") == Data(data))
        #expect(digest.count == 64)

        let sent = Self.sentASDUs(station)
        let steps: [String] = sent.map { asdu in
            switch asdu.objects.first?.element {
            case .fileCall(let call): "SC \(call.qualifier.action.rawValue) \(call.nameOfSection)"
            case .fileAcknowledgement(let ack): "AF \(ack.qualifier.octet) \(ack.nameOfSection)"
            default: asdu.typeID.mnemonic
            }
        }
        #expect(steps == ["SC 1 0", "SC 2 0", "SC 6 1", "AF 3 1", "SC 6 2", "AF 36 2", "SC 6 2", "AF 3 2", "AF 1 2"])
    }

    @Test func emptyFileIsSkippedByANegativeCallAndSaved() throws {
        let asdus = [reply(.fileReady(FileReady(nameOfFile: 3, lengthOfFile: 0, qualifier: FileReadyQualifier(negative: false)))),
                     reply(.sectionReady(SectionReady(nameOfFile: 3, nameOfSection: 1, lengthOfSection: 0,
                                                      qualifier: FileReadyQualifier(negative: false)))),
                     reply(.lastSection(LastSection(nameOfFile: 3, nameOfSection: 1, qualifier: .fileTransferWithoutDeactivation,
                                                    checksum: 0)))]
        let run = try Self.download(scripted: asdus, into: "empty")
        defer { run.finish() }
        let (station, part, outcome) = (run.station, run.part, run.outcome)
        guard case .success(let result) = outcome else {
            Issue.record("expected success, got \(outcome)")
            return
        }
        #expect(result.nameOfFile == 3)
        #expect(try part.commit() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let sent = Self.sentASDUs(station)
        #expect(sent.count == 4)
        #expect(sent[2].cause == CauseOfTransmission(.fileTransfer, isNegative: true), "the skip carries P/N=1")
        #expect(sent.dropFirst().allSatisfy {
            if case .fileCall(let call) = $0.objects.first?.element { return call.nameOfFile == 3 }
            if case .fileAcknowledgement(let ack) = $0.objects.first?.element { return ack.nameOfFile == 3 }
            return false
        })
    }

    /// One download over loopback against a station that plays `asdus`; `finish()` closes both ends and removes
    /// the folder.
    private struct Download {
        let session: MasterSession
        let station: Int32
        let folder: String
        let part: PartFile
        let lines: [String]
        let outcome: Result<FileDownload.Result, FailureText>

        func finish() {
            session.close()
            close(station)
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    private static func download(scripted asdus: [ASDU], into name: String) throws -> Download {
        let listener = LoopbackListener()
        let session = try Self.session(listener)
        let station = try #require(listener.accept())
        _ = SocketIO.writeAll(station, try Self.script(asdus))
        try session.startDataTransfer(timeout: .seconds(2))
        let folder = NSTemporaryDirectory() + "rtu104ctl-loopback-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let part = try PartFile(path: folder + "/" + name)
        var download = FileDownload(commonAddress: 47, address: 30001, timeout: .seconds(2), now: monotonicNow())
        var lines: [String] = []
        let outcome = try FileTransferRun.get(session, &download, into: part) { lines.append($0) }
        return Download(session: session, station: station, folder: folder, part: part, lines: lines, outcome: outcome)
    }
}
