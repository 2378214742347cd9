import Foundation
@testable import rtu104ctl
import Testing

@Suite("rtu104ctl status: the daemon lines")
struct StatusDaemonTests {
    @Test func beforeAnyReload() {
        let text = StatusCommand.describeDaemon(["pid": 4242, "started": "2026-12-04T14:00:00.250Z",
                                                 "config": "/etc/rtu104d/rtu104d.conf", "last_reload": NSNull()])
        #expect(text == "daemon pid 4242  started 2026-12-04T14:00:00.250Z  config /etc/rtu104d/rtu104d.conf\n"
                + "  no reload since the start\n")
    }

    @Test func aFailedReloadSaysSo() {
        let text = StatusCommand.describeDaemon([
            "pid": 7, "started": "2026-12-04T14:00:00.250Z", "config": "/x.conf",
            "last_reload": ["time": "2026-12-04T14:01:00.000Z", "ok": false,
                            "message": "reload failed with 1 error(s), first: points.json:1: unexpected end"],
        ])
        #expect(text.hasSuffix("  last reload 2026-12-04T14:01:00.000Z FAILED: reload failed with 1 error(s), "
                               + "first: points.json:1: unexpected end\n"))
        let ok = StatusCommand.describeDaemon(["pid": 7, "started": "s", "config": "/x.conf",
                                               "last_reload": ["time": "t", "ok": true, "message": "configuration reloaded: …"]])
        #expect(ok.hasSuffix("  last reload t ok: configuration reloaded: …\n"))
    }
}
