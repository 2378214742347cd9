@testable import Daemon
import Logging
import Testing

@Suite("Journal fields")
struct JournalFieldTests {
    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func priorityFollowsSyslog(level: Logger.Level, priority: Int) {
        #expect(JournalFields.priority(level) == priority)
    }

    @Test(arguments: [
        ("station", "STATION"), ("peer", "PEER"), ("ca", "CA"), ("ioa", "IOA"), ("listener", "LISTENER"),
        ("listener-name", "LISTENER_NAME"), ("remote.addr", "REMOTE_ADDR"), ("_private", "PRIVATE"),
        ("2nd", "M_2ND"), ("message", "META_MESSAGE"), ("PRIORITY", "META_PRIORITY"), ("Grüße", "GR__E"),
    ])
    func metadataKeysBecomeFieldNames(key: String, field: String) {
        #expect(JournalFields.fieldName(forMetadataKey: key) == field)
    }

    @Test func unusableKeysAreDropped() {
        #expect(JournalFields.fieldName(forMetadataKey: "") == nil)
        #expect(JournalFields.fieldName(forMetadataKey: "___") == nil)
    }

    @Test func longKeysAreCutTo64Characters() {
        let name = JournalFields.fieldName(forMetadataKey: String(repeating: "k", count: 100))
        #expect(name == String(repeating: "K", count: 64))
    }

    @Test func anEntryCarriesMessagePriorityIdentifierCodeAndMetadata() {
        let fields = JournalFields.fields(
            level: .notice, message: "master connected",
            metadata: ["station": "control-centre", "peer": "127.0.0.1", "listener": "main", "ca": "47", "ioa": "1001"],
            label: "rtu104d", file: "Server/OutstationRuntime.swift", function: "open(channel:)", line: 52)
        #expect(fields.map(\.name) == ["MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "LOGGER", "CODE_FILE", "CODE_LINE",
                                       "CODE_FUNC", "CA", "IOA", "LISTENER", "PEER", "STATION"])
        let values = Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(values["MESSAGE"] == "master connected ca=47 ioa=1001 listener=main peer=127.0.0.1 station=control-centre")
        #expect(values["PRIORITY"] == "5")
        #expect(values["SYSLOG_IDENTIFIER"] == "rtu104d")
        #expect(values["LOGGER"] == "rtu104d")
        #expect(values["CODE_FILE"] == "Server/OutstationRuntime.swift")
        #expect(values["CODE_LINE"] == "52")
        #expect(values["CODE_FUNC"] == "open(channel:)")
        #expect(values["STATION"] == "control-centre")
        #expect(values["PEER"] == "127.0.0.1")
    }

    /// What `journalctl -u rtu104d EVENT=command RESULT=negative` (docs/operations.md, "Logs") matches on.
    @Test func theCommandAuditFieldsAreTheDocumentedOnes() {
        let fields = JournalFields.fields(
            level: .notice, message: "command C_SC_NA_1 on, QU=0 on 47:2801",
            metadata: ["event": "command", "result": "negative", "duration_ms": "7", "command_time": "2026-12-04T15:34:23.331Z",
                       "type": "C_SC_NA_1", "cot": "actcon", "handler": "fails", "phase": "execute"],
            label: "rtu104d", file: "f", function: "g", line: 1)
        let values = Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(values["EVENT"] == "command")
        #expect(values["RESULT"] == "negative")
        #expect(values["DURATION_MS"] == "7")
        #expect(values["COMMAND_TIME"] == "2026-12-04T15:34:23.331Z")
        #expect(values["TYPE"] == "C_SC_NA_1")
        #expect(values["COT"] == "actcon")
        #expect(values["HANDLER"] == "fails")
        #expect(values["PHASE"] == "execute")
    }

    @Test func anEntryWithoutMetadataHasThePlainMessageAndAnError() {
        struct Refused: Error, CustomStringConvertible { var description: String { "address in use" } }
        let fields = JournalFields.fields(level: .critical, message: "cannot bind", metadata: [:], label: "rtu104d",
                                          file: "f", function: "g", line: 1, error: Refused())
        #expect(fields.first?.value == "cannot bind")
        #expect(fields.last?.name == "ERROR")
        #expect(fields.last?.value == "address in use")
        #expect(fields.first { $0.name == "PRIORITY" }?.value == "2")
    }

    @Test func nestedMetadataIsWrittenAsText() {
        let fields = JournalFields.fields(level: .info, message: "m", metadata: ["points": ["1001", "1002"]],
                                          label: "l", file: "f", function: "g", line: 1)
        #expect(fields.last?.name == "POINTS")
        #expect(fields.last?.value == #"["1001", "1002"]"#)
    }
}

@Suite("Log target")
struct LogTargetTests {
    @Test func autoPicksTheJournalWhenStderrIsTheJournalStream() {
        #expect(LogHandlerFactory.resolve(.auto, journalStream: "8:1234", standardError: (8, 1234),
                                          journalAvailable: true) == .journal)
    }

    @Test func withoutJournaldEverythingGoesToStderr() {
        #expect(LogHandlerFactory.resolve(.auto, journalStream: "8:1234", standardError: (8, 1234),
                                          journalAvailable: false) == .stderr)
        #expect(LogHandlerFactory.resolve(.journal, journalStream: nil, standardError: nil, journalAvailable: false) == .stderr)
    }

    @Test func autoPicksStderrOtherwise() {
        #expect(LogHandlerFactory.resolve(.auto, journalStream: nil, standardError: (8, 1234)) == .stderr)
        // stderr redirected by hand after systemd started the process: not the journal stream any more.
        #expect(LogHandlerFactory.resolve(.auto, journalStream: "8:1234", standardError: (8, 999)) == .stderr)
        #expect(LogHandlerFactory.resolve(.auto, journalStream: "garbage", standardError: (8, 1234)) == .stderr)
        #expect(LogHandlerFactory.resolve(.auto, journalStream: "8:1234", standardError: nil) == .stderr)
    }

    @Test func explicitTargetsAreKept() {
        #expect(LogHandlerFactory.resolve(.journal, journalStream: nil, standardError: nil, journalAvailable: true) == .journal)
        #expect(LogHandlerFactory.resolve(.stderr, journalStream: "8:1234", standardError: (8, 1234)) == .stderr)
    }

    @Test func journalStreamParsing() {
        #expect(LogHandlerFactory.parseJournalStream("64769:123456")! == (64769, 123456))
        #expect(LogHandlerFactory.parseJournalStream("1:") == nil)
        #expect(LogHandlerFactory.parseJournalStream("1:2:3") == nil)
    }
}
