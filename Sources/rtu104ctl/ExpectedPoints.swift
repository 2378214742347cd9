import Config
import Foundation
import IEC104
import Outstation

/// The expected points of `compare`, read with the daemon's own loader (the Config module), so that `compare`
/// takes every table rtu104d takes — JSON, CSV or INI — with rtu104d's file:line messages.
enum ExpectedPoints {
    /// The monitor points of one point table, `.json`, `.csv`, `.ini` or `.conf`.
    static func load(table path: String) throws(PointTableError) -> [ExpectedPoint] {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        // The loader reads a daemon config; one naming only this table, with a listener and station it needs to
        // be complete, lets the table be checked exactly as the daemon would check it.
        let wrapper = "rtu104ctl-compare.conf"
        let text = "[daemon]\npoint_tables = \(absolute)\n[listener compare]\nbind = 127.0.0.1:2404\n"
            + "[station compare]\nlistener = compare\nallow = any\n"
        return try expected(ConfigurationLoader.load(configPath: wrapper) { file in
            file == wrapper ? .success(text) : ConfigurationLoader.readFromDisk(file)
        }, source: path)
    }

    /// The monitor points of every table a daemon config names.
    static func load(config path: String) throws(PointTableError) -> [ExpectedPoint] {
        try expected(ConfigurationLoader.load(configPath: path), source: path)
    }

    private static func expected(_ result: Result<DaemonConfiguration, ConfigErrors>,
                                 source: String) throws(PointTableError) -> [ExpectedPoint] {
        switch result {
        case .failure(let problems):
            let lines = problems.errors.map(\.description)
            throw PointTableError(description: (lines + ["\(source): \(lines.count) error(s); nothing compared"])
                .joined(separator: "\n"))
        case .success(let configuration):
            return configuration.points.monitorPoints.map(expected)
        }
    }

    static func expected(_ point: MonitorPointDefinition) -> ExpectedPoint {
        let value: ExpectedPoint.Value = switch point.initialValue {
        case .single(let on): .single(on)
        case .double(let state): .double(state)
        case .step(let position): .step(position.value, transient: position.isTransient)
        case .bitstring(let bits): .bitstring(bits)
        case .normalized(let value): .normalized(value)
        case .scaled(let value): .scaled(value)
        case .float(let value): .float(value)
        case .counter(let reading): .counter(reading.value)
        }
        return ExpectedPoint(commonAddress: point.address.commonAddress, address: point.address.objectAddress,
                             kind: point.kind, value: value, quality: point.initialQuality.flagNames.sorted(),
                             name: point.name)
    }
}
