@testable import Config
import Foundation
import IEC104
import Outstation
import Testing

/// The example in etc/rtu104d must load as it is, from the checkout, with no errors and no warnings.
@Suite struct ExampleConfigTests {
    static var checkout: String {
        // Tests/ConfigTests/ExampleConfigTests.swift → the checkout.
        Paths.normalize(Paths.directory(of: Paths.directory(of: Paths.directory(of: #filePath))))
    }

    func loadExample() throws -> DaemonConfiguration {
        let result = ConfigurationLoader.load(configPath: Self.checkout + "/etc/rtu104d/rtu104d.conf")
        switch result {
        case .success(let config): return config
        case .failure(let errors):
            Issue.record("the example config does not load:\n\(errors)")
            throw errors
        }
    }

    @Test func loadsWithoutErrorsOrWarnings() throws {
        let config = try loadExample()
        #expect(config.warnings.map(\.description) == [])
        #expect(config.daemon.pointTables == [Self.checkout + "/etc/rtu104d/points.json", Self.checkout + "/etc/rtu104d/points-extra.ini"])
        #expect(config.daemon.stateDirectory == Self.checkout + "/.build/rtu104d/state")
        #expect(config.daemon.runtimeDirectory == Self.checkout + "/.build/rtu104d/run")
    }

    @Test func listenersAndStations() throws {
        let config = try loadExample()
        #expect(config.listeners.map(\.name) == ["main", "local"])
        #expect(config.listeners.map(\.bindDescription) == ["0.0.0.0:2404", "127.0.0.1:2405"])
        #expect(config.listeners.map(\.errorPolicy) == [.close, .discard])
        #expect(config.stations(on: "main").map(\.name) == ["control-centre", "others"])
        #expect(try config.stations(on: "main").map(\.filter) == [AddressFilter(parsing: "127.0.0.1"), .others])
        #expect(config.stations(on: "local").map(\.filter) == [.any])
        #expect(Set(config.stations.flatMap(\.commonAddresses)) == [47])
    }

    @Test func pointCounts() throws {
        let config = try loadExample()
        let monitors = config.points.monitorPoints
        let commands = config.points.commandPoints
        func count(_ kind: PointKind) -> Int { monitors.filter { $0.kind == kind }.count }
        // Every monitor kind and every command kind is present.
        #expect(PointKind.allCases.allSatisfy { count($0) > 0 })
        #expect(Set(commands.map(\.kind)) == Set(CommandKind.allCases))
        #expect(monitors.count == 23)
        #expect(commands.count == 8)
        #expect(count(.single) == 6)
        #expect(count(.counter) == 4)
        #expect(Set(monitors.compactMap(\.counterGroup)) == [1, 2, 3])
        #expect(monitors.contains { $0.deadband != nil })
        #expect(monitors.filter { if case .cyclic? = $0.periodic { true } else { false } }.count == 1)
        #expect(monitors.filter { if case .background? = $0.periodic { true } else { false } }.count == 2)
        #expect(Set(monitors.flatMap(\.groups.groups)).count >= 4)
        #expect(monitors.contains { $0.timeTaggedEvents })
        // A few points simulate instead of relying on the feeder (whose points, 3201 and 3202, stay unsimulated).
        func simulation(_ ioa: UInt32) -> SimulationGenerator? {
            monitors.first { $0.address == PointAddress(commonAddress: 47, objectAddress: ioa) }?.simulation
        }
        #expect(simulation(1004) == .toggle(interval: .seconds(30)))
        #expect(simulation(3203) == .sine(amplitude: 0.05, period: .seconds(60), offset: 50, interval: .seconds(1)))
        #expect(simulation(3001) == .randomWalk(step: 0.02, min: 0.1, max: 0.9, interval: .seconds(5)))
        #expect(simulation(5001) == .counter(rate: 5, interval: .seconds(1)))
        #expect(simulation(6101) == .ramp(from: 40, to: 60, period: .seconds(600), interval: .seconds(1)))
        #expect(monitors.filter { $0.simulation != nil }.count == 5)
        #expect(simulation(3201) == nil && simulation(3202) == nil)
        // Every command reports back on a monitor point.
        let addresses = Set(monitors.map(\.address))
        #expect(commands.allSatisfy { $0.feedback.map(addresses.contains) == true })
        #expect(config.pointSources[PointAddress(commonAddress: 47, objectAddress: 6001)]?.file.hasSuffix("points-extra.ini") == true)
    }

    @Test func summaryFitsOneScreen() throws {
        let config = try loadExample()
        let summary = renderSummary(config)
        // The lines printed (the text ends with a newline, which starts no line of its own).
        let lines = summary.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(summary.hasSuffix("\n"))
        // An 80×25 console: the example uses every section kind, [metrics] and [files] included, and each has its line.
        #expect(lines.count <= 25)
        #expect(lines.allSatisfy { $0.count <= 132 })
        #expect(summary.contains("listener main: 0.0.0.0:2404, link errors close, max 32 connections"))
        #expect(summary.contains("listener local: 127.0.0.1:2405, link errors discard, max 4 connections"))
        #expect(summary.contains("station control-centre  allow 127.0.0.1"))
        #expect(summary.contains("allow others (addresses no other station on this listener admits)"))
        #expect(summary.contains("allow any address"))
        #expect(summary.contains("k=12 w=8 t0=30s t1=15s t2=10s t3=20s"))
        #expect(summary.contains("points: 23 monitor, 8 command (CA 47)"))
        #expect(summary.contains("monitor: single 6, double 3, step 1, bitstring 1, normalized 1, scaled 2, float 5, counter 4"))
        #expect(summary.contains("in counter groups 4, stale_after 2, simulated 5"))
        #expect(summary.contains("command: single 2, double 1, step 1, normalized 1, scaled 1, float 1, bitstring 1 (select-before-operate required: 2)"))
        #expect(summary.contains("files records: \(Self.checkout)/etc/rtu104d/records (CA 47, IOA 30001-30099, pattern *.cfg *.dat *.hdr, "
                                 + "delete not allowed)"))

    }

    @Test func summaryShowsWarnings() throws {
        let config = try #require(Files(config: Files.config + "\n[listener spare]\nbind = 127.0.0.1:2500\n").configuration)
        #expect(renderSummary(config).contains("1 warning:\n  rtu.conf:12: warning: listener 'spare': no station uses this listener"))
    }

    @Test func exampleRunsFromTheCheckoutWithARelativePath() throws {
        // `rtu104d --config etc/rtu104d/rtu104d.conf` from the checkout: paths come out relative to it.
        let relative = ConfigurationLoader.load(configPath: "etc/rtu104d/rtu104d.conf") { path in
            ConfigurationLoader.readFromDisk(Self.checkout + "/" + path)
        }
        let config = try relative.get()
        #expect(config.daemon.pointTables == ["etc/rtu104d/points.json", "etc/rtu104d/points-extra.ini"])
        #expect(config.daemon.stateDirectory == ".build/rtu104d/state")
    }
}

/// The TLS example (etc/rtu104d/rtu104d-tls.conf) loads as it is; its certificate files are read by the daemon,
/// not by the configuration loader.
@Suite struct TLSExampleConfigTests {
    @Test func loadsWithoutErrorsOrWarnings() throws {
        let path = ExampleConfigTests.checkout + "/etc/rtu104d/rtu104d-tls.conf"
        let config = try ConfigurationLoader.load(configPath: path).get()
        #expect(config.warnings.map(\.description) == [])
        let tls = try #require(config.listeners.first?.tls)
        #expect(config.listeners.first?.port == 19998)
        #expect(tls.certificatePath == ExampleConfigTests.checkout + "/.build/certs/server.pem")
        #expect(tls.requirePeerCertificate)
        #expect(config.certificateRequirements["control-centre"]?.subject == ["CN=master1"])
        #expect(tls.renegotiationInterval == .seconds(3600))
        let summary = renderSummary(config)
        #expect(summary.contains("  TLS 1.2+, mutual authentication (CA \(ExampleConfigTests.checkout)/.build/certs/ca.pem, CRL), "
                                 + "session keys renewed every 1h\n"))
    }
}

/// The CSV example (etc/rtu104d/rtu104d-csv.conf with points-feeder.csv) loads as it is.
@Suite struct CSVExampleConfigTests {
    @Test func loadsWithoutErrorsOrWarnings() throws {
        let path = ExampleConfigTests.checkout + "/etc/rtu104d/rtu104d-csv.conf"
        let config: DaemonConfiguration
        switch ConfigurationLoader.load(configPath: path) {
        case .success(let loaded): config = loaded
        case .failure(let errors):
            Issue.record("etc/rtu104d/rtu104d-csv.conf does not load:\n\(errors)")
            return
        }
        #expect(config.warnings.map(\.description) == [])
        #expect(config.daemon.pointTables == [ExampleConfigTests.checkout + "/etc/rtu104d/points-feeder.csv"])
        let monitors = config.points.monitorPoints
        #expect(monitors.count == 10)
        #expect(Set(monitors.map(\.kind)) == Set(PointKind.allCases))
        #expect(config.points.commandPoints.map(\.kind) == [.single, .double])
        #expect(config.points.commandPoints.allSatisfy { $0.selectBeforeOperate == .required })
        let earthing = try #require(monitors.first { $0.address.objectAddress == 1002 })
        #expect(earthing.name == "Feeder 2 earthing switch; closed")
        let current = try #require(monitors.first { $0.address.objectAddress == 3002 })
        #expect(current.deadband == .percent(2))
        #expect(current.periodic == .cyclic(.seconds(10)))
        #expect(current.staleAfter == .seconds(30))
        #expect(config.pointSources[PointAddress(commonAddress: 48, objectAddress: 3002)]
                == SourceLocation(file: ExampleConfigTests.checkout + "/etc/rtu104d/points-feeder.csv", line: 6))
    }
}
