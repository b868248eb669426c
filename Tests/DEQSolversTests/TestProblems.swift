import DEQSolvers
import Testing
import _DEQTestSupport

/// The scalar types the generic tests run over.
enum ScalarKind: String, CaseIterable, CustomTestStringConvertible {
  case float, double
  var testDescription: String { rawValue }
}

/// `y ← A·x + y·beta` with a row-major `n × n` matrix (test helper over BLAS).
func matvec<S: DEQScalar>(_ a: [S], _ x: [S], transpose: Bool = false) -> [S] {
  let n = x.count
  var y = [S](repeating: 0, count: n)
  a.withUnsafeBufferPointer { pa in
    x.withUnsafeBufferPointer { px in
      y.withUnsafeMutableBufferPointer { py in
        S.blasGemv(
          transpose: transpose, n, n, 1, pa.baseAddress!, n, px.baseAddress!, 1, 0,
          py.baseAddress!, 1)
      }
    }
  }
  return y
}

/// A random `n × n` matrix with spectral norm exactly `norm` (rescaled by its largest
/// singular value, so the contraction factor is known, not just bounded).
/// A symmetric one has spectral radius = norm, so Picard converges at exactly that rate.
func contraction<S: DEQScalar>(order n: Int, norm: S, seed: UInt64, symmetric: Bool = false) -> [S] {
  var a = randomContraction(order: n, norm: 1, seed: seed, as: S.self)
  if symmetric {
    let s = a.scalars
    a = Tensor(shape: [n, n]) { index in (s[index] + s[(index % n) * n + index / n]) / 2 }
  }
  let largest = (try? LinearAlgebra.svd(a).singularValues.first) ?? 1
  return a.scaled(by: norm / largest).scalars
}

/// The linear fixed-point problem `z = A z + b` with `‖A‖₂ ≤ norm < 1`.
struct LinearProblem<S: DEQScalar> {
  let n: Int
  let a: [S]
  let b: [S]
  let seed: UInt64

  init(order n: Int, norm: S, seed: UInt64) {
    self.n = n
    self.seed = seed
    a = contraction(order: n, norm: norm, seed: seed)
    b = randomVector(count: n, seed: seed &+ 1, as: S.self)
  }

  func map(_ z: [S]) -> [S] { matvec(a, z).adding(b) }

  var problem: FixedPointProblem<[S]> {
    let (a, b) = (a, b)
    return FixedPointProblem(start: [S](repeating: 0, count: n)) { z in matvec(a, z).adding(b) }
  }

  /// LAPACK's solve of `(I − A) z = b`.
  func exactSolution() throws -> [S] {
    let n = self.n
    let a = self.a
    let m = Tensor<S>(shape: [n, n]) { index in (index / n == index % n ? 1 : 0) - a[index] }
    return try LinearAlgebra.solve(m, Tensor(b)).scalars
  }
}

/// `z = tanh(W z + x)` with `‖W‖₂ ≤ norm < 1`: a contraction with a unique fixed point.
struct TanhProblem<S: DEQScalar> {
  let n: Int
  let w: [S]
  let x: [S]

  init(order n: Int, norm: S, seed: UInt64, inputScale: S = 1, symmetric: Bool = false) {
    self.n = n
    w = contraction(order: n, norm: norm, seed: seed, symmetric: symmetric)
    x = randomVector(count: n, seed: seed &+ 7, as: S.self).map { $0 * inputScale }
  }

  init(w: [S], x: [S]) {
    self.n = x.count
    self.w = w
    self.x = x
  }

  func preactivation(_ z: [S]) -> [S] { matvec(w, z).adding(x) }

  func map(_ z: [S]) -> [S] { preactivation(z).map { S.tanh($0) } }

  func problem(start: [S]? = nil) -> FixedPointProblem<[S]> {
    let copy = self
    return FixedPointProblem(start: start ?? [S](repeating: 0, count: n)) { z in copy.map(z) }
  }

  /// `1 − tanh²(W z + x)`, the derivative of the activation.
  func slope(_ z: [S]) -> [S] { preactivation(z).map { 1 - S.tanh($0) * S.tanh($0) } }

  /// `w ↦ w · ∂f/∂z = Wᵀ (w ⊙ slope)`.
  func vjp(at z: [S], _ v: [S]) -> [S] {
    let s = slope(z)
    return matvec(w, zip(v, s).map { $0 * $1 }, transpose: true)
  }

  /// `w ↦ w · ∂f/∂x = w ⊙ slope`.
  func inputVJP(at z: [S], _ v: [S]) -> [S] {
    zip(v, slope(z)).map { $0 * $1 }
  }
}

/// Criteria that only stop on a very tight tolerance or the cap.
func tight(_ tolerance: Double = 1e-13, maxIterations: Int = 500) -> StoppingCriteria {
  StoppingCriteria(
    tolerance: .both(absolute: tolerance, relative: tolerance), maxIterations: maxIterations)
}

/// Criteria that run exactly `steps` steps (no exit before the cap unless non-finite).
func exactly(_ steps: Int) -> StoppingCriteria {
  StoppingCriteria(
    tolerance: .absolute(0), maxIterations: steps, stall: nil, divergenceFactor: nil)
}

let allAlgorithms: [AlgorithmKind] = [
  .picard(Picard()), .anderson(Anderson()), .broyden(Broyden()),
]

extension AlgorithmKind: FixedPointAlgorithm {
  public var algorithmKind: AlgorithmKind { self }
}

extension AlgorithmKind: CustomTestStringConvertible {
  public var testDescription: String { name }
}
