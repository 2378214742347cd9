import ArgumentParser
import Foundation
import IEC104
import Outstation

/// A monitor point of a point table (etc/rtu104d/points.json format): what `compare` expects.
struct ExpectedPoint: Hashable, Sendable {
    /// The point kinds of the point tables, with the type an interrogation answers with.
    typealias Kind = PointKind

    enum Value: Hashable, Sendable {
        case single(Bool)
        case double(DoublePointState)
        case step(Int8, transient: Bool)
        case bitstring(UInt32)
        case normalized(NormalizedValue)
        case scaled(Int16)
        case float(Float)
        case counter(Int32)
    }

    var commonAddress: UInt16
    var address: UInt32
    var kind: Kind
    var value: Value
    /// Abbreviated quality flags (OV, BL, SB, NT, IV), sorted.
    var quality: [String]
    var name: String

    var label: String { "\(commonAddress):\(address)" }
}

struct PointTableError: Error, CustomStringConvertible {
    var description: String
}

/// Reads the monitor points of a JSON point table; command points and comment entries are skipped.
///
/// This is a small reader for the commissioning check, not the daemon's validating one: it takes the
/// keys `ca`, `ioa`, `type`, `value`, `quality`, `transient`, `name` and ignores the rest.
enum PointTableFile {
    static func load(path: String) throws -> [ExpectedPoint] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PointTableError(description: "\(path): cannot read the file")
        }
        return try parse(data, file: path)
    }

    static let qualityNames: [String: String] = [
        "overflow": "OV", "blocked": "BL", "substituted": "SB", "not_topical": "NT", "invalid": "IV",
    ]

    static func parse(_ data: Data, file: String) throws -> [ExpectedPoint] {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw PointTableError(description: "\(file): not valid JSON (\(error.localizedDescription))")
        }
        guard let object = root as? [String: Any], let entries = object["points"] as? [Any] else {
            throw PointTableError(description: "\(file): a point table is a JSON object { \"points\": [ ... ] }")
        }
        var points: [ExpectedPoint] = []
        for (index, item) in entries.enumerated() {
            guard let entry = item as? [String: Any] else {
                throw PointTableError(description: "\(file): point \(index + 1) is not a JSON object")
            }
            guard entry["command"] == nil, let typeName = entry["type"] else { continue }
            func fail(_ message: String) -> PointTableError {
                PointTableError(description: "\(file): point \(index + 1)\(location(entry)): \(message)")
            }
            guard let ca = integer(entry["ca"]), (0...65535).contains(ca) else { throw fail("'ca' must be 0...65535") }
            guard let ioa = integer(entry["ioa"]), (0...0xFF_FFFF).contains(ioa) else {
                throw fail("'ioa' must be 0...16777215")
            }
            let typeText = "\(typeName)".lowercased()
            guard let kind = ExpectedPoint.Kind(rawValue: typeText == "integrated_totals" ? "counter" : typeText) else {
                throw fail("unknown type '\(typeName)'")
            }
            let transient = entry["transient"].flatMap(boolean) ?? false
            guard let value = parseValue(entry["value"], kind: kind, transient: transient) else {
                throw fail("'\(entry["value"].map { "\($0)" } ?? "")' is not a \(kind.rawValue) value")
            }
            var quality: [String] = []
            for flag in entry["quality"] as? [Any] ?? (entry["quality"].map { [$0] } ?? []) {
                guard let abbreviation = qualityNames["\(flag)".lowercased()] else {
                    throw fail("unknown quality flag '\(flag)'")
                }
                quality.append(abbreviation)
            }
            points.append(ExpectedPoint(commonAddress: UInt16(ca), address: UInt32(ioa), kind: kind, value: value,
                                        quality: quality.sorted(), name: entry["name"] as? String ?? ""))
        }
        return points
    }

    private static func location(_ entry: [String: Any]) -> String {
        guard let ca = integer(entry["ca"]), let ioa = integer(entry["ioa"]) else { return "" }
        return " (\(ca):\(ioa))"
    }

    /// JSON numbers (whole), decimal or 0x… text.
    static func integer(_ value: Any?) -> Int? {
        switch value {
        case let number as NSNumber:
            let double = number.doubleValue
            guard double.rounded() == double, abs(double) < 1e15 else { return nil }
            return Int(double)
        case let text as String:
            let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
            if lower.hasPrefix("0x") { return Int(lower.dropFirst(2), radix: 16) }
            if lower.hasPrefix("-0x") { return Int(lower.dropFirst(3), radix: 16).map { -$0 } }
            return Int(lower)
        default:
            return nil
        }
    }

    /// JSON true/false (not the numbers 0 and 1, which Foundation also bridges to Bool).
    static func boolean(_ value: Any) -> Bool? {
        guard let number = value as? NSNumber, String(cString: number.objCType) == "c" else { return nil }
        return number.boolValue
    }

    static func number(_ value: Any?) -> Double? {
        switch value {
        case let number as NSNumber: number.doubleValue
        case let text as String: Double(text.trimmingCharacters(in: .whitespaces))
        default: nil
        }
    }

    /// The value per type as the daemon reads it; a missing value is the zero of the type.
    static func parseValue(_ value: Any?, kind: ExpectedPoint.Kind, transient: Bool) -> ExpectedPoint.Value? {
        switch kind {
        case .single:
            guard let value else { return .single(false) }
            if let flag = boolean(value) { return .single(flag) }
            switch "\(value)".lowercased() {
            case "true", "on", "1": return .single(true)
            case "false", "off", "0": return .single(false)
            default: return nil
            }
        case .double:
            guard let value else { return .double(.off) }
            if let flag = boolean(value) { return .double(flag ? .on : .off) }
            switch "\(value)".lowercased() {
            case "off": return .double(.off)
            case "on": return .double(.on)
            case "intermediate": return .double(.intermediate)
            case "indeterminate": return .double(.indeterminate)
            default:
                guard let raw = integer(value), (0...3).contains(raw) else { return nil }
                return DoublePointState(rawValue: UInt8(raw)).map { .double($0) }
            }
        case .step:
            guard let number = value.map(integer) ?? 0, (-64...63).contains(number) else { return nil }
            return .step(Int8(number), transient: transient)
        case .bitstring:
            guard let number = value.map(integer) ?? 0, (0...0xFFFF_FFFF).contains(number) else { return nil }
            return .bitstring(UInt32(number))
        case .normalized:
            guard let number = value.map(number) ?? 0, (-1...1).contains(number) else { return nil }
            return .normalized(NormalizedValue(number))
        case .scaled:
            guard let number = value.map(integer) ?? 0, (-32768...32767).contains(number) else { return nil }
            return .scaled(Int16(number))
        case .float:
            guard let number = value.map(number) ?? 0, number.isFinite else { return nil }
            return .float(Float(number))
        case .counter:
            guard let number = value.map(integer) ?? 0, (Int(Int32.min)...Int(Int32.max)).contains(number) else { return nil }
            return .counter(Int32(number))
        }
    }
}
