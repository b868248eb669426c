// swift-tools-version: 6.1
// Benchmarks for swift-deq, kept out of the main package so `swift build`/`swift test` stay
// lean. Run with `swift package benchmark` from this folder.

import PackageDescription

let package = Package(
  name: "swift-deq-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "swift-deq", path: ".."),
    .package(
      url: "https://github.com/ordo-one/benchmark", exact: "1.38.1",
      traits: ["MallocInterposer"]),
  ],
  targets: [
    // MARK: - Diagnostics
    .executableTarget(
      name: "DiagnosticsBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "DEQSolvers", package: "swift-deq"),
        .product(name: "DEQCore", package: "swift-deq"),
      ],
      path: "DiagnosticsBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
  ],
  swiftLanguageModes: [.v6]
)
