// swift-tools-version: 6.2
// Codec, control-request and GI packing benchmarks with ordo-one/benchmark. A package of its own so that `swift test` of the
// main package never builds them. Run with `Benchmarks/run` (or `make bench`).
import PackageDescription

let package = Package(
    name: "rtu104d-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "rtu104d", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The benchmark plugin finds its targets under Benchmarks/<target name>/.
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "IEC104", package: "rtu104d"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The control socket's set parser (issue 12): located parser against the fast path.
        .executableTarget(
            name: "ControlBenchmarks",
            dependencies: [
                .product(name: "Config", package: "rtu104d"),
                .product(name: "Outstation", package: "rtu104d"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ControlBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // General interrogation of 1,000 points through the Outstation API: packing, link framing, acknowledgements.
        .executableTarget(
            name: "GIBenchmarks",
            dependencies: [
                .product(name: "IEC104", package: "rtu104d"),
                .product(name: "Outstation", package: "rtu104d"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/GIBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
