// swift-tools-version: 6.1
// Benchmarks for swift-deq, kept out of the main package so that `swift build` and
// `swift test` stay lean. Run with `swift package benchmark` in this folder
// (or `swift package benchmark --target IFRBenchmarks` for one suite).

import PackageDescription

/// One benchmark executable per module area, each in `Benchmarks/<name>/`.
func benchmark(_ name: String, _ products: [String]) -> Target {
  .executableTarget(
    name: name,
    dependencies: [.product(name: "Benchmark", package: "benchmark")]
      + products.map { .product(name: $0, package: "swift-deq") },
    path: "Benchmarks/\(name)",
    plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
  )
}

let package = Package(
  name: "swift-deq-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(
      url: "https://github.com/ordo-one/benchmark", from: "1.38.1",
      traits: ["MallocInterposer"]),
    // Named explicitly: a path package otherwise takes the folder's name.
    .package(name: "swift-deq", path: ".."),
  ],
  targets: [
    // MARK: - DEQSolvers: solvers
    benchmark("SolverBenchmarks", ["DEQSolvers"]),
    // MARK: - DEQSolvers: diagnostics
    benchmark("DiagnosticsBenchmarks", ["DEQSolvers", "DEQCore"]),
    // MARK: - IFRHead
    benchmark("IFRBenchmarks", ["IFRHead", "DEQSolvers", "DEQCore"]),
  ],
  swiftLanguageModes: [.v6]
)
