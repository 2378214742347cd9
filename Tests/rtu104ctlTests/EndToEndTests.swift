import Foundation
import Testing

/// Runs the built `rtu104ctl` binary. Skipped (not failed) when the binary has not been built.
@Suite("rtu104ctl decode, end to end")
struct EndToEndTests {
    /// `.build/<triple>/debug/rtu104ctl`, next to the test bundle that is running, else under the package.
    static let binary: URL? = {
        var candidates: [URL] = []
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        // The test runner may sit inside an .xctest bundle directory (Darwin) or beside the products (Linux).
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("rtu104ctl"))
            directory = directory.deletingLastPathComponent()
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("rtu104ctl"))
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug/rtu104ctl"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Output goes to files, not pipes, so a full stderr pipe cannot stall the child.
    static func run(_ arguments: [String], stdin: String = "") throws -> Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("rtu104ctl-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("stdin")
        let output = directory.appendingPathComponent("stdout")
        let error = directory.appendingPathComponent("stderr")
        try Data(stdin.utf8).write(to: input)
        try Data().write(to: output)
        try Data().write(to: error)

        let process = Process()
        guard let binary = Self.binary else { throw TestFailure("rtu104ctl has not been built") }
        process.executableURL = binary
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: error)
        try process.run()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: try String(contentsOf: output, encoding: .utf8),
                      stderr: try String(contentsOf: error, encoding: .utf8))
    }

    @Test(.enabled(if: binary != nil, "rtu104ctl has not been built"))
    func decodesArgumentsWithStatus0() throws {
        let result = try Self.run(["decode", "68", "0E", "00", "00", "00", "00", "64", "01", "06", "00", "2F",
                                   "00", "00", "00", "00", "14"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.contains("  type: C_IC_NA_1 (100) interrogation command\n"))
    }

    @Test(.enabled(if: binary != nil, "rtu104ctl has not been built"))
    func decodesStandardInputAsJSON() throws {
        let result = try Self.run(["decode", "--json"], stdin: "68 04 07 00 00 00\n680E00000000640106002F0000000014\n")
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == #"{"frame":"U","function":"STARTDT act"}"#)
    }

    @Test(.enabled(if: binary != nil, "rtu104ctl has not been built"))
    func decodesABinaryFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rtu104ctl-e2e-\(UUID().uuidString).bin")
        try Data([0x68, 0x04, 0x01, 0x00, 0x0A, 0x00, 0x68, 0x04, 0x43, 0x00, 0x00, 0x00]).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Self.run(["decode", "--file", file.path])
        #expect(result.status == 0)
        #expect(result.stdout == "frame 1: S-frame N(R)=5\nframe 2: U-frame TESTFR act\n")
    }

    @Test(.enabled(if: binary != nil, "rtu104ctl has not been built"))
    func badFrameExitsWithStatus1AndOneLine() throws {
        let result = try Self.run(["decode"], stdin: """
            68 0E 00 00 00 00 64 01 06 00 2F 00 00 00 00 14
            68 15 00 00 00 00 1E 01 03 00 01 00 E9 03 00 01 00 00 3C 00 01 01 1A
            """)
        #expect(result.status == 1)
        #expect(result.stderr == "rtu104ctl: frame 2: ASDU: CP56Time2a minute has the reserved value 60\n")
        #expect(result.stdout.hasPrefix("frame 1: I-frame N(S)=0 N(R)=0 (16 octets)\n"))
    }

    @Test(.enabled(if: binary != nil, "rtu104ctl has not been built"))
    func badHexExitsWithStatus1() throws {
        let result = try Self.run(["decode", "68", "0E", "0"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "rtu104ctl: argument 3, column 1: '0' has an odd number of hex digits (1)\n")
    }

    @Test(.enabled(if: binary != nil, "rtu104ctl has not been built"))
    func missingFile() throws {
        let result = try Self.run(["decode", "--file", "/nonexistent/rtu104ctl-test"])
        #expect(result.status == 1)
        #expect(result.stderr == "rtu104ctl: /nonexistent/rtu104ctl-test: No such file or directory\n")
    }
}
