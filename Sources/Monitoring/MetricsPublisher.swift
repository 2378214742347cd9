import CoreMetrics
import IEC104
public import Outstation
import Server
public import Prometheus
import Synchronization

/// Copies the stations' and the daemon's counters into swift-metrics at each scrape, and records the durations the
/// stations measure. The counters stay the stations' own (one source for `rtu104ctl status` and the metrics): a
/// scrape adds to each swift-metrics counter what its source counted since the last one, so the protocol path never
/// touches a metric.
public final class MetricsPublisher: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    private struct SeriesKey: Hashable {
        let name: String
        let labels: [String]
    }

    private struct CounterSeries {
        let counter: CoreMetrics.Counter
        var published: UInt64
    }

    private struct State {
        var counters: [SeriesKey: CounterSeries] = [:]
        var gauges: [SeriesKey: CoreMetrics.Gauge] = [:]
        var timers: [SeriesKey: CoreMetrics.Timer] = [:]
    }

    private let state = Mutex(State())

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["rtu104d_interrogation_duration_seconds"] = MetricCatalog.interrogationBuckets
        factory.durationHistogramBuckets["rtu104d_command_duration_seconds"] = MetricCatalog.commandBuckets
        self.factory = factory
    }

    /// One value of a series at the scrape: its metric, its label values in the catalog's order, its value.
    struct Sample {
        let name: String
        let labels: [String]
        let value: Double
    }

    /// Brings every series to `snapshot`; series whose source is gone (a station or handler a reload removed) are
    /// dropped from the exposition.
    public func publish(_ snapshot: MetricsSnapshot) {
        let (counters, gauges) = Self.samples(of: snapshot)
        state.withLock { state in
            var seenCounters = Set<SeriesKey>()
            for sample in counters {
                let key = SeriesKey(name: sample.name, labels: sample.labels)
                seenCounters.insert(key)
                let value = UInt64(sample.value)
                guard var series = state.counters[key] else {
                    let counter = CoreMetrics.Counter(label: sample.name, dimensions: dimensions(key), factory: factory)
                    counter.increment(by: value)
                    state.counters[key] = CounterSeries(counter: counter, published: value)
                    continue
                }
                if value >= series.published {
                    if value > series.published { series.counter.increment(by: value - series.published) }
                } else {
                    // Its source started again (a reload rebuilt the station): a counter reset, as Prometheus knows it.
                    series.counter.reset()
                    series.counter.increment(by: value)
                }
                series.published = value
                state.counters[key] = series
            }
            for (key, series) in state.counters where !seenCounters.contains(key) {
                series.counter.destroy()
                state.counters[key] = nil
            }
            var seenGauges = Set<SeriesKey>()
            for sample in gauges {
                let key = SeriesKey(name: sample.name, labels: sample.labels)
                seenGauges.insert(key)
                let gauge = state.gauges[key] ?? CoreMetrics.Gauge(label: sample.name, dimensions: dimensions(key), factory: factory)
                gauge.record(sample.value)
                state.gauges[key] = gauge
            }
            for (key, gauge) in state.gauges where !seenGauges.contains(key) {
                gauge.destroy()
                state.gauges[key] = nil
            }
        }
    }

    /// Records an interrogation's or a command's duration in its histogram.
    public func record(_ measurement: StationMeasurement) {
        let key: SeriesKey
        switch measurement.subject {
        case .interrogation(let kind):
            key = SeriesKey(name: "rtu104d_interrogation_duration_seconds",
                            labels: [measurement.listener, measurement.station, kind.rawValue])
        case .command(let typeID):
            key = SeriesKey(name: "rtu104d_command_duration_seconds",
                            labels: [measurement.listener, measurement.station, TypeID.name(of: typeID)])
        }
        let timer = state.withLock { state in
            if let timer = state.timers[key] { return timer }
            let timer = CoreMetrics.Timer(label: key.name, dimensions: dimensions(key), factory: factory)
            state.timers[key] = timer
            return timer
        }
        let parts = measurement.duration.components
        timer.recordNanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
    }

    private func dimensions(_ key: SeriesKey) -> [(String, String)] {
        Array(zip(MetricCatalog.byName[key.name]?.labels ?? [], key.labels))
    }


    static func samples(of snapshot: MetricsSnapshot) -> (counters: [Sample], gauges: [Sample]) {
        var counters: [Sample] = []
        var gauges: [Sample] = []
        func counter(_ name: String, _ labels: [String], _ value: UInt64) {
            counters.append(Sample(name: name, labels: labels, value: Double(value)))
        }
        func gauge(_ name: String, _ labels: [String], _ value: Double) {
            gauges.append(Sample(name: name, labels: labels, value: value))
        }
        let daemon = snapshot.daemon
        gauge("rtu104d_build_info", [daemon.version, daemon.commit], 1)
        gauge("rtu104d_start_time_seconds", [], daemon.startTime)
        counter("rtu104d_config_reload_total", ["success"], daemon.reloadsSucceeded)
        counter("rtu104d_config_reload_total", ["failure"], daemon.reloadsFailed)
        gauge("rtu104d_config_last_reload_success_timestamp_seconds", [], daemon.lastReloadSuccess)
        for (name, restarts) in daemon.handlerRestarts { counter("rtu104d_handler_restarts_total", [name], restarts) }
        for (name, restarts) in daemon.feederRestarts { counter("rtu104d_feeder_restarts_total", [name], restarts) }
        if let kept = daemon.journalEvents {
            gauge("rtu104d_event_journal_events", [], Double(kept))
            counter("rtu104d_event_journal_commits_total", ["ok"], daemon.journalCommits)
            counter("rtu104d_event_journal_commits_total", ["failed"], daemon.journalFailedCommits)
        }
        for (listener, expiry) in daemon.certificateExpiry {
            gauge("rtu104d_tls_certificate_expiry_timestamp_seconds", [listener], expiry)
        }

        for station in snapshot.server.stations {
            let labels = [station.listener, station.name]
            let statistics = station.statistics
            gauge("rtu104d_station_connections", labels, Double(station.connections))
            gauge("rtu104d_station_data_transfer", labels, station.dataTransfer ? 1 : 0)
            gauge("rtu104d_events_queued", labels, Double(station.eventsQueued))
            counter("rtu104d_connections_accepted_total", labels, statistics.connectionsAccepted)
            counter("rtu104d_connections_replaced_total", labels, statistics.connectionsReplaced)
            counter("rtu104d_events_sent_total", labels, statistics.eventsSent)
            counter("rtu104d_events_dropped_total", labels, station.eventsDropped)
            for (cause, count) in statistics.asdusSentByCause.nonZero {
                counter("rtu104d_asdus_sent_total", labels + [String(cause)], count)
            }
            for (type, count) in statistics.asdusReceivedByType.nonZero {
                counter("rtu104d_asdus_received_total", labels + [TypeID.name(of: UInt8(type))], count)
            }
            for (cause, count) in statistics.negativeConfirmationsByCause.nonZero {
                counter("rtu104d_negative_confirmations_total", labels + [String(cause)], count)
            }
            counter("rtu104d_interrogations_total", labels + ["station"], statistics.stationInterrogations)
            counter("rtu104d_interrogations_total", labels + ["group"], statistics.groupInterrogations)
            counter("rtu104d_interrogations_total", labels + ["counter"], statistics.counterInterrogations)
            for (key, count) in statistics.commandOutcomes {
                counter("rtu104d_commands_total", labels + [TypeID.name(of: key.typeID), key.outcome.rawValue], count)
            }
            counter("rtu104d_link_t1_timeouts_total", labels, statistics.t1Timeouts)
            counter("rtu104d_link_window_full_total", labels, statistics.windowFull)
            counter("rtu104d_link_testfr_total", labels + ["sent"], statistics.testFramesSent)
            counter("rtu104d_link_testfr_total", labels + ["received"], statistics.testFramesReceived)
            if statistics.fileTransfersCompleted + statistics.fileTransfersFailed > 0 {
                counter("rtu104d_file_transfers_total", labels + ["completed"], statistics.fileTransfersCompleted)
                counter("rtu104d_file_transfers_total", labels + ["failed"], statistics.fileTransfersFailed)
            }
        }

        let server = snapshot.server.server
        for (key, count) in server.refusals {
            counter("rtu104d_connections_refused_total", [key.listener, key.detail.rawValue], count)
        }
        for (key, count) in server.tlsHandshakes {
            counter("rtu104d_tls_handshakes_total", [key.listener, key.detail ? "success" : "failure"], count)
        }
        for source in UpdateSource.allCases {
            counter("rtu104d_updates_applied_total", [source.rawValue], server.updatesApplied[source] ?? 0)
        }
        gauge("rtu104d_ingest_backlog", [], Double(snapshot.server.ingest.waitingUpdates))
        return (counters, gauges)
    }
}
