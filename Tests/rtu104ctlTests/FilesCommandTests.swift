import ArgumentParser
import Foundation
import IEC104
import Master
import Testing
@testable import rtu104ctl

@Suite("files list and files get: arguments, output, the part file")
struct FilesCommandTests {
    static let stamp = CP56Time2a(year: 26, month: 11, dayOfMonth: 22, hour: 4, minute: 57, milliseconds: 51_123)

    static func entry(_ ca: UInt16, _ ioa: UInt32, nof: UInt16 = 1, size: UInt32, status: FileStatus = FileStatus())
        -> FileDirectoryListing.Entry {
        FileDirectoryListing.Entry(commonAddress: ca, address: ioa,
                                   entry: DirectoryEntry(nameOfFile: nof, lengthOfFile: size, status: status, time: stamp))
    }

    // MARK: Arguments

    @Test func listArguments() throws {
        let command = try FilesListCommand.parse(["10.0.0.5", "--port", "2405", "--ca", "47", "--timeout", "3",
                                                  "--format", "json"])
        #expect(command.format == .json)
        #expect(command.master.commonAddressOrBroadcast == 47)
        #expect(command.master.timeout == 3)
        #expect(try command.master.endpoint() == Endpoint(host: "10.0.0.5", port: 2405))
    }

    @Test func listDefaultsToBroadcastAndTable() throws {
        let command = try FilesListCommand.parse(["127.0.0.1"])
        #expect(command.format == .table)
        #expect(command.master.commonAddressOrBroadcast == 65535)
        #expect(try command.master.endpoint().port == 2404)
    }

    @Test func listThroughTheRootCommand() throws {
        let command = try RTU104Ctl.parseAsRoot(["files", "list", "127.0.0.1", "--ca", "47"])
        let list = try #require(command as? FilesListCommand)
        #expect(list.master.commonAddress == 47)
    }

    @Test func getArguments() throws {
        let command = try FilesGetCommand.parse(["rtu1", "47:30001", "--name", "3", "-o", "/tmp/x.cfg",
                                                 "--timeout", "20", "--tls-ca", "ca.pem"])
        #expect(command.file == "47:30001")
        #expect(command.nameOfFile == 3)
        #expect(command.output == "/tmp/x.cfg")
        #expect(command.master.timeout == 20)
        #expect(command.master.tlsRequested, "the shared TLS options apply")
        let address = try parsePointAddress(command.file, defaultCommonAddress: command.master.commonAddress)
        #expect(address.ca == 47 && address.ioa == 30001)
    }

    @Test func getDefaultsToAnyName() throws {
        let command = try FilesGetCommand.parse(["rtu1", "47:30001", "--output", "x"])
        #expect(command.nameOfFile == 0)
        #expect(command.output == "x")
    }

    @Test("get refuses", arguments: [
        ["rtu1", "47:30001"],                           // no -o
        ["rtu1", "30001", "-o", "x"],                   // no CA
        ["rtu1", "47:30001", "-o", "folder/"],          // no file name
        ["rtu1", "47:99999999", "-o", "x"],             // IOA out of range
        ["rtu1", "47:30001", "--name", "70000", "-o", "x"],
        ["rtu1:2404", "47:30001", "--port", "2405", "-o", "x"],
        ["rtu1", "65535:30001", "-o", "x"],             // the broadcast address
        ["rtu1", "47:30001", "-o", "/tmp"],             // a folder
    ])
    func getRefuses(arguments: [String]) {
        #expect(throws: (any Error).self) { try FilesGetCommand.parse(arguments) }
    }

    @Test func portGivenTwiceTheSameIsAccepted() throws {
        let command = try FilesGetCommand.parse(["rtu1:2405", "47:30001", "--port", "2405", "-o", "x"])
        #expect(try command.master.endpoint() == Endpoint(host: "rtu1", port: 2405))
    }

    @Test func unknownFormatIsRefused() {
        #expect(throws: (any Error).self) { try FilesListCommand.parse(["rtu1", "--format", "csv"]) }
    }

    // MARK: Output

    @Test func table() {
        let text = FileListOutput.table([
            Self.entry(47, 30001, size: 1234),
            Self.entry(47, 30002, nof: 12, size: 7, status: FileStatus(lastFileOfDirectory: true, transferActive: true)),
            Self.entry(48, 5, size: 0, status: FileStatus(isDirectory: true)),
        ])
        #expect(text == """
            CA:IOA    NOF  SIZE  MODIFIED (UTC)           STATUS
            47:30001    1  1234  2026-11-22T04:57:51.123  ready
            47:30002   12     7  2026-11-22T04:57:51.123  in transfer
            48:5        1     0  2026-11-22T04:57:51.123  directory

            """)
    }

    @Test func emptyListing() {
        #expect(FileListOutput.render([], format: .table) == "no files\n")
        #expect(FileListOutput.render([], format: .json) == "[]\n")
    }

    @Test func json() throws {
        let text = FileListOutput.json([Self.entry(47, 30001, size: 1234),
                                        Self.entry(47, 30002, size: 5, status: FileStatus(lastFileOfDirectory: true))])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        #expect(parsed.count == 2)
        #expect(parsed[0]["ca"] as? Int == 47)
        #expect(parsed[0]["ioa"] as? Int == 30001)
        #expect(parsed[0]["nof"] as? Int == 1)
        #expect(parsed[0]["size"] as? Int == 1234)
        #expect(parsed[0]["modified"] as? String == "2026-11-22T04:57:51.123")
        #expect(parsed[0]["status"] as? String == "ready")
        #expect(parsed[1]["sof"] as? Int == 0x20)
        #expect(text.hasSuffix("]\n"))
    }

    @Test func summaryLine() {
        let result = FileDownload.Result(nameOfFile: 1, length: 1234, checksum: 7, sections: 1)
        #expect(FileListOutput.summary(ca: 47, ioa: 30001, result: result, sha256: "ab12", seconds: 0.4213)
                == "47:30001 NOF 1: 1234 octets, sha256 ab12, in 0.42 s\n")
    }

    @Test func errorMessagesAreWords() {
        let messages = [FileTransferError.fileNotReady, .aborted(.fileTransferWithDeactivation),
                        .sectionChecksum(section: 2, attempts: 4), .refused(step: "select file (F_SC_NA_1)", cause: .unknownCommonAddress),
                        .timeout(.seconds(10), waitingFor: "F_FR_NA_1 (file ready)")].map(\.description)
        #expect(messages == [
            "file not ready (F_FR_NA_1 negative): no file at that address now",
            "aborted by the outstation (F_LS_NA_1 LSQ=2, file transfer with deactivation)",
            "checksum of section 2 failed 4 times",
            "unknown common address (COT 46)",
            "no reply within 10.00 s while waiting for F_FR_NA_1 (file ready)",
        ])
        for message in messages { #expect(!message.contains("Optional") && !message.contains("(rawValue:")) }
    }

    // MARK: The part file

    static func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "rtu104ctl-files-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func partFileWritesTruncatesAndCommits() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/record.dat"
        let part = try PartFile(path: path)
        #expect(FileManager.default.fileExists(atPath: path + ".part"))
        try part.write([1, 2, 3], at: 0)
        try part.write([9, 9], at: 3)
        try part.truncate(length: 3)
        try part.write([4, 5], at: 3)
        let digest = try part.commit()
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3, 4, 5]))
        #expect(!FileManager.default.fileExists(atPath: path + ".part"))
        // sha256 of 01 02 03 04 05
        #expect(digest == "74f81fe167d99b4cb41d6d0ccda82278caee9f3e2f25d5e5a3936ff3dcec60d0")
        part.discard()
        #expect(FileManager.default.fileExists(atPath: path), "discard after commit leaves FILE alone")
    }

    @Test func partFileDiscardRemovesIt() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/record.dat"
        do {
            let part = try PartFile(path: path)
            try part.write([1], at: 0)
            part.discard()
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".part"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func emptyFileDigest() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let part = try PartFile(path: folder + "/empty")
        #expect(try part.commit() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func partFileInAMissingFolderIsAnErrorInWords() {
        do {
            _ = try PartFile(path: "/nonexistent-rtu104ctl/x")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "cannot create /nonexistent-rtu104ctl/x.part: No such file or directory")
        }
    }
}

extension FilesCommandTests {
    @Test func hints() {
        #expect(FileListOutput.hint(.fileNotReady, anyName: true).contains("--name NOF"))
        #expect(FileListOutput.hint(.fileNotReady, anyName: false).isEmpty, "no hint when the NOF was given")
        #expect(FileListOutput.hint(.timeout(.seconds(10), waitingFor: "the directory (F_DR_TA_1)"), listing: true)
                .contains("lib60870-C"))
        #expect(FileListOutput.hint(.timeout(.seconds(10), waitingFor: "F_FR_NA_1 (file ready)")).isEmpty)
    }
}
