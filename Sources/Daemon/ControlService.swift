import BuildInfo
import Config
import Foundation
import IEC104
public import Server
public import Outstation

/// Answers control socket requests against the outstation: one JSON reply line per request line.
public enum ControlService {
    /// What the socket does with one request line.
    public enum Answer: Sendable, Equatable {
        case reply(String)
        /// A refused or malformed request: the error reply.
        case error(String)
        /// Apply these updates (already checked against the points) as soon as the stations have room,
        /// then reply with ``setReply(updated:events:)``.
        case ingest([PointUpdate])
        /// Subscribe the client to every event, then confirm with this reply.
        case watch(String)
        /// Run a reload (outside the event loop) and reply with its outcome.
        case reload
        /// Run a command point's handler (outside the event loop) and reply with its result.
        case exec(ExecPlan)
    }

    /// What a status reply shows besides the stations: the listeners in force (each TLS listener with its
    /// certificate expiry), the TLS side of each connection, and the ingestion figures.
    public struct StatusInputs {
        public var listeners: [ListenerSettings] = []
        public var tls: [ConnectionID: ConnectionTLS] = [:]
        public var ingest: IngestStatistics?
        /// The daemon's pid, start, configuration file and last reload (the reply's `daemon` object).
        public var daemon: DaemonRecord?
        /// Refusals at accept, TLS handshakes and updates by producer: the counters the metrics endpoint shows.
        public var server: ServerStatistics?

        public init(listeners: [ListenerSettings] = [], tls: [ConnectionID: ConnectionTLS] = [:], ingest: IngestStatistics? = nil,
                    daemon: DaemonRecord? = nil) {
            self.listeners = listeners
            self.tls = tls
            self.ingest = ingest
            self.daemon = daemon
        }
    }

    /// Parses a request line once and answers it; runs on the outstation's executor.
    /// `status` is asked only for a status request.
    public static func answer(_ line: String, outstation: Outstation, wallTime: Int64,
                              status: () -> StatusInputs = { StatusInputs() }) -> Answer {
        let image = outstation.image
        let parsed = ControlRequestParser.parse(line, kindOf: { image.kind(at: $0) })
        switch parsed {
        case .failure(let problem):
            // `exec` is read here, off the fast path of `set`, by ControlExec.
            switch ControlExec.parse(line, image: image, newID: outstation.reserveCommandID) {
            case .success(let plan)?: return .exec(plan)
            case .failure(let refusal)?: return .error(errorReply(refusal.message))
            case nil: return .error(errorReply(explainUnknownPoint(problem.message, image: image, op: "set")))
            }
        case .success(.set(let updates)):
            do {
                try outstation.validate(updates)
                return .ingest(updates)
            } catch {
                return .error(errorReply(explainUnknownPoint(error.description, image: image, op: "set")))
            }
        case .success(.watch): return .watch(#"{"ok":true,"watching":true}"#)
        case .success(.reload): return .reload
        case .success(.get(let addresses)):
            let states: [MonitorPointState]
            if let addresses {
                var found: [MonitorPointState] = []
                for address in addresses {
                    guard let state = image.state(at: address) else {
                        return .error(errorReply(explainUnknownPoint("no monitor point \(address)", image: image, op: "get")))
                    }
                    found.append(state)
                }
                states = found
            } else {
                states = image.points
            }
            return .reply(render(["ok": true, "points": states.map(describe)]))
        case .success(.status):
            let inputs = status()
            let lapsed = outstation.lapsedPointCounts()
            var reply: [String: Any] = ["ok": true, "stations": outstation.stations.map { station in
                                            var described = describe(station, tls: inputs.tls)
                                            described["not_topical_or_invalid_points"] = station.configuration.commonAddresses
                                                .reduce(0) { $0 + (lapsed[$1] ?? 0) }
                                            if !outstation.files.isEmpty { described["file_transfer"] = describeFileTransfer(station) }
                                            return described
                                        },
                                        "version": rtu104VersionText]
            if !outstation.files.isEmpty { reply["file_areas"] = describeFileAreas(outstation.files) }
            if !inputs.listeners.isEmpty { reply["listeners"] = inputs.listeners.map { describe($0, wallTime: wallTime) } }
            if let ingest = inputs.ingest { reply["ingest"] = describe(ingest) }
            if let daemon = inputs.daemon { reply["daemon"] = daemon.statusObject }
            if let journal = inputs.daemon?.journalStatusObject { reply["event_journal"] = journal }
            if let server = inputs.server { reply["server"] = describe(server) }
            return .reply(render(reply))
        }
    }

    /// The reply to a `set` once its updates are applied. Written by hand: it is the commonest reply, and
    /// Foundation's serializer cost more than the update.
    public static func setReply(updated: Int, events: Int) -> String {
        #"{"events":\#(events),"ok":true,"updated":\#(updated)}"#
    }

    /// `points[0]: no monitor point 48:999` names a place in the request and leaves the operator guessing;
    /// the reply names the point and why: a command point, or no point at all. Other messages pass unchanged.
    static func explainUnknownPoint(_ message: String, image: ProcessImage, op: String) -> String {
        guard let range = message.range(of: "no monitor point ") else { return message }
        let text = message[range.upperBound...].prefix { $0.isNumber || $0 == ":" }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let ca = UInt16(parts[0]), let ioa = UInt32(parts[1]) else { return message }
        let address = PointAddress(commonAddress: ca, objectAddress: ioa)
        if image.commandPoints[address] != nil {
            return "\(address) is not a monitor point (it is a command point; \(op) only takes monitor points)"
        }
        return "no point \(address)"
    }

    public static func errorReply(_ message: String) -> String { render(["ok": false, "error": message]) }

    /// The server's own counters, keyed as the metrics' labels are.
    static func describe(_ server: ServerStatistics) -> [String: Any] {
        var refused: [String: [String: Int]] = [:]
        for (key, count) in server.refusals { refused[key.listener, default: [:]][key.detail.rawValue] = Int(count) }
        var handshakes: [String: [String: Int]] = [:]
        for (key, count) in server.tlsHandshakes {
            handshakes[key.listener, default: [:]][key.detail ? "success" : "failure"] = Int(count)
        }
        let updates = Dictionary(uniqueKeysWithValues: UpdateSource.allCases.map { ($0.rawValue, Int(server.updatesApplied[$0] ?? 0)) })
        return ["connections_refused": refused, "tls_handshakes": handshakes, "updates_applied_by_source": updates]
    }

    static func describeFileTransfer(_ station: Station) -> [String: Any] {
        var described: [String: Any] = ["completed": Int(station.statistics.fileTransfersCompleted),
                                         "failed": Int(station.statistics.fileTransfersFailed)]
        if let file = station.fileTransferInProgress { described["in_progress"] = file }
        return described
    }

    static func describeFileAreas(_ files: FileCatalog) -> [[String: Any]] {
        files.areas.map { area in
            ["name": area.name, "directory": area.directory, "common_address": Int(area.commonAddress),
             "ioa": "\(area.objectAddresses.lowerBound)-\(area.objectAddresses.upperBound)",
             "files": files.directory(commonAddress: area.commonAddress).count { $0.area == area.name }]
        }
    }

    static func describe(_ ingest: IngestStatistics) -> [String: Any] {
        ["waiting_updates": ingest.waitingUpdates, "updates_applied": Int(ingest.updatesApplied),
         "held_seconds": Double(ingest.heldNanoseconds / 1_000_000) / 1000, "holds": Int(ingest.holds)]
    }

    /// One watched event as a line: the point and its new state, with the cause of transmission.
    static func watchLine(_ event: PointEvent, outstation: Outstation) -> String {
        var point = describe(outstation.image[event.pointIndex])
        point["value"] = jsonValue(event.value)
        point["quality"] = event.quality.flagNames.map(qualityName)
        point["time"] = event.time
        point["cot"] = Int(event.cause.rawValue)
        return render(["event": point])
    }

    /// A listener in the status reply; a TLS listener adds its certificate's subject and expiry.
    static func describe(_ listener: ListenerSettings, wallTime: Int64) -> [String: Any] {
        var result: [String: Any] = ["name": listener.name, "host": listener.host, "port": listener.port,
                                     "tls": listener.tls != nil]
        if let context = listener.tls?.context {
            var tls: [String: Any] = ["min_version": context.settings.minimumVersion.rawValue,
                                      "client_certificate_required": context.settings.requirePeerCertificate]
            if let interval = context.settings.renegotiationInterval {
                tls["renegotiation_interval_seconds"] = Double(interval.components.seconds)
                    + Double(interval.components.attoseconds) / 1e18
            }
            if let certificate = context.certificate {
                tls["subject"] = certificate.subject
                tls["not_after"] = TLSSetup.expiryText(certificate)
                tls["days_left"] = Int(certificate.daysLeft(now: wallTime / 1000))
            }
            result["certificate"] = tls
        }
        return result
    }

    static func describe(_ state: MonitorPointState) -> [String: Any] {
        var point: [String: Any] = [
            "ca": Int(state.definition.address.commonAddress),
            "ioa": Int(state.definition.address.objectAddress),
            "type": state.definition.kind.rawValue,
            "value": jsonValue(state.value),
            "quality": state.quality.flagNames.map(qualityName),
            "time": state.changedAt,
        ]
        if !state.definition.name.isEmpty { point["name"] = state.definition.name }
        return point
    }

    static func describe(_ station: Station, tls: [ConnectionID: ConnectionTLS] = [:]) -> [String: Any] {
        let statistics = station.statistics
        return [
            "name": station.name,
            "listener": station.configuration.listener,
            "allow": station.configuration.filter.description,
            "common_addresses": station.configuration.commonAddresses.map(Int.init),
            "connections": station.connections.map { connection -> [String: Any] in
                var described: [String: Any] = ["peer": connection.peer, "id": Int(connection.id.rawValue),
                                                "state": "\(connection.dataTransfer)",
                                                "active": connection.id == station.activeConnection]
                if let session = tls[connection.id] {
                    var info: [String: Any] = ["version": session.protocolVersion, "cipher": session.cipher,
                                               "renewals": session.renewals]
                    if let subject = session.subject { info["subject"] = subject }
                    described["tls"] = info
                }
                return described
            },
            "buffered_events": station.eventBuffer.count,
            "buffered_events_by_priority": Dictionary(uniqueKeysWithValues: EventPriority.allCases.map {
                ($0.rawValue, station.eventBuffer.count(of: $0))
            }),
            "buffer_capacity": station.eventBuffer.capacity,
            "dropped_events": Int(station.eventBuffer.droppedCount),
            "events_sent": Int(statistics.eventsSent),
            "asdus_sent": Int(statistics.asdusSent),
            "commands": Int(statistics.commandsReceived),
            "commands_failed": Int(statistics.commandsFailed),
            "negative_confirmations": Int(statistics.negativeConfirmations),
            "interrogations": Int(statistics.interrogations),
            "connections_accepted": Int(statistics.connectionsAccepted),
            "connections_replaced": Int(statistics.connectionsReplaced),
            "asdus_sent_by_cot": codes(statistics.asdusSentByCause) { String($0) },
            "asdus_received_by_type": codes(statistics.asdusReceivedByType) { TypeID.name(of: UInt8($0)) },
            "negative_confirmations_by_cot": codes(statistics.negativeConfirmationsByCause) { String($0) },
            "interrogations_by_kind": ["station": Int(statistics.stationInterrogations), "group": Int(statistics.groupInterrogations),
                                       "counter": Int(statistics.counterInterrogations)],
            "commands_by_result": commandOutcomes(statistics.commandOutcomes),
            "link": ["t1_timeouts": Int(statistics.t1Timeouts), "window_full": Int(statistics.windowFull),
                     "testfr_sent": Int(statistics.testFramesSent), "testfr_received": Int(statistics.testFramesReceived)],
            "clock_offset_ms": station.clockOffsetMilliseconds.map { Int($0) as Any } ?? NSNull(),
        ]
    }

    private static func codes(_ counts: CodeCounts, name: (Int) -> String) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: counts.nonZero.map { (name($0.code), Int($0.count)) })
    }

    /// `{"C_SC_NA_1": {"success": 3, "refused": 1}}`.
    private static func commandOutcomes(_ outcomes: [CommandOutcomeKey: UInt64]) -> [String: [String: Int]] {
        var result: [String: [String: Int]] = [:]
        for (key, count) in outcomes {
            result[TypeID.name(of: key.typeID), default: [:]][key.outcome.rawValue] = Int(count)
        }
        return result
    }

    private static func qualityName(_ flag: String) -> String {
        switch flag {
        case "OV": "overflow"
        case "BL": "blocked"
        case "SB": "substituted"
        case "NT": "not_topical"
        default: "invalid"
        }
    }

    private static func jsonValue(_ value: PointValue) -> Any {
        switch value {
        case .single(let on): return on
        case .double(let state): return state.name
        case .step(let position): return Int(position.value)
        case .bitstring(let bits): return Int(bits)
        case .normalized(let value): return value.doubleValue
        case .scaled(let value): return Int(value)
        case .float(let value): return value.isFinite ? Double(value) as Any : "\(value)"
        case .counter(let reading): return Int(reading.value)
        }
    }

    static func render(_ object: [String: Any]) -> String {
        // Slashes as they are: paths and `per/cyc` read better than `\/`.
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]),
              let text = String(data: data, encoding: .utf8) else {
            return #"{"error":"reply could not be encoded","ok":false}"#
        }
        return text
    }
}
