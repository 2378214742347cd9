import Foundation
import Testing

/// Simulation in the running daemon: the control socket's `set` holds a simulated point, and a restart goes on from
/// the saved reading of a simulated counter instead of its configured value.
@Suite struct SimulationDaemonTests {
    static let points = #"""
        { "points": [
          { "ca": 1, "ioa": 100, "type": "single", "value": false },
          { "ca": 1, "ioa": 200, "type": "counter", "value": 0, "simulate": "counter(10, 100ms)" }
        ] }
        """#

    /// The counter's reading from a `get` reply (`"value":N`), nil when there is none.
    static func reading(_ client: ControlClient) async -> Int? {
        guard let reply = await client.ask(#"{"op":"get","points":["1:200"]}"#),
              let range = reply.range(of: #""value":"#) else { return nil }
        return Int(reply[range.upperBound...].prefix { $0 == "-" || $0.isNumber })
    }

    static func waitFor(_ client: ControlClient, _ condition: (Int) -> Bool) async throws -> Int? {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if let value = await reading(client), condition(value) { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test func aSetOverTheControlSocketHoldsASimulatedCounter() async throws {
        let fixture = try await DaemonFixture(points: Self.points)
        let stoppedInTime = try await fixture.serving {
            let client = try #require(ControlClient(path: fixture.daemon.controlSocketPath))
            defer { client.close() }
            #expect(try await Self.waitFor(client) { $0 >= 4 } != nil, "the counter counts by itself")
            let set = try #require(await client.ask(#"{"op":"set","points":[{"ca":1,"ioa":200,"value":5000}]}"#))
            #expect(set.contains(#""ok":true"#), "\(set)")
            try await Task.sleep(for: .milliseconds(600))
            #expect(await Self.reading(client) == 5000, "held at the value set")
        }
        #expect(stoppedInTime)
    }

    @Test func aRestartGoesOnFromTheSavedReading() async throws {
        let scratch = Scratch()
        var saved = 0
        let first = try await DaemonFixture(points: Self.points, scratch: scratch)
        let firstStopped = try await first.serving {
            let client = try #require(ControlClient(path: first.daemon.controlSocketPath))
            defer { client.close() }
            saved = try #require(try await Self.waitFor(client) { $0 >= 40 })
        }
        #expect(firstStopped)
        // Counters are kept across restarts (state file written at stop).
        let second = try await DaemonFixture(points: Self.points, scratch: scratch)
        let secondStopped = try await second.serving {
            let client = try #require(ControlClient(path: second.daemon.controlSocketPath))
            defer { client.close() }
            // Every reading from the start on is at least the saved one: restored, and counting on from it.
            var readings: [Int] = []
            let until = ContinuousClock.now + .seconds(1)
            while ContinuousClock.now < until {
                if let value = await Self.reading(client) { readings.append(value) }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(!readings.isEmpty && readings.allSatisfy { $0 >= saved }, "saved \(saved), then \(readings)")
            #expect(readings.last.map { $0 > saved } == true, "saved \(saved), then \(readings)")
        }
        #expect(secondStopped)
    }
}
