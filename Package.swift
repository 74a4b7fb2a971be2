// swift-tools-version:6.2
//
// Fiducia: a trust & safety backend for online marketplaces.
//
// The layers are visible here, and arrows point inward only:
//
//   fiducia (thin executable)
//     └─ FiduciaCLI        command-line interface (swift-argument-parser)
//          └─ FiduciaWeb   HTTP API (OpenAPI-generated) and server-rendered pages (Hummingbird, Mustache)
//               └─ FiduciaServices     use cases: one transaction per request, composing domain + storage
//                    ├─ FiduciaPersistence  SQLite and PostgreSQL behind repository protocols, migrations
//                    └─ FiduciaDomain       pure rules, state machines, scoring: no I/O, no clock
//
// FiduciaAPI holds the OpenAPI 3.1 document and the code generated from it.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// Tests import what they use too, but they may rely on transitive imports for brevity.
let testSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "fiducia",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fiducia", targets: ["fiducia"]),
        .executable(name: "fiducia-bench", targets: ["FiduciaBenchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
    ],
    targets: [
        // Pure domain: rules, state machines, money, scoring, the trust engine. Imports nothing of ours.
        .target(
            name: "FiduciaDomain",
            swiftSettings: swiftSettings
        ),
        // Storage: repository protocols and their SQL implementations for SQLite and PostgreSQL.
        .target(
            name: "FiduciaPersistence",
            dependencies: [
                "FiduciaDomain",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Use cases shared by the HTTP layer and the CLI.
        .target(
            name: "FiduciaServices",
            dependencies: [
                "FiduciaDomain",
                "FiduciaPersistence",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                // RSA signature checks: most OpenID providers sign ID tokens with RS256 only.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            // The penalty rulebook that ships with Fiducia (version 1), as data.
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        // The OpenAPI 3.1 document and the server types generated from it at build time.
        .target(
            name: "FiduciaAPI",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ],
            resources: [.copy("openapi.yaml")],
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // HTTP: the JSON API, the pages, middleware, metrics.
        .target(
            name: "FiduciaWeb",
            dependencies: [
                "FiduciaDomain",
                "FiduciaServices",
                "FiduciaAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        // Command-line interface: serve, migrate, admin, demo, ledger, billing, replay, score, eval.
        .target(
            name: "FiduciaCLI",
            dependencies: [
                "FiduciaDomain",
                "FiduciaServices",
                "FiduciaWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The thin executable.
        .executableTarget(
            name: "fiducia",
            dependencies: ["FiduciaCLI"],
            swiftSettings: swiftSettings
        ),
        // Benchmarks (not tests): trades per second through the HTTP API.
        .executableTarget(
            name: "FiduciaBenchmarks",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Benchmarks/FiduciaBenchmarks",
            swiftSettings: swiftSettings
        ),
        // Shared by the test targets: real SQLite files and PostgreSQL databases made per test.
        .target(
            name: "FiduciaTestSupport",
            dependencies: [
                "FiduciaDomain",
                "FiduciaPersistence",
                "FiduciaServices",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            path: "Tests/FiduciaTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FiduciaDomainTests",
            dependencies: ["FiduciaDomain"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "FiduciaPersistenceTests",
            dependencies: ["FiduciaPersistence", "FiduciaServices", "FiduciaDomain", "FiduciaTestSupport", .product(name: "SQLKit", package: "sql-kit")],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "FiduciaCLITests",
            dependencies: ["FiduciaCLI", "FiduciaPersistence", "FiduciaDomain", "FiduciaTestSupport"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "FiduciaWebTests",
            dependencies: [
                "FiduciaWeb",
                "FiduciaServices",
                "FiduciaPersistence",
                "FiduciaDomain",
                "FiduciaAPI",
                "FiduciaTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: testSwiftSettings
        ),
    ]
)
