import IEC104
import Outstation

/// Checks that span sections and files: duplicate points, feedback points, listeners and stations.
struct CrossValidator {
    let diagnostics: Diagnostics

    /// Duplicate (CA, IOA) across all tables and both point sorts; feedback points that exist and are monitor points.
    /// Messages come in the order of the points they are about, monitor points first, then command points.
    func checkPoints(_ tables: PointTableReader) -> (PointTable, PointSources) {
        let monitors = tables.monitors
        let places = tables.monitorPlaces
        var table = PointTable()
        // `kept[i]`: the index in `monitors` of the i-th point of the sorted table; nil when that is i itself.
        var kept: [Int32]?
        if tables.monitorsAscending {
            // Ascending addresses have no duplicates and are sorted already: nothing to look up or copy.
            table.monitorPoints = monitors
        } else {
            // A stable sort puts each address's first definition first; the others are its duplicates.
            var order = Array(Int32(0)..<Int32(monitors.count))
            order.sort { (monitors[Int($0)].address, $0) < (monitors[Int($1)].address, $1) }
            var duplicates: [(index: Int32, first: Int32)] = []
            var firsts: [Int32] = []
            firsts.reserveCapacity(order.count)
            for index in order {
                if let first = firsts.last, monitors[Int(first)].address == monitors[Int(index)].address {
                    duplicates.append((index, first))
                } else {
                    firsts.append(index)
                }
            }
            duplicates.sort { $0.index < $1.index }
            for (index, first) in duplicates {
                let address = monitors[Int(index)].address
                diagnostics.error(places[Int(index)], subject: "point \(address)", "duplicate address \(address); the "
                                  + "monitor point at \(places[Int(first)]) already uses it")
            }
            table.monitorPoints = firsts.map { monitors[Int($0)] }
            kept = firsts
        }
        /// Where the monitor point at `address` is written, and its kind.
        func monitor(at address: PointAddress) -> (location: SourceLocation, kind: PointKind)? {
            guard let position = table.monitorPoints.sortedIndex(of: address, by: \.address) else { return nil }
            return (places[kept.map { Int($0[position]) } ?? position], table.monitorPoints[position].kind)
        }
        var commandClaims: [PointAddress: SourceLocation] = [:]
        for command in tables.commands {
            let address = command.definition.address
            let first = monitor(at: address).map { ("monitor", $0.location) } ?? commandClaims[address].map { ("command", $0) }
            if let (sort, location) = first {
                diagnostics.error(command.location, subject: "command \(address)", "duplicate address \(address); the "
                                  + "\(sort) point at \(location) already uses it")
                continue
            }
            commandClaims[address] = command.location
            table.commandPoints.append(command.definition)
        }
        for command in tables.commands {
            guard let feedback = command.definition.feedback else { continue }
            let at = command.feedbackLocation ?? command.location
            if let target = monitor(at: feedback) {
                if let expected = Self.feedbackKinds[command.definition.kind], !expected.contains(target.kind) {
                    diagnostics.warning(at, subject: command.subject, key: "feedback",
                                        "a \(command.definition.kind.rawValue) command usually reports back on a "
                                        + expected.map(\.rawValue).joined(separator: " or ")
                                        + " point, but \(feedback) (at \(target.location)) is a \(target.kind.rawValue) point")
                }
            } else if let target = commandClaims[feedback] {
                diagnostics.error(at, subject: command.subject, key: "feedback",
                                  "\(feedback) is a command point (at \(target)); feedback must name a monitor point")
            } else {
                diagnostics.error(at, subject: command.subject, key: "feedback",
                                  "no monitor point \(feedback) is defined in the point tables")
            }
        }
        table.commandPoints.sort { $0.address < $1.address }

        // The sources: monitor and command places merged in address order.
        if kept == nil, commandClaims.isEmpty {
            return (table, PointSources(sortedAddresses: table.monitorPoints.map(\.address), places: places))
        }
        var addresses: [PointAddress] = []
        var sourcePlaces = PointPlaces()
        addresses.reserveCapacity(table.monitorPoints.count + table.commandPoints.count)
        sourcePlaces.reserveCapacity(addresses.capacity)
        var monitorPosition = 0, commandPosition = 0
        while monitorPosition < table.monitorPoints.count || commandPosition < table.commandPoints.count {
            let monitorAddress = monitorPosition < table.monitorPoints.count ? table.monitorPoints[monitorPosition].address : nil
            let commandAddress = commandPosition < table.commandPoints.count ? table.commandPoints[commandPosition].address : nil
            if let monitorAddress, commandAddress.map({ monitorAddress < $0 }) ?? true {
                addresses.append(monitorAddress)
                sourcePlaces.append(places[kept.map { Int($0[monitorPosition]) } ?? monitorPosition])
                monitorPosition += 1
            } else if let commandAddress, let location = commandClaims[commandAddress] {
                addresses.append(commandAddress)
                sourcePlaces.append(location)
                commandPosition += 1
            }
        }
        return (table, PointSources(sortedAddresses: addresses, places: sourcePlaces))
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
