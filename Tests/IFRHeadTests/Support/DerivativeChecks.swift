import DEQCore
import Testing

/// The finite-difference and adjoint errors of a map's JVP and VJP at one point.
struct DerivativeReport {
  /// ‖J·v − FD‖ / ‖FD‖.
  var jvpError: Double
  /// |⟨Jᵀu, v⟩ − FD of ⟨u, f⟩| / max(…).
  var vjpError: Double
  /// |⟨u, J·v⟩ − ⟨Jᵀu, v⟩| / max(…).
  var adjointError: Double
}

/// Checks `jvp` and `vjp` of `f` at `x` against central differences along `v` and each other
/// along `u`.
func checkDerivatives(
  _ f: (Tensor<Double>) -> Tensor<Double>, at x: Tensor<Double>,
  jvp: (Tensor<Double>) -> Tensor<Double>, vjp: (Tensor<Double>) -> Tensor<Double>,
  outputShape: [Int], seed: UInt64, step: Double = 1e-5
) -> DerivativeReport {
  let v: Tensor<Double> = normalTensor(x.shape, seed: seed)
  let u: Tensor<Double> = normalTensor(outputShape, seed: seed &+ 1)
  let jv = jvp(v)
  let fd = centralDifference(f, at: x, direction: v, step: step)
  let jtu = vjp(u)
  let uJv = inner(u, jv)
  let jtuV = inner(jtu, v)
  let fdScalar = inner(u, fd)
  return DerivativeReport(
    jvpError: jv.subtracting(fd).norm() / fd.norm(),
    vjpError: relativeDifference(jtuV, fdScalar),
    adjointError: relativeDifference(uJv, jtuV))
}

/// Checks a parameter cotangent: `⟨∂θ, d⟩` against the central difference of `⟨u, f(θ)⟩`.
func parameterDerivativeError(
  loss: ([Double]) -> Double, at parameters: [Double], cotangent: [Double], seed: UInt64,
  step: Double = 1e-5
) -> Double {
  var rng = SeededGenerator(seed: seed)
  let d = (0..<parameters.count).map { _ in rng.nextNormal(Double.self) }
  let fd = centralDifference(loss, at: parameters, direction: d, step: step)
  return relativeDifference(inner(cotangent, d), fd)
}
