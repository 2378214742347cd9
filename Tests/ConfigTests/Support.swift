@testable import Config
import IEC104
import Outstation

/// An in-memory set of files for the loader; the daemon config is `rtu.conf`.
struct Files {
    var contents: [String: String]

    init(config: String = Files.config, points: String = Files.points, extra: [String: String] = [:]) {
        contents = ["rtu.conf": config, "points.json": points].merging(extra) { $1 }
    }

    static let config = """
        [daemon]
        point_tables = points.json

        [listener main]
        bind = 0.0.0.0:2404

        [station scada]
        listener = main
        allow = any
        common_addresses = 47

        """

    static let points = #"{ "points": [ { "ca": 47, "ioa": 1, "type": "single" } ] }"#

    /// The example config with `replacement` lines, for quick variations.
    static func config(station extra: String) -> String { config + "\n" + extra + "\n" }

    func load(overrides: DaemonOverrides = DaemonOverrides()) -> Result<DaemonConfiguration, ConfigErrors> {
        ConfigurationLoader.load(configPath: "rtu.conf", overrides: overrides) { path in
            if let text = contents[path] { return .success(text) }
            return .failure(ConfigurationLoader.FileReadError("no such file"))
        }
    }

    /// Every error line (empty when the configuration is valid).
    var errors: [String] {
        switch load() {
        case .success: []
        case .failure(let errors): errors.errors.map(\.description)
        }
    }

    var warnings: [String] {
        switch load() {
        case .success(let config): config.warnings.map(\.description)
        case .failure(let errors): errors.warnings.map(\.description)
        }
    }

    var configuration: DaemonConfiguration? { try? load().get() }

    /// A point table with these JSON point objects.
    static func points(_ objects: String...) -> String { #"{ "points": ["# + objects.joined(separator: ",\n") + "] }" }
}

/// Builds a point table file whose entries are one a line, so that entry n is on line n + 1.
func pointLines(_ objects: String...) -> String {
    "{ \"points\": [\n" + objects.joined(separator: ",\n") + "\n] }"
}
