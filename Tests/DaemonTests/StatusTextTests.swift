@testable import Daemon
import Testing

/// The one line `systemctl status rtu104d` shows.
@Suite struct StatusTextTests {
    @Test(arguments: [
        (ServiceStatus(stations: 3, connectedStations: 2, connections: 2), "2/3 stations connected, 2 connections"),
        (ServiceStatus(stations: 1, connectedStations: 1, connections: 1), "1/1 stations connected, 1 connection"),
        (ServiceStatus(stations: 1, connectedStations: 0, connections: 0, lastReload: (.succeeded, "14:02:11")),
         "0/1 stations connected, 0 connections; last reload 14:02:11 ok"),
        (ServiceStatus(stations: 2, connectedStations: 1, connections: 3,
                       lastReload: (.failed("rtu.conf:12: bad value"), "09:00:05")),
         "1/2 stations connected, 3 connections; last reload 09:00:05 FAILED: rtu.conf:12: bad value"),
    ])
    func statusLine(status: ServiceStatus, text: String) {
        #expect(status.text == text)
    }

    @Test func theStatusIsSentAsOneLine() {
        #expect(SystemdNotifier.message(["READY=1"], status: "a\nb\rc") == "READY=1\nSTATUS=a b c")
    }

    @Test func theReloadTimeIsAClockTime() {
        let time = StatusReporter.clockTime()
        #expect(time.count == 8 && time.split(separator: ":").count == 3, "\(time)")
    }
}
