@testable import Config
import IEC104
import Outstation
import Testing

/// The base config (sections end at line 11) plus handler sections; command 47:2 names `handler`.
private func files(_ extra: String, handlerKey: String = #""handler": "breaker""#, daemon: String = "") -> Files {
    Files(config: Files.config.replacing("point_tables = points.json\n", with: "point_tables = points.json\n" + daemon) + extra,
          points: Files.points(#"{"ca": 47, "ioa": 1, "type": "single"}"#,
                               #"{"ca": 47, "ioa": 2, "command": "single", "feedback": 1, "#  + handlerKey + "}"))
}

@Suite struct HandlerConfigTests {
    @Test func handlerFeederAndCommandKeys() throws {
        let config = try #require(files("""
            [handler breaker]
            exec = /bin/sh
            args = /etc/rtu/breaker.sh, --verbose
            mode = persistent
            working_directory = /tmp
            environment = SITE=north, LEVEL = 3
            timeout = 2s
            max_output = 4096
            restart_delay = 500ms

            [feeder sine]
            exec = /bin/sh
            args = sine.sh
            max_line = 1024
            restart_delay = 2s
            """, handlerKey: #""handler": "breaker", "timeout": 1"#, daemon: "command_max_age = 0\nmax_handler_processes = 4\nselect_timeout = 20s\n").configuration)
        let handler = try #require(config.handler(named: "breaker"))
        #expect(handler.program.executable == "/bin/sh")
        #expect(handler.program.arguments == ["/etc/rtu/breaker.sh", "--verbose"])
        #expect(handler.program.workingDirectory == "/tmp")
        #expect(handler.program.environment == [EnvironmentVariable(name: "SITE", value: "north"), EnvironmentVariable(name: "LEVEL", value: "3")])
        #expect(handler.program.baseEnvironment["PATH"] == ProgramConfiguration.basePath)
        #expect(handler.mode == .persistent)
        #expect(handler.timeout == .seconds(2))
        #expect(handler.maxOutput == 4096)
        #expect(handler.restartDelay == .milliseconds(500))
        #expect(handler.location == SourceLocation(file: "rtu.conf", line: 14))
        let feeder = try #require(config.feeders.first)
        #expect(feeder.name == "sine")
        #expect(feeder.program.arguments == ["sine.sh"])
        #expect(feeder.program.workingDirectory == ".")
        #expect(feeder.maxLine == 1024)
        #expect(feeder.restartDelay == .seconds(2))
        #expect(config.commandBindings == [PointAddress(commonAddress: 47, objectAddress: 2): CommandBinding(handler: "breaker", timeout: .seconds(1))])
        #expect(config.daemon.commandMaxAge == nil)
        #expect(config.daemon.maxHandlerProcesses == 4)
        #expect(config.stations[0].selectTimeout == .seconds(20))
        #expect(config.warnings.isEmpty)
        let summary = renderSummary(config)
        #expect(summary.contains("  commands: time-tagged no max age, select timeout 20s, at most 4 handler processes"))
        #expect(summary.contains("handler breaker: persistent /bin/sh /etc/rtu/breaker.sh --verbose, timeout 2s, 1 point"))
        #expect(summary.contains("feeder sine: /bin/sh sine.sh"))
    }

    @Test func defaults() throws {
        let config = try #require(files("[handler breaker]\nexec = /bin/sh\n").configuration)
        let handler = try #require(config.handlers.first)
        #expect(handler.mode == .spawn)
        #expect(handler.timeout == .seconds(5))
        #expect(handler.maxOutput == 65_536)
        #expect(handler.program.arguments.isEmpty)
        #expect(config.daemon.commandMaxAge == .seconds(30))
        #expect(config.daemon.maxHandlerProcesses == 16)
        #expect(config.stations[0].selectTimeout == .seconds(10))
        #expect(Files().configuration?.commandBindings.isEmpty == true)
    }

    @Test func stationSelectTimeoutWins() throws {
        let config = try #require(files("select_timeout = 3\n[handler breaker]\nexec = /bin/sh\n", daemon: "select_timeout = 20\n").configuration)
        #expect(config.stations[0].selectTimeout == .seconds(3))
    }

    @Test(arguments: [
        ("exec = /bin/sh\nmode = fork", "rtu.conf:13: handler 'breaker' key 'mode': fork is not one of 'spawn' or 'persistent'"),
        ("exec = /bin/sh\ntimeout = 0", "rtu.conf:13: handler 'breaker' key 'timeout': 0 must be more than 0 seconds"),
        ("exec = /bin/sh\ntimeout = 2h", "rtu.conf:13: handler 'breaker' key 'timeout': 2h is longer than the allowed 1h"),
        ("exec = /bin/sh\nmax_output = 10", "rtu.conf:13: handler 'breaker' key 'max_output': 10 is outside the allowed range 1024…16777216"),
        ("exec = /bin/sh\nrestart_delay = 1s", "rtu.conf:13: handler 'breaker' key 'restart_delay': restart_delay applies to mode = persistent only; a spawn handler starts a new process per command"),
        ("exec = /bin/sh\nenvironment = NOEQUALS", "rtu.conf:13: handler 'breaker' key 'environment': 'NOEQUALS' is not KEY=VALUE"),
        ("exec = /bin/sh\nenvironment = 1X=2", "rtu.conf:13: handler 'breaker' key 'environment': '1X' is not a variable name; use letters, digits and '_', not starting with a digit"),
        ("exec = /bin/sh\nenvironment = RTU104_CA=1", "rtu.conf:13: handler 'breaker' key 'environment': 'RTU104_CA': names starting with RTU104_ are set by the daemon for each command"),
        ("exec = /bin/sh\nworking_directory = /no/such/dir", "rtu.conf:13: handler 'breaker' key 'working_directory': '/no/such/dir' is not a directory"),
        ("exec = /no/such/program", "rtu.conf:12: handler 'breaker' key 'exec': '/no/such/program' does not exist"),
        ("exec = /dev/null", "rtu.conf:12: handler 'breaker' key 'exec': '/dev/null' is not executable (chmod +x)"),
        ("exec = /tmp", "rtu.conf:12: handler 'breaker' key 'exec': '/tmp' is a directory, not a program"),
        ("exec = \"\"", "rtu.conf:12: handler 'breaker' key 'exec': exec is empty; name the program, e.g. exec = /usr/lib/rtu104d/hooks/breaker.sh"),
        ("exec = /bin/sh\nexecutable = x", "rtu.conf:13: handler 'breaker' key 'executable': unknown key; did you mean 'exec'?"),
        ("exec = /bin/sh\nbind = 1", "rtu.conf:13: handler 'breaker' key 'bind': 'bind' belongs in a [listener NAME] section, not in a [handler] section"),
        ("exec = /bin/sh\nmax_line = 1024", "rtu.conf:13: handler 'breaker' key 'max_line': 'max_line' belongs in a [feeder NAME] section, not in a [handler] section"),
    ])
    func handlerErrors(lines: String, message: String) {
        #expect(files("[handler breaker]\n" + lines + "\n").errors == [message])
    }

    @Test func missingExec() {
        #expect(files("[handler breaker]\nmode = spawn\n").errors.first
                == "rtu.conf:11: handler 'breaker': missing required key 'exec' (the program to run, e.g. exec = hooks/breaker.sh; it is run directly, not through a shell)")
    }

    @Test(arguments: [
        ("max_line = 10", "rtu.conf:14: feeder 'sine' key 'max_line': 10 is outside the allowed range 256…16777216"),
        ("mode = spawn", "rtu.conf:14: feeder 'sine' key 'mode': 'mode' belongs in a [handler NAME] section, not in a [feeder] section"),
        ("restart_delay = 20min", "rtu.conf:14: feeder 'sine' key 'restart_delay': 20min is longer than the allowed 600s"),
    ])
    func feederErrors(line: String, message: String) {
        #expect(files("[handler breaker]\nexec = /bin/sh\n[feeder sine]\nexec = /bin/sh\n" + line + "\n").errors
                == [message.replacingOccurrences(of: "rtu.conf:14", with: "rtu.conf:15")])
    }

    @Test(arguments: [
        ("command_max_age = -1", "rtu.conf:3: [daemon] key 'command_max_age': -1 must be 0 or more seconds"),
        ("max_handler_processes = 0", "rtu.conf:3: [daemon] key 'max_handler_processes': 0 is outside the allowed range 1…1024"),
        ("select_timeout = 0", "rtu.conf:3: [daemon] key 'select_timeout': 0 must be more than 0 seconds"),
        ("exec = /bin/sh", "rtu.conf:3: [daemon] key 'exec': 'exec' belongs in a [handler NAME] section, not in a [daemon] section"),
    ])
    func daemonErrors(line: String, message: String) {
        #expect(files("[handler breaker]\nexec = /bin/sh\n", daemon: line + "\n").errors == [message])
    }

    @Test func unknownHandlerIsAnErrorAtThePoint() {
        #expect(files("[handler breakers]\nexec = /bin/sh\n").errors
                == [#"points.json:2:58: command 47:2 key 'handler': no [handler breaker] is defined in rtu.conf; did you mean 'breakers'? (handlers: breakers)"#])
    }

    @Test func unusedHandlerIsAWarning() {
        #expect(files("[handler breaker]\nexec = /bin/sh\n[handler spare]\nexec = /bin/sh\n").warnings
                == ["rtu.conf:13: warning: handler 'spare': no command point names this handler (handler = spare in an INI table, \"handler\": \"spare\" in a JSON one)"])
    }

    @Test func pointTimeoutNeedsAHandler() {
        #expect(files("", handlerKey: #""timeout": 2"#).errors
                == ["points.json:2:58: command 47:2 key 'timeout': timeout applies to points with a handler; the built-in handler answers at once"])
    }

    @Test func handlerOnAMonitorPoint() {
        let files = Files(points: Files.points(#"{"ca": 47, "ioa": 1, "type": "single", "handler": "x"}"#))
        #expect(files.errors == [#"points.json:1:53: point 47:1 key 'handler': 'handler' applies to command points only; write a command point as [command CA:IOA] in INI or with "command" in JSON"#])
    }
}

@Suite struct ExampleHandlerTests {
    @Test func exampleWiresItsHooks() throws {
        let config = try ConfigurationLoader.load(configPath: ExampleConfigTests.checkout + "/etc/rtu104d/rtu104d.conf").get()
        #expect(config.handlers.map(\.name) == ["breaker", "setpoint", "tap-changer"])
        #expect(config.handlers.map(\.mode) == [.spawn, .spawn, .persistent])
        #expect(config.feeders.map(\.name) == ["sine"])
        let bound = config.commandBindings.mapValues(\.handler)
        #expect(bound[PointAddress(commonAddress: 47, objectAddress: 2001)] == "breaker")
        #expect(bound[PointAddress(commonAddress: 47, objectAddress: 2201)] == "tap-changer")
        #expect(bound[PointAddress(commonAddress: 47, objectAddress: 2501)] == "setpoint")
        #expect(config.handlers.allSatisfy { $0.program.executable.hasPrefix(ExampleConfigTests.checkout + "/etc/rtu104d/hooks/") })
    }
}
