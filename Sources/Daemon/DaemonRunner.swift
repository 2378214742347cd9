public import Config
public import Logging
import NIOCore
import NIOPosix
import Outstation
import Server

/// Builds the outstation from a validated configuration and serves it until told to stop.
public enum DaemonRunner {
    /// Serves `configuration`; returns after `stopSignals` yields and every connection is closed.
    public static func serve(_ configuration: DaemonConfiguration, logger: Logger,
                             stopSignals: AsyncStream<Int32>) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let outstation = try await eventLoop.submit {
            NIOLoopBound(Outstation(points: configuration.points, stations: configuration.stations,
                                    now: SystemClock.monotonicNow(), wallTime: SystemClock.wallMilliseconds()),
                         eventLoop: eventLoop)
        }.get()
        let server = try await eventLoop.submit {
            OutstationServer(eventLoop: eventLoop, logger: logger, outstation: outstation.value)
        }.get()
        do {
            try await server.start(listeners: configuration.listeners.map(ListenerSettings.init)).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let control: ControlSocket
        do {
            control = try await ControlSocket.bind(path: controlSocketPath(configuration), mode: 0o660, server: server,
                                                   logger: logger)
        } catch {
            try? await server.stop().get()
            try? await group.shutdownGracefully()
            throw error
        }
        logger.notice("control socket ready", metadata: ["path": "\(control.path)"])
        let ports = try await server.boundPorts().get()
        for listener in configuration.listeners {
            let host = listener.host.contains(":") ? "[\(listener.host)]" : listener.host
            logger.notice("listening", metadata: ["listener": "\(listener.name)",
                                                  "address": "\(host):\(ports[listener.name] ?? listener.port)"])
        }
        logger.notice("rtu104d ready", metadata: [
            "stations": "\(configuration.stations.count)",
            "points": "\(configuration.points.monitorPoints.count + configuration.points.commandPoints.count)"])
        // systemd: READY=1 now that every listener and the control socket are bound; watchdog and STATUS=.
        let systemd = await SystemdSupervision.started(server: server, logger: logger)
        // end systemd

        for await signal in stopSignals {
            logger.notice("stopping on signal \(signal)")
            break
        }
        systemd.stopping() // systemd: STOPPING=1
        await control.close()
        try await server.stop().get()
        try await group.shutdownGracefully()
        logger.notice("rtu104d stopped")
    }
}

/// The control socket lives in the runtime directory (systemd's RuntimeDirectory when run as a service).
public func controlSocketPath(_ configuration: DaemonConfiguration) -> String {
    configuration.daemon.runtimeDirectory + "/control.sock"
}

extension ListenerSettings {
    init(_ listener: ListenerConfiguration) {
        self.init(name: listener.name, host: listener.host, port: listener.port, errorPolicy: listener.errorPolicy,
                  maxConnections: listener.maxConnections)
    }
}
