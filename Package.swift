// swift-tools-version: 6.1
// A Swift toolkit for deep-equilibrium fixed points: solvers, diagnostics, implicit gradients,
// and the implicit feature refinement (IFR) head. See README.md and Docs/.

import PackageDescription

let mathLinks: [LinkerSetting] = [.linkedLibrary("m")]

let package = Package(
  name: "swift-deq",
  platforms: [.macOS(.v15)],

  // MARK: - Public products
  products: [
    .library(name: "DEQCore", targets: ["DEQCore"]),
    .library(name: "DEQSolvers", targets: ["DEQSolvers"]),
    .library(name: "DEQTraining", targets: ["DEQTraining"]),
    .library(name: "IFRHead", targets: ["IFRHead"]),
    .executable(name: "deq", targets: ["deq"]),
  ],

  dependencies: [
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    // `swift package generate-documentation` (DocC catalogs in Sources/*/*.docc).
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],

  targets: [
    // MARK: - C binding (internal; only DEQCore imports it)
    .systemLibrary(
      name: "CBLASLAPACK",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev", "liblapacke-dev", "pkg-config"])]
    ),

    // MARK: - Implementation targets
    .target(
      name: "DEQCore",
      dependencies: [
        "CBLASLAPACK",
        .product(name: "RealModule", package: "swift-numerics"),
        .product(name: "ComplexModule", package: "swift-numerics"),
      ],
      linkerSettings: mathLinks
    ),
    .target(
      name: "DEQSolvers",
      dependencies: ["DEQCore"],
      linkerSettings: mathLinks
    ),
    .target(
      name: "DEQTraining",
      dependencies: ["DEQCore", "DEQSolvers"],
      linkerSettings: mathLinks
    ),
    .target(
      name: "IFRHead",
      dependencies: ["DEQCore", "DEQSolvers", "DEQTraining"],
      linkerSettings: mathLinks
    ),
    .target(
      name: "DEQCommandLine",
      dependencies: [
        "DEQCore", "DEQSolvers", "DEQTraining", "IFRHead",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      linkerSettings: mathLinks
    ),
    // OpenBLAS's worker spin time for the `deq` process (see Sources/DEQLaunch/launch.c).
    .target(name: "DEQLaunch"),
    .executableTarget(
      name: "deq",
      dependencies: ["DEQCommandLine", "DEQLaunch"],
      linkerSettings: [
        // Lets OpenBLAS's thread pool call DEQLaunch's `openblas_thread_timeout`.
        .unsafeFlags(["-Xlinker", "--export-dynamic-symbol=openblas_thread_timeout"]),
        // Release builds link the Swift runtime and libraries in: the process starts without
        // loading and relocating ten shared libraries (deq solve --help 15.9 -> 13.4 ms, the
        // paper-size solve about 10 ms less). lld, because the default linker warns about a
        // `mktemp` in the static FoundationEssentials, whose two support libraries are not
        // named by its module. Not in debug builds: the CLI tests link this target's objects
        // into a test bundle, and XCTest and Testing have no static libraries (so the tests
        // run in debug, as `swift test` does by default).
        .unsafeFlags(
          [
            "-static-stdlib", "-use-ld=lld", "-l_FoundationCollections", "-l_FoundationCShims",
          ], .when(configuration: .release)),
      ]
    ),

    // MARK: - Test support and tests
    .target(
      name: "_DEQTestSupport",
      dependencies: ["DEQCore"],
      linkerSettings: mathLinks
    ),
    .testTarget(
      name: "DEQCoreTests",
      dependencies: ["DEQCore", "_DEQTestSupport"]
    ),
    .testTarget(
      name: "DEQSolversTests",
      dependencies: ["DEQSolvers", "DEQCore", "_DEQTestSupport"]
    ),
    .testTarget(
      name: "DEQTrainingTests",
      dependencies: ["DEQTraining", "DEQSolvers", "DEQCore", "_DEQTestSupport"]
    ),
    .testTarget(
      name: "IFRHeadTests",
      dependencies: ["IFRHead", "DEQTraining", "DEQSolvers", "DEQCore", "_DEQTestSupport"],
      resources: [.copy("Fixtures")]
    ),
    .testTarget(
      name: "DEQCommandLineTests",
      dependencies: [
        "DEQCommandLine", "deq", "IFRHead", "DEQTraining", "DEQSolvers", "DEQCore",
        "_DEQTestSupport",
      ]
    ),
  ],
  swiftLanguageModes: [.v6]
)
