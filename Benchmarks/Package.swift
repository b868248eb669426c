// swift-tools-version: 6.1
// Benchmarks for swift-deq, kept out of the main package so `swift build` / `swift test`
// stay lean (CI never builds this package). Run from this folder:
//
//   swift package benchmark --target SolverBenchmarks
//
// To add a suite: create Benchmarks/<Name>/<Name>.swift and add "<Name>" with its library
// dependencies to `suites` below.

import PackageDescription

/// SwiftPM names a path dependency after its folder, so the main package's identity is the
/// name of the folder that holds this one (`main`, `swift-deq`, a worktree's name, …).
let deq = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "swift-deq")

/// Each benchmark suite: its target name and the swift-deq products it measures.
let suites: [(name: String, products: [String])] = [
  ("SolverBenchmarks", ["DEQSolvers"])
]

let package = Package(
  name: "swift-deq-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(
      url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    .package(path: ".."),
  ],
  targets: suites.map { suite in
    .executableTarget(
      name: suite.name,
      dependencies: [.product(name: "Benchmark", package: "benchmark")]
        + suite.products.map { .product(name: $0, package: deq) },
      path: "Benchmarks/\(suite.name)",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
  },
  swiftLanguageModes: [.v6]
)
