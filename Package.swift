// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "rtu104d",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "IEC104", targets: ["IEC104"]),
        .library(name: "Outstation", targets: ["Outstation"]),
        .library(name: "Config", targets: ["Config"]),
        .executable(name: "rtu104d", targets: ["rtu104d"]),
        .executable(name: "rtu104ctl", targets: ["rtu104ctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        // Handler scripts and feeders: drains stdout and stderr concurrently, with output limits. No Foundation trait.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2", traits: []),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        // The daemon's run, reload and stop as services in one ServiceGroup.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Metrics: the swift-metrics API, exported in the Prometheus text format by swift-prometheus.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The event journal: SQLite (system libsqlite3) in WAL mode.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // The version of both executables, in one place, with the git commit the build came from.
        .target(name: "BuildInfo", plugins: ["GitCommitPlugin"]),
        .plugin(name: "GitCommitPlugin", capability: .buildTool()),
        // The wire format and the link layer: Swift standard library only.
        .target(
            name: "IEC104",
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        // The RTU without sockets or processes: process image, stations, address filters.
        .target(
            name: "Outstation",
            dependencies: ["IEC104"],
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        // Config files: INI and JSON readers with file/line, the validated configuration, --check summary.
        // A listener's TLS section is a TLSSettings (TLS imports only OpenSSL), so its defaults live in one place.
        .target(
            name: "Config",
            dependencies: ["IEC104", "Outstation", "TLS"],
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        // The SwiftNIO shell: listeners, address filtering, framing, timers, the TLS channel handler.
        .target(
            name: "Server",
            dependencies: [
                "IEC104", "Outstation", "TLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        // OpenSSL 3 (libssl, libcrypto) through a module map and a shim header; only the TLS target imports it.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // TLS for IEC 104 (IEC 62351-3): a bytes-in/bytes-out OpenSSL session over memory BIOs, no I/O and no NIO
        // (the NIO handler around it is the server's).
        .target(
            name: "TLS",
            dependencies: ["COpenSSL"],
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        // The metrics endpoint: the stations' and the server's counters copied into swift-metrics at each scrape,
        // rendered by swift-prometheus, served over HTTP/1.1 (NIOHTTP1) on a thread of its own.
        .target(
            name: "Monitoring",
            dependencies: [
                "IEC104", "Outstation", "Server",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        // The persistent event journal: what the stations' journal outbox asks for, written to SQLite by GRDB on a
        // thread of its own in group commits, and read back at start.
        .target(
            name: "EventJournal",
            dependencies: [
                "IEC104", "Outstation",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        // libsystemd (sd_notify, watchdog, journal) through a module map and a shim header.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // Host integration: running the server from a configuration, signals.
        .target(
            name: "Daemon",
            dependencies: [
                "BuildInfo", "Config", "EventJournal", "IEC104", "Monitoring", "Outstation", "Server", "TLS", "CSystemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        .executableTarget(
            name: "rtu104d",
            dependencies: [
                "BuildInfo", "Config", "Daemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The controlling station: a sans-IO session core over LinkStateMachine, and the blocking
        // socket and TLS client I/O that every rtu104ctl master subcommand and the bench run on.
        .target(
            name: "Master",
            dependencies: ["IEC104", "TLS"],
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        .executableTarget(
            name: "rtu104ctl",
            dependencies: [
                "BuildInfo", "Config", "IEC104", "Master", "Outstation", "TLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "rtu104ctlTests",
            dependencies: ["rtu104ctl", "IEC104", "Master", "BuildInfo", "Config", "Outstation", "TestSupport",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "IEC104Tests",
            dependencies: ["IEC104", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        // Helpers every test target may share: hex vectors, CA:IOA, throw-away certificates, a log recorder.
        .target(name: "TestSupport", dependencies: ["IEC104", "Outstation", "TLS", .product(name: "Logging", package: "swift-log")],
                path: "Tests/TestSupport",
                swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]),
        // The controlling station's core on a manual clock, and its socket layer on loopback.
        .testTarget(name: "MasterTests", dependencies: ["Master", "IEC104", "TLS", "TestSupport"]),
        .testTarget(name: "OutstationTests", dependencies: ["Outstation", "TestSupport"]),
        .testTarget(name: "EventJournalTests", dependencies: ["EventJournal", "Outstation", "IEC104", "TestSupport",
                                                              .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "TLS", "TestSupport"]),
        // The TLS core: sessions over memory BIOs, contexts, rekeying, without NIO.
        .testTarget(name: "TLSTests", dependencies: ["TLS", "Config", "TestSupport"]),
        .testTarget(
            name: "DaemonTests",
            dependencies: ["BuildInfo", "Daemon", "Config", "Outstation", "Server", "IEC104", "TLS", "TestSupport",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                           .product(name: "NIOCore", package: "swift-nio")]
        ),
        // The SwiftNIO shell: frame decoder and TLS handler over EmbeddedChannel, the server on loopback, limited logs.
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Outstation", "IEC104", "TLS", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOTestUtils", package: "swift-nio"),
        ]),
        // The metrics endpoint: exposition, counter publishing, HTTP limits on loopback.
        .testTarget(name: "MonitoringTests", dependencies: [
            "Monitoring", "Server", "Outstation", "IEC104", "TestSupport",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // sd_notify sequence and watchdog against the built rtu104d, journal field mapping.
        .testTarget(name: "SystemdTests", dependencies: [
            "Daemon", "Config",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ]
)
