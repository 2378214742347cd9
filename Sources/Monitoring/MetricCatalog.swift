/// Every metric rtu104d exports, with its type and the help text scrapers show: the one list the exporter, the
/// `# HELP` lines and the documented table are checked against.
public enum MetricCatalog {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    public struct Entry: Sendable {
        public let name: String
        public let kind: Kind
        public let labels: [String]
        public let help: String
    }

    static let stationLabels = ["listener", "station"]

    public static let entries: [Entry] = [
        Entry(name: "rtu104d_build_info", kind: .gauge, labels: ["version", "commit"], help: "Always 1; the labels name the build."),
        Entry(name: "rtu104d_start_time_seconds", kind: .gauge, labels: [], help: "Unix time the daemon started."),
        Entry(name: "rtu104d_config_reload_total", kind: .counter, labels: ["result"],
              help: "Configuration reloads, by result (success, failure)."),
        Entry(name: "rtu104d_config_last_reload_success_timestamp_seconds", kind: .gauge, labels: [],
              help: "Unix time the configuration was last loaded successfully (the start counts)."),
        Entry(name: "rtu104d_station_connections", kind: .gauge, labels: stationLabels,
              help: "Connections the station holds."),
        Entry(name: "rtu104d_station_data_transfer", kind: .gauge, labels: stationLabels,
              help: "1 while a master of the station is in data transfer (STARTDT), else 0."),
        Entry(name: "rtu104d_connections_accepted_total", kind: .counter, labels: stationLabels,
              help: "Connections admitted to the station."),
        Entry(name: "rtu104d_connections_replaced_total", kind: .counter, labels: stationLabels,
              help: "Connections closed because a newer one from the master took their place."),
        Entry(name: "rtu104d_connections_refused_total", kind: .counter, labels: ["listener", "reason"],
              help: "Connections refused before any station had them, by reason."),
        Entry(name: "rtu104d_events_queued", kind: .gauge, labels: stationLabels,
              help: "Events buffered for the station's master."),
        Entry(name: "rtu104d_events_sent_total", kind: .counter, labels: stationLabels,
              help: "Events (information objects) sent spontaneously or as return information."),
        Entry(name: "rtu104d_events_dropped_total", kind: .counter, labels: stationLabels,
              help: "Events lost to a full event buffer (event_overflow)."),
        Entry(name: "rtu104d_asdus_sent_total", kind: .counter, labels: stationLabels + ["cot"],
              help: "ASDUs sent, by cause of transmission."),
        Entry(name: "rtu104d_asdus_received_total", kind: .counter, labels: stationLabels + ["type"],
              help: "ASDUs received from masters, by type identification."),
        Entry(name: "rtu104d_negative_confirmations_total", kind: .counter, labels: stationLabels + ["cot"],
              help: "ASDUs sent with the negative (P/N) bit, by cause of transmission."),
        Entry(name: "rtu104d_interrogations_total", kind: .counter, labels: stationLabels + ["kind"],
              help: "Interrogations started, by kind (station, group, counter)."),
        Entry(name: "rtu104d_interrogation_duration_seconds", kind: .histogram, labels: stationLabels + ["kind"],
              help: "Time from an interrogation's request to its ACTTERM."),
        Entry(name: "rtu104d_commands_total", kind: .counter, labels: stationLabels + ["type", "result"],
              help: "Commands by type and result (success, failed, refused)."),
        Entry(name: "rtu104d_command_duration_seconds", kind: .histogram, labels: stationLabels + ["type"],
              help: "Time from a command's ACT to its last confirmation, for commands that reached a handler."),
        Entry(name: "rtu104d_handler_restarts_total", kind: .counter, labels: ["handler"],
              help: "Restarts of a persistent handler's process."),
        Entry(name: "rtu104d_feeder_restarts_total", kind: .counter, labels: ["feeder"],
              help: "Restarts of a feeder's process."),
        Entry(name: "rtu104d_link_t1_timeouts_total", kind: .counter, labels: stationLabels,
              help: "Connections closed because t1 ran out."),
        Entry(name: "rtu104d_link_window_full_total", kind: .counter, labels: stationLabels,
              help: "Times the k window was full while data waited."),
        Entry(name: "rtu104d_link_testfr_total", kind: .counter, labels: stationLabels + ["direction"],
              help: "TESTFR act frames, sent (t3 probes) or received."),
        Entry(name: "rtu104d_file_transfers_total", kind: .counter, labels: stationLabels + ["result"],
              help: "File transfers a master finished (completed: acknowledged or deleted) or that ended otherwise (failed); from the first one."),
        Entry(name: "rtu104d_tls_handshakes_total", kind: .counter, labels: ["listener", "result"],
              help: "TLS handshakes, by result (success, failure)."),
        Entry(name: "rtu104d_event_journal_events", kind: .gauge, labels: [],
              help: "Events the persistent event journal holds (accepted, not yet acknowledged); only with event_journal."),
        Entry(name: "rtu104d_event_journal_commits_total", kind: .counter, labels: ["result"],
              help: "Group commits of the event journal, by result (ok, failed); only with event_journal."),
        Entry(name: "rtu104d_tls_certificate_expiry_timestamp_seconds", kind: .gauge, labels: ["listener"],
              help: "Unix time the listener's certificate expires (notAfter)."),
        Entry(name: "rtu104d_updates_applied_total", kind: .counter, labels: ["source"],
              help: "Point updates applied to the process image, by producer (control, feeder, handler, simulation)."),
        Entry(name: "rtu104d_ingest_backlog", kind: .gauge, labels: [],
              help: "Point updates waiting for room in the stations' queues."),
    ]

    public static let byName: [String: Entry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })

    /// Bucket bounds of the histograms, in seconds: from a small GI on loopback to a large one over a slow link,
    /// and from a handler that answers at once to one that drives a breaker.
    static let interrogationBuckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10),
                                                   .milliseconds(50), .milliseconds(100), .milliseconds(500),
                                                   .seconds(1), .seconds(5), .seconds(10), .seconds(30)]
    static let commandBuckets: [Duration] = [.milliseconds(1), .milliseconds(10), .milliseconds(50), .milliseconds(100),
                                             .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
                                             .seconds(30)]
}
