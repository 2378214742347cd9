import IEC104
import Outstation

/// Checks that span sections and files: duplicate points, feedback points, listeners and stations.
struct CrossValidator {
    let diagnostics: Diagnostics

    /// Duplicate (CA, IOA) across all tables and both point sorts; feedback points that exist and are monitor points.
    mutating func checkPoints(monitors: [PointTableReader.LocatedMonitor], commands: [PointTableReader.LocatedCommand])
        -> (PointTable, [PointAddress: SourceLocation]) {
        /// Who holds an address: its place, and for a monitor point its index in `monitors`. One hash table,
        /// sized up front: with a million points, resizing and three tables cost a fifth of the load time.
        struct Claim {
            var location: SourceLocation
            var monitor: Int?
        }
        var claims: [PointAddress: Claim] = [:]
        claims.reserveCapacity(monitors.count + commands.count)
        var table = PointTable()
        table.monitorPoints.reserveCapacity(monitors.count)
        table.commandPoints.reserveCapacity(commands.count)
        func claim(_ address: PointAddress, _ location: SourceLocation, sort: String, monitor: Int?) -> Bool {
            if let first = claims[address] {
                diagnostics.error(location, subject: "\(sort) \(address)", "duplicate address \(address); the "
                                  + "\(first.monitor == nil ? "command" : "monitor") point at \(first.location) already uses it")
                return false
            }
            claims[address] = Claim(location: location, monitor: monitor)
            return true
        }
        for (index, monitor) in monitors.enumerated()
        where claim(monitor.definition.address, monitor.location, sort: "point", monitor: index) {
            table.monitorPoints.append(monitor.definition)
        }
        for command in commands where claim(command.definition.address, command.location, sort: "command", monitor: nil) {
            table.commandPoints.append(command.definition)
        }
        for command in commands {
            guard let feedback = command.definition.feedback else { continue }
            let at = command.feedbackLocation ?? command.location
            if let target = claims[feedback], let index = target.monitor {
                let kind = monitors[index].definition.kind
                if let expected = Self.feedbackKinds[command.definition.kind], !expected.contains(kind) {
                    diagnostics.warning(at, subject: command.subject, key: "feedback",
                                        "a \(command.definition.kind.rawValue) command usually reports back on a "
                                        + expected.map(\.rawValue).joined(separator: " or ")
                                        + " point, but \(feedback) (at \(target.location)) is a \(kind.rawValue) point")
                }
            } else if let target = claims[feedback] {
                diagnostics.error(at, subject: command.subject, key: "feedback",
                                  "\(feedback) is a command point (at \(target.location)); feedback must name a monitor point")
            } else {
                diagnostics.error(at, subject: command.subject, key: "feedback",
                                  "no monitor point \(feedback) is defined in the point tables")
            }
        }
        table.monitorPoints.sort { $0.address < $1.address }
        table.commandPoints.sort { $0.address < $1.address }
        return (table, claims.mapValues(\.location))
    }

    static let feedbackKinds: [CommandKind: [PointKind]] = [
        .single: [.single, .double], .double: [.double, .single], .step: [.step],
        .normalized: [.normalized, .scaled, .float], .scaled: [.scaled, .normalized, .float],
        .float: [.float, .scaled, .normalized], .bitstring: [.bitstring],
    ]

    /// Listener references, address-filter conflicts, `others` at most once, common addresses.
    func checkStations(_ drafts: [DaemonConfigReader.StationDraft], listeners: [ListenerConfiguration],
                       pointCommonAddresses: Set<UInt16>, pointTablesRead: Bool) -> [StationConfiguration] {
        let listenerNames = listeners.map(\.name)
        var stations: [StationConfiguration] = []
        var resolved: [DaemonConfigReader.StationDraft] = []
        for var draft in drafts {
            if !draft.listenerGiven {
                if listeners.count == 1 {
                    draft.configuration.listener = listeners[0].name
                } else if !listeners.isEmpty {
                    diagnostics.error(draft.location, subject: draft.subject,
                                      "missing required key 'listener'; there are \(listeners.count) listeners: "
                                      + listenerNames.joined(separator: ", "))
                }
            } else if !listenerNames.contains(draft.configuration.listener) {
                diagnostics.error(draft.place("listener"), subject: draft.subject, key: "listener",
                                  "no [listener \(draft.configuration.listener)] is defined"
                                  + Suggestions.hint(for: draft.configuration.listener, in: listenerNames)
                                  + (listenerNames.isEmpty ? "" : " (listeners: \(listenerNames.joined(separator: ", ")))"))
            }
            if !draft.commonAddressesGiven {
                draft.configuration.commonAddresses = pointCommonAddresses.sorted()
            } else if pointTablesRead {
                for address in draft.configuration.commonAddresses where !pointCommonAddresses.contains(address) {
                    diagnostics.warning(draft.place("common_addresses"), subject: draft.subject, key: "common_addresses",
                                        "common address \(address) has no points in the point tables; requests to it get empty replies")
                }
            }
            if let listener = listeners.first(where: { $0.name == draft.configuration.listener }),
               draft.configuration.redundancy > listener.maxConnections {
                diagnostics.warning(draft.place("redundancy"), subject: draft.subject, key: "redundancy",
                                    "redundancy = \(draft.configuration.redundancy) exceeds max_connections = \(listener.maxConnections) of listener '\(listener.name)'")
            }
            stations.append(draft.configuration)
            resolved.append(draft)
        }

        // Filters on one listener must not both admit an address; `others` at most once.
        for (index, station) in resolved.enumerated() {
            for earlier in resolved[..<index] where earlier.configuration.listener == station.configuration.listener {
                let mine = station.configuration.filter, theirs = earlier.configuration.filter
                let listener = station.configuration.listener
                if mine == .others, theirs == .others {
                    diagnostics.error(station.place("allow"), subject: station.subject, key: "allow",
                                      "listener '\(listener)' already has an 'others' station, \(earlier.subject) at \(earlier.place("allow")); only one station per listener can take the others")
                } else if mine.overlaps(theirs) {
                    diagnostics.error(station.place("allow"), subject: station.subject, key: "allow",
                                      "allow = \(mine) overlaps allow = \(theirs) of \(earlier.subject) (at \(earlier.place("allow"))): both can match the same address on listener '\(listener)'; make them disjoint, or use 'others' for one of them")
                }
            }
        }

        // Common addresses with points that no station serves.
        if pointTablesRead, !drafts.isEmpty {
            let served = Set(stations.flatMap(\.commonAddresses))
            for address in pointCommonAddresses.subtracting(served).sorted() {
                diagnostics.warning(drafts[0].location, "common address \(address) has points but no station serves it")
            }
        }
        return stations
    }

    /// Bind addresses that collide; listeners nobody uses.
    func checkListeners(_ listeners: [ListenerConfiguration], stations: [StationConfiguration]) {
        for (index, listener) in listeners.enumerated() {
            for earlier in listeners[..<index] where earlier.port == listener.port && Self.bindsCollide(earlier.host, listener.host) {
                diagnostics.error(listener.location, subject: "listener '\(listener.name)'", key: "bind",
                                  "bind = \(listener.bindDescription) collides with listener '\(earlier.name)' (bind = \(earlier.bindDescription) at \(earlier.location)); use another port or address")
            }
            if !stations.contains(where: { $0.listener == listener.name }) {
                diagnostics.warning(listener.location, subject: "listener '\(listener.name)'",
                                    "no station uses this listener; every connection to \(listener.bindDescription) will be refused")
            }
        }
    }

    /// Same address, or a wildcard and an address of the same family (the second bind would fail).
    static func bindsCollide(_ a: String, _ b: String) -> Bool {
        guard let first = IPAddress(a), let second = IPAddress(b) else { return a.lowercased() == b.lowercased() }
        if first == second { return true }
        guard first.isIPv4 == second.isIPv4 else { return false }
        let wildcard = first.isIPv4 ? IPAddress(ipv4: 0) : IPAddress(high: 0, low: 0)
        return first == wildcard || second == wildcard
    }
}

extension CrossValidator {
    /// Command points name handlers that exist; handlers that no point names are worth a warning.
    func checkHandlers(commands: [PointTableReader.LocatedCommand], handlers: [HandlerConfiguration],
                       configPath: String) -> [PointAddress: CommandBinding] {
        let names = handlers.map(\.name)
        var bindings: [PointAddress: CommandBinding] = [:]
        var used: Set<String> = []
        for command in commands {
            guard let handler = command.handler else { continue }
            guard names.contains(handler) else {
                diagnostics.error(command.handlerLocation ?? command.location, subject: command.subject, key: "handler",
                                  "no [handler \(handler)] is defined in \(configPath)"
                                  + Suggestions.hint(for: handler, in: names)
                                  + (names.isEmpty ? "" : " (handlers: \(names.joined(separator: ", ")))"))
                continue
            }
            used.insert(handler)
            bindings[command.definition.address] = CommandBinding(handler: handler, timeout: command.timeout)
        }
        for handler in handlers where !used.contains(handler.name) {
            diagnostics.warning(handler.location, subject: "handler '\(handler.name)'",
                                "no command point names this handler (handler = \(handler.name) in an INI table, \"handler\": \"\(handler.name)\" in a JSON one)")
        }
        return bindings
    }
}
