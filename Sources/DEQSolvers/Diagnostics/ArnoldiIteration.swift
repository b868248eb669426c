// Restarted Arnoldi for the spectral radius (Arnoldi 1951; Saad 1980, "Variations on
// Arnoldi's method for computing eigenelements of large unsymmetric matrices"; Saad,
// "Numerical Methods for Large Eigenvalue Problems", §6.2–6.3).
//
// Each cycle builds an orthonormal Krylov basis V = [v₁ … v_k] of span{v₁, J·v₁, …} by
// modified Gram–Schmidt with one full reorthogonalisation pass ("twice is enough",
// Giraud et al. 2005) and the Hessenberg matrix H = Vᵀ·J·V. The eigenvalues of H (LAPACK
// `geev`) are the Ritz values; the one of largest modulus estimates ρ(J), with the Ritz
// residual ‖J·x − θ·x‖ = |h_{k+1,k}·e_kᵀ·y| (x = V·y, ‖y‖ = 1) as its error estimate.
// Restarts are Krylov–Schur (Stewart 2001, "A Krylov–Schur algorithm for large
// eigenproblems"): the real Schur form H = Z·T·Zᵀ (LAPACK `gees`) is reordered (`trsen`) so
// the ⌈2k/3⌉ Ritz values of largest modulus lead T (a complex conjugate pair moves whole),
// the decomposition is truncated to them, and the next cycle extends it by Arnoldi steps.
// Schur vectors stay orthonormal and exactly invariant for H even when the Ritz values are
// clustered or their eigenvectors ill-conditioned (where a restart built from individual
// Ritz vectors loses the Krylov relation).
// Goals, in order: an honest convergence flag (the residual test, never a fixed count);
// few products (checks every 5 steps, stops as soon as the residual is small); then speed.
import DEQCore

/// Matrix-free spectral radius by Krylov–Schur restarted Arnoldi.
///
/// ```
/// J·V_m = V_m·H_m + v_{m+1}·bᵀ          (Krylov–Schur relation; bᵀ = h_{m+1,m}·e_mᵀ
///                                        after an Arnoldi step)
/// θ = argmax |λ(H_m)|,  H_m·y = θ·y,  ‖y‖ = 1
/// residual = |bᵀ·y| = ‖J·V_m·y − θ·V_m·y‖
/// converged: residual ≤ tolerance · |θ|, or h_{m+1,m} ≈ 0 (an invariant subspace: exact)
/// ```
/// A Krylov dimension larger than `n` is clamped to `n` (at `k = n` the Krylov space is the
/// whole space and the Ritz values are the eigenvalues up to rounding).
public struct ArnoldiIteration: Sendable, Hashable {
  /// The Krylov dimension `k` per cycle (≥ 2; clamped to `n`); default 60. Each restart
  /// keeps the ⌈2k/3⌉ dominant Schur vectors. On clustered spectra a larger `k` converges in
  /// fewer products (IFR ∂F/∂H at n = 12,544, 300 products: relative residual 2.4e-6 with
  /// k = 30, 1.1e-7 with k = 60); it costs `(k + 1)·n` scalars and `4·k·n` flops a product.
  public var krylovDimension: Int
  /// The cap on Jacobian products over all cycles; default 1,000. A converging run stops
  /// earlier; the cap matters when the top of the spectrum is clustered: the IFR Jacobian
  /// at the paper's size (n = 50,176) needs 674 products at its equilibrium and 953 at
  /// H = 0 to reach a relative Ritz residual of 1e-8 (300 left 4e-4 and 7e-3).
  public var maxProducts: Int
  /// The relative Ritz residual to accept; default `1e-8` (the Ritz value is then typically
  /// accurate to far more digits: its error is about residual² / gap for a well-conditioned
  /// eigenvalue, and at most the residual for a normal `J`). Values below `10·ε` of the
  /// operator's scalar are raised to `10·ε` (about `1.2e-6` for `Float`).
  public var tolerance: Double
  /// The seed of the random (normal) start vector.
  public var seed: UInt64

  /// Creates the iteration.
  ///
  /// - Parameters:
  ///   - krylovDimension: `k ≥ 2`; larger than `n` is clamped to `n`.
  ///   - maxProducts: the product cap (≥ 1).
  ///   - tolerance: the relative Ritz residual in `(0, 1)`.
  ///   - seed: the start vector's seed.
  public init(
    krylovDimension: Int = 60, maxProducts: Int = 1_000, tolerance: Double = 1e-8,
    seed: UInt64 = 0x5EED
  ) {
    self.krylovDimension = krylovDimension
    self.maxProducts = maxProducts
    self.tolerance = tolerance
    self.seed = seed
  }

  /// Runs restarted Arnoldi on a Jacobian operator (JVPs, or VJPs when that is all it has:
  /// `Jᵀ` has the same eigenvalues).
  ///
  /// - Throws: ``DiagnosticsError/emptyProblem``, ``DiagnosticsError/invalidParameter(name:reason:)``,
  ///   ``DiagnosticsError/nonFiniteProduct(product:)`` when the map is not finite during
  ///   products, ``DiagnosticsError/linearAlgebra(_:)`` when `geev`, `gees` or `trsen`
  ///   fails on `H`.
  /// - Complexity: at most ``maxProducts`` products; `4·j·n` flops of orthogonalisation at
  ///   step `j` (about `2·k²·n` per cycle), `2·k·p·n` per restart (`p = ⌈2k/3⌉`) and
  ///   O(k³) for the Schur form; `(k + 1 + p)·n` scalars of memory at a restart.
  public func run<Vector>(
    on jacobian: JacobianOperator<Vector>
  ) throws(DiagnosticsError) -> ArnoldiResult<Vector.Scalar> {
    try run(on: jacobian, warmStart: nil).result
  }

  /// Runs restarted Arnoldi from a warm start (or from the seeded random vector when
  /// `warmStart` is `nil`), and returns with the result the warm start for the next run on
  /// a nearby operator.
  ///
  /// A warm start is a start vector, nothing more: the run builds its own Krylov basis of
  /// the operator it is given and must pass the same residual test as a cold run, so a
  /// converged warm result is as certain an eigenvalue as a cold one (see
  /// ``ArnoldiWarmStart`` for what it inherits and what it cannot see).
  ///
  /// - Throws: as ``run(on:)``; ``DiagnosticsError/dimensionMismatch(expected:actual:)``
  ///   when the warm start's vector has another size,
  ///   ``DiagnosticsError/invalidParameter(name:reason:)`` when it is zero or not finite.
  public func run<Vector>(
    on jacobian: JacobianOperator<Vector>, warmStart: ArnoldiWarmStart<Vector>?
  ) throws(DiagnosticsError) -> ArnoldiRun<Vector> {
    typealias Scalar = Vector.Scalar
    try jacobian.requireNonEmpty()
    guard krylovDimension >= 2 else {
      throw .invalidParameter(name: "krylovDimension", reason: "must be at least 2")
    }
    guard maxProducts >= 1 else {
      throw .invalidParameter(name: "maxProducts", reason: "must be at least 1")
    }
    guard tolerance > 0, tolerance < 1 else {
      throw .invalidParameter(name: "tolerance", reason: "must lie in (0, 1)")
    }
    let n = jacobian.dimension
    let k = Swift.min(krylovDimension, n)
    let relativeTolerance = Swift.max(tolerance, 10 * Double(Scalar.ulpOfOne))
    let breakdownTolerance = 100 * Scalar.ulpOfOne

    var start: Vector
    if let warmStart {
      guard warmStart.vector.scalarCount == n else {
        throw .dimensionMismatch(expected: n, actual: warmStart.vector.scalarCount)
      }
      let norm = warmStart.vector.norm()
      guard norm.isFinite, norm > 0 else {
        throw .invalidParameter(
          name: "warmStart", reason: "the start vector must be finite and nonzero")
      }
      start = warmStart.vector.scaled(by: 1 / norm)
    } else {
      var generator = SeededGenerator(seed: seed)
      start = jacobian.point.zeroed()
      start.withUnsafeMutableBufferPointer { buffer in
        for i in buffer.indices { buffer[i] = generator.nextNormal(Scalar.self) }
      }
      start.scale(by: 1 / start.norm())
    }

    var products = 0
    var cycles = 0
    var latest: RitzAnalysis? = nil
    var basis = [start]
    basis.reserveCapacity(k + 1)
    var h = [Double](repeating: 0, count: (k + 1) * k)
    var schur: SchurWorkspace<Double>? = nil
    var first = 0  // columns of H already filled (the kept Ritz vectors after a restart)
    while products < maxProducts {
      cycles += 1
      let last = Swift.min(k, first + (maxProducts - products))
      for j in first..<last {
        var w = try jacobian.checkedProduct(basis[j], count: &products)
        let before = w.norm()
        for _ in 0..<2 {
          for i in 0...j {
            let c = basis[i].dot(w)
            w.add(basis[i], scaledBy: -c)
            h[i * k + j] += Double(c)
          }
        }
        let beta = w.norm()
        let breakdown = beta <= breakdownTolerance * before || before == 0
        h[(j + 1) * k + j] = breakdown ? 0 : Double(beta)
        let m = j + 1
        if breakdown || j == last - 1 || m % 5 == 0 {
          let analysis = try Self.analyse(h, stride: k, order: m)
          latest = analysis
          if breakdown || analysis.residual <= relativeTolerance * analysis.theta.length {
            return ArnoldiRun(
              result: ArnoldiResult(
                analysis, converged: true, invariantSubspace: breakdown,
                relativeTolerance: relativeTolerance, products: products, cycles: cycles,
                krylovDimension: k, warmStarted: warmStart != nil),
              warmStart: nextWarmStart(basis: basis, analysis: analysis))
          }
        }
        basis.append(w.scaled(by: 1 / beta))
      }
      guard products < maxProducts else { break }
      first = try Self.krylovSchurRestart(
        basis: &basis, h: &h, stride: k, order: last, schur: &schur)
    }
    guard let latest else { throw .invalidParameter(name: "maxProducts", reason: "no cycle ran") }
    return ArnoldiRun(
      result: ArnoldiResult(
        latest, converged: false, invariantSubspace: false, relativeTolerance: relativeTolerance,
        products: products, cycles: cycles, krylovDimension: k, warmStarted: warmStart != nil),
      warmStart: nextWarmStart(basis: basis, analysis: latest))
  }

  /// The start for the next run: the dominant Ritz vector `x = V_m·y`, in real form
  /// (`Re y + Im y` for a complex pair, a vector of the pair's real invariant plane, whose
  /// Krylov space holds the plane after two products).
  func nextWarmStart<Vector: ContiguousVectorSpace>(
    basis: [Vector], analysis: RitzAnalysis
  ) -> ArnoldiWarmStart<Vector>? {
    let m = analysis.order
    guard m >= 1, basis.count >= m else { return nil }
    var vector = basis[0].zeroed()
    for t in 0..<m {
      let s = analysis.vector[t].real + analysis.vector[t].imaginary
      vector.add(basis[t], scaledBy: Vector.Scalar(s))
    }
    let norm = vector.norm()
    guard norm.isFinite, norm > 0 else { return nil }
    vector.scale(by: 1 / norm)
    return ArnoldiWarmStart(
      vector: vector, subspaceDimension: analysis.theta.imaginary == 0 ? 1 : 2,
      eigenvalue: analysis.theta)
  }

  /// The Schur-form selection of the `target` Ritz values of largest modulus (at most
  /// `m − 1` of the `m`; a complex conjugate pair moves whole, so one more or one fewer
  /// may be taken).
  static func dominantSelection(_ values: [Complex<Double>], target requested: Int) -> [Bool] {
    let m = values.count
    let ranked = values.indices.sorted {
      (values[$0].length, values[$0].imaginary) > (values[$1].length, values[$1].imaginary)
    }
    let target = Swift.max(1, Swift.min(requested, m - 1))
    var flags = [Bool](repeating: false, count: m)
    var count = 0
    for i in ranked where !flags[i] {
      guard count < target else { break }
      let partner = values[i].imaginary == 0 ? nil : (values[i].imaginary > 0 ? i + 1 : i - 1)
      let size = partner == nil ? 1 : 2
      guard count + size <= m - 1 else { break }
      flags[i] = true
      if let partner { flags[partner] = true }
      count += size
    }
    return flags
  }

  /// The spectral radius as an estimate; untrustworthy when the residual test did not pass
  /// within ``maxProducts`` (the value is then the last Ritz value's modulus).
  ///
  /// - Throws: as ``run(on:)``.
  public func spectralRadius<Vector>(
    of jacobian: JacobianOperator<Vector>
  ) throws(DiagnosticsError) -> SpectralRadiusEstimate<Vector.Scalar> {
    Self.estimate(try run(on: jacobian))
  }

  /// The spectral radius from a warm start, and the warm start for the next operator.
  ///
  /// - Throws: as ``run(on:warmStart:)``.
  public func spectralRadius<Vector>(
    of jacobian: JacobianOperator<Vector>, warmStart: ArnoldiWarmStart<Vector>?
  ) throws(DiagnosticsError) -> (
    estimate: SpectralRadiusEstimate<Vector.Scalar>, next: ArnoldiWarmStart<Vector>?
  ) {
    let run = try run(on: jacobian, warmStart: warmStart)
    return (Self.estimate(run.result), run.warmStart)
  }

  static func estimate<Scalar: DEQScalar>(
    _ result: ArnoldiResult<Scalar>
  ) -> SpectralRadiusEstimate<Scalar> {
    let start = result.warmStarted ? "warm-started " : ""
    let explanation =
      result.converged
      ? "\(start)restarted Arnoldi (k = \(result.krylovDimension)) converged after \(result.cycles) "
        + "cycle(s); Ritz residual \(result.ritzResidual)"
      : "restarted Arnoldi did not converge within \(result.jacobianProducts) products "
        + "(relative Ritz residual \(result.relativeResidual)); the value is the last Ritz "
        + "estimate: raise maxProducts or krylovDimension"
    return SpectralRadiusEstimate(
      value: result.spectralRadius, method: .arnoldi,
      dominantEigenvalues: result.dominantEigenvalues, errorEstimate: result.ritzResidual,
      jacobianProducts: result.jacobianProducts, isTrustworthy: result.converged,
      explanation: explanation)
  }

  /// The Ritz values of one Hessenberg matrix and the dominant one's vector and residual.
  struct RitzAnalysis {
    var ritzValues: [Complex<Double>]
    var theta: Complex<Double>
    var vector: [Complex<Double>]
    var residual: Double
    /// The order `m` of the Hessenberg matrix analysed.
    var order: Int
  }

  /// Eigenvalues of the leading `order × order` block of `h` (row stride `stride`), the
  /// dominant Ritz pair and the Ritz residual `|h_{m+1,m}|·|y_m|`.
  static func analyse(
    _ h: [Double], stride: Int, order m: Int
  ) throws(DiagnosticsError) -> RitzAnalysis {
    var block = [Double](repeating: 0, count: m * m)
    for i in 0..<m { for j in 0..<m { block[i * m + j] = h[i * stride + j] } }
    var values: [Complex<Double>]
    do {
      var workspace = try EigenvalueWorkspace<Double>(order: m)
      values = try block.withUnsafeBufferPointer { (p) throws(LinearAlgebraError) in
        try workspace.eigenvalues(of: p)
      }
    } catch {
      throw .linearAlgebra(error)
    }
    values.sort { ($0.length, $0.imaginary) > ($1.length, $1.imaginary) }
    let theta = values[0]
    let y = RitzVectors.eigenvector(of: block, order: m, for: theta)
    // bᵀ·y with bᵀ the row below H_m (one nonzero, h_{m+1,m}, except right after a restart).
    var projected = Complex<Double>.zero
    for j in 0..<m { projected = projected + y[j].multiplied(by: h[m * stride + j]) }
    let residual = projected.length
    return RitzAnalysis(
      ritzValues: values, theta: theta, vector: y, residual: residual, order: m)
  }

  /// Krylov–Schur restart (Stewart 2001): the real Schur form `H_m = Z·T·Zᵀ` (LAPACK
  /// `gees`), reordered (`trsen`) so the `p` Ritz values of largest modulus lead `T`, then
  /// truncated to those `p`. The target is `⌈2k/3⌉` (`(2k + 2) / 3` in integers, at least 1
  /// and at most `m − 1`); a complex conjugate pair moves whole, so `p` is one more when the
  /// last value taken is a pair, and one less when that pair would pass `m − 1`:
  /// ```
  /// J·(V·Z₁) = (V·Z₁)·T₁₁ + v_{m+1}·(bᵀ·Z₁),     bᵀ = the last row of H (row m)
  /// ```
  /// `Z₁` (m × p) spans an exactly invariant subspace of `H_m` (Schur vectors are
  /// orthonormal and computed backward stably), so the relation stays a Krylov
  /// decomposition to rounding, whatever the conditioning of individual Ritz vectors.
  ///
  /// - Returns: `p`, the number of columns of the new `H` already filled.
  static func krylovSchurRestart<Vector: ContiguousVectorSpace>(
    basis: inout [Vector], h: inout [Double], stride k: Int, order m: Int,
    schur: inout SchurWorkspace<Double>?
  ) throws(DiagnosticsError) -> Int {
    var block = [Double](repeating: 0, count: m * m)
    for i in 0..<m { for j in 0..<m { block[i * m + j] = h[i * k + j] } }
    let p: Int
    var workspace: SchurWorkspace<Double>
    do throws(LinearAlgebraError) {
      if let existing = schur, existing.order == m {
        workspace = existing
      } else {
        workspace = try SchurWorkspace<Double>(order: m)
      }
      schur = nil
      let values = try block.withUnsafeBufferPointer { (b) throws(LinearAlgebraError) in
        try workspace.decompose(b)
      }
      p = try workspace.reorder(
        selecting: Self.dominantSelection(values, target: (2 * k + 2) / 3))
    } catch {
      throw .linearAlgebra(error)
    }
    defer { schur = workspace }
    // New basis: V·Z₁, then the residual vector v_{m+1}.
    var kept = [Vector]()
    kept.reserveCapacity(k + 1)
    for column in 0..<p {
      var x = basis[0].zeroed()
      for t in 0..<m { x.add(basis[t], scaledBy: Vector.Scalar(workspace.z(t, column))) }
      kept.append(x)
    }
    kept.append(basis[m])
    basis = kept
    // New H: T₁₁ on top, bᵀ·Z₁ below it, zeros elsewhere.
    var next = [Double](repeating: 0, count: h.count)
    for b in 0..<p {
      for a in 0...Swift.min(b + 1, p - 1) { next[a * k + b] = workspace.t(a, b) }
      var sum = 0.0
      for j in 0..<m { sum += h[m * k + j] * workspace.z(j, b) }
      next[p * k + b] = sum
    }
    h = next
    return p
  }
}

/// What a restarted Arnoldi run found.
public struct ArnoldiResult<Scalar: DEQScalar>: Sendable {
  /// The Ritz values of the last Hessenberg matrix, by decreasing modulus.
  public let ritzValues: [Complex<Scalar>]
  /// The modulus of the dominant Ritz value: the spectral-radius estimate.
  public let spectralRadius: Scalar
  /// The dominant Ritz value(s): the leading one, its conjugate, and any other Ritz value
  /// within the error bar in modulus.
  public let dominantEigenvalues: [Complex<Scalar>]
  /// `|h_{k+1,k}·e_kᵀ·y|`, the residual `‖J·x − θ·x‖` of the dominant Ritz pair.
  public let ritzResidual: Scalar
  /// `ritzResidual / |θ|`.
  public let relativeResidual: Scalar
  /// Whether the residual test passed (or an invariant subspace was found).
  public let converged: Bool
  /// Whether the Krylov space became invariant (`h_{j+1,j} ≈ 0`): the Ritz values are then
  /// exact eigenvalues.
  public let foundInvariantSubspace: Bool
  /// The Jacobian products spent.
  public let jacobianProducts: Int
  /// The number of Arnoldi cycles (1 + restarts).
  public let cycles: Int
  /// The Krylov dimension used (the requested one clamped to `n`).
  public let krylovDimension: Int
  /// Whether the run started from an ``ArnoldiWarmStart`` rather than a random vector.
  public let warmStarted: Bool

  init(
    _ analysis: ArnoldiIteration.RitzAnalysis, converged: Bool, invariantSubspace: Bool,
    relativeTolerance: Double, products: Int, cycles: Int, krylovDimension: Int,
    warmStarted: Bool
  ) {
    let convert = { (z: Complex<Double>) in Complex(Scalar(z.real), Scalar(z.imaginary)) }
    ritzValues = analysis.ritzValues.map(convert)
    let radius = analysis.theta.length
    spectralRadius = Scalar(radius)
    let relative = radius > 0 ? analysis.residual / radius : (analysis.residual == 0 ? 0 : 1)
    let tie = Swift.max(
      Double(DenseSpectralAnalysis.tieTolerance(Scalar.self)), 10 * relative,
      relativeTolerance)
    dominantEigenvalues = analysis.ritzValues.filter { $0.length >= radius * (1 - tie) }
      .map(convert)
    ritzResidual = Scalar(analysis.residual)
    relativeResidual = Scalar(relative)
    self.converged = converged
    foundInvariantSubspace = invariantSubspace
    jacobianProducts = products
    self.cycles = cycles
    self.krylovDimension = krylovDimension
    self.warmStarted = warmStarted
  }
}
