import ArgumentParser
import Foundation

/// `rtu104ctl status`: stations, their masters, link state, buffers and counters.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the stations of a running rtu104d: connected masters, link state, event buffers, commands.",
        discussion: """
        Then the listeners in force: address, TLS on or off, and for a TLS listener its certificate's \
        subject and expiry ("expires 2027-11-22, in 365 days"), marked "WARNING" under 30 days left \
        and "EXPIRED" once expired. --json prints the daemon's reply as it is.
        """)

    @OptionGroup var options: ControlOptions

    func run() throws {
        try runControlRequest(options, ["op": "status"]) { reply in
            ((reply["version"] as? String).map { "rtu104d \($0)\n" } ?? "")
                + ((reply["daemon"] as? [String: Any]).map(Self.describeDaemon) ?? "")
                + (reply["stations"] as? [[String: Any]] ?? []).map(Self.describe).joined()
                + (reply["listeners"] as? [[String: Any]] ?? []).map(Self.describeListener).joined()
                + ((reply["ingest"] as? [String: Any]).map(Self.describeIngest) ?? "")
                + ((reply["server"] as? [String: Any]).map(Self.describeRefusals) ?? "")
                + ((reply["event_journal"] as? [String: Any]).map(Self.describeJournal) ?? "")
                + (reply["file_areas"] as? [[String: Any]] ?? []).map(Self.describeFileArea).joined()
        }
    }

    /// `files records  /var/lib/rtu104d/records  CA 47 IOA 30001-30099  3 files listed`.
    static func describeFileArea(_ area: [String: Any]) -> String {
        let count = area["files"] as? Int ?? 0
        return "files \(area["name"] as? String ?? "?")  \(area["directory"] as? String ?? "?")"
            + "  CA \(area["common_address"] as? Int ?? 0) IOA \(area["ioa"] as? String ?? "?")"
            + "  \(count) file\(count == 1 ? "" : "s") listed\n"
    }

    /// `event journal /var/lib/rtu104d/events.db (sync full): 12 events kept, 345 commits` and, when commits
    /// failed, how many and the last reason.
    static func describeJournal(_ journal: [String: Any]) -> String {
        var text = "event journal \(journal["path"] as? String ?? "?") (sync \(journal["sync"] as? String ?? "?")): "
            + "\(journal["events_kept"] as? Int ?? 0) events kept, \(journal["commits"] as? Int ?? 0) commits"
        if let failed = journal["failed_commits"] as? Int, failed > 0 {
            text += ", \(failed) FAILED"
            if let reason = journal["last_failure"] as? String { text += " (last: \(reason))" }
        }
        return text + "\n"
    }

    /// `daemon pid 4242  started 2026-12-04T18:00:00.000Z  config /etc/rtu104d/rtu104d.conf` and the last reload:
    /// `  last reload 2026-12-04T18:02:11.250Z ok: configuration reloaded: …`, `… FAILED: …` or `  no reload since the start`.
    static func describeDaemon(_ daemon: [String: Any]) -> String {
        let pid = (daemon["pid"] as? Int).map(String.init) ?? "?"
        var text = "daemon pid \(pid)  started \(daemon["started"] as? String ?? "?")  config \(daemon["config"] as? String ?? "?")\n"
        guard let reload = daemon["last_reload"] as? [String: Any] else { return text + "  no reload since the start\n" }
        let outcome = reload["ok"] as? Bool == true ? "ok" : "FAILED"
        text += "  last reload \(reload["time"] as? String ?? "?") \(outcome): \(reload["message"] as? String ?? "")\n"
        return text
    }

    /// Days left under which a listener certificate is marked.
    static let expiryWarningDays = 30

    /// `listener main  127.0.0.1:19998  tls on` and, for TLS, the certificate's subject and expiry.
    static func describeListener(_ listener: [String: Any]) -> String {
        let host = listener["host"] as? String ?? "?"
        let port = (listener["port"] as? Int).map(String.init) ?? "?"
        let bind = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let tls = listener["tls"] as? Bool == true
        var text = "listener \(listener["name"] as? String ?? "?")  \(bind)  tls \(tls ? "on" : "off")\n"
        guard tls else { return text }
        guard let certificate = listener["certificate"] as? [String: Any] else { return text }
        if let subject = certificate["subject"] as? String {
            text += "  certificate \(subject)\n"
        }
        if let expiry = expiryText(notAfter: certificate["not_after"] as? String, daysLeft: certificate["days_left"] as? Int) {
            text += "  \(expiry)\n"
        }
        var policy: [String] = []
        if let version = certificate["min_version"] as? String { policy.append("TLS \(version) or later") }
        if let required = certificate["client_certificate_required"] as? Bool {
            policy.append(required ? "client certificate required" : "client certificate optional")
        }
        if let interval = certificate["renegotiation_interval_seconds"] as? Double {
            policy.append("session keys renewed every \(shortDuration(seconds: interval))")
        }
        if !policy.isEmpty { text += "  \(policy.joined(separator: ", "))\n" }
        return text
    }

    /// `updates applied 1250000  waiting 0  producers held 3 times, 1.25 s in all`.
    static func describeIngest(_ ingest: [String: Any]) -> String {
        let applied = ingest["updates_applied"] as? Int ?? 0
        let waiting = ingest["waiting_updates"] as? Int ?? 0
        let holds = ingest["holds"] as? Int ?? 0
        let held = ingest["held_seconds"] as? Double ?? 0
        var text = "updates applied \(applied)  waiting \(waiting)"
        if holds > 0 {
            text += "  producers held \(holds) time\(holds == 1 ? "" : "s"), \(held) s in all"
        }
        return text + "\n"
    }

    /// `connections refused: main 12 (not_admitted 10, address_limit 2)`, or nothing when none was.
    static func describeRefusals(_ server: [String: Any]) -> String {
        let refused = server["connections_refused"] as? [String: [String: Int]] ?? [:]
        guard !refused.isEmpty else { return "" }
        let parts = refused.keys.sorted().map { listener -> String in
            let reasons = refused[listener] ?? [:]
            let total = reasons.values.reduce(0, +)
            return "\(listener) \(total) (" + reasons.keys.sorted().map { "\($0) \(reasons[$0] ?? 0)" }.joined(separator: ", ") + ")"
        }
        return "connections refused: " + parts.joined(separator: "; ") + "\n"
    }

    /// "90s", "30min", "1h", "7d", "1.5s".
    static func shortDuration(seconds: Double) -> String {
        guard seconds == seconds.rounded(), seconds >= 1 else { return "\(seconds)s" }
        let whole = Int(seconds)
        for (unit, size) in [("d", 86_400), ("h", 3600), ("min", 60)] where whole >= size && whole % size == 0 {
            return "\(whole / size)\(unit)"
        }
        return "\(whole)s"
    }

    /// "expires 2027-11-22, in 365 days"; "WARNING: expires …, in 9 days" under 30 days; "EXPIRED 2020-12-31, 5 days ago".
    static func expiryText(notAfter: String?, daysLeft: Int?) -> String? {
        guard notAfter != nil || daysLeft != nil else { return nil }
        let date = notAfter.map { String($0.prefix(10)) } ?? "?"
        guard let days = daysLeft else { return "expires \(date)" }
        func plural(_ n: Int) -> String { n == 1 ? "1 day" : "\(n) days" }
        if days < 0 { return "EXPIRED \(date), \(plural(-days)) ago" }
        // days_left is whole days (rounded down) with a certificate still valid: "in 0 days" reads as today.
        let when = days == 0 ? "today" : "in \(plural(days))"
        if days < expiryWarningDays { return "WARNING: expires \(date), \(when) (renew the certificate)" }
        return "expires \(date), \(when)"
    }

    static func describe(_ station: [String: Any]) -> String {
        func number(_ key: String) -> Int { station[key] as? Int ?? 0 }
        var text = "station \(station["name"] as? String ?? "?")  listener \(station["listener"] as? String ?? "?")"
            + "  allow \(station["allow"] as? String ?? "?")"
            + "  CA \((station["common_addresses"] as? [Int] ?? []).map(String.init).joined(separator: ","))\n"
        let connections = station["connections"] as? [[String: Any]] ?? []
        if connections.isEmpty { text += "  no master connected\n" }
        for connection in connections {
            let active = connection["active"] as? Bool == true ? "  (receiving data)" : ""
            text += "  master \(connection["peer"] as? String ?? "?")  link \(connection["state"] as? String ?? "?")\(active)\n"
            if let tls = connection["tls"] as? [String: Any] {
                let renewals = tls["renewals"] as? Int ?? 0
                text += "    \(tls["version"] as? String ?? "TLS") \(tls["cipher"] as? String ?? "?")"
                    + ", certificate \(tls["subject"] as? String ?? "none")"
                    + ", session keys renewed \(renewals == 1 ? "once" : "\(renewals) times")\n"
            }
        }
        text += "  events buffered \(number("buffered_events"))/\(number("buffer_capacity"))"
            + "  dropped \(number("dropped_events"))  sent \(number("events_sent"))\n"
        if let lapsed = station["not_topical_or_invalid_points"] as? Int, lapsed > 0 {
            text += "  points not topical or invalid \(lapsed)\n"
        }
        text += "  commands \(number("commands"))  failed \(number("commands_failed"))"
            + "  interrogations \(number("interrogations"))  negative confirmations \(number("negative_confirmations"))\n"
        if let link = station["link"] as? [String: Int] {
            text += "  link: t1 timeouts \(link["t1_timeouts"] ?? 0)  window full \(link["window_full"] ?? 0)"
                + "  TESTFR sent \(link["testfr_sent"] ?? 0) received \(link["testfr_received"] ?? 0)\n"
        }
        if let offset = station["clock_offset_ms"] as? Int {
            text += "  master clock \(offset) ms ahead of system time\n"
        }
        if let files = station["file_transfer"] as? [String: Any] {
            text += "  file transfers completed \(files["completed"] as? Int ?? 0)  failed \(files["failed"] as? Int ?? 0)"
                + ((files["in_progress"] as? String).map { "  sending \($0)" } ?? "") + "\n"
        }
        return text
    }
}
