// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "rtu104d",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "IEC104", targets: ["IEC104"]),
        .executable(name: "rtu104ctl", targets: ["rtu104ctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
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
        .target(
            name: "Config",
            dependencies: ["IEC104", "Outstation"],
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        .executableTarget(
            name: "rtu104ctl",
            dependencies: [
                "IEC104",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "IEC104Tests",
            dependencies: ["IEC104", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "OutstationTests", dependencies: ["Outstation"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config"]),
    ]
)
