import Testing
@testable import Monitoring

@Suite("Exposition text")
struct MetricsExpositionTests {
    private let registryText = """
        # TYPE rtu104d_events_sent_total counter
        rtu104d_events_sent_total{listener="main",station="scada"} 12
        # TYPE rtu104d_build_info gauge
        rtu104d_build_info{version="0.9.0",commit="abc"} 1.0
        # TYPE rtu104d_interrogation_duration_seconds histogram
        rtu104d_interrogation_duration_seconds_bucket{kind="station",le="0.001"} 1
        rtu104d_interrogation_duration_seconds_bucket{kind="station",le="+Inf"} 1
        rtu104d_interrogation_duration_seconds_sum{kind="station"} 0.0004
        rtu104d_interrogation_duration_seconds_count{kind="station"} 1

        """

    @Test func prometheusTextHasFamiliesSortedWithTheirHelp() {
        let text = MetricsExposition.render(registryText, as: .prometheus)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "# HELP rtu104d_build_info Always 1; the labels name the build.")
        #expect(lines.filter { $0.hasPrefix("# TYPE") } == [
            "# TYPE rtu104d_build_info gauge",
            "# TYPE rtu104d_events_sent_total counter",
            "# TYPE rtu104d_interrogation_duration_seconds histogram",
        ])
        #expect(lines.contains("# HELP rtu104d_events_sent_total \(MetricCatalog.byName["rtu104d_events_sent_total"]!.help)"))
        #expect(lines.contains(#"rtu104d_events_sent_total{listener="main",station="scada"} 12"#))
        #expect(lines.filter { $0.hasPrefix("rtu104d_interrogation_duration_seconds_") }.count == 4)
        #expect(!text.contains("# EOF"))
    }

    @Test func openMetricsNamesCounterFamiliesWithoutTotalAndEnds() {
        let text = MetricsExposition.render(registryText, as: .openMetrics)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("# TYPE rtu104d_events_sent counter"))
        #expect(lines.contains { $0.hasPrefix("# HELP rtu104d_events_sent ") })
        #expect(lines.contains(#"rtu104d_events_sent_total{listener="main",station="scada"} 12"#), "samples keep _total")
        #expect(lines.contains("# TYPE rtu104d_build_info gauge"))
        #expect(lines.last == "# EOF")
    }

    @Test func theScraperChoosesTheFormatWithAccept() {
        #expect(MetricsExposition.Format(accept: nil) == .prometheus)
        #expect(MetricsExposition.Format(accept: "text/plain;version=0.0.4;q=0.5,*/*;q=0.1") == .prometheus)
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
            + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        #expect(MetricsExposition.Format(accept: prometheus) == .openMetrics)
        #expect(MetricsExposition.Format.openMetrics.contentType.hasPrefix("application/openmetrics-text; version=1.0.0"))
        #expect(MetricsExposition.Format.prometheus.contentType.hasPrefix("text/plain; version=0.0.4"))
    }
}
