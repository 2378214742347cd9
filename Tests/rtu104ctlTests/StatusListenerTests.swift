import Testing
import Master
@testable import rtu104ctl

@Suite("status: listeners and TLS certificate expiry")
struct StatusListenerTests {
    @Test func plainListener() {
        let text = StatusCommand.describeListener(["name": "main", "host": "0.0.0.0", "port": 2404, "tls": false])
        #expect(text == "listener main  0.0.0.0:2404  tls off\n")
    }

    @Test func tlsListener() {
        let text = StatusCommand.describeListener([
            "name": "secure", "host": "::", "port": 19998, "tls": true,
            "certificate": ["subject": "CN=rtu104d,O=rtu104d", "not_after": "2027-11-22T10:00:00Z", "days_left": 365,
                            "min_version": "1.2", "client_certificate_required": true] as [String: Any],
        ])
        #expect(text == """
            listener secure  [::]:19998  tls on
              certificate CN=rtu104d,O=rtu104d
              expires 2027-11-22, in 365 days
              TLS 1.2 or later, client certificate required

            """)
    }

    @Test func tlsListenerRenewingKeys() {
        let text = StatusCommand.describeListener([
            "name": "secure", "host": "127.0.0.1", "port": 19998, "tls": true,
            "certificate": ["min_version": "1.3", "client_certificate_required": false,
                            "renegotiation_interval_seconds": 3600.0] as [String: Any],
        ])
        #expect(text == """
            listener secure  127.0.0.1:19998  tls on
              TLS 1.3 or later, client certificate optional, session keys renewed every 1h

            """)
    }

    @Test func stationWithTLSMaster() {
        let text = StatusCommand.describe([
            "name": "scada", "listener": "secure", "allow": "127.0.0.1", "common_addresses": [47, 48],
            "connections": [
                ["peer": "127.0.0.1", "state": "started", "active": true,
                 "tls": ["version": "TLSv1.2", "cipher": "ECDHE-ECDSA-AES256-GCM-SHA384", "subject": "O=rtu104d,CN=master1",
                         "renewals": 3] as [String: Any]] as [String: Any],
                ["peer": "127.0.0.2", "state": "stopped", "active": false,
                 "tls": ["version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "renewals": 1] as [String: Any]],
            ],
            "buffered_events": 0, "buffer_capacity": 10000,
        ])
        #expect(text == """
            station scada  listener secure  allow 127.0.0.1  CA 47,48
              master 127.0.0.1  link started  (receiving data)
                TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384, certificate O=rtu104d,CN=master1, session keys renewed 3 times
              master 127.0.0.2  link stopped
                TLSv1.3 TLS_AES_256_GCM_SHA384, certificate none, session keys renewed once
              events buffered 0/10000  dropped 0  sent 0
              commands 0  failed 0  interrogations 0  negative confirmations 0

            """)
    }

    @Test func ingestFigures() {
        #expect(StatusCommand.describeIngest(["updates_applied": 1_250_000, "waiting_updates": 0, "holds": 0,
                                              "held_seconds": 0.0]) == "updates applied 1250000  waiting 0\n")
        #expect(StatusCommand.describeIngest(["updates_applied": 9000, "waiting_updates": 250, "holds": 3,
                                              "held_seconds": 1.25])
                == "updates applied 9000  waiting 250  producers held 3 times, 1.25 s in all\n")
    }

    @Test func eventJournalFigures() {
        #expect(StatusCommand.describeJournal(["path": "/var/lib/rtu104d/events.db", "sync": "full", "events_kept": 12,
                                               "commits": 345, "failed_commits": 0])
                == "event journal /var/lib/rtu104d/events.db (sync full): 12 events kept, 345 commits\n")
        #expect(StatusCommand.describeJournal(["path": "/x/events.db", "sync": "normal", "events_kept": 0, "commits": 3,
                                               "failed_commits": 2, "last_failure": "database or disk is full"])
                == "event journal /x/events.db (sync normal): 0 events kept, 3 commits, 2 FAILED (last: database or disk is full)\n")
    }

    @Test func fileTransferFigures() {
        #expect(StatusCommand.describeFileArea(["name": "records", "directory": "/var/lib/rtu104d/records",
                                                "common_address": 47, "ioa": "30001-30099", "files": 3])
                == "files records  /var/lib/rtu104d/records  CA 47 IOA 30001-30099  3 files listed\n")
        let station: [String: Any] = ["name": "scada", "listener": "main", "allow": "any", "common_addresses": [47],
                                      "file_transfer": ["completed": 4, "failed": 1, "in_progress": "47:30001 records/a.cfg"]]
        #expect(StatusCommand.describe(station).contains("  file transfers completed 4  failed 1  sending 47:30001 records/a.cfg\n"))
    }

    @Test("durations", arguments: [(90.0, "90s"), (1800, "30min"), (3600, "1h"), (5400, "90min"), (604_800, "7d"), (1.5, "1.5s")])
    func durations(seconds: Double, text: String) {
        #expect(StatusCommand.shortDuration(seconds: seconds) == text)
    }

    @Test("expiry", arguments: [
        (365, "expires 2027-11-22, in 365 days"),
        (30, "expires 2027-11-22, in 30 days"),
        (29, "WARNING: expires 2027-11-22, in 29 days (renew the certificate)"),
        (1, "WARNING: expires 2027-11-22, in 1 day (renew the certificate)"),
        (0, "WARNING: expires 2027-11-22, today (renew the certificate)"),
        (-3, "EXPIRED 2027-11-22, 3 days ago"),
    ])
    func expiry(days: Int, text: String) {
        #expect(StatusCommand.expiryText(notAfter: "2027-11-22T10:00:00Z", daysLeft: days) == text)
    }

    @Test func civilDates() {
        #expect(civilDate(0) == "1970-01-01")
        #expect(civilDate(1_826_150_400) == "2027-11-14")
        #expect(civilDate(951_782_400) == "2000-02-29")
        #expect(civilDate(-1) == "1969-12-31")
        #expect(civilDate(-86_400 * 365) == "1969-01-01")
    }
}
