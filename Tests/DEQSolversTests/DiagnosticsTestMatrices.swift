import DEQCore
import DEQSolvers
import Testing
import _DEQTestSupport

/// A dense row-major matrix with a spectrum known in closed form.
struct KnownSpectrum: Sendable, CustomTestStringConvertible {
  let name: String
  let order: Int
  /// Row-major `order × order`.
  let matrix: [Double]
  /// The exact eigenvalues.
  let eigenvalues: [Complex<Double>]

  var testDescription: String { name }

  var spectralRadius: Double { eigenvalues.map(\.length).max() ?? 0 }

  /// The exact dominant eigenvalues, sorted as the library sorts them.
  var dominant: [Complex<Double>] {
    let rho = spectralRadius
    return eigenvalues.filter { $0.length >= rho * (1 - 1e-12) }
      .sorted { ($0.length, $0.imaginary) > ($1.length, $1.imaginary) }
  }

  func apply(_ v: [Double]) -> [Double] { matvec(matrix, v, order) }
  func applyTransposed(_ u: [Double]) -> [Double] { matvecTransposed(matrix, u, order) }

  /// An operator with exact JVP and VJP at an arbitrary point.
  func jacobian(jvp: Bool = true, vjp: Bool = true) throws -> JacobianOperator<[Double]> {
    let copy = self
    var forward: (@Sendable ([Double]) -> [Double])? = nil
    var backward: (@Sendable ([Double]) -> [Double])? = nil
    if jvp { forward = { copy.apply($0) } }
    if vjp { backward = { copy.applyTransposed($0) } }
    return try JacobianOperator(
      at: [Double](repeating: 0.25, count: order), jvp: forward, vjp: backward)
  }

  /// Every case the spectral tests run on.
  static let all: [KnownSpectrum] = [
    .diagonal(order: 200), .symmetric(order: 100), .rotation(order: 120), .jordanLike(),
    .companion(),
  ]

  /// `diag(dᵢ)` with a unique largest modulus 0.97 (negative) and the rest spread in (−0.9, 0.9).
  static func diagonal(order n: Int) -> KnownSpectrum {
    var d = (0..<n).map { i in 0.9 * Double.cos(Double(i) * 2.1 + 0.3) * (1 - Double(i) / Double(n))
    }
    d[7] = -0.97
    return KnownSpectrum(
      name: "diagonal n=\(n)", order: n, matrix: diagonalMatrix(d),
      eigenvalues: d.map { Complex($0) })
  }

  /// `Q·diag(d)·Q` with `Q` a Householder reflection: symmetric, dense, known eigenvalues.
  static func symmetric(order n: Int) -> KnownSpectrum {
    let d = (0..<n).map { i in 0.8 * Double.sin(Double(i) * 1.3) * Double.exp(-Double(i) / 60) }
    var e = d
    e[3] = 0.93
    let q = householder(order: n, seed: 11)
    return KnownSpectrum(
      name: "symmetric n=\(n)", order: n,
      matrix: multiply(multiply(q, diagonalMatrix(e), n), q, n),
      eigenvalues: e.map { Complex($0) })
  }

  /// `Q·(0.725·R(θ) ⊕ diag(d))·Q`: the dominant eigenvalues are the complex pair
  /// `0.725·e^{±iθ}` (the IFR case where real power iteration fails).
  static func rotation(order n: Int, radius: Double = 0.725, angle: Double = 1.9)
    -> KnownSpectrum
  {
    var b = [Double](repeating: 0, count: n * n)
    let (c, s) = (radius * Double.cos(angle), radius * Double.sin(angle))
    b[0] = c
    b[1] = -s
    b[n] = s
    b[n + 1] = c
    var eigenvalues = [Complex(c, s), Complex(c, -s)]
    for i in 2..<n {
      let value = 0.6 * Double.cos(Double(i) * 0.77) * Double.exp(-Double(i) / 80)
      b[i * n + i] = value
      eigenvalues.append(Complex(value))
    }
    let q = householder(order: n, seed: 5)
    return KnownSpectrum(
      name: "rotation pair n=\(n)", order: n, matrix: multiply(multiply(q, b, n), q, n),
      eigenvalues: eigenvalues)
  }

  /// Upper bidiagonal with distinct diagonal and unit superdiagonal: strongly non-normal
  /// (a Jordan chain broken only by the gaps between diagonal entries).
  static func jordanLike() -> KnownSpectrum {
    let d = [0.6, 0.9, -0.3, 0.3, 0.0, -0.6, 0.45, -0.8]
    let n = d.count
    var a = diagonalMatrix(d)
    for i in 0..<(n - 1) { a[i * n + i + 1] = 1 }
    return KnownSpectrum(
      name: "Jordan-like n=\(n)", order: n, matrix: a, eigenvalues: d.map { Complex($0) })
  }

  /// The companion matrix of `Π (x − rᵢ)` with roots `0.6 ± 0.6i, 0.8, −0.5, 0.3, −0.2`:
  /// the dominant pair has modulus `0.6·√2 ≈ 0.8485`.
  static func companion() -> KnownSpectrum {
    let roots = [
      Complex(0.6, 0.6), Complex(0.6, -0.6), Complex(0.8), Complex(-0.5), Complex(0.3),
      Complex(-0.2),
    ]
    // Coefficients of the monic polynomial, highest degree first (complex arithmetic,
    // real result).
    var coefficients: [Complex<Double>] = [Complex(1)]
    for r in roots {
      var next = coefficients + [Complex.zero]
      for i in 1..<next.count { next[i] = next[i] - r * coefficients[i - 1] }
      coefficients = next
    }
    let n = roots.count
    var a = [Double](repeating: 0, count: n * n)
    for j in 0..<n { a[j] = -coefficients[j + 1].real }
    for i in 1..<n { a[i * n + i - 1] = 1 }
    return KnownSpectrum(name: "companion n=\(n)", order: n, matrix: a, eigenvalues: roots)
  }
}

func diagonalMatrix(_ d: [Double]) -> [Double] {
  let n = d.count
  var a = [Double](repeating: 0, count: n * n)
  for i in 0..<n { a[i * n + i] = d[i] }
  return a
}

/// `I − 2·u·uᵀ/‖u‖²` for a seeded random `u`: orthogonal and symmetric.
func householder(order n: Int, seed: UInt64) -> [Double] {
  let u: [Double] = randomVector(count: n, seed: seed)
  let scale = 2 / u.dot(u)
  var q = [Double](repeating: 0, count: n * n)
  for i in 0..<n {
    for j in 0..<n { q[i * n + j] = (i == j ? 1 : 0) - scale * u[i] * u[j] }
  }
  return q
}

func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
  var c = [Double](repeating: 0, count: n * n)
  for i in 0..<n {
    for k in 0..<n where a[i * n + k] != 0 {
      let aik = a[i * n + k]
      for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
    }
  }
  return c
}

func matvec<S: DEQScalar>(_ a: [S], _ v: [S], _ n: Int) -> [S] {
  var out = [S](repeating: 0, count: n)
  for i in 0..<n {
    var sum: S = 0
    for j in 0..<n { sum += a[i * n + j] * v[j] }
    out[i] = sum
  }
  return out
}

func matvecTransposed<S: DEQScalar>(_ a: [S], _ u: [S], _ n: Int) -> [S] {
  var out = [S](repeating: 0, count: n)
  for i in 0..<n where u[i] != 0 {
    for j in 0..<n { out[j] += a[i * n + j] * u[i] }
  }
  return out
}

/// `f(z) = tanh(W·z + b)` with its exact JVP and VJP, in any precision.
struct TanhLayer<S: DEQScalar>: Sendable {
  let order: Int
  let weights: [S]
  let bias: [S]

  init(order n: Int, norm: S, seed: UInt64) {
    order = n
    weights = randomContraction(order: n, norm: norm, seed: seed, as: S.self).scalars
    bias = randomVector(count: n, seed: seed &+ 1, as: S.self)
  }

  func callAsFunction(_ z: [S]) -> [S] {
    let wz = matvec(weights, z, order)
    return (0..<order).map { S.tanh(wz[$0] + bias[$0]) }
  }

  /// `1 − tanh²(W·z + b)`, the diagonal of the activation's derivative.
  func slopes(at z: [S]) -> [S] {
    callAsFunction(z).map { 1 - $0 * $0 }
  }

  func jacobian(at z: [S]) throws -> JacobianOperator<[S]> {
    let s = slopes(at: z)
    let layer = self
    return try JacobianOperator(
      at: z,
      jvp: { v in
        let wv = matvec(layer.weights, v, layer.order)
        return (0..<layer.order).map { s[$0] * wv[$0] }
      },
      vjp: { u in
        matvecTransposed(layer.weights, (0..<layer.order).map { s[$0] * u[$0] }, layer.order)
      })
  }
}

/// The largest distance from each expected eigenvalue to the nearest computed one.
func eigenvalueDistance<S: DEQScalar>(_ computed: [Complex<S>], _ expected: [Complex<Double>])
  -> Double
{
  let values = computed.map { Complex(Double($0.real), Double($0.imaginary)) }
  return expected.map { e in values.map { ($0 - e).length }.min() ?? .infinity }.max() ?? 0
}
