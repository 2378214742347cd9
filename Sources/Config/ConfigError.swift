/// One problem found in the configuration, with the place it was written.
///
/// Printed as `file:line: station 'scada' key 'w': w = 9 exceeds two thirds of k = 12; choose w ≤ 8`;
/// warnings carry `warning: ` after the location.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable {
        case error
        case warning
    }

    public var location: SourceLocation
    /// What the problem is about, e.g. `station 'scada'`, `point 47:1001`, `[daemon]`.
    public var subject: String?
    /// The key whose value is wrong, if one is.
    public var key: String?
    public var message: String
    public var severity: Severity

    public init(_ location: SourceLocation, subject: String? = nil, key: String? = nil, _ message: String,
                severity: Severity = .error) {
        self.location = location
        self.subject = subject
        self.key = key
        self.message = message
        self.severity = severity
    }

    public var file: String { location.file }
    public var line: Int { location.line }

    public var description: String {
        var text = "\(location): "
        if severity == .warning { text += "warning: " }
        var about: [String] = []
        if let subject { about.append(subject) }
        if let key { about.append("key '\(key)'") }
        if !about.isEmpty { text += about.joined(separator: " ") + ": " }
        return text + message
    }
}

/// Every error found while loading, plus the warnings, so that one `--check` run shows them all.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    public var warnings: [ConfigError]

    public init(errors: [ConfigError], warnings: [ConfigError] = []) {
        self.errors = errors
        self.warnings = warnings
    }

    /// One line per problem, errors first, then a count.
    public var description: String {
        var lines = errors.map(\.description) + warnings.map(\.description)
        let plural = errors.count == 1 ? "error" : "errors"
        var tail = "\(errors.count) \(plural)"
        if !warnings.isEmpty { tail += ", \(warnings.count) warning" + (warnings.count == 1 ? "" : "s") }
        lines.append(tail)
        return lines.joined(separator: "\n")
    }
}

/// Collects problems while the readers and validators run; never stops at the first.
final class Diagnostics {
    private(set) var errors: [ConfigError] = []
    private(set) var warnings: [ConfigError] = []

    func error(_ location: SourceLocation, subject: String? = nil, key: String? = nil, _ message: String) {
        errors.append(ConfigError(location, subject: subject, key: key, message))
    }

    func warning(_ location: SourceLocation, subject: String? = nil, key: String? = nil, _ message: String) {
        warnings.append(ConfigError(location, subject: subject, key: key, message, severity: .warning))
    }

    func append(_ error: ConfigError) {
        if error.severity == .warning { warnings.append(error) } else { errors.append(error) }
    }

    func append(contentsOf list: [ConfigError]) { list.forEach(append) }

    var hasErrors: Bool { !errors.isEmpty }
}
