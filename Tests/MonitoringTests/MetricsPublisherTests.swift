import Foundation
import Testing
@testable import Monitoring
import Outstation
import Server

/// The values a scrape shows, read back from the Prometheus registry the publisher fills.
private func values(_ publisher: MetricsPublisher) -> [String: Double] {
    var result: [String: Double] = [:]
    for line in publisher.registry.emitToString().split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
        result[String(line[..<space])] = value
    }
    return result
}

private func snapshot(stations: [StationCounters], server: ServerStatistics = ServerStatistics(),
                      backlog: Int = 0, reloads: (UInt64, UInt64) = (0, 0)) -> MetricsSnapshot {
    var ingest = IngestStatistics()
    ingest.waitingUpdates = backlog
    var daemon = DaemonFigures(version: "0.9.0", commit: "abc1234", startTime: 1_796_000_000)
    daemon.reloadsSucceeded = reloads.0
    daemon.reloadsFailed = reloads.1
    daemon.feederRestarts = ["sine": 2]
    daemon.handlerRestarts = ["breaker": 0]
    daemon.certificateExpiry = ["secure": 1_800_000_000]
    return MetricsSnapshot(server: ServerCounters(stations: stations, server: server, ingest: ingest), daemon: daemon)
}

private func station(_ name: String = "scada", configure: (inout StationStatistics) -> Void = { _ in },
                     connections: Int = 1, dropped: UInt64 = 0) -> StationCounters {
    var statistics = StationStatistics()
    configure(&statistics)
    return StationCounters(name: name, listener: "main", connections: connections, dataTransfer: connections > 0,
                           eventsQueued: 5, eventsDropped: dropped, statistics: statistics)
}

@Suite("Publishing the counters into swift-metrics")
struct MetricsPublisherTests {
    @Test func everyStationSeriesCarriesItsListenerAndStation() {
        let publisher = MetricsPublisher()
        publisher.publish(snapshot(stations: [station {
            $0.eventsSent = 40
            $0.connectionsAccepted = 3
            $0.asdusSentByCause.values[3] = 7
            $0.negativeConfirmationsByCause.values[47] = 2
            $0.asdusReceivedByType.values[100] = 1
            $0.stationInterrogations = 1
            $0.commandOutcomes[CommandOutcomeKey(typeID: 45, outcome: .success)] = 4
            $0.testFramesSent = 6
        }], backlog: 9))
        let scraped = values(publisher)
        let labels = #"listener="main",station="scada""#
        #expect(scraped["rtu104d_events_sent_total{\(labels)}"] == 40)
        #expect(scraped["rtu104d_connections_accepted_total{\(labels)}"] == 3)
        #expect(scraped["rtu104d_station_connections{\(labels)}"] == 1)
        #expect(scraped["rtu104d_station_data_transfer{\(labels)}"] == 1)
        #expect(scraped["rtu104d_events_queued{\(labels)}"] == 5)
        #expect(scraped["rtu104d_asdus_sent_total{\(labels),cot=\"3\"}"] == 7)
        #expect(scraped["rtu104d_negative_confirmations_total{\(labels),cot=\"47\"}"] == 2)
        #expect(scraped["rtu104d_asdus_received_total{\(labels),type=\"C_IC_NA_1\"}"] == 1)
        #expect(scraped["rtu104d_interrogations_total{\(labels),kind=\"station\"}"] == 1)
        #expect(scraped["rtu104d_interrogations_total{\(labels),kind=\"group\"}"] == 0)
        #expect(scraped["rtu104d_commands_total{\(labels),type=\"C_SC_NA_1\",result=\"success\"}"] == 4)
        #expect(scraped["rtu104d_link_testfr_total{\(labels),direction=\"sent\"}"] == 6)
        #expect(scraped["rtu104d_ingest_backlog"] == 9)
        #expect(scraped[#"rtu104d_build_info{version="0.9.0",commit="abc1234"}"#] == 1)
        #expect(scraped[#"rtu104d_feeder_restarts_total{feeder="sine"}"#] == 2)
        #expect(scraped[#"rtu104d_tls_certificate_expiry_timestamp_seconds{listener="secure"}"#] == 1_800_000_000)
        #expect(scraped[#"rtu104d_config_reload_total{result="failure"}"#] == 0)
        #expect(scraped["rtu104d_event_journal_events"] == nil, "no journal, no journal series")
    }

    @Test func theEventJournalIsExportedWhileOneIsOpen() {
        let publisher = MetricsPublisher()
        var figures = snapshot(stations: [station()])
        figures.daemon.journalEvents = 120
        figures.daemon.journalCommits = 45
        figures.daemon.journalFailedCommits = 2
        publisher.publish(figures)
        let scraped = values(publisher)
        #expect(scraped["rtu104d_event_journal_events"] == 120)
        #expect(scraped[#"rtu104d_event_journal_commits_total{result="ok"}"#] == 45)
        #expect(scraped[#"rtu104d_event_journal_commits_total{result="failed"}"#] == 2)
    }

    @Test func aLaterScrapeAddsWhatWasCountedMeanwhileAndAResetStartsAgain() {
        let publisher = MetricsPublisher()
        let key = #"rtu104d_events_sent_total{listener="main",station="scada"}"#
        publisher.publish(snapshot(stations: [station { $0.eventsSent = 10 }]))
        publisher.publish(snapshot(stations: [station { $0.eventsSent = 25 }]))
        #expect(values(publisher)[key] == 25)
        // A reload rebuilt the station: its counter starts from zero, and so does the series.
        publisher.publish(snapshot(stations: [station { $0.eventsSent = 4 }]))
        #expect(values(publisher)[key] == 4)
    }

    @Test func aStationARemovedByReloadLeavesTheExposition() {
        let publisher = MetricsPublisher()
        publisher.publish(snapshot(stations: [station("scada"), station("others")]))
        #expect(values(publisher).keys.contains { $0.contains(#"station="others""#) })
        publisher.publish(snapshot(stations: [station("scada")]))
        #expect(!values(publisher).keys.contains { $0.contains(#"station="others""#) })
        #expect(values(publisher).keys.contains { $0.contains(#"station="scada""#) })
    }

    @Test func refusalsHandshakesAndUpdatesBySource() {
        var server = ServerStatistics()
        server.countRefusal(.notAdmitted, listener: "main")
        server.countRefusal(.notAdmitted, listener: "main")
        server.countRefusal(.tls, listener: "secure")
        server.countHandshake(succeeded: true, listener: "secure")
        server.countHandshake(succeeded: false, listener: "secure")
        server.updatesApplied[.feeder] = 12
        let publisher = MetricsPublisher()
        publisher.publish(snapshot(stations: [], server: server))
        let scraped = values(publisher)
        #expect(scraped[#"rtu104d_connections_refused_total{listener="main",reason="not_admitted"}"#] == 2)
        #expect(scraped[#"rtu104d_connections_refused_total{listener="secure",reason="tls"}"#] == 1)
        #expect(scraped[#"rtu104d_tls_handshakes_total{listener="secure",result="success"}"#] == 1)
        #expect(scraped[#"rtu104d_tls_handshakes_total{listener="secure",result="failure"}"#] == 1)
        #expect(scraped[#"rtu104d_updates_applied_total{source="feeder"}"#] == 12)
        #expect(scraped[#"rtu104d_updates_applied_total{source="control"}"#] == 0)
    }

    @Test func durationsLandInTheirHistogramBuckets() {
        let publisher = MetricsPublisher()
        publisher.record(StationMeasurement(station: "scada", listener: "main", subject: .interrogation(.station),
                                            duration: .milliseconds(3)))
        publisher.record(StationMeasurement(station: "scada", listener: "main", subject: .interrogation(.station),
                                            duration: .milliseconds(300)))
        publisher.record(StationMeasurement(station: "scada", listener: "main", subject: .command(typeID: 45),
                                            duration: .milliseconds(20)))
        let scraped = values(publisher)
        let gi = #"listener="main",station="scada",kind="station""#
        #expect(scraped["rtu104d_interrogation_duration_seconds_count{\(gi)}"] == 2)
        #expect(scraped["rtu104d_interrogation_duration_seconds_bucket{\(gi),le=\"0.005\"}"] == 1)
        #expect(scraped["rtu104d_interrogation_duration_seconds_bucket{\(gi),le=\"0.5\"}"] == 2)
        let sum = scraped["rtu104d_interrogation_duration_seconds_sum{\(gi)}"] ?? 0
        #expect(abs(sum - 0.303) < 1e-9)
        let command = #"listener="main",station="scada",type="C_SC_NA_1""#
        #expect(scraped["rtu104d_command_duration_seconds_bucket{\(command),le=\"0.01\"}"] == 0)
        #expect(scraped["rtu104d_command_duration_seconds_bucket{\(command),le=\"0.05\"}"] == 1)
    }

    /// Every series the publisher writes belongs to a catalogued metric with the catalogued labels, and every
    /// catalogued metric is written (histograms once a duration is recorded).
    @Test func theCatalogIsWhatIsExported() {
        let publisher = MetricsPublisher()
        var server = ServerStatistics()
        server.countRefusal(.addressLimit, listener: "main")
        server.countHandshake(succeeded: true, listener: "main")
        var figures = snapshot(stations: [station {
            $0.asdusSentByCause.values[3] = 1
            $0.asdusReceivedByType.values[100] = 1
            $0.negativeConfirmationsByCause.values[44] = 1
            $0.commandOutcomes[CommandOutcomeKey(typeID: 45, outcome: .refused)] = 1
            $0.fileTransfersCompleted = 2
        }], server: server)
        figures.daemon.journalEvents = 0
        publisher.publish(figures)
        publisher.record(StationMeasurement(station: "scada", listener: "main", subject: .interrogation(.group), duration: .zero))
        publisher.record(StationMeasurement(station: "scada", listener: "main", subject: .command(typeID: 45), duration: .zero))
        var families: [String: String] = [:]
        for line in publisher.registry.emitToString().split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let fields = line.split(separator: " ")
            families[String(fields[2])] = String(fields[3])
        }
        #expect(Set(families.keys) == Set(MetricCatalog.entries.map(\.name)))
        for entry in MetricCatalog.entries {
            guard let type = families[entry.name] else { continue }
            #expect(type == entry.kind.rawValue, "\(entry.name)")
        }
        let (counters, gauges) = MetricsPublisher.samples(of: snapshot(stations: [station { $0.fileTransfersFailed = 1 }]))
        #expect(counters.contains { $0.name == "rtu104d_file_transfers_total" && $0.labels.last == "failed" && $0.value == 1 })
        for sample in counters + gauges {
            #expect(MetricCatalog.byName[sample.name]?.labels.count == sample.labels.count, "\(sample.name)")
        }
    }
}
