// Power iteration with a convergence test that can fail (von Mises 1929; Golub & Van Loan
// §7.3.1; Saad, "Numerical Methods for Large Eigenvalue Problems", §4.1).
//
// vₖ₊₁ = J·vₖ / ‖J·vₖ‖ converges to the dominant eigenvector only when one real eigenvalue
// strictly dominates in modulus. With a complex conjugate pair (or a tie λ, −λ) the
// iterates wander in a two-dimensional invariant subspace forever, and a Rayleigh quotient
// after a fixed number of steps is an arbitrary number (torchdeq's estimate, 0.17 against a
// true 0.725 on one IFR problem). This implementation therefore accepts an eigenvalue only
// when its eigen-residual is small, and recognises the two-dimensional case explicitly.
// Goals, in order: never report an unconverged number as a value; then few products.
import DEQCore

/// Matrix-free power iteration with an eigen-residual convergence test and detection of
/// dominant pairs.
///
/// ```
/// v ← J·v / ‖J·v‖,   θ = vᵀ·J·v,   r = ‖J·v − θ·v‖
/// converged:       r ≤ tolerance · |θ|
/// dominant pair:   for 3 steps J·v lies in span{v, v_prev} to tolerance and the 2 × 2
///                  Rayleigh–Ritz matrix on that plane has complex eigenvalues (or real
///                  ones within 0.1 % in modulus) → the dominant eigenvalues are a complex
///                  pair or tied; no value is reported (use ``ArnoldiIteration``).
/// ```
/// Convergence is linear with ratio `|λ₂/λ₁|`; a slow ratio ends in
/// ``PowerIterationResult/Status-swift.enum/maxIterations``, again without a value.
public struct PowerIteration: Sendable, Hashable {
  /// The cap on products (one per iteration); default 500.
  public var maxIterations: Int
  /// The relative eigen-residual `‖J·v − θ·v‖ / |θ|` to accept; default `1e-6`.
  public var tolerance: Double
  /// The seed of the random (normal) start vector.
  public var seed: UInt64

  /// Creates the iteration.
  ///
  /// - Parameters:
  ///   - maxIterations: the product cap, ≥ 1.
  ///   - tolerance: the relative eigen-residual to accept, in `(0, 1)`.
  ///   - seed: the start vector's seed.
  public init(maxIterations: Int = 500, tolerance: Double = 1e-6, seed: UInt64 = 0x5EED) {
    self.maxIterations = maxIterations
    self.tolerance = tolerance
    self.seed = seed
  }

  /// Runs the iteration on a Jacobian operator.
  ///
  /// - Throws: ``DiagnosticsError/emptyProblem``, ``DiagnosticsError/invalidParameter(name:reason:)``,
  ///   ``DiagnosticsError/nonFiniteProduct(product:)`` when the map is not finite during products.
  /// - Complexity: at most ``maxIterations`` products and `O(n)` flops per product; memory
  ///   four vectors.
  public func run<Vector>(
    on jacobian: JacobianOperator<Vector>
  ) throws(DiagnosticsError) -> PowerIterationResult<Vector.Scalar> {
    typealias Scalar = Vector.Scalar
    try jacobian.requireNonEmpty()
    guard maxIterations >= 1 else {
      throw .invalidParameter(name: "maxIterations", reason: "must be at least 1")
    }
    guard tolerance > 0, tolerance < 1 else {
      throw .invalidParameter(name: "tolerance", reason: "must lie in (0, 1)")
    }
    let tol = Scalar(tolerance)
    var generator = SeededGenerator(seed: seed)
    var v = jacobian.point.zeroed()
    v.withUnsafeMutableBufferPointer { buffer in
      for i in buffer.indices { buffer[i] = generator.nextNormal(Scalar.self) }
    }
    v.scale(by: 1 / v.norm())
    var previous: Vector? = nil
    var products = 0
    var theta: Scalar = 0
    var residual: Scalar = .infinity
    var pairSteps = 0
    var previousLength: Scalar = 0
    while products < maxIterations {
      let w = try jacobian.checkedProduct(v, count: &products)
      let length = w.norm()
      guard length > 0 else {
        // J·v = 0: v is an eigenvector for 0. From a random start this means J·v vanishes
        // on a generic vector, so J = 0 on the reachable space.
        return PowerIterationResult(
          status: .converged, eigenvalue: 0, rayleighQuotient: 0, residual: 0,
          jacobianProducts: products)
      }
      theta = v.dot(w)
      residual = w.adding(v, scaledBy: -theta).norm()
      if residual <= tol * Swift.abs(theta) {
        return PowerIterationResult(
          status: .converged, eigenvalue: theta, rayleighQuotient: theta, residual: residual,
          jacobianProducts: products)
      }
      // Two-dimensional test: when w = J·v lies in span{v, u} (u = previous ⊥ v, normalised)
      // to tolerance, the 2 × 2 Rayleigh–Ritz matrix B = [v u]ᵀ·J·[v u] holds the two
      // dominant eigenvalues. J·u needs no product: J·previous = ‖J·previous‖·v.
      if let previous {
        let overlap = v.dot(previous)
        var u = previous.adding(v, scaledBy: -overlap)
        let uLength = u.norm()
        if uLength > Scalar.ulpOfOne.squareRoot() {
          u.scale(by: 1 / uLength)
          let uw = u.dot(w)
          var r2 = w.adding(v, scaledBy: -theta)
          r2.add(u, scaledBy: -uw)
          // J·u = (previousLength·v − overlap·w) / uLength
          let vJu = (previousLength - overlap * theta) / uLength
          let uJu = (previousLength * u.dot(v) - overlap * uw) / uLength
          let planar = r2.norm() <= tol * length
          let unresolvable = planar && Self.isPairUnresolvable(theta, vJu, uw, uJu)
          pairSteps = unresolvable ? pairSteps + 1 : 0
          if pairSteps >= 3 {
            return PowerIterationResult(
              status: .dominantPair, eigenvalue: nil, rayleighQuotient: theta,
              residual: residual, jacobianProducts: products)
          }
        }
      }
      previousLength = length
      previous = v
      v = w.scaled(by: 1 / length)
    }
    return PowerIterationResult(
      status: .maxIterations, eigenvalue: nil, rayleighQuotient: theta, residual: residual,
      jacobianProducts: products)
  }

  /// Whether the 2 × 2 matrix `[[a, b], [c, d]]` has complex eigenvalues or two real
  /// eigenvalues whose moduli differ by less than 0.1 % (power iteration cannot separate them).
  static func isPairUnresolvable<Scalar: DEQScalar>(
    _ a: Scalar, _ b: Scalar, _ c: Scalar, _ d: Scalar
  ) -> Bool {
    let halfTrace = (a + d) / 2
    let determinant = a * d - b * c
    let discriminant = halfTrace * halfTrace - determinant
    if discriminant < 0 { return true }
    let root = discriminant.squareRoot()
    let (first, second) = (Swift.abs(halfTrace + root), Swift.abs(halfTrace - root))
    let (large, small) = (Swift.max(first, second), Swift.min(first, second))
    return large == 0 || small >= large * Scalar(0.999)
  }

  /// The spectral radius as an estimate; untrustworthy (value `nil`) unless converged.
  ///
  /// - Throws: as ``run(on:)``.
  public func spectralRadius<Vector>(
    of jacobian: JacobianOperator<Vector>
  ) throws(DiagnosticsError) -> SpectralRadiusEstimate<Vector.Scalar> {
    let result = try run(on: jacobian)
    let eigenvalue = result.eigenvalue
    return SpectralRadiusEstimate(
      value: eigenvalue.map { Swift.abs($0) }, method: .powerIteration,
      dominantEigenvalues: eigenvalue.map { [Complex($0, 0)] } ?? [],
      errorEstimate: eigenvalue == nil ? nil : result.residual,
      jacobianProducts: result.jacobianProducts, isTrustworthy: result.status == .converged,
      explanation: result.status.explanation)
  }
}

/// What a power iteration found.
public struct PowerIterationResult<Scalar: DEQScalar>: Sendable {
  /// How the iteration ended.
  public enum Status: Sendable, Hashable {
    /// The eigen-residual met the tolerance: ``eigenvalue`` is the dominant eigenvalue.
    case converged
    /// The iterates settled in a two-dimensional invariant subspace without converging: the
    /// dominant eigenvalues are a complex conjugate pair or two real eigenvalues of equal
    /// (or nearly equal) modulus. Power iteration cannot resolve them.
    case dominantPair
    /// The product cap was reached before either test passed (slow ratio `|λ₂/λ₁|`).
    case maxIterations

    /// A sentence a person can act on.
    public var explanation: String {
      switch self {
      case .converged:
        "power iteration converged (eigen-residual below tolerance)"
      case .dominantPair:
        "power iteration cannot converge: the dominant eigenvalues are a complex pair or tied "
          + "in modulus; use Arnoldi (or the dense method) for the spectral radius"
      case .maxIterations:
        "power iteration did not converge within its product cap (dominant eigenvalue not "
          + "well separated); use Arnoldi or raise maxIterations"
      }
    }
  }

  /// How the iteration ended.
  public let status: Status
  /// The dominant (real) eigenvalue, only when ``status`` is `.converged`.
  public let eigenvalue: Scalar?
  /// The last Rayleigh quotient `vᵀ·J·v`. Not an eigenvalue unless converged: with a
  /// complex pair it oscillates and can be far below the spectral radius.
  public let rayleighQuotient: Scalar
  /// The last eigen-residual `‖J·v − θ·v‖` (with `‖v‖ = 1`).
  public let residual: Scalar
  /// The number of Jacobian products spent.
  public let jacobianProducts: Int
}
