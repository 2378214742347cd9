import Foundation
import Testing
import TestSupport
@testable import Daemon
#if canImport(Glibc)
import Glibc
#endif

/// One scrape over a real socket, off the cooperative threads (the read blocks).
private func scrape(_ port: Int) async -> String {
    await withCheckedContinuation { done in
        DispatchQueue.global().async {
            guard let client = LoopbackClient(port: port) else { return done.resume(returning: "") }
            client.send("GET /metrics HTTP/1.1\r\nHost: rtu\r\nConnection: close\r\n\r\n")
            done.resume(returning: client.receive().text)
        }
    }
}

/// The value of one sample (`name{labels}`) in an exposition.
private func value(_ sample: String, in text: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
        return Double(line.dropFirst(sample.count + 1))
    }
    return nil
}

/// A master that connects, starts data transfer and asks one station interrogation (all ASCII octets, so the
/// test client's text I/O carries them).
private func interrogate(port: Int) async -> Bool {
    await withCheckedContinuation { done in
        DispatchQueue.global().async {
            guard let master = LoopbackClient(port: port, timeout: .milliseconds(500)) else { return done.resume(returning: false) }
            master.send("\u{68}\u{04}\u{07}\u{00}\u{00}\u{00}")
            _ = master.receive()
            // C_IC_NA_1, COT 6, CA 1, QOI 20.
            master.send("\u{68}\u{0E}\u{00}\u{00}\u{00}\u{00}\u{64}\u{01}\u{06}\u{00}\u{01}\u{00}\u{00}\u{00}\u{00}\u{14}")
            let answer = master.receive()
            done.resume(returning: !answer.text.isEmpty)
        }
    }
}

@Suite("The daemon's metrics endpoint")
struct DaemonMetricsTests {
    @Test func theEndpointServesWhatStatusShowsAndCountsReloads() async throws {
        let metricsPort = freeLoopbackPort()
        let fixture = try await DaemonFixture(extra: "[metrics]\nlisten = 127.0.0.1:\(metricsPort)")
        let stoppedInTime = try await fixture.serving {
            #expect(await interrogate(port: fixture.port))
            let text = await scrape(metricsPort)
            #expect(text.hasPrefix("HTTP/1.1 200"))
            #expect(text.contains("# HELP rtu104d_events_sent_total "))
            let labels = #"listener="main",station="anyone""#
            #expect(value("rtu104d_interrogations_total{\(labels),kind=\"station\"}", in: text) == 1)
            #expect(value("rtu104d_asdus_received_total{\(labels),type=\"C_IC_NA_1\"}", in: text) == 1)
            #expect(value("rtu104d_connections_accepted_total{\(labels)}", in: text) == 1)

            // The status reply reads the same counters.
            let client = try #require(ControlClient(path: fixture.daemon.controlSocketPath))
            defer { client.close() }
            let reply = try #require(await client.ask(#"{"op":"status"}"#))
            let status = try #require(try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])
            let station = try #require((status["stations"] as? [[String: Any]])?.first)
            #expect(station["interrogations"] as? Int == 1)
            #expect(station["connections_accepted"] as? Int == 1)
            let sentByCause = try #require(station["asdus_sent_by_cot"] as? [String: Int])
            for (cause, count) in sentByCause {
                #expect(value("rtu104d_asdus_sent_total{\(labels),cot=\"\(cause)\"}", in: text) == Double(count), "COT \(cause)")
            }
            #expect(sentByCause["7"] == 1 && sentByCause["10"] == 1, "ACTCON and ACTTERM")

            // A good reload counts; one that moves the endpoint is applied except for the endpoint, with a warning.
            let otherPort = freeLoopbackPort()
            DaemonFixture.writeConfig(fixture.configPath, port: fixture.port, extra: "[metrics]\nlisten = 127.0.0.1:\(otherPort)")
            fixture.reload.yield(.sighup)
            #expect(await eventually { fixture.log.messages(containing: "configuration reloaded").count == 1 })
            let after = await scrape(metricsPort)
            #expect(value(#"rtu104d_config_reload_total{result="success"}"#, in: after) == 1)
            #expect(value(#"rtu104d_config_reload_total{result="failure"}"#, in: after) == 0)
            #expect(fixture.log.messages(containing: "the endpoint stays on 127.0.0.1:\(metricsPort) until rtu104d is restarted").count == 1)
        }
        #expect(stoppedInTime)
        #expect(fixture.log.messages(containing: "metrics endpoint listening").count == 1)
    }

    @Test func anEndpointThatCannotListenStopsTheStartNamingItsAddress() async throws {
        let (holder, taken) = heldLoopbackPort()
        defer { close(holder) }
        await #expect {
            _ = try await DaemonFixture(extra: "[metrics]\nlisten = 127.0.0.1:\(taken)")
        } throws: { error in
            "\(error)".hasPrefix("[metrics] listen = 127.0.0.1:\(taken): cannot listen")
        }
    }
}
