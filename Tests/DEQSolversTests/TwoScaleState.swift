import DEQCore
import DEQSolvers
import _DEQTestSupport

/// A state of two arrays, as a two-scale model holds it: a `VectorSpace` that is not
/// contiguous, flattened as `a` then `b`.
struct TwoScaleState<Scalar: DEQScalar>: VectorSpace, FlattenableVectorSpace {
  var a: [Scalar]
  var b: [Scalar]

  func zeroed() -> TwoScaleState { TwoScaleState(a: a.zeroed(), b: b.zeroed()) }
  var scalarCount: Int { a.count + b.count }
  mutating func add(_ x: TwoScaleState, scaledBy s: Scalar) {
    a.add(x.a, scaledBy: s)
    b.add(x.b, scaledBy: s)
  }
  mutating func scale(by s: Scalar) {
    a.scale(by: s)
    b.scale(by: s)
  }
  func dot(_ x: TwoScaleState) -> Scalar { a.dot(x.a) + b.dot(x.b) }
  var isFinite: Bool { a.isFinite && b.isFinite }

  func flattened() -> [Scalar] { a + b }
  func unflattened(_ scalars: [Scalar]) -> TwoScaleState {
    TwoScaleState(a: Array(scalars[..<a.count]), b: Array(scalars[a.count...]))
  }
}

/// `f(a, b) = (tanh(A·a + B·b + x), C·a + D·b)` with seeded random blocks, and its exact
/// products on states; its Jacobian, by hand, is
/// ```
/// J = [ S·A  S·B ]     S = diag(1 − tanh²(A·a + B·b + x))
///     [  C    D  ]
/// ```
struct TwoScaleMap<Scalar: DEQScalar>: Sendable {
  let fine: Int
  let coarse: Int
  /// Row-major blocks: `A` fine × fine, `B` fine × coarse, `C` coarse × fine, `D` coarse × coarse.
  let blockA: [Scalar]
  let blockB: [Scalar]
  let blockC: [Scalar]
  let blockD: [Scalar]
  let injection: [Scalar]

  init(fine: Int, coarse: Int, seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    func block(_ rows: Int, _ columns: Int, scale: Double) -> [Scalar] {
      (0..<rows * columns).map { _ in
        Scalar(scale / Double(rows + columns).squareRoot()) * generator.nextNormal(Scalar.self)
      }
    }
    self.fine = fine
    self.coarse = coarse
    blockA = block(fine, fine, scale: 1.2)
    blockB = block(fine, coarse, scale: 1.2)
    blockC = block(coarse, fine, scale: 1.2)
    blockD = block(coarse, coarse, scale: 1.2)
    injection = (0..<fine).map { _ in generator.nextNormal(Scalar.self) }
  }

  /// `M·v` for a row-major `rows × v.count` matrix.
  static func multiply(_ m: [Scalar], _ v: [Scalar], rows: Int) -> [Scalar] {
    (0..<rows).map { i in (0..<v.count).reduce(Scalar(0)) { $0 + m[i * v.count + $1] * v[$1] } }
  }

  /// `Mᵀ·u` for a row-major `u.count × columns` matrix.
  static func multiplyTransposed(_ m: [Scalar], _ u: [Scalar], columns: Int) -> [Scalar] {
    (0..<columns).map { j in (0..<u.count).reduce(Scalar(0)) { $0 + m[$1 * columns + j] * u[$1] } }
  }

  func preactivation(_ z: TwoScaleState<Scalar>) -> [Scalar] {
    Self.multiply(blockA, z.a, rows: fine).adding(Self.multiply(blockB, z.b, rows: fine))
      .adding(injection)
  }

  /// `S`'s diagonal at `z`.
  func slopes(at z: TwoScaleState<Scalar>) -> [Scalar] {
    preactivation(z).map { 1 - Scalar.tanh($0) * Scalar.tanh($0) }
  }

  func callAsFunction(_ z: TwoScaleState<Scalar>) -> TwoScaleState<Scalar> {
    TwoScaleState(
      a: preactivation(z).map { Scalar.tanh($0) },
      b: Self.multiply(blockC, z.a, rows: coarse).adding(Self.multiply(blockD, z.b, rows: coarse)))
  }

  func jvp(at z: TwoScaleState<Scalar>)
    -> @Sendable (TwoScaleState<Scalar>) -> TwoScaleState<Scalar>
  {
    let s = slopes(at: z)
    let map = self
    return { v in
      let top = Self.multiply(map.blockA, v.a, rows: map.fine)
        .adding(Self.multiply(map.blockB, v.b, rows: map.fine))
      return TwoScaleState(
        a: zip(s, top).map { $0 * $1 },
        b: Self.multiply(map.blockC, v.a, rows: map.coarse)
          .adding(Self.multiply(map.blockD, v.b, rows: map.coarse)))
    }
  }

  func vjp(at z: TwoScaleState<Scalar>)
    -> @Sendable (TwoScaleState<Scalar>) -> TwoScaleState<Scalar>
  {
    let s = slopes(at: z)
    let map = self
    return { u in
      let scaled = zip(s, u.a).map { $0 * $1 }
      return TwoScaleState(
        a: Self.multiplyTransposed(map.blockA, scaled, columns: map.fine)
          .adding(Self.multiplyTransposed(map.blockC, u.b, columns: map.fine)),
        b: Self.multiplyTransposed(map.blockB, scaled, columns: map.coarse)
          .adding(Self.multiplyTransposed(map.blockD, u.b, columns: map.coarse)))
    }
  }

  /// The Jacobian at `z`, written out block by block (not from products).
  func denseJacobian(at z: TwoScaleState<Scalar>) -> Tensor<Scalar> {
    let s = slopes(at: z)
    let n = fine + coarse
    return Tensor(shape: [n, n]) { index in
      let (i, j) = (index / n, index % n)
      switch (i < fine, j < fine) {
      case (true, true): return s[i] * blockA[i * fine + j]
      case (true, false): return s[i] * blockB[i * coarse + (j - fine)]
      case (false, true): return blockC[(i - fine) * fine + j]
      case (false, false): return blockD[(i - fine) * coarse + (j - fine)]
      }
    }
  }
}
