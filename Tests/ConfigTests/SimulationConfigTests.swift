@testable import Config
import IEC104
import Outstation
import Testing

private func simulated(_ objects: String...) -> Files {
    Files(points: "{ \"points\": [\n" + objects.joined(separator: ",\n") + "\n] }")
}

private func point(_ config: DaemonConfiguration, _ ioa: UInt32) -> MonitorPointDefinition? {
    config.points.monitorPoints.first { $0.address == PointAddress(commonAddress: 47, objectAddress: ioa) }
}

@Suite struct SimulationConfigTests {
    @Test func everyGeneratorWithAndWithoutItsOptionalInterval() throws {
        let loaded = simulated(
            #"{"ca": 47, "ioa": 1, "type": "float", "simulate": "sine(10, 60s, 50)"}"#,
            #"{"ca": 47, "ioa": 2, "type": "scaled", "simulate": "sine(100, 2min, 0, 500ms)"}"#,
            #"{"ca": 47, "ioa": 3, "type": "normalized", "simulate": "ramp(-0.5, 0.5, 10s)"}"#,
            #"{"ca": 47, "ioa": 4, "type": "float", "simulate": "ramp(100, 0, 1h, 5s)"}"#,
            #"{"ca": 47, "ioa": 5, "type": "float", "simulate": "random_walk(0.5, 0, 100, 2s)"}"#,
            #"{"ca": 47, "ioa": 6, "type": "single", "simulate": "toggle(10s)"}"#,
            #"{"ca": 47, "ioa": 7, "type": "double", "simulate": " Toggle( 1.5 ) "}"#,
            #"{"ca": 47, "ioa": 8, "type": "counter", "simulate": "counter(5)"}"#,
            #"{"ca": 47, "ioa": 9, "type": "counter", "simulate": "counter(0.5, 10s)"}"#,
            #"{"ca": 47, "ioa": 10, "type": "float"}"#)
        #expect(loaded.errors == [])
        #expect(loaded.warnings == [])
        let config = try #require(loaded.configuration)
        #expect(point(config, 1)?.simulation == .sine(amplitude: 10, period: .seconds(60), offset: 50, interval: .seconds(1)))
        #expect(point(config, 2)?.simulation == .sine(amplitude: 100, period: .seconds(120), offset: 0, interval: .milliseconds(500)))
        #expect(point(config, 3)?.simulation == .ramp(from: -0.5, to: 0.5, period: .seconds(10), interval: .seconds(1)))
        #expect(point(config, 4)?.simulation == .ramp(from: 100, to: 0, period: .seconds(3600), interval: .seconds(5)))
        #expect(point(config, 5)?.simulation == .randomWalk(step: 0.5, min: 0, max: 100, interval: .seconds(2)))
        #expect(point(config, 6)?.simulation == .toggle(interval: .seconds(10)))
        #expect(point(config, 7)?.simulation == .toggle(interval: .milliseconds(1500)))
        #expect(point(config, 8)?.simulation == .counter(rate: 5, interval: .seconds(1)))
        #expect(point(config, 9)?.simulation == .counter(rate: 0.5, interval: .seconds(10)))
        #expect(point(config, 10)?.simulation == nil)
        #expect(renderSummary(config).contains("simulated 9"))
    }

    @Test func simulateInAnINIPointTable() throws {
        var files = Files(extra: ["more.ini": "[point 47:20]\ntype = float\nsimulate = sine(5, 30s, 20)\n"])
        files.contents["rtu.conf"] = files.contents["rtu.conf"]!.replacing("point_tables = points.json", with: "point_tables = points.json, more.ini")
        let config = try #require(files.configuration)
        #expect(point(config, 20)?.simulation == .sine(amplitude: 5, period: .seconds(30), offset: 20, interval: .seconds(1)))
        var bad = Files(extra: ["more.ini": "[point 47:20]\ntype = float\nsimulate = sin(5, 30s, 20)\n"])
        bad.contents["rtu.conf"] = files.contents["rtu.conf"]
        let errors = bad.errors
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.hasPrefix("more.ini:3") == true, "\(errors)")
        #expect(errors.first?.hasSuffix(" point 47:20 key 'simulate': unknown generator 'sin'; did you mean 'sine'?; "
                                        + "the generators are sine, ramp, random_walk, toggle, counter") == true, "\(errors)")
    }

    @Test(arguments: [
        (#""type": "float", "simulate": "sin(1, 1s, 0)""#,
         "unknown generator 'sin'; did you mean 'sine'?; the generators are sine, ramp, random_walk, toggle, counter"),
        (#""type": "float", "simulate": "randomwalk(1, 0, 5, 1s)""#,
         "unknown generator 'randomwalk'; did you mean 'random_walk'?; the generators are sine, ramp, random_walk, toggle, counter"),
        (#""type": "float", "simulate": "sine(1, 1s)""#,
         "sine takes 3 or 4 arguments, sine(amplitude, period, offset, interval) (the last one optional); found 2"),
        (#""type": "float", "simulate": "random_walk(1, 0, 5)""#,
         "random_walk takes 4 arguments, random_walk(step, min, max, interval); found 3"),
        (#""type": "single", "simulate": "toggle()""#,
         "toggle takes 1 argument, toggle(interval); found 0"),
        (#""type": "single", "simulate": "toggle(1s, 2s)""#,
         "toggle takes 1 argument, toggle(interval); found 2"),
        (#""type": "float", "simulate": "sine(1, 1s, 0""#,
         "'sine(1, 1s, 0' lacks its closing parenthesis; e.g. sine(10, 60s, 50), ramp(0, 100, 5min), random_walk(0.5, 0, 100, 2s), toggle(10s) or counter(5)"),
        (#""type": "float", "simulate": "sine(big, 1s, 0)""#,
         "sine: amplitude 'big' is not a number; sine(amplitude, period, offset, interval)"),
        (#""type": "float", "simulate": "sine(1, soon, 0)""#,
         "sine: period: soon is not a duration; write seconds (15, 0.5) or use ms, s, min, h or d (500ms)"),
        (#""type": "float", "simulate": "ramp(0, 1, 0s)""#,
         "ramp: period: 0s must be more than 0 seconds"),
        (#""type": "float", "simulate": "ramp(0, 1, 2d)""#,
         "ramp: period: 2d is longer than the allowed 1d"),
        (#""type": "float", "simulate": "sine(1, 10s, 0, 10ms)""#,
         "sine: interval 10ms is shorter than the allowed 100ms"),
        (#""type": "float", "simulate": "random_walk(1, 5, 5, 1s)""#,
         "random_walk: min 5 must be below max 5"),
        (#""type": "float", "simulate": "random_walk(0, 0, 5, 1s)""#,
         "random_walk: step must be more than 0, found 0"),
        (#""type": "counter", "simulate": "counter(-1)""#,
         "counter: rate must be more than 0, found -1"),
        (#""type": "float", "simulate": 5"#,
         "unknown generator '5'; the generators are sine, ramp, random_walk, toggle, counter"),
        (#""type": "single", "simulate": "sine(1, 10s, 0)""#,
         "sine applies to float, scaled, normalized points, not to a single point; for a single point use toggle"),
        (#""type": "float", "simulate": "toggle(1s)""#,
         "toggle applies to single, double points, not to a float point; for a float point use sine, ramp, random_walk"),
        (#""type": "scaled", "simulate": "counter(1)""#,
         "counter applies to counter points, not to a scaled point; for a scaled point use sine, ramp, random_walk"),
        (#""type": "step", "simulate": "ramp(0, 10, 10s)""#,
         "ramp applies to float, scaled, normalized points, not to a step point; a step point cannot be simulated"),
    ])
    func errorsNameFileLineAndKey(fields: String, message: String) {
        let files = simulated(#"{"ca": 47, "ioa": 1, "type": "single"}"#, #"{"ca": 47, "ioa": 2, "# + fields + "}")
        let errors = files.errors
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.hasPrefix("points.json:3:") == true, "\(errors)")
        #expect(errors.first?.hasSuffix(": point 47:2 key 'simulate': " + message) == true, "\(errors)")
    }

    @Test func aRangeBeyondTheTypeIsAWarning() {
        let files = simulated(#"{"ca": 47, "ioa": 1, "type": "normalized", "simulate": "sine(0.5, 10s, 0.8)"}"#,
                              #"{"ca": 47, "ioa": 2, "type": "scaled", "simulate": "ramp(0, 40000, 10s)"}"#,
                              #"{"ca": 47, "ioa": 3, "type": "normalized", "simulate": "random_walk(0.1, -1, 0.5, 1s)"}"#,
                              #"{"ca": 47, "ioa": 4, "type": "float", "simulate": "ramp(0, 40000, 10s)"}"#)
        #expect(files.errors == [])
        let warnings = files.warnings
        #expect(warnings.count == 2, "\(warnings)")
        #expect(warnings.first?.hasPrefix("points.json:2:") == true, "\(warnings)")
        #expect(warnings.first?.hasSuffix("point 47:1 key 'simulate': sine goes from 0.30000000000000004 to 1.3, beyond the -1…1 "
                                          + "of a normalized point; its values are clamped") == true, "\(warnings)")
        #expect(warnings.last?.hasPrefix("points.json:3:") == true, "\(warnings)")
        #expect(warnings.last?.hasSuffix("point 47:2 key 'simulate': ramp goes from 0 to 40000, beyond the -32768…32767 "
                                         + "of a scaled point; its values are clamped") == true, "\(warnings)")
    }

    @Test func simulateOnACommandPointIsNamedAsAMonitorKey() {
        let files = simulated(#"{"ca": 47, "ioa": 1, "type": "single"}"#,
                              #"{"ca": 47, "ioa": 2, "command": "single", "simulate": "toggle(1s)"}"#)
        #expect(files.errors.count == 1)
        #expect(files.errors.first?.hasPrefix("points.json:3:") == true)
        #expect(files.errors.first?.contains("'simulate' applies to monitor points only") == true)
    }
}
