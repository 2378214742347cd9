public import Logging
import Synchronization

/// Every line logged through its loggers, for assertions on what an operator would read.
public final class LogRecorder: Sendable {
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    public var all: [Entry] { entries.withLock { $0 } }

    /// The lines whose message contains `text`.
    public func entries(containing text: String) -> [Entry] { all.filter { $0.message.contains(text) } }

    /// The messages that contain `text`.
    public func messages(containing text: String) -> [String] { entries(containing: text).map(\.message) }

    /// A logger into this recorder, every level.
    public var logger: Logger { logger(level: .trace) }

    public func logger(level: Logger.Level) -> Logger {
        var logger = Logger(label: "rtu104d-test") { _ in Handler(recorder: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            event.metadata?.forEach { merged[$0.key] = $0.value }
            recorder.append(Entry(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}
