import IEC104
import Outstation
import TLS

/// The one-screen text `rtu104d --check` prints for a valid configuration: listeners, the stations on
/// each and who may connect to them, and point counts per kind.
public func renderSummary(_ config: DaemonConfiguration) -> String {
    var lines: [String] = []
    lines.append("configuration \(config.configPath): OK")
    let daemon = config.daemon
    lines.append("  point tables: " + daemon.pointTables.joined(separator: ", "))
    lines.append("  state: \(daemon.stateDirectory)  runtime: \(daemon.runtimeDirectory)  log level: \(daemon.logLevel.rawValue)")
    if let metrics = config.metrics { lines.append("  metrics: http://\(metrics.address)/metrics") }
    lines.append("")
    for listener in config.listeners {
        lines.append("listener \(listener.name): \(listener.bindDescription), link errors \(listener.errorPolicy.rawValue), "
                     + "max \(listener.maxConnections) connection" + (listener.maxConnections == 1 ? "" : "s"))
        if let tls = listener.tls { lines.append("  " + describeTLS(tls)) }
        let stations = config.stations(on: listener.name)
        if stations.isEmpty { lines.append("  (no station: every connection is refused)") }
        let width = stations.map(\.name.count).max() ?? 0
        for station in stations {
            let name = station.name.padding(to: width)
            lines.append("  station \(name)  allow \(describeFilter(station.filter))")
            let p = station.parameters
            var details = "CA " + station.commonAddresses.map(String.init).joined(separator: ",")
            details += "  k=\(p.k) w=\(p.w) t0=\(Format.duration(p.t0)) t1=\(Format.duration(p.t1)) t2=\(Format.duration(p.t2)) t3=\(Format.duration(p.t3))"
            details += "  buffer \(station.eventBufferSize) \(station.overflowPolicy.rawValue)"
            if station.timeTags != .perPoint { details += "  time tags \(station.timeTags.rawValue)" }
            if station.redundancy > 1 { details += "  redundancy \(station.redundancy)" }
            if station.eventJournal { details += "  event journal (sync \(config.daemon.eventJournalSync.rawValue))" }
            lines.append("    " + String(repeating: " ", count: width + 8) + details)
        }
    }
    lines.append("")

    let monitors = config.points.monitorPoints
    let commands = config.points.commandPoints
    let addresses = config.points.commonAddresses.sorted().map(String.init).joined(separator: ", ")
    lines.append("points: \(monitors.count) monitor, \(commands.count) command" + (addresses.isEmpty ? "" : " (CA \(addresses))"))
    let monitorCounts = PointKind.allCases.compactMap { kind -> String? in
        let count = monitors.filter { $0.kind == kind }.count
        return count == 0 ? nil : "\(kind.rawValue) \(count)"
    }
    if !monitorCounts.isEmpty { lines.append("  monitor: " + monitorCounts.joined(separator: ", ")) }
    var traits: [String] = []
    func trait(_ label: String, _ count: Int) { if count > 0 { traits.append("\(label) \(count)") } }
    trait("time-tagged", monitors.filter(\.timeTaggedEvents).count)
    trait("with deadband", monitors.filter { $0.deadband != nil }.count)
    trait("cyclic", monitors.filter { if case .cyclic? = $0.periodic { true } else { false } }.count)
    trait("background", monitors.filter { if case .background? = $0.periodic { true } else { false } }.count)
    trait("in counter groups", monitors.filter { $0.counterGroup != nil }.count)
    trait("priority raised", monitors.filter { $0.priority > $0.kind.defaultEventPriority }.count)
    trait("priority lowered", monitors.filter { $0.priority < $0.kind.defaultEventPriority }.count)
    trait("stale_after", monitors.filter { ($0.staleAfter ?? .zero) > .zero }.count)
    trait("simulated", monitors.filter { $0.simulation != nil }.count)
    let groups = Set(monitors.flatMap(\.groups.groups)).sorted()
    if !traits.isEmpty { lines.append("           " + traits.joined(separator: ", ")) }
    if !groups.isEmpty { lines.append("           interrogation groups used: " + groups.map(String.init).joined(separator: ", ")) }
    let commandCounts = CommandKind.allCases.compactMap { kind -> String? in
        let count = commands.filter { $0.kind == kind }.count
        return count == 0 ? nil : "\(kind.rawValue) \(count)"
    }
    if !commandCounts.isEmpty {
        let sbo = commands.filter { $0.selectBeforeOperate == .required }.count
        lines.append("  command: " + commandCounts.joined(separator: ", ") + (sbo > 0 ? " (select-before-operate required: \(sbo))" : ""))
    }
    if !commands.isEmpty || !config.handlers.isEmpty {
        let maxAge = daemon.commandMaxAge.map { "max age \(Format.duration($0))" } ?? "no max age"
        let selectTimeouts = Set(config.stations.map(\.selectTimeout)).sorted().map(Format.duration).joined(separator: "/")
        lines.append("  commands: time-tagged \(maxAge), select timeout \(selectTimeouts), "
                     + "at most \(daemon.maxHandlerProcesses) handler processes")
    }
    for handler in config.handlers {
        let points = config.commandBindings.values.filter { $0.handler == handler.name }.count
        lines.append("handler \(handler.name): \(handler.mode.rawValue) \(describeProgram(handler.program)), "
                     + "timeout \(Format.duration(handler.timeout)), \(points) point" + (points == 1 ? "" : "s"))
    }
    for feeder in config.feeders {
        let fed = feeder.points.reduce(0) { $0 + $1.objectAddresses.count }
        lines.append("feeder \(feeder.name): \(describeProgram(feeder.program))"
                     + (fed > 0 ? ", feeds \(fed) point\(fed == 1 ? "" : "s")" : ""))
    }
    for area in config.fileAreas { lines.append(describeFileArea(area)) }
    if !config.warnings.isEmpty {
        lines.append("")
        lines.append("\(config.warnings.count) warning" + (config.warnings.count == 1 ? "" : "s") + ":")
        for warning in config.warnings.prefix(8) { lines.append("  \(warning)") }
        if config.warnings.count > 8 { lines.append("  … and \(config.warnings.count - 8) more") }
    }
    return lines.joined(separator: "\n") + "\n"
}

/// `files records: /var/lib/rtu104d/records (CA 47, IOA 30001-30099, pattern *.cfg *.dat, delete not allowed)`, with
/// the keys that differ from their defaults after it.
func describeFileArea(_ area: FileArea) -> String {
    var details = ["CA \(area.commonAddress)", "IOA \(CrossValidator.rangeText(area.objectAddresses))",
                   "pattern " + area.patterns.joined(separator: " ")]
    if area.nameOfFile != 1 { details.append("NOF \(area.nameOfFile)") }
    if area.sectionSize != 65536 { details.append("sections of \(area.sectionSize) octets") }
    if area.maximumFileSize != FileArea.largestFileSize(sectionSize: area.sectionSize) {
        details.append("files up to \(area.maximumFileSize) octets")
    }
    details.append(area.allowDelete ? "delete allowed" : "delete not allowed")
    if area.scanInterval != .seconds(2) { details.append("scanned every \(Format.duration(area.scanInterval))") }
    return "files \(area.name): \(area.directory) (" + details.joined(separator: ", ") + ")"
}

private func describeProgram(_ program: ProgramConfiguration) -> String {
    ([program.executable] + program.arguments).joined(separator: " ")
}

private func describeFilter(_ filter: AddressFilter) -> String {
    switch filter {
    case .any: "any address"
    case .others: "others (addresses no other station on this listener admits)"
    case .patterns: filter.description
    }
}

/// "TLS 1.2+, mutual authentication (CA ca.pem, CRL), session keys renewed every 1h".
private func describeTLS(_ tls: TLSSettings) -> String {
    var parts = ["TLS \(tls.minimumVersion.rawValue)+"]
    if tls.requirePeerCertificate {
        var trust: [String] = []
        if let ca = tls.caPath { trust.append("CA \(ca)") }
        if tls.crlPath != nil { trust.append("CRL") }
        if !tls.allowedFingerprints.isEmpty { trust.append("\(tls.allowedFingerprints.count) pinned") }
        parts.append("mutual authentication (\(trust.joined(separator: ", ")))")
    } else {
        parts.append("client certificate optional")
    }
    if !tls.sessionResumption { parts.append("no session resumption") }
    parts.append(tls.renegotiationInterval.map { "session keys renewed every \(Format.duration($0))" } ?? "no session key renewal")
    return parts.joined(separator: ", ")
}

extension String {
    func padding(to width: Int) -> String { self + String(repeating: " ", count: Swift.max(0, width - count)) }
}
