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
        /// Subscribe the client to every event, then confirm with this reply.
        case watch(String)
        /// Run a reload (outside the event loop) and reply with its outcome.
        case reload
    }

    /// Parses a request line once and answers it; runs on the outstation's executor.
    /// `listeners` (the settings in force) go into the status reply, with each TLS listener's certificate expiry.
    public static func answer(_ line: String, outstation: Outstation, wallTime: Int64,
                              listeners: [ListenerSettings] = [], tls: [ConnectionID: ConnectionTLS] = [:]) -> Answer {
        let image = outstation.image
        switch ControlRequestParser.parse(line, kindOf: { image.state(at: $0)?.definition.kind }) {
        case .success(.watch): return .watch(#"{"ok":true,"watching":true}"#)
        case .success(.reload): return .reload
        case let parsed:
            return .reply(reply(to: parsed, outstation: outstation, wallTime: wallTime, listeners: listeners, tls: tls))
        }
    }

    /// Handles one request line; runs on the outstation's executor.
    /// `listeners` (the settings in force) go into the status reply, with each TLS listener's certificate expiry.
    public static func reply(to line: String, outstation: Outstation, wallTime: Int64,
                             listeners: [ListenerSettings] = []) -> String {
        let image = outstation.image
        return reply(to: ControlRequestParser.parse(line, kindOf: { image.state(at: $0)?.definition.kind }),
                     outstation: outstation, wallTime: wallTime, listeners: listeners)
    }

    static func reply(to parsed: Result<ControlRequest, ControlRequestError>, outstation: Outstation,
                      wallTime: Int64, listeners: [ListenerSettings], tls: [ConnectionID: ConnectionTLS] = [:]) -> String {
        let image = outstation.image
        switch parsed {
        case .failure(let problem):
            return render(["ok": false, "error": problem.message])
        case .success(.set(let updates)):
            do {
                let events = try outstation.apply(updates, wallTime: wallTime)
                // The commonest reply, written by hand: Foundation's serializer cost more than the update.
                return #"{"events":\#(events),"ok":true,"updated":\#(updates.count)}"#
            } catch {
                return render(["ok": false, "error": error.description])
            }
        case .success(.get(let addresses)):
            let states: [MonitorPointState]
            if let addresses {
                var found: [MonitorPointState] = []
                for address in addresses {
                    guard let state = image.state(at: address) else {
                        return render(["ok": false, "error": "no monitor point \(address)"])
                    }
                    found.append(state)
                }
                states = found
            } else {
                states = image.points
            }
            return render(["ok": true, "points": states.map(describe)])
        case .success(.status):
            let stations = outstation.stations.map { describe($0, tls: tls) }
            if listeners.isEmpty { return render(["ok": true, "stations": stations]) }
            return render(["ok": true, "stations": stations,
                           "listeners": listeners.map { describe($0, wallTime: wallTime) }])
        case .success(.reload):
            // The socket hands reloads to the daemon's reloader before they get here.
            return render(["ok": false, "error": "reload is handled by the control socket"])
        case .success(.watch):
            // The socket handler subscribes before it gets here; a watch needs a connection of its own.
            return render(["ok": true, "watching": true])
        }
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
            "clock_offset_ms": station.clockOffsetMilliseconds.map { Int($0) as Any } ?? NSNull(),
        ]
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
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else {
            return #"{"error":"reply could not be encoded","ok":false}"#
        }
        return text
    }
}
