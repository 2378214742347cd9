/// The text a scrape returns: swift-prometheus's Prometheus text, given `# HELP` lines from ``MetricCatalog`` (the
/// swift-metrics API carries no help text), or turned into OpenMetrics 1.0 when the scraper asks for it.
public enum MetricsExposition {
    public enum Format: Sendable, Equatable {
        case prometheus
        case openMetrics

        public var contentType: String {
            switch self {
            case .prometheus: "text/plain; version=0.0.4; charset=utf-8"
            case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
            }
        }

        /// OpenMetrics when the request's `Accept` names it, as Prometheus's scraper does; else the classic text.
        public init(accept: String?) {
            self = accept?.lowercased().contains("application/openmetrics-text") == true ? .openMetrics : .prometheus
        }
    }

    /// Rewrites swift-prometheus's output: families sorted by name (the registry keeps them in hash order, which
    /// changes from run to run), a `# HELP` before each family's `# TYPE`; for OpenMetrics, counter families named
    /// without their `_total` suffix (their samples keep it) and the closing `# EOF`.
    public static func render(_ text: String, as format: Format) -> String {
        var families: [(name: Substring, lines: [Substring])] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where !line.hasPrefix("# HELP ") {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst("# TYPE ".count).prefix { $0 != " " }
                families.append((name, [line]))
            } else if families.isEmpty {
                families.append(("", [line]))
            } else {
                families[families.count - 1].lines.append(line)
            }
        }
        families.sort { $0.name < $1.name }
        var output = ""
        output.reserveCapacity(text.utf8.count + 4096)
        for family in families {
            for line in family.lines {
                guard line.hasPrefix("# TYPE ") else { output += line; output += "\n"; continue }
                let fields = line.dropFirst("# TYPE ".count).split(separator: " ")
                guard fields.count == 2 else { output += line; output += "\n"; continue }
                var name = String(fields[0])
                let type = fields[1]
                let help = MetricCatalog.byName[name]?.help
                if format == .openMetrics, type == "counter", name.hasSuffix("_total") { name.removeLast("_total".count) }
                if let help { output += "# HELP \(name) \(help)\n" }
                output += "# TYPE \(name) \(type)\n"
            }
        }
        if format == .openMetrics { output += "# EOF\n" }
        return output
    }
}
