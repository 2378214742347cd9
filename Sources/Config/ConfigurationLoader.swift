import IEC104
import Outstation
import Foundation

/// Reads the daemon config and every point table it names, validates them against each other and
/// returns either a configuration or every error found (never only the first).
public enum ConfigurationLoader {
    /// The default daemon config path.
    public static let defaultConfigPath = "/etc/rtu104d/rtu104d.conf"

    /// Loads `configPath` from disk. Relative paths inside it are taken relative to its directory.
    public static func load(configPath: String, overrides: DaemonOverrides = DaemonOverrides()) -> Result<DaemonConfiguration, ConfigErrors> {
        load(configPath: configPath, overrides: overrides, readFile: readFromDisk)
    }

    /// Loads with a custom file reader (tests use an in-memory one). `readFile` returns the text or a reason.
    public static func load(configPath: String, overrides: DaemonOverrides = DaemonOverrides(),
                            readFile: (String) -> Result<String, FileReadError>) -> Result<DaemonConfiguration, ConfigErrors> {
        let diagnostics = Diagnostics()
        let text: String
        switch readFile(configPath) {
        case .success(let contents): text = contents
        case .failure(let problem):
            diagnostics.error(SourceLocation(file: configPath, line: 0), "cannot read the configuration file: \(problem.reason)")
            return .failure(ConfigErrors(errors: diagnostics.errors))
        }
        let (document, syntaxErrors) = INIReader.parse(text, file: configPath)
        diagnostics.append(contentsOf: syntaxErrors)
        let reader = DaemonConfigReader(document: document, configDirectory: Paths.directory(of: configPath), diagnostics: diagnostics)

        // Point tables.
        var tables = PointTableReader(diagnostics: diagnostics)
        var loadedTables: Set<String> = []
        for reference in reader.pointTables {
            if loadedTables.contains(reference.path) {
                diagnostics.error(reference.location, subject: "[daemon]", key: "point_tables",
                                  "the point table '\(reference.path)' is listed twice")
                continue
            }
            loadedTables.insert(reference.path)
            let format = Paths.fileExtension(reference.path)
            guard ["json", "ini", "conf", "csv"].contains(format) else {
                diagnostics.error(reference.location, subject: "[daemon]", key: "point_tables",
                                  "cannot tell the format of '\(reference.path)'; name point tables *.json, *.csv, *.ini or *.conf")
                continue
            }
            switch readFile(reference.path) {
            case .failure(let problem):
                diagnostics.error(reference.location, subject: "[daemon]", key: "point_tables",
                                  "cannot read the point table '\(reference.path)': \(problem.reason)")
            case .success(let contents):
                if format == "json" { tables.readJSON(contents, file: reference.path) }
                else if format == "csv" { tables.readCSV(contents, file: reference.path) }
                else { tables.readINI(contents, file: reference.path) }
            }
        }

        let validator = CrossValidator(diagnostics: diagnostics)
        var (points, pointSources) = validator.checkPoints(tables)
        let listeners = reader.listeners
        var stations = validator.checkStations(reader.stations, listeners: listeners, pointCommonAddresses: points.commonAddresses,
                                               pointTablesRead: !reader.pointTables.isEmpty)
        validator.checkListeners(listeners, stations: stations)
        // A certificate requirement only means something on a TLS listener.
        for draft in reader.stations where draft.certificateRequirement != nil {
            let listenerName = draft.configuration.listener.isEmpty ? listeners.first?.name : draft.configuration.listener
            let station = stations.first { $0.name == draft.configuration.name }
            let listener = listeners.first { $0.name == (station?.listener ?? listenerName) }
            if let listener, listener.tls == nil {
                let key = draft.keyLocations["require_subject"] != nil ? "require_subject" : "require_san"
                diagnostics.error(draft.place(key), subject: draft.subject, key: key,
                                  "listener '\(listener.name)' does not use TLS, so there is no certificate to check; "
                                  + "set tls = on there or remove \(key)")
            }
        }
        let bindings = validator.checkHandlers(commands: tables.commands, handlers: reader.handlers, configPath: configPath)
        validator.checkFeederPoints(reader.feeders, locations: reader.feederPointLocations, points: points)
        let fileAreas = validator.checkFileAreas(reader.fileAreas, stations: stations, points: points, pointSources: pointSources)

        guard !diagnostics.hasErrors, var daemon = reader.daemon else {
            return .failure(ConfigErrors(errors: diagnostics.errors, warnings: diagnostics.warnings))
        }
        if let state = overrides.stateDirectory { daemon.stateDirectory = state }
        if let runtime = overrides.runtimeDirectory { daemon.runtimeDirectory = runtime }
        if let level = overrides.logLevel { daemon.logLevel = level }
        var stationSources: [String: SourceLocation] = [:]
        for draft in reader.stations { stationSources[draft.configuration.name] = draft.location }
        // A station without its own select_timeout takes the daemon's.
        for (index, draft) in reader.stations.enumerated() where index < stations.count && !draft.selectTimeoutGiven {
            stations[index].selectTimeout = daemon.selectTimeout
        }
        CrossValidator.resolveStaleAfter(&points, stations: stations, defaults: Dictionary(
            reader.stations.compactMap { draft in draft.staleAfter.map { (draft.configuration.name, $0) } }) { first, _ in first })
        var configuration = DaemonConfiguration(configPath: configPath, daemon: daemon, listeners: listeners,
                                                stations: stations, stationSources: stationSources, points: points,
                                                pointSources: pointSources, warnings: diagnostics.warnings,
                                                handlers: reader.handlers, feeders: reader.feeders, commandBindings: bindings)
        configuration.metrics = reader.metrics
        configuration.fileAreas = fileAreas.map(\.area)
        for draft in fileAreas { configuration.fileAreaSources[draft.area.name] = draft.location }
        for draft in reader.stations {
            if let requirement = draft.certificateRequirement {
                configuration.certificateRequirements[draft.configuration.name] = requirement
            }
        }
        return .success(configuration)
    }

    /// Why a file could not be read, in words for the error message (e.g. "no such file").
    public struct FileReadError: Error, Sendable {
        public var reason: String
        public init(_ reason: String) { self.reason = reason }
    }

    public static func readFromDisk(_ path: String) -> Result<String, FileReadError> {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { return .failure(FileReadError("no such file")) }
        guard !isDirectory.boolValue else { return .failure(FileReadError("it is a directory")) }
        guard manager.isReadableFile(atPath: path) else { return .failure(FileReadError("permission denied")) }
        guard let data = manager.contents(atPath: path) else { return .failure(FileReadError("the file could not be read")) }
        guard let text = String(data: data, encoding: .utf8) else { return .failure(FileReadError("the file is not UTF-8 text")) }
        return .success(text)
    }
}
