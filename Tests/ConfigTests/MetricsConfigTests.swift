@testable import Config
import Testing

@Suite("Config: the [metrics] section")
struct MetricsConfigTests {
    private func files(_ section: String) -> Files { Files(config: Files.config + "\n" + section + "\n") }

    @Test func absentMeansNoEndpoint() throws {
        #expect(try #require(Files().configuration).metrics == nil)
    }

    @Test func listenTakesIPv4IPv6AndADefaultPort() throws {
        let v4 = try #require(files("[metrics]\nlisten = 127.0.0.1:9200").configuration?.metrics)
        #expect(v4.host == "127.0.0.1" && v4.port == 9200 && v4.address == "127.0.0.1:9200")
        let v6 = try #require(files("[metrics]\nlisten = [::1]:9104").configuration?.metrics)
        #expect(v6.host == "::1" && v6.port == 9104 && v6.address == "[::1]:9104")
        let bare = try #require(files("[metrics]\nlisten = 10.0.0.5").configuration?.metrics)
        #expect(bare.port == MetricsSettings.defaultPort)
    }

    @Test func errorsNameTheFileLineAndKey() {
        #expect(files("[metrics]\nlisten = 127.0.0.1:99999").errors == [
            "rtu.conf:13: [metrics] key 'listen': port '99999' is not a number in 1…65535",
        ])
        #expect(files("[metrics]\n").errors == [
            "rtu.conf:12: [metrics]: missing required key 'listen' (the metrics endpoint's address:port, e.g. listen = 127.0.0.1:9104)",
        ])
        #expect(files("[metrics prometheus]\nlisten = 127.0.0.1:9104").errors == [
            "rtu.conf:12: [metrics] takes no name; remove 'prometheus'",
        ])
        #expect(files("[metrics]\nlisten = 127.0.0.1:9104\nbind = 127.0.0.1:9105").errors == [
            "rtu.conf:14: [metrics] key 'bind': 'bind' belongs in a [listener NAME] section, not in a [metrics] section",
        ])
        #expect(files("[metrics]\nlisten = 127.0.0.1:9104\n[metrics]\nlisten = 127.0.0.1:9105").errors.count == 1)
    }

    @Test func theSummaryNamesTheEndpoint() throws {
        let config = try #require(files("[metrics]\nlisten = [::1]:9104").configuration)
        #expect(renderSummary(config).contains("metrics: http://[::1]:9104/metrics"))
    }
}
