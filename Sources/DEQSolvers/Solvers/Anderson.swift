// Anderson acceleration, type II (Anderson 1965; Walker & Ni 2011), with damping and
// column-scaled Tikhonov regularisation.
//
// With g_k = f(z_k) − z_k and the last m differences ΔZ = [z_{i+1} − z_i],
// ΔG = [g_{i+1} − g_i] (as rows of two preallocated m × n buffers):
//
//   γ       = argmin ‖g_k − ΔGᵀγ‖² + λ Σ_i ‖Δg_i‖² γ_i²
//   z_{k+1} = z_k + β g_k − (ΔZ + β ΔG)ᵀ γ
//
// The least-squares problem is solved through its m × m Gram system in Double, with the
// columns scaled to unit norm, by LAPACK's SVD least squares (gelsd):
//   (D⁻¹ ΔG ΔGᵀ D⁻¹ + λ I) γ̂ = D⁻¹ ΔG g_k,   γ = D⁻¹ γ̂,   D = diag(‖Δg_i‖).
// The Gram matrix is updated one column per step: the new column's products with the
// history are one GEMV, and ΔG g_k is a second one. A singular system (a column Δg_i that
// is zero or at the rounding level 4·ε·(‖f(z_k)‖ + ‖g_k‖) of the map's values, or a rank
// deficient one with λ = 0) or a non-finite one restarts the history with a damped Picard
// step: solving it would only amplify rounding noise.
//
// Goals in priority order: correct status, no allocation per iteration (contiguous
// iterates), speed (4 GEMVs of m × n per step plus an m × m SVD).

/// Anderson acceleration (type II) with memory `m`, damping `β` and regularisation `λ`.
///
/// ```
/// γ       = argmin ‖g_k − ΔG γ‖² + λ Σ_i ‖Δg_i‖² γ_i²
/// z_{k+1} = z_k + β g_k − (ΔZ + β ΔG) γ
/// ```
///
/// The regularisation is *scale-aware*: each coefficient is penalised by the squared norm
/// of its own residual difference, which is Tikhonov regularisation `λ I` on the system
/// with unit-norm columns. It neither vanishes nor dominates as the residuals shrink, so a
/// Double solve goes down to ~1e-13 relative residual, where torchdeq's fixed `λ = 1e-4`
/// (absolute, on the raw Gram matrix) stops accelerating once residuals fall near 1e-7.
///
/// - Complexity: per iteration one evaluation of `f`, ≈ 8·m·n flops in 4 GEMVs, and an
///   O(m³) SVD of the m × m system; memory (2m + 5)·n scalars.
public struct Anderson: FixedPointAlgorithm, Equatable, Hashable, Codable {
  /// The number of past differences kept, `m ≥ 1` (default 5, as SciPy and torchdeq).
  public var memory: Int
  /// The damping (mixing) `β` in `(0, 1]` (default 1).
  public var damping: Double
  /// The relative Tikhonov parameter `λ ≥ 0`, or `nil` for the default:
  /// `max(1e-10, 10·ε)` with `ε` the iterate scalar's machine epsilon (1e-10 for Double,
  /// 1.2e-6 for Float), which bounds the scaled system's condition number by `m/λ`.
  public var regularization: Double?

  /// Creates Anderson acceleration.
  ///
  /// - Parameters:
  ///   - memory: `m` (default 5).
  ///   - damping: `β` (default 1).
  ///   - regularization: relative `λ` (default `nil`: automatic, see ``regularization``).
  public init(memory: Int = 5, damping: Double = 1, regularization: Double? = nil) {
    precondition(memory >= 1, "Anderson memory must be at least 1")
    precondition(damping > 0 && damping <= 1, "Anderson damping must be in (0, 1]")
    precondition((regularization ?? 0) >= 0, "Anderson regularization must be non-negative")
    self.memory = memory
    self.damping = damping
    self.regularization = regularization
  }

  public var name: String { "anderson" }

  /// - Throws: ``ConfigurationError`` unless `memory ≥ 1`, `0 < damping ≤ 1` and
  ///   `regularization ≥ 0` (or `nil`).
  public func validate() throws(ConfigurationError) {
    guard memory >= 1 else {
      throw ConfigurationError("Anderson memory must be at least 1, got \(memory)")
    }
    guard damping > 0 && damping <= 1 else {
      throw ConfigurationError("Anderson damping must be in (0, 1], got \(damping)")
    }
    if let lambda = regularization, !(lambda >= 0 && lambda.isFinite) {
      throw ConfigurationError("Anderson regularization must be finite and ≥ 0, got \(lambda)")
    }
  }

  /// A stepper over any `VectorSpace` (`solve` itself uses a specialised one).
  public func makeStepper<V: VectorSpace>(start: V, context: StepperContext<V>)
    -> any FixedPointStepper<V>
  {
    _AndersonStepper<_GenericKernel<V>>(self, start: start)
  }

  /// The `λ` used for iterates of scalar type `S`.
  @inlinable
  public func effectiveRegularization<S: DEQScalar>(for _: S.Type) -> Double {
    regularization ?? Swift.max(1e-10, 10 * Double(S.ulpOfOne))
  }
}

@usableFromInline
final class _AndersonStepper<K: _VectorKernel>: FixedPointStepper {
  @usableFromInline typealias V = K.Vector
  @usableFromInline typealias Scalar = K.Scalar

  @usableFromInline var z: V
  @usableFromInline var mapValue: V
  @usableFromInline var g: V
  @usableFromInline var zPrevious: V
  @usableFromInline var gPrevious: V
  @usableFromInline var deltaZ: K
  @usableFromInline var deltaG: K
  @usableFromInline let memory: Int
  @usableFromInline let damping: Scalar
  @usableFromInline let lambda: Double
  @usableFromInline var count = 0
  @usableFromInline var nextSlot = 0
  @usableFromInline var newestSlot = -1
  @usableFromInline var hasPrevious = false
  @usableFromInline var gram: [Double]
  @usableFromInline var system: [Double]
  @usableFromInline var rhs: [Double]
  @usableFromInline var solution: [Double]
  @usableFromInline var columnScale: [Double]
  @usableFromInline var products: [Scalar]
  @usableFromInline var gamma: [Scalar]
  @usableFromInline var workspaces: [LeastSquaresWorkspace<Double>?]
  @usableFromInline var restarts = 0
  @usableFromInline var stepNorm: Scalar = 0
  /// `(‖f(z_k)‖ + ‖g_k‖)²`: differences below `(4·ε)²` times this are rounding noise.
  @usableFromInline var noiseScale: Double = 0

  @inlinable
  var pendingPoint: V { z }

  @inlinable
  init(_ algorithm: Anderson, start: V) {
    var z = start.zeroed()
    K.copy(start, into: &z)
    self.z = z
    mapValue = start.zeroed()
    g = start.zeroed()
    zPrevious = start.zeroed()
    gPrevious = start.zeroed()
    let m = algorithm.memory
    memory = m
    deltaZ = K(capacity: m, like: start)
    deltaG = K(capacity: m, like: start)
    damping = Scalar(algorithm.damping)
    lambda = algorithm.effectiveRegularization(for: Scalar.self)
    gram = [Double](repeating: 0, count: m * m)
    system = [Double](repeating: 0, count: m * m)
    rhs = [Double](repeating: 0, count: m)
    solution = [Double](repeating: 0, count: m)
    columnScale = [Double](repeating: 0, count: m)
    products = [Scalar](repeating: 0, count: m)
    gamma = [Scalar](repeating: 0, count: m)
    // Singular values below 1e-13 of the largest count as zero: with unit-norm columns
    // that is a numerically rank-deficient history. A workspace can only fail LAPACK's
    // workspace query; `advance` then reports a breakdown.
    workspaces = (1...m).map {
      try? LeastSquaresWorkspace<Double>(rows: $0, columns: $0, rcond: 1e-13)
    }
  }

  @inlinable
  func receive() -> StepReceipt<Scalar> {
    K.difference(mapValue, z, into: &g)
    let residual = g.norm()
    let mapNorm = mapValue.norm()
    let finite = g.isFinite
    let noise = 4 * Double(Scalar.ulpOfOne) * (Double(mapNorm) + Double(residual))
    noiseScale = noise * noise
    newestSlot = -1
    if hasPrevious {
      let slot = nextSlot
      deltaZ.setRow(slot, difference: z, minus: zPrevious)
      deltaG.setRow(slot, difference: g, minus: gPrevious)
      stepNorm = deltaZ.rowNorm(slot)
      newestSlot = slot
      nextSlot = (slot + 1) % memory
      count = Swift.min(count + 1, memory)
    }
    return .iterate(residual: residual, mapNorm: mapNorm, stepNorm: stepNorm, isFinite: finite)
  }

  @inlinable
  func advance() -> StepAdvance {
    // A least-squares workspace that LAPACK's workspace query refused is a breakdown, not
    // a silent fall-back to damped Picard.
    if newestSlot >= 0 && workspaces[count - 1] == nil { return .breakdown }
    let accelerated = newestSlot >= 0 && solveCoefficients()
    if newestSlot >= 0 && !accelerated {
      // Singular or non-finite system: forget the history, take a damped Picard step.
      count = 0
      nextSlot = 0
      restarts += 1
    }
    K.copy(z, into: &zPrevious)
    K.copy(g, into: &gPrevious)
    z.add(g, scaledBy: damping)
    if accelerated {
      let c = count
      gamma.withUnsafeBufferPointer { p in
        guard let base = p.baseAddress else { return }
        deltaZ.accumulate(c, coefficients: base, scale: -1, into: &z)
        deltaG.accumulate(c, coefficients: base, scale: -damping, into: &z)
      }
    }
    hasPrevious = true
    return .proceed
  }

  /// Updates the Gram matrix with the newest column and solves for γ; false when the
  /// system is singular or non-finite.
  @inlinable
  func solveCoefficients() -> Bool {
    let (m, c, slot) = (memory, count, newestSlot)
    // New Gram column: ⟨Δg_i, Δg_slot⟩ for every stored i (one GEMV).
    products.withUnsafeMutableBufferPointer { p in
      guard let base = p.baseAddress else { return }
      deltaG.products(c, withRow: slot, into: base)
    }
    for i in 0..<c {
      let value = Double(products[i])
      gram[i * m + slot] = value
      gram[slot * m + i] = value
    }
    // Right-hand side ΔG g_k (one GEMV).
    products.withUnsafeMutableBufferPointer { p in
      guard let base = p.baseAddress else { return }
      deltaG.products(c, with: g, into: base)
    }
    for i in 0..<c {
      let d = gram[i * m + i]
      // A zero column, or one at the rounding level of the map's values, is singular.
      guard d > noiseScale, d.isFinite else { return false }
      columnScale[i] = 1 / d.squareRoot()
    }
    for i in 0..<c {
      for j in 0..<c {
        system[i * c + j] =
          gram[i * m + j] * columnScale[i] * columnScale[j] + (i == j ? lambda : 0)
      }
      rhs[i] = Double(products[i]) * columnScale[i]
    }
    let solved = system.withUnsafeBufferPointer { a in
      rhs.withUnsafeBufferPointer { b in
        solution.withUnsafeMutableBufferPointer { x in
          do throws(LinearAlgebraError) {
            try workspaces[c - 1]?.solve(
              UnsafeBufferPointer(rebasing: a[0..<(c * c)]),
              UnsafeBufferPointer(rebasing: b[0..<c]), into: x)
            return true
          } catch {
            return false
          }
        }
      }
    }
    guard solved, (workspaces[c - 1]?.rank ?? 0) == c else { return false }
    for i in 0..<c {
      let value = Scalar(solution[i] * columnScale[i])
      guard value.isFinite else { return false }
      gamma[i] = value
    }
    return true
  }
}
