@testable import Config
import Testing

@Suite("Config: back-pressure per station and the control socket's error limit")
struct BackpressureConfigTests {
    @Test func defaultsHoldProducersAndLimitErrors() throws {
        let config = try #require(Files().configuration)
        #expect(config.stations.first?.backpressure == true)
        #expect(config.daemon.controlErrorLimit == 1000)
    }

    @Test func backpressureCanBeTurnedOffPerStation() throws {
        let config = try #require(Files(config: Files.config(station: "backpressure = no")).configuration)
        #expect(config.stations.first?.backpressure == false)
    }

    @Test func aBadBackpressureValueNamesTheLine() {
        #expect(Files(config: Files.config(station: "backpressure = sometimes")).errors == [
            "rtu.conf:12: station 'scada' key 'backpressure': sometimes is not a yes/no value; use true or false (also yes/no, on/off, 1/0)",
        ])
    }

    @Test func controlErrorLimitIsReadFromTheDaemonSection() throws {
        let text = Files.config.replacingOccurrences(of: "point_tables = points.json",
                                                     with: "point_tables = points.json\ncontrol_error_limit = 0")
        #expect(try #require(Files(config: text).configuration).daemon.controlErrorLimit == 0)
        let bad = Files.config.replacingOccurrences(of: "point_tables = points.json",
                                                    with: "point_tables = points.json\ncontrol_error_limit = -5")
        #expect(Files(config: bad).errors.count == 1)
        #expect(Files(config: bad).errors.first?.hasPrefix("rtu.conf:3: [daemon] key 'control_error_limit'") == true)
    }
}
