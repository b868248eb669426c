// swift-tools-version: 6.1
// Benchmarks for swift-deq, kept out of the main package so that `swift build` and
// `swift test` stay lean. Run with `swift package benchmark` in this folder.

import PackageDescription

let package = Package(
  name: "swift-deq-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(
      url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    .package(name: "swift-deq", path: ".."),
  ],
  targets: [
    .executableTarget(
      name: "IFRBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "IFRHead", package: "swift-deq"),
        .product(name: "DEQCore", package: "swift-deq"),
        .product(name: "DEQSolvers", package: "swift-deq"),
      ],
      path: "Benchmarks/IFRBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
  ],
  swiftLanguageModes: [.v6]
)
