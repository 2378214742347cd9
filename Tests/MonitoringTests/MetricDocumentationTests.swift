import Foundation
import Testing
@testable import Monitoring

/// The catalog is the truth: docs/operations.md's metric table lists every metric with its type and labels, and
/// the documentation, the alert rules and the Grafana dashboard name no metric the daemon does not export.
@Suite("Metrics documentation and examples follow the catalog")
struct MetricDocumentationTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: checkout + "/" + relative, encoding: .utf8)
    }

    /// `| `rtu104d_name` | counter | listener, station | meaning |` rows: name → (type, labels).
    static func documentedTable() throws -> [String: (kind: String, labels: [String])] {
        var rows: [String: (String, [String])] = [:]
        for line in try read("docs/operations.md").split(separator: "\n") where line.hasPrefix("| `rtu104d_") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5, ["counter", "gauge", "histogram"].contains(cells[2]) else { continue }
            let name = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let labels = cells[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            rows[name] = (cells[2], labels)
        }
        return rows
    }

    @Test func theOperationsTableHasEveryMetricWithItsTypeAndLabels() throws {
        let table = try Self.documentedTable()
        #expect(Set(table.keys) == Set(MetricCatalog.entries.map(\.name)))
        for entry in MetricCatalog.entries {
            guard let row = table[entry.name] else { continue }
            #expect(row.kind == entry.kind.rawValue, "\(entry.name)")
            #expect(row.labels == entry.labels, "\(entry.name)")
        }
    }

    /// Every `rtu104d_…` name in the operator's documents and the monitoring examples is one the daemon exports
    /// (a histogram's `_bucket`, `_sum` and `_count` series included).
    @Test(arguments: ["docs/operations.md", "docs/configuration.md", "etc/monitoring/prometheus-alerts.yml",
                      "etc/monitoring/grafana-rtu104d.json", "etc/monitoring/README.md"])
    func everyNamedMetricExists(_ file: String) throws {
        let text = try Self.read(file)
        let known = Set(MetricCatalog.entries.flatMap { entry in
            entry.kind == .histogram ? [entry.name, entry.name + "_bucket", entry.name + "_sum", entry.name + "_count"]
                : [entry.name]
        })
        let pattern = try Regex("rtu104d_[a-z0-9_]+")
        let names = Set(text.matches(of: pattern).map { String(text[$0.range]) })
        // Not metrics: the daemon's own file and unit names.
        let unknown = names.subtracting(known).filter { !["rtu104d_perf_server"].contains($0) }
        #expect(unknown.isEmpty, "\(file) names \(unknown.sorted())")
    }

    @Test func theDashboardIsJSONAndTheAlertsAreTheThreeDocumented() throws {
        let dashboard = try JSONSerialization.jsonObject(with: Data(try Self.read("etc/monitoring/grafana-rtu104d.json").utf8))
        #expect((dashboard as? [String: Any])?["panels"] is [Any])
        let alerts = try Self.read("etc/monitoring/prometheus-alerts.yml")
        let expressions = alerts.split(separator: "\n").compactMap { line -> String? in
            let text = line.trimmingCharacters(in: .whitespaces)
            return text.hasPrefix("expr:") ? text.dropFirst("expr:".count).trimmingCharacters(in: .whitespaces) : nil
        }
        #expect(expressions == ["rtu104d_station_data_transfer == 0", "increase(rtu104d_events_dropped_total[10m]) > 0",
                                "rtu104d_tls_certificate_expiry_timestamp_seconds - time() < 14*86400"])
    }
}
