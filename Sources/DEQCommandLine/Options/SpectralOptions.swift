import ArgumentParser
import DEQSolvers

/// How a spectral radius is computed, as spelled on the command line.
enum SpectralMethodOption: String, CaseIterable, ExpressibleByArgument {
  case auto
  case dense
  case arnoldi
  case power
}

/// The restarted-Arnoldi settings, shared by the subcommands that compute spectral radii.
struct ArnoldiOptions: ParsableArguments {
  @Option(help: "Arnoldi's Krylov dimension per restart cycle.")
  var krylovDimension: Int = ArnoldiIteration().krylovDimension

  @Option(help: "Arnoldi's cap on Jacobian products.")
  var maxProducts: Int = ArnoldiIteration().maxProducts

  func validate() throws {
    guard krylovDimension >= 2 else {
      throw ValidationError("--krylov-dimension must be ≥ 2, got \(krylovDimension)")
    }
    guard maxProducts >= 1 else {
      throw ValidationError("--max-products must be ≥ 1, got \(maxProducts)")
    }
  }

  /// The method for the option and an `n`-dimensional problem, with these Arnoldi settings
  /// (`auto`: dense up to n = 1,024, Arnoldi above).
  func method(_ option: SpectralMethodOption, dimension n: Int) -> SpectralRadiusMethod {
    let iteration = ArnoldiIteration(krylovDimension: krylovDimension, maxProducts: maxProducts)
    switch option {
    case .auto:
      return n <= SpectralRadiusMethod.defaultDenseThreshold ? .dense() : .arnoldi(iteration)
    case .dense: return .dense()
    case .arnoldi: return .arnoldi(iteration)
    case .power: return .powerIteration()
    }
  }
}
