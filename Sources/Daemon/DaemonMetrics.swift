import BuildInfo
import Config
import Logging
import Monitoring
import NIOCore
import Server
import ServiceLifecycle

/// The `[metrics]` endpoint of a running daemon: each scrape reads the server's counters in one step on the protocol
/// event loop and the daemon's own figures, copies them into swift-metrics and renders them on the endpoint's thread.
enum DaemonMetrics {
    /// Binds the endpoint if the configuration has a `[metrics]` section; a bind failure is a start error.
    static func start(_ settings: MetricsSettings?, server: OutstationServer, processes: HostProcesses,
                      record: DaemonRecord, logger: Logger) async throws -> MetricsHTTPServer? {
        guard let settings else { return nil }
        let publisher = MetricsPublisher()
        try await server.onMeasurement { publisher.record($0) }.get()
        let endpoint: MetricsHTTPServer
        do {
            endpoint = try await MetricsHTTPServer.start(host: settings.host, port: settings.port) { format, loop in
                figures(server: server, processes: processes, record: record).hop(to: loop).map { snapshot in
                    publisher.publish(snapshot)
                    return MetricsExposition.render(publisher.registry.emitToString(), as: format)
                }
            }
        } catch {
            throw MetricsStartError(address: settings.address, reason: "\(error)")
        }
        let port = endpoint.localAddress?.port ?? settings.port
        let host = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
        logger.notice("metrics endpoint listening", metadata: ["address": "\(host):\(port)", "path": "/metrics"])
        return endpoint
    }

    static func figures(server: OutstationServer, processes: HostProcesses,
                        record: DaemonRecord) -> EventLoopFuture<MetricsSnapshot> {
        let counters = server.counters()
        return counters.and(server.listenersInForce()).map { counters, listeners in
            var daemon = DaemonFigures(version: rtu104Version, commit: rtu104Commit ?? "unknown",
                                       startTime: Double(record.started) / 1000)
            let reloads = record.reloadCounts
            daemon.reloadsSucceeded = reloads.succeeded
            daemon.reloadsFailed = reloads.failed
            daemon.lastReloadSuccess = Double(reloads.lastSuccess) / 1000
            let restarts = processes.restartCounts()
            daemon.handlerRestarts = restarts.handlers
            daemon.feederRestarts = restarts.feeders
            if let journal = record.journalFigures {
                daemon.journalEvents = journal.statistics.kept
                daemon.journalCommits = journal.statistics.commits
                daemon.journalFailedCommits = journal.statistics.failedCommits
            }
            for listener in listeners {
                if let certificate = listener.tls?.context.certificate {
                    daemon.certificateExpiry[listener.name] = Double(certificate.notAfter)
                }
            }
            return MetricsSnapshot(server: counters, daemon: daemon)
        }
    }
}

/// The metrics endpoint could not be bound.
struct MetricsStartError: Error, CustomStringConvertible {
    let address: String
    let reason: String
    var description: String { "[metrics] listen = \(address): cannot listen: \(reason)" }
}

/// Serves the metrics endpoint until the daemon stops; stops before the IEC 104 server, so that a last scrape
/// never waits on a server that is closing.
struct MetricsService: Service {
    let endpoint: MetricsHTTPServer

    func run() async {
        try? await gracefulShutdown()
        await endpoint.stop()
    }
}
