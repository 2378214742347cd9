import ArgumentParser
import IEC104
import Testing
import Master
@testable import rtu104ctl

@Suite("Master subcommands: options, addresses and values")
struct MasterOptionTests {
    @Test("endpoints", arguments: [
        ("10.0.0.5", "10.0.0.5", UInt16(2404)), ("10.0.0.5:2405", "10.0.0.5", 2405),
        ("rtu.example:19999", "rtu.example", 19999), ("[::1]:2404", "::1", 2404), ("[fe80::1]", "fe80::1", 2404),
        ("::1", "::1", 2404),
    ])
    func endpoints(text: String, host: String, port: UInt16) throws {
        let endpoint = try Endpoint.parse(text, defaultPort: 2404)
        #expect(endpoint.host == host)
        #expect(endpoint.port == port)
    }

    @Test("bad endpoints", arguments: ["", "host:", "host:99999", ":2404", "[::1", "[::1]x"])
    func badEndpoints(text: String) {
        #expect(throws: ValidationError.self) { try Endpoint.parse(text, defaultPort: 2404) }
    }

    @Test func endpointDescription() throws {
        #expect(try Endpoint.parse("[::1]:2405", defaultPort: 2404).description == "[::1]:2405")
        #expect(try Endpoint.parse("127.0.0.1", defaultPort: 2404).description == "127.0.0.1:2404")
    }

    @Test func sharedOptions() throws {
        let options = try MasterOptions.parse(["127.0.0.1:2405", "--ca", "47", "--originator", "3", "--k", "20",
                                               "--w", "10", "--t1", "5", "--t2", "2", "--bind", "127.0.0.2",
                                               "--timeout", "2.5"])
        #expect(options.commonAddress == 47)
        #expect(options.originator == 3)
        let parameters = try options.linkParameters()
        #expect(parameters.k == 20)
        #expect(parameters.w == 10)
        #expect(parameters.t1 == .seconds(5))
        #expect(parameters.t2 == .seconds(2))
        #expect(options.timeoutDuration == .milliseconds(2500))
        #expect(try options.endpoint() == Endpoint(host: "127.0.0.1", port: 2405))
    }

    @Test func broadcastByDefault() throws {
        let options = try MasterOptions.parse(["station"])
        #expect(options.commonAddress == nil)
        #expect(options.commonAddressOrBroadcast == 0xFFFF)
    }

    @Test("incomplete TLS options are usage errors", arguments: [
        (["--tls"], "needs --tls-ca"),
        (["--tls-cert", "client.pem", "--tls-key", "client.key"], "needs --tls-ca"),
        (["--tls-server-name", "rtu1"], "needs --tls-ca"),
        (["--tls", "--tls-ca", "ca.pem", "--tls-cert", "client.pem"], "--tls-cert needs --tls-key"),
        (["--tls-ca", "ca.pem", "--tls-key", "client.key"], "--tls-key needs --tls-cert"),
        (["--tls-ca", ""], "needs --tls-ca"),
        (["--tls-ca", "ca.pem", "--tls-server-name", ""], "--tls-server-name"),
    ])
    func tlsUsageErrors(arguments: [String], message: String) {
        #expect {
            _ = try MasterOptions.parse(["station"] + arguments)
        } throws: { error in
            MasterOptions.message(for: error).contains(message)
        }
    }

    @Test func tlsOptions() throws {
        let plain = try MasterOptions.parse(["station"])
        #expect(!plain.tlsRequested)
        #expect(try plain.tlsOptions() == nil)

        let serverOnly = try MasterOptions.parse(["rtu.example:19998", "--tls", "--tls-ca", "ca.pem"])
        let options = try #require(try serverOnly.tlsOptions())
        #expect(options == TLSClientOptions(caPath: "ca.pem", certificatePath: nil, keyPath: nil, serverName: nil))
        #expect(options.serverName(for: try serverOnly.endpoint()) == "rtu.example")

        // --tls is implied by the other options.
        let mutual = try MasterOptions.parse(["127.0.0.1:19998", "--tls-ca", "ca.pem", "--tls-cert", "c.pem",
                                              "--tls-key", "c.key"])
        #expect(mutual.tlsRequested)
        let both = try #require(try mutual.tlsOptions())
        #expect(both.certificatePath == "c.pem" && both.keyPath == "c.key")
        // No SNI for address literals.
        #expect(both.serverName(for: try mutual.endpoint()) == nil)
        #expect(both.serverName(for: Endpoint(host: "::1", port: 1)) == nil)

        let named = try MasterOptions.parse(["127.0.0.1", "--tls-ca", "ca.pem", "--tls-server-name", "rtu1.example"])
        #expect(try named.tlsOptions()?.serverName(for: named.endpoint()) == "rtu1.example")

        let twelve = try MasterOptions.parse(["127.0.0.1", "--tls-ca", "ca.pem", "--tls-max-version", "1.2"])
        #expect(try twelve.tlsOptions()?.maximumVersion == .v1_2)
        #expect(try named.tlsOptions()?.maximumVersion == nil)
        #expect(throws: (any Error).self) { try MasterOptions.parse(["127.0.0.1", "--tls-ca", "ca.pem", "--tls-max-version", "1.1"]) }
    }

    @Test func windowChecked() {
        #expect {
            _ = try MasterOptions.parse(["station", "--k", "6", "--w", "5"])
        } throws: { error in
            MasterOptions.message(for: error).contains("two thirds")
        }
    }

    @Test func t2BelowT1() {
        #expect(throws: (any Error).self) { _ = try MasterOptions.parse(["station", "--t1", "5", "--t2", "5"]) }
    }

    @Test("point addresses", arguments: [("47:100", UInt16(47), UInt32(100)), ("65535:16777215", 65535, 16_777_215)])
    func pointAddresses(text: String, ca: UInt16, ioa: UInt32) throws {
        let address = try parsePointAddress(text, defaultCommonAddress: nil)
        #expect(address.ca == ca && address.ioa == ioa)
    }

    @Test func pointAddressWithDefaultCommonAddress() throws {
        let address = try parsePointAddress("100", defaultCommonAddress: 47)
        #expect(address.ca == 47 && address.ioa == 100)
        #expect(throws: ValidationError.self) { try parsePointAddress("100", defaultCommonAddress: nil) }
    }

    @Test("bad point addresses", arguments: ["47:", "x:1", "65536:1", "1:16777216", "1:2:3"])
    func badPointAddresses(text: String) {
        #expect(throws: ValidationError.self) { try parsePointAddress(text, defaultCommonAddress: 1) }
    }

    // MARK: Subcommand options

    @Test func interrogateOptions() throws {
        let command = try InterrogateCommand.parse(["h", "--counters", "--group", "3", "--freeze", "--format", "csv"])
        #expect(command.counters && command.group == 3 && command.format == .csv)
        #expect(command.freezeMode == .freezeWithoutReset)
        #expect(try InterrogateCommand.parse(["h", "--counters", "--reset"]).freezeMode == .reset)
        #expect(try InterrogateCommand.parse(["h", "--counters", "--freeze", "--reset"]).freezeMode == .freezeWithReset)
        #expect(try InterrogateCommand.parse(["h", "--group", "16"]).group == 16)
    }

    @Test("interrogate refuses", arguments: [
        ["h", "--group", "17"], ["h", "--group", "0"], ["h", "--counters", "--group", "5"], ["h", "--freeze"],
        ["h", "--format", "xml"],
    ])
    func interrogateRefuses(arguments: [String]) {
        #expect(throws: (any Error).self) { _ = try InterrogateCommand.parse(arguments) }
    }

    @Test func commandOptions() throws {
        let command = try ProcessCommand.parse(["h", "48:2001", "on", "--type", "single", "--select", "--time",
                                                "--qualifier", "short"])
        #expect(command.kind == .single && command.select && command.time && command.qualifier == "short")
    }

    @Test("command refuses", arguments: [
        ["h", "48:2001", "maybe", "--type", "single"], ["h", "48:2001", "on"], ["h", "48:2001", "1.5", "--type", "normalized"],
        ["h", "48:2001", "on", "--type", "single", "--qualifier", "forever"], ["h", "2001", "on", "--type", "single"],
        ["h", "48:2001", "5", "--type", "bitstring", "--qualifier", "short"],
    ])
    func commandRefuses(arguments: [String]) {
        #expect(throws: (any Error).self) { _ = try ProcessCommand.parse(arguments) }
    }

    @Test func benchModes() throws {
        #expect(try BenchCommand.parse(["h", "--gi", "--repeat", "3"]).repeat == 3)
        #expect(try BenchCommand.parse(["h", "--connections", "5"]).connections == 5)
        #expect(throws: (any Error).self) { _ = try BenchCommand.parse(["h"]) }
        #expect(throws: (any Error).self) { _ = try BenchCommand.parse(["h", "--gi", "--events"]) }
    }

    @Test func testNeedsCommonAddress() throws {
        #expect(throws: (any Error).self) { _ = try TestCommand.parse(["h"]) }
        #expect(try TestCommand.parse(["h", "--ca", "47", "--counter", "9"]).counter == 9)
    }

    @Test func resetProcessQualifiers() throws {
        #expect(try ResetProcessCommand.parseQualifier("general") == .general)
        #expect(try ResetProcessCommand.parseQualifier("event-buffer") == .eventBuffer)
        #expect(try ResetProcessCommand.parseQualifier("7").rawValue == 7)
        #expect(throws: ValidationError.self) { try ResetProcessCommand.parseQualifier("everything") }
    }
}
