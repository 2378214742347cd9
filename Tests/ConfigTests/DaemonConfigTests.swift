@testable import Config
import IEC104
import Outstation
import Testing

@Suite struct DaemonConfigTests {
    @Test func minimalConfigurationLoadsWithDefaults() throws {
        let config = try #require(Files().configuration)
        #expect(config.daemon.pointTables == ["points.json"])
        #expect(config.daemon.stateDirectory == "/var/lib/rtu104d")
        #expect(config.daemon.runtimeDirectory == "/run/rtu104d")
        #expect(config.daemon.logLevel == .info)
        let listener = try #require(config.listeners.first)
        #expect(listener.host == "0.0.0.0")
        #expect(listener.port == 2404)
        #expect(listener.errorPolicy == .close)
        #expect(listener.maxConnections == 32)
        #expect(listener.maxConnectionsPerAddress == 8)
        #expect(listener.location == SourceLocation(file: "rtu.conf", line: 4))
        let station = try #require(config.stations.first)
        #expect(station.name == "scada")
        #expect(station.filter == .any)
        #expect(station.commonAddresses == [47])
        #expect(station.parameters == .standard)
        #expect(station.eventBufferSize == 10_000)
        #expect(station.overflowPolicy == .dropOldest)
        #expect(station.timeTags == .perPoint)
        #expect(station.redundancy == 1)
        #expect(station.startTimeout == nil)
        #expect(config.stationSources["scada"] == SourceLocation(file: "rtu.conf", line: 7))
        #expect(config.warnings.isEmpty)
    }

    @Test func everyStationKey() throws {
        let files = Files(config: """
            [daemon]
            point_tables = points.json
            log_level = debug
            [listener main]
            bind = [::]:20000
            link_errors = discard
            max_connections = 3
            [station scada]
            allow = 10.0.0.*, 192.168.1.0/24, ::1
            common_addresses = 47
            k = 24
            w = 16
            t0 = 10
            t1 = 2.5
            t2 = 500ms
            t3 = 1min
            event_buffer = 50
            event_overflow = drop-newest
            time_tags = never
            redundancy = 2
            accept_c_ts_na = yes
            start_timeout = 5s
            invalid_time_until_sync = on
            """)
        let config = try #require(files.configuration)
        #expect(config.daemon.logLevel == .debug)
        #expect(config.listeners[0].host == "::")
        #expect(config.listeners[0].port == 20000)
        #expect(config.listeners[0].bindDescription == "[::]:20000")
        #expect(config.listeners[0].errorPolicy == .discard)
        let station = config.stations[0]
        #expect(station.listener == "main")
        #expect(station.filter == (try AddressFilter(parsing: "10.0.0.*, 192.168.1.0/24, ::1")))
        #expect(station.parameters == (try APCIParameters(k: 24, w: 16, t0: .seconds(10), t1: .milliseconds(2500),
                                                          t2: .milliseconds(500), t3: .seconds(60))))
        #expect(station.eventBufferSize == 50)
        #expect(station.overflowPolicy == .dropNewest)
        #expect(station.timeTags == .never)
        #expect(station.redundancy == 2)
        #expect(station.acceptTestCommandWithoutTime)
        #expect(station.startTimeout == .seconds(5))
        #expect(station.invalidTimeUntilSynchronized)
    }

    @Test func commonAddressesDefaultToThoseOfThePointTables() throws {
        let files = Files(config: Files.config.replacing("common_addresses = 47\n", with: ""),
                          points: Files.points(#"{"ca": 47, "ioa": 1, "type": "single"}"#, #"{"ca": 12, "ioa": 1, "type": "single"}"#))
        #expect(try #require(files.configuration).stations[0].commonAddresses == [12, 47])
    }

    @Test func pathsAreRelativeToTheConfigDirectory() throws {
        let result = ConfigurationLoader.load(configPath: "etc/rtu/rtu.conf") { path in
            switch path {
            case "etc/rtu/rtu.conf":
                return .success(Files.config.replacing("point_tables = points.json",
                    with: "point_tables = tables/points.json, /abs/p.ini\nstate_directory = ../../.build/state\nruntime_directory = ./run"))
            case "etc/rtu/tables/points.json": return .success(Files.points)
            case "/abs/p.ini": return .success("[point 47:2]\ntype = float\n")
            default: return .failure(ConfigurationLoader.FileReadError("no such file"))
            }
        }
        let config = try result.get()
        #expect(config.daemon.pointTables == ["etc/rtu/tables/points.json", "/abs/p.ini"])
        #expect(config.daemon.stateDirectory == ".build/state")
        #expect(config.daemon.runtimeDirectory == "etc/rtu/run")
        #expect(config.points.monitorPoints.count == 2)
    }

    @Test func overridesWin() throws {
        let config = try Files().load(overrides: DaemonOverrides(stateDirectory: "/tmp/s", runtimeDirectory: "/tmp/r", logLevel: .trace)).get()
        #expect(config.daemon.stateDirectory == "/tmp/s")
        #expect(config.daemon.runtimeDirectory == "/tmp/r")
        #expect(config.daemon.logLevel == .trace)
    }

    @Test func missingConfigFile() {
        let result = ConfigurationLoader.load(configPath: "nope.conf") { _ in .failure(.init("no such file")) }
        guard case .failure(let errors) = result else { Issue.record("loaded"); return }
        #expect(errors.errors.map(\.description) == ["nope.conf: cannot read the configuration file: no such file"])
    }

    @Test func maxConnectionsPerAddress() throws {
        let files = Files(config: Files.config.replacing("bind = 0.0.0.0:2404",
                                                         with: "bind = 0.0.0.0:2404\nmax_connections_per_address = 2"))
        let listener = try #require(files.configuration?.listeners.first)
        #expect(listener.maxConnectionsPerAddress == 2)
        #expect(listener.maxConnections == 32)
    }

    @Test func unknownSection() {
        let files = Files(config: Files.config + "\n[stations other]\nallow = any\n")
        #expect(files.errors == ["rtu.conf:12: unknown section [stations other]; did you mean 'station'?; sections are [daemon], [listener NAME], [station NAME], [handler NAME], [feeder NAME], [files NAME] and [metrics]"])
    }

    @Test func unknownKeyWithSuggestion() {
        let files = Files(config: Files.config.replacing("bind = 0.0.0.0:2404", with: "bind = 0.0.0.0:2404\nmax_conections = 4"))
        #expect(files.errors == ["rtu.conf:6: listener 'main' key 'max_conections': unknown key; did you mean 'max_connections'?"])
    }

    @Test func unknownKeyWithoutSuggestion() {
        let files = Files(config: Files.config + "\ncolour = blue\n")
        #expect(files.errors == ["rtu.conf:12: station 'scada' key 'colour': unknown key"])
    }

    @Test func keyInTheWrongSection() {
        let files = Files(config: Files.config + "\nbind = 0.0.0.0:2405\n")
        #expect(files.errors == ["rtu.conf:12: station 'scada' key 'bind': 'bind' belongs in a [listener NAME] section, not in a [station] section"])
    }

    @Test func duplicateKey() {
        let files = Files(config: Files.config + "\nk = 12\nk = 10\n")
        #expect(files.errors == ["rtu.conf:13: station 'scada' key 'k': duplicate key; it is already set at rtu.conf:12"])
    }

    @Test func duplicateSection() {
        let files = Files(config: Files.config + "\n[listener main]\nbind = 0.0.0.0:2405\n")
        #expect(files.errors == ["rtu.conf:12: listener 'main': duplicate section; it is already defined at rtu.conf:4"])
    }

    @Test func missingRequiredKeys() {
        let files = Files(config: """
            [daemon]
            log_level = info
            [listener main]
            [station scada]
            common_addresses = 47
            """)
        #expect(files.errors == [
            "rtu.conf:1: [daemon]: missing required key 'point_tables' (the point table files, e.g. point_tables = points.json)",
            "rtu.conf:4: station 'scada': missing required key 'allow' (who may connect: any, others, or addresses like 192.168.0.10, 10.0.0.*, 10.1.0.0/16)",
        ])
    }

    @Test func missingSections() {
        let files = Files(config: "; nothing\n")
        #expect(files.errors == [
            "rtu.conf: no [daemon] section; it names the point tables (point_tables = points.json)",
            "rtu.conf: no [listener NAME] section; define at least one, e.g. [listener main] with bind = 0.0.0.0:2404",
            "rtu.conf: no [station NAME] section; define at least one station with allow = and common_addresses =",
        ])
    }

    @Test(arguments: [
        ("k = 0", "rtu.conf:12: station 'scada' key 'k': 0 is outside the allowed range 1…32767"),
        ("k = twelve", "rtu.conf:12: station 'scada' key 'k': twelve is not a whole number; expected 1…32767"),
        ("t1 = 300", "rtu.conf:12: station 'scada' key 't1': 300 is longer than the allowed 255s"),
        ("t3 = 0", "rtu.conf:12: station 'scada' key 't3': 0 must be more than 0 seconds"),
        ("t0 = soon", "rtu.conf:12: station 'scada' key 't0': soon is not a duration; write seconds (15, 0.5) or use ms, s, min, h or d (500ms)"),
        // Found by FuzzConfig: a duration beyond Int64 milliseconds trapped in the conversion.
        ("t1 = 1e300d", "rtu.conf:12: station 'scada' key 't1': 1e300d is longer than the allowed 255s"),
        ("t1 = 9999999999999999999", "rtu.conf:12: station 'scada' key 't1': 9999999999999999999 is longer than the allowed 255s"),
        ("event_overflow = drop-old", "rtu.conf:12: station 'scada' key 'event_overflow': drop-old is not one of 'drop-oldest' or 'drop-newest' (did you mean 'drop-oldest'?)"),
        ("time_tags = sometimes", "rtu.conf:12: station 'scada' key 'time_tags': sometimes is not one of 'per-point', 'always' or 'never'"),
        ("accept_c_ts_na = maybe", "rtu.conf:12: station 'scada' key 'accept_c_ts_na': maybe is not a yes/no value; use true or false (also yes/no, on/off, 1/0)"),
        ("redundancy = 0", "rtu.conf:12: station 'scada' key 'redundancy': 0 is outside the allowed range 1…64"),
        ("event_buffer = -5", "rtu.conf:12: station 'scada' key 'event_buffer': -5 is outside the allowed range 1…10000000"),
        ("common_addresses = 47, 65535", "rtu.conf:11: station 'scada' key 'common_addresses': 65535 is outside the allowed range 1…65534"),
    ])
    func invalidStationValues(line: String, message: String) {
        let config = line.hasPrefix("common_addresses")
            ? Files.config.replacing("common_addresses = 47", with: "\n" + line)
            : Files.config + "\n" + line
        let files = Files(config: config)
        #expect(files.errors == [message])
    }

    @Test func invalidAddressFilter() {
        let files = Files(config: Files.config.replacing("allow = any", with: "allow = 192.168.0.300"))
        #expect(files.errors == ["rtu.conf:9: station 'scada' key 'allow': '192.168.0.300' is not an IP address, an IPv4 wildcard like 192.168.0.* or a CIDR range"])
    }

    @Test(arguments: [
        ("bind = 0.0.0.0:99999", "rtu.conf:5: listener 'main' key 'bind': port '99999' is not a number in 1…65535"),
        ("bind = 10.0.0.300:2404", "rtu.conf:5: listener 'main' key 'bind': '10.0.0.300' is neither an IP address nor a host name; write address:port, e.g. 0.0.0.0:2404 or [::]:2404"),
        ("bind = [::1:2404", "rtu.conf:5: listener 'main' key 'bind': '[::1:2404' lacks the closing ']'; write address:port, e.g. 0.0.0.0:2404 or [::]:2404"),
        ("link_errors = skip", "rtu.conf:5: listener 'main' key 'link_errors': skip is not one of 'close' or 'discard'"),
        ("max_connections = 0", "rtu.conf:5: listener 'main' key 'max_connections': 0 is outside the allowed range 1…65535"),
        ("max_connections_per_address = 0",
         "rtu.conf:5: listener 'main' key 'max_connections_per_address': 0 is outside the allowed range 1…65535"),
    ])
    func invalidListenerValues(line: String, message: String) {
        let files = Files(config: Files.config.replacing("bind = 0.0.0.0:2404", with: line))
        #expect(files.errors == [message])
    }

    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1", 2404), ("localhost:2500", "localhost", 2500), ("[::1]", "::1", 2404),
        ("::", "::", 2404), ("[fe80::1%eth0]:2404", "fe80::1%eth0", 2404),
    ])
    func bindForms(text: String, host: String, port: Int) throws {
        let (parsedHost, parsedPort) = try DaemonConfigReader.parseBind(ConfigValue(.text(text), at: SourceLocation(file: "x", line: 1))).get()
        #expect(parsedHost == host)
        #expect(parsedPort == port)
    }

    @Test func invalidLogLevel() {
        let files = Files(config: Files.config.replacing("[daemon]", with: "[daemon]\nlog_level = warn"))
        #expect(files.errors == ["rtu.conf:2: [daemon] key 'log_level': warn is not one of 'trace', 'debug', 'info', 'notice', 'warning', 'error' or 'critical' (did you mean 'warning'?)"])
    }

    @Test func windowTooLargeForK() {
        let files = Files(config: Files.config + "\nk = 12\nw = 9\n")
        #expect(files.errors == ["rtu.conf:13: station 'scada' key 'w': w = 9 exceeds two thirds of k = 12; choose w ≤ 8"])
    }

    @Test func windowTooLargeForDefaultW() {
        let files = Files(config: Files.config + "\nk = 6\n")
        #expect(files.errors == ["rtu.conf:12: station 'scada' key 'k': w = 8 exceeds two thirds of k = 6; choose w ≤ 4"])
    }

    @Test func t2NotBelowT1() {
        let files = Files(config: Files.config + "\nt1 = 10\nt2 = 10\n")
        #expect(files.errors == ["rtu.conf:13: station 'scada' key 't2': t2 = 10.0 seconds must be less than t1 = 10.0 seconds"])
    }

    @Test func stationWithUnknownListener() {
        let files = Files(config: Files.config.replacing("listener = main", with: "listener = mian"))
        #expect(files.errors == ["rtu.conf:8: station 'scada' key 'listener': no [listener mian] is defined; did you mean 'main'? (listeners: main)"])
    }

    @Test func stationWithoutListenerTakesTheOnlyOne() throws {
        let files = Files(config: Files.config.replacing("listener = main\n", with: ""))
        #expect(try #require(files.configuration).stations[0].listener == "main")
    }

    @Test func stationWithoutListenerWhenThereAreSeveral() {
        let files = Files(config: Files.config.replacing("listener = main\n", with: "")
                          + "\n[listener second]\nbind = 0.0.0.0:2405\n[station b]\nlistener = second\nallow = any\n")
        #expect(files.errors == ["rtu.conf:7: station 'scada': missing required key 'listener'; there are 2 listeners: main, second"])
    }

    @Test func listenerWithoutStationIsAWarning() throws {
        let files = Files(config: Files.config + "\n[listener spare]\nbind = 127.0.0.1:2500\n")
        #expect(files.errors.isEmpty)
        #expect(files.warnings == ["rtu.conf:12: warning: listener 'spare': no station uses this listener; every connection to 127.0.0.1:2500 will be refused"])
    }

    @Test func twoOthersOnOneListener() {
        let files = Files(config: Files.config.replacing("allow = any", with: "allow = others")
                          + "\n[station b]\nallow = others\n")
        #expect(files.errors == ["rtu.conf:13: station 'b' key 'allow': listener 'main' already has an 'others' station, station 'scada' at rtu.conf:9; only one station per listener can take the others"])
    }

    @Test func overlappingFiltersNameBothStations() {
        let files = Files(config: Files.config.replacing("allow = any", with: "allow = 192.168.0.0/16")
                          + "\n[station b]\nallow = 10.0.0.1, 192.168.4.*\n")
        #expect(files.errors == ["rtu.conf:13: station 'b' key 'allow': allow = 10.0.0.1, 192.168.4.* overlaps allow = 192.168.0.0/16 of station 'scada' (at rtu.conf:9): both can match the same address on listener 'main'; make them disjoint, or use 'others' for one of them"])
    }

    @Test func disjointFiltersAndOthersAreFine() throws {
        let files = Files(config: Files.config.replacing("allow = any", with: "allow = 192.168.0.0/16")
                          + "\n[station b]\nallow = 10.0.0.1\n[station c]\nallow = others\n")
        #expect(files.errors.isEmpty)
        #expect(try #require(files.configuration).stations(on: "main").map(\.name) == ["scada", "b", "c"])
    }

    @Test func sameFilterOnDifferentListenersIsFine() {
        let files = Files(config: Files.config + "\n[listener second]\nbind = 0.0.0.0:2405\n[station b]\nlistener = second\nallow = any\n")
        #expect(files.errors.isEmpty)
    }

    @Test func duplicateListenerBind() {
        let files = Files(config: Files.config + "\n[listener second]\nbind = 0.0.0.0:2404\n[station b]\nlistener = second\nallow = any\n")
        #expect(files.errors == ["rtu.conf:12: listener 'second' key 'bind': bind = 0.0.0.0:2404 collides with listener 'main' (bind = 0.0.0.0:2404 at rtu.conf:4); use another port or address"])
    }

    @Test func wildcardBindCollidesWithSpecificAddress() {
        let files = Files(config: Files.config + "\n[listener second]\nbind = 127.0.0.1:2404\n[station b]\nlistener = second\nallow = any\n")
        #expect(files.errors.count == 1)
        #expect(files.errors.first?.contains("collides with listener 'main'") == true)
    }

    @Test func daemonSectionTakesNoName() {
        let files = Files(config: Files.config.replacing("[daemon]", with: "[daemon main]"))
        #expect(files.errors == ["rtu.conf:1: [daemon] takes no name; remove 'main'"])
    }

    @Test func listenerNeedsAName() {
        let files = Files(config: Files.config.replacing("[listener main]", with: "[listener]"))
        #expect(files.errors.contains("rtu.conf:4: [listener] needs a name, e.g. [listener main]"))
    }

    @Test func syntaxErrorsInTheDaemonConfig() {
        let files = Files(config: Files.config + "\nthis is not a setting\n[station b\n")
        #expect(files.errors.contains("rtu.conf:12: expected 'key = value' or a [section] header, found 'this is not a setting'"))
        #expect(files.errors.contains("rtu.conf:13: unterminated section header '[station b'; add ']' at its end"))
    }

    @Test func errorsDescriptionListsEverythingAndCounts() {
        let errors = ConfigErrors(errors: [ConfigError(SourceLocation(file: "a", line: 1), subject: "station 's'", key: "k", "bad")],
                                  warnings: [ConfigError(SourceLocation(file: "a", line: 2), "hmm", severity: .warning)])
        #expect(errors.description == "a:1: station 's' key 'k': bad\na:2: warning: hmm\n1 error, 1 warning")
    }

    @Test func suggestions() {
        #expect(Suggestions.closest(to: "max_conections", in: DaemonConfigReader.listenerKeys) == "max_connections")
        #expect(Suggestions.closest(to: "evnet_buffer", in: DaemonConfigReader.stationKeys) == "event_buffer")
        #expect(Suggestions.closest(to: "colour", in: DaemonConfigReader.stationKeys) == nil)
        #expect(Suggestions.editDistance("ab", "ba") == 1)
    }
}


@Suite struct ControlSocketAndRetainTests {
    @Test func controlSocketDefaultsToTheRuntimeDirectory() throws {
        let config = try #require(Files().configuration)
        #expect(config.daemon.controlSocket == DaemonSettings.defaultRuntimeDirectory + "/control.sock")
        #expect(config.daemon.controlSocketMode == 0o660)
        #expect(config.daemon.controlSocketGroup == nil)
        let moved = try #require(try? Files().load(overrides: DaemonOverrides(runtimeDirectory: "/tmp/elsewhere")).get())
        #expect(moved.daemon.controlSocket == "/tmp/elsewhere/control.sock", "the override moves the default socket too")
    }

    @Test func controlSocketKeys() throws {
        let text = Files.config.replacing("point_tables = points.json",
                                          with: "point_tables = points.json\ncontrol_socket = /run/x/ctl.sock\ncontrol_socket_mode = 0640\ncontrol_socket_group = scada")
        let config = try #require(Files(config: text).configuration)
        #expect(config.daemon.controlSocket == "/run/x/ctl.sock")
        #expect(config.daemon.controlSocketMode == 0o640)
        #expect(config.daemon.controlSocketGroup == "scada")
    }

    @Test(arguments: [("0666", "lets every local user command the RTU"), ("rw-rw----", "is not a file mode"), ("01777", "is not a file mode")])
    func controlSocketModeErrors(mode: String, message: String) {
        let text = Files.config.replacing("point_tables = points.json", with: "point_tables = points.json\ncontrol_socket_mode = \(mode)")
        let errors = Files(config: text).errors
        #expect(errors.count == 1)
        #expect(errors.first?.contains("key 'control_socket_mode'") == true, "\(errors)")
        #expect(errors.first?.contains(message) == true, "\(errors)")
    }

    @Test func retainIsReadAndCountersAlwaysPersist() throws {
        let points = Files.points(#"{"ca": 47, "ioa": 1, "type": "float", "retain": true}"#,
                                  #"{"ca": 47, "ioa": 2, "type": "float"}"#,
                                  #"{"ca": 47, "ioa": 3, "type": "counter"}"#)
        let config = try #require(Files(points: points).configuration)
        let persistent = config.points.monitorPoints.filter(\.isPersistent).map(\.address.objectAddress)
        #expect(persistent == [1, 3])
    }

    @Test func retainFalseOnACounterIsAWarning() {
        let files = Files(points: Files.points(#"{"ca": 47, "ioa": 3, "type": "counter", "retain": false}"#))
        #expect(files.errors.isEmpty)
        #expect(files.warnings.contains { $0.contains("integrated totals are always kept across restarts") })
    }
}
