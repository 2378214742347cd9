// swift-tools-version: 6.2
// libFuzzer targets: the IEC104 codec, the link state machine, the configuration readers and the
// control socket request parser. A package of its own so that `swift test`
// of the main package never builds them. Build and run with `Fuzz/run SECONDS`.
import PackageDescription

let package = Package(
    name: "rtu104d-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "rtu104d", path: ".."),
    ],
    targets: [
        // The harness must not live in main.swift: libFuzzer supplies main().
        .executableTarget(
            name: "FuzzCodec",
            dependencies: [.product(name: "IEC104", package: "rtu104d")]
        ),
        .executableTarget(
            name: "FuzzLink",
            dependencies: [.product(name: "IEC104", package: "rtu104d")]
        ),
        .executableTarget(
            name: "FuzzConfig",
            dependencies: [.product(name: "Config", package: "rtu104d")]
        ),
        .executableTarget(
            name: "FuzzControl",
            dependencies: [
                .product(name: "Config", package: "rtu104d"),
                .product(name: "Outstation", package: "rtu104d"),
                .product(name: "IEC104", package: "rtu104d"),
            ]
        ),
    ]
)
