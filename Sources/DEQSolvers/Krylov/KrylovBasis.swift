// The Arnoldi process with Givens rotations at the heart of GMRES (Saad & Schultz 1986;
// Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed., §6.5), shared by the
// GMRES adjoint solver and the inner solve of Newton–Krylov.
//
// For M d = r with r ≠ 0: v₀ = r/β (β = ‖r‖), and for each product w = M v_k the new
// column of the Hessenberg matrix H̄ comes from modified Gram–Schmidt against v₀…v_k, with
// one reorthogonalisation pass when the norm drops by more than 1/√2 (Daniels, Gragg,
// Kaufman & Stewart 1976), since a plain MGS basis loses orthogonality exactly when GMRES
// gets close. The rotations keep H̄ = QR up to date, so the least-squares residual
// ‖βe₁ − H̄y‖ = |g_{k+1}| is known after every product without solving.
//
// Goals in priority order: honest breakdown reports (a singular R is a breakdown, an
// invariant subspace with a solution is a happy one), orthogonality, then cost (one MGS
// pass ≈ 4·k·n flops per product, all in the iterate's own vector operations).

/// A restarted GMRES cycle's Krylov basis and Hessenberg factorisation.
@usableFromInline
final class _KrylovBasis<V: VectorSpace> {
  @usableFromInline
  enum Step: Equatable {
    /// The basis grew by one vector; the least-squares residual is the payload.
    case extended(Double)
    /// The new direction vanished and R is nonsingular: the solution lies in the basis.
    case invariant(Double)
    /// R is singular (M is singular on the Krylov space): no solution in this basis.
    case singular
    /// The product held NaN or infinity.
    case nonFinite
  }

  @usableFromInline let capacity: Int
  @usableFromInline var basis: [V]
  /// H̄ as computed (column-major, (capacity + 1) × capacity), before rotations.
  @usableFromInline var hessenberg: [Double]
  /// R (the rotated H̄), same layout.
  @usableFromInline var triangle: [Double]
  @usableFromInline var cosines: [Double]
  @usableFromInline var sines: [Double]
  @usableFromInline var g: [Double]
  @usableFromInline var beta: Double = 0
  /// Columns so far (products appended in this cycle).
  @usableFromInline var count = 0

  @inlinable
  init(capacity: Int, like: V) {
    self.capacity = capacity
    basis = [V](repeating: like.zeroed(), count: capacity + 1)
    hessenberg = [Double](repeating: 0, count: (capacity + 1) * capacity)
    triangle = hessenberg
    cosines = [Double](repeating: 0, count: capacity)
    sines = cosines
    g = [Double](repeating: 0, count: capacity + 1)
  }

  /// Starts a cycle for the right-hand side `r`; false when `r` is zero or not finite.
  @inlinable
  func start(_ r: V) -> Bool {
    beta = Double(r.norm())
    count = 0
    guard beta > 0, beta.isFinite else { return false }
    basis[0] = r
    basis[0].scale(by: V.Scalar(1 / beta))
    for i in g.indices { g[i] = 0 }
    g[0] = beta
    return true
  }

  /// The direction whose product comes next, `v_count`.
  @inlinable
  var direction: V { basis[count] }

  /// Whether the basis is full (a restart is due).
  @inlinable
  var isFull: Bool { count == capacity }

  /// The least-squares residual `|g_count|` (β before any product).
  @inlinable
  var residualEstimate: Double { Swift.abs(g[count]) }

  /// Appends `w = M v_count`.
  @inlinable
  func append(_ product: V) -> Step {
    precondition(count < capacity, "Krylov basis full")
    guard product.isFinite else { return .nonFinite }
    let k = count
    let rows = capacity + 1
    var w = product
    let before = Double(w.norm())
    for i in 0...k {
      let h = Double(w.dot(basis[i]))
      hessenberg[k * rows + i] = h
      w.add(basis[i], scaledBy: V.Scalar(-h))
    }
    var after = Double(w.norm())
    if after < 0.7071 * before {
      for i in 0...k {
        let h = Double(w.dot(basis[i]))
        hessenberg[k * rows + i] += h
        w.add(basis[i], scaledBy: V.Scalar(-h))
      }
      after = Double(w.norm())
    }
    hessenberg[k * rows + k + 1] = after
    // Rotate the new column with the previous rotations, then zero its subdiagonal.
    for i in 0...(k + 1) { triangle[k * rows + i] = hessenberg[k * rows + i] }
    for i in 0..<k {
      let a = triangle[k * rows + i]
      let b = triangle[k * rows + i + 1]
      triangle[k * rows + i] = cosines[i] * a + sines[i] * b
      triangle[k * rows + i + 1] = -sines[i] * a + cosines[i] * b
    }
    let a = triangle[k * rows + k]
    let b = triangle[k * rows + k + 1]
    let radius = (a * a + b * b).squareRoot()
    let columnScale = Swift.max(before, Double.leastNormalMagnitude)
    guard radius > 1e-13 * columnScale else {
      // R's new diagonal vanishes: M v_k lies in the span of the earlier directions' images.
      return .singular
    }
    cosines[k] = a / radius
    sines[k] = b / radius
    triangle[k * rows + k] = radius
    triangle[k * rows + k + 1] = 0
    g[k + 1] = -sines[k] * g[k]
    g[k] = cosines[k] * g[k]
    count = k + 1
    if after <= 1e-13 * columnScale {
      hessenberg[k * rows + k + 1] = 0
      return .invariant(Swift.abs(g[k + 1]))
    }
    basis[k + 1] = w
    basis[k + 1].scale(by: V.Scalar(1 / after))
    return .extended(Swift.abs(g[k + 1]))
  }

  /// The coefficients `y` minimising `‖βe₁ − H̄y‖` over the current basis (back substitution
  /// with R).
  @inlinable
  func coefficients() -> [Double] {
    let k = count
    let rows = capacity + 1
    var y = [Double](repeating: 0, count: k)
    for i in stride(from: k - 1, through: 0, by: -1) {
      var sum = g[i]
      for j in (i + 1)..<Swift.max(i + 1, k) { sum -= triangle[j * rows + i] * y[j] }
      y[i] = sum / triangle[i * rows + i]
    }
    return y
  }

  /// `x + Σ y_i v_i`.
  @inlinable
  func combine(_ x: V, _ y: [Double]) -> V {
    var result = x
    for (i, c) in y.enumerated() { result.add(basis[i], scaledBy: V.Scalar(c)) }
    return result
  }

  /// The residual vector `r − M V y = V_{k+1} (βe₁ − H̄y)` of the coefficients `y`, from the
  /// unrotated Hessenberg matrix (the basis holds `v₀…v_k`; after an invariant step the
  /// last term vanishes and is skipped).
  @inlinable
  func residual(_ y: [Double]) -> V {
    let k = count
    let rows = capacity + 1
    var t = [Double](repeating: 0, count: k + 1)
    t[0] = beta
    for j in 0..<k {
      for i in 0...(j + 1) { t[i] -= hessenberg[j * rows + i] * y[j] }
    }
    var r = basis[0].zeroed()
    for i in 0...k where t[i] != 0 {
      r.add(basis[i], scaledBy: V.Scalar(t[i]))
    }
    return r
  }
}
