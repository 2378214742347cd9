import CSystemd
public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// How a log event becomes a journal entry: pure functions, tested without a journal.
public enum JournalFields {
    /// `SYSLOG_IDENTIFIER=` of every entry.
    public static let identifier = "rtu104d"

    /// Fields the handler itself writes, or that journald gives a meaning; a metadata key that maps
    /// to one of them is written as `META_<NAME>` instead.
    static let reserved: Set<String> = [
        "MESSAGE", "MESSAGE_ID", "PRIORITY", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "ERRNO", "ERROR",
        "INVOCATION_ID", "USER_INVOCATION_ID", "SYSLOG_FACILITY", "SYSLOG_IDENTIFIER", "SYSLOG_PID",
        "SYSLOG_TIMESTAMP", "SYSLOG_RAW", "DOCUMENTATION", "TID", "UNIT", "USER_UNIT", "OBJECT_PID", "LOGGER",
    ]

    /// The syslog priority of a swift-log level: trace/debug 7, info 6, notice 5, warning 4, error 3, critical 2.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The journal field for a metadata key: upper case, `A–Z 0–9 _` only, not starting with `_`
    /// (reserved for trusted fields) or a digit, at most 64 characters. `peer` → `PEER`,
    /// `listener-name` → `LISTENER_NAME`, `2nd` → `M_2ND`, `message` → `META_MESSAGE`; nil when nothing is left.
    public static func fieldName(forMetadataKey key: String) -> String? {
        var name = String(key.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z": Character(String(scalar).uppercased())
            case "A"..."Z", "0"..."9", "_": Character(scalar)
            default: "_"
            }
        })
        while name.first == "_" { name.removeFirst() }
        guard let first = name.first else { return nil }
        if first.isNumber { name = "M_" + name }
        if reserved.contains(name) { name = "META_" + name }
        return String(name.prefix(64))
    }

    /// The entry for one event, in order: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, LOGGER, CODE_FILE, CODE_LINE,
    /// CODE_FUNC, ERROR (when the event carries one), then one field per metadata key, sorted by key.
    /// MESSAGE also carries the metadata as `key=value` so that plain `journalctl` shows it.
    public static func fields(level: Logger.Level, message: String, metadata: Logger.Metadata, label: String,
                              file: String, function: String, line: UInt, error: (any Error)? = nil,
                              identifier: String = identifier) -> [(name: String, value: String)] {
        let keys = metadata.keys.sorted()
        var text = message
        if !keys.isEmpty {
            text += " " + keys.map { "\($0)=\(metadata[$0]!.description)" }.joined(separator: " ")
        }
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", text),
            ("PRIORITY", "\(priority(level))"),
            ("SYSLOG_IDENTIFIER", identifier),
            ("LOGGER", label),
            ("CODE_FILE", file),
            ("CODE_LINE", "\(line)"),
            ("CODE_FUNC", function),
        ]
        if let error { fields.append(("ERROR", "\(error)")) }
        for key in keys {
            guard let name = fieldName(forMetadataKey: key) else { continue }
            fields.append((name, metadata[key]!.description))
        }
        return fields
    }
}

/// A swift-log handler that writes structured entries to the systemd journal with sd_journal_sendv(3).
/// If the journal refuses an entry (no journald), the line goes to stderr instead.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    public let label: String
    private let identifier: String

    public init(label: String, identifier: String = JournalFields.identifier,
                metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.identifier = identifier
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        let fields = JournalFields.fields(level: event.level, message: event.message.description, metadata: merged,
                                          label: label, file: event.file, function: event.function, line: event.line,
                                          error: event.error, identifier: identifier)
        if Self.send(fields) != 0 {
            writeStandardError("\(event.level): \(fields[0].value)\n")
        }
    }

    /// Writes one entry: every field becomes one `NAME=value` iovec into a single buffer.
    static func send(_ fields: [(name: String, value: String)]) -> Int32 {
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in fields {
            let start = buffer.count
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: field.value.utf8)
            ranges.append(start..<buffer.count)
        }
        return buffer.withUnsafeMutableBytes { bytes -> Int32 in
            let vectors = ranges.map { range in
                iovec(iov_base: bytes.baseAddress! + range.lowerBound, iov_len: range.count)
            }
            return vectors.withUnsafeBufferPointer { rtu104d_sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }
}
