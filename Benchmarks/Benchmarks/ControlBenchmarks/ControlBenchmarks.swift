// Parsing one control socket `set` line of 2,000 points, as Benchmarks/daemon/feeder.c writes it
// (issue 12): the located parser and the fast path. One line per measured iteration, so time and
// mallocs are per line; divide by 2,000 for a point (Benchmarks/run prints the per-point summary).
import Benchmark
import Config
import Outstation

let pointCount = 2000

/// Float points 47:1…47:2000, as Benchmarks/daemon/gen_config.py configures them; looked up in a
/// dictionary as the daemon looks them up in its process image.
let kinds: [PointAddress: PointKind] = Dictionary(uniqueKeysWithValues: (1...pointCount).map {
    (PointAddress(commonAddress: 47, objectAddress: UInt32($0)), PointKind.float)
})

/// `{"op":"set","points":[{"ca":47,"ioa":I,"value":SEQ,"time":MS},…]}` with feeder-like sequence numbers.
let feederLine: String = {
    var line = #"{"op":"set","points":["#
    for index in 0..<pointCount {
        if index > 0 { line += "," }
        line += #"{"ca":47,"ioa":\#(index + 1),"value":\#(123_456 + index),"time":\#(1_764_860_000_123 + index / 100)}"#
    }
    return line + "]}"
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        units: [.mallocCountTotal: .count],
        warmupIterations: 5,
        maxDuration: .seconds(3),
        maxIterations: 2000
    )

    let located = ControlRequestParser.parseLocated(feederLine) { kinds[$0] }
    let fast = ControlRequestParser.parseSetFast(feederLine) { kinds[$0] }
    guard case .success(.set(let expected)) = located, expected.count == pointCount, fast == expected else {
        fatalError("the benchmark line does not parse the same both ways")
    }

    Benchmark("set line located x\(pointCount)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ControlRequestParser.parseLocated(feederLine) { kinds[$0] })
        }
    }

    Benchmark("set line fast x\(pointCount)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ControlRequestParser.parseSetFast(feederLine) { kinds[$0] })
        }
    }
}
