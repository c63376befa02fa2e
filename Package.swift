// swift-tools-version:6.2
import Foundation
import PackageDescription

// libdeflate decodes the agents' gzip bodies in half zlib's instructions (Collector/WholeGzip.swift). It is used
// when Debian's libdeflate-dev is installed (scripts/test installs it; scripts/package-layer.sh requires it), so a
// machine without it still builds and runs everything, on zlib alone.
let hasLibDeflate = FileManager.default.fileExists(atPath: "/usr/include/libdeflate.h")

// The collector's modules (LambdaWire, LanternStore, Collector) stay off Foundation and Hummingbird:
// see docs/DESIGN.md for the size and RSS figures behind that rule.
let package = Package(
    name: "lantern",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lantern", targets: ["lantern"]),
        .executable(name: "lantern-extension", targets: ["lantern-extension"]),
        .executable(name: "lantern-bench", targets: ["lantern-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
    ],
    targets: [
        // C libraries
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CNCurses", providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CLibDeflate", providers: [.apt(["libdeflate-dev"])]),

        // Wire formats of the Lambda Runtime, Extensions, Telemetry and Logs APIs.
        .target(name: "LambdaWire"),

        // The SQLite store: migrations from schema/, Recorder (the single writer), History (readers).
        .target(
            name: "LanternStore",
            dependencies: ["CSQLite"],
            plugins: ["EmbedSchema"]
        ),
        // Build-time embedding of schema/*.sql into LanternStore (the generator may use Foundation; the store may not).
        .executableTarget(name: "EmbedSchemaTool"),
        .plugin(name: "EmbedSchema", capability: .buildTool(), dependencies: ["EmbedSchemaTool"]),

        // The collector that runs as the Lambda extension.
        .target(
            name: "Collector",
            dependencies: [
                "LambdaWire",
                "LanternStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // Signals only: ServiceGroup would bring swift-async-algorithms into the layer (ServiceSequence.swift).
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "ExecutorHook",
            ] + (hasLibDeflate ? ["CLibDeflate"] : [])
        ),

        // The local Lambda sandbox.
        .target(
            name: "Emulator",
            dependencies: [
                "LambdaWire",
                "LanternStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),

        // The ncurses dashboard.
        .target(name: "Dashboard", dependencies: ["LanternStore", "CNCurses"]),

        // Executables
        .executableTarget(
            name: "lantern",
            dependencies: [
                "LambdaWire", "LanternStore", "Collector", "Emulator", "Dashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        // Symbols the layer binary must not take from a newer glibc than Lambda's (see hypotf.c).
        .target(name: "GlibcCompat"),
        // Swift Concurrency's global executor hook, set from C (see its header for why not through dlsym).
        .target(name: "ExecutorHook"),
        .executableTarget(name: "lantern-extension", dependencies: ["Collector", "GlibcCompat"]),
        // The no-op extension the overhead benchmarks use as their floor.
        .executableTarget(
            name: "lantern-noop-extension",
            dependencies: ["Collector", .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .executableTarget(
            name: "lantern-bench",
            dependencies: [
                "LanternStore", "LambdaWire", "Dashboard", "CSQLite", "Collector",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),

        // Tests
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "LambdaWireTests", dependencies: [
            "TestSupport","LambdaWire"]),
        .testTarget(name: "LanternStoreTests", dependencies: [
            "TestSupport","LanternStore", "CSQLite"]),
        .testTarget(name: "CollectorTests", dependencies: [
            "TestSupport",
            "Collector", "LanternStore", "LambdaWire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "CompressNIO", package: "compress-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .testTarget(name: "EmulatorTests", dependencies: [
            "TestSupport",
            "Emulator", "LambdaWire",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "DashboardTests", dependencies: [
            "TestSupport","Dashboard", "LanternStore"]),
        .testTarget(name: "EndToEndTests", dependencies: [
            "TestSupport",
            "LanternStore", "LambdaWire",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
    ]
)
