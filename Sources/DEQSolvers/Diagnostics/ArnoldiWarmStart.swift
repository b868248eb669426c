// A warm start for restarted Arnoldi on a sequence of nearby operators (the Jacobians at
// consecutive examined steps of an unrolled iteration): the previous run's dominant Ritz
// vector.

import DEQCore

/// Where the next ``ArnoldiIteration`` run on a nearby operator should start.
///
/// Returned by ``ArnoldiIteration/run(on:warmStart:)``: the previous run's dominant Ritz
/// vector, in real form (for a complex pair, a vector of the pair's real invariant plane).
/// On an operator that changed little it is an approximate eigenvector already, and the
/// run converges in a few products where a random start needs hundreds on a clustered
/// spectrum (the IFR Jacobian at n = 50,176: 674 cold).
///
/// What it does not change: the run builds its own Krylov basis of the operator it is
/// given and passes the same residual test, `‖J·x − θ·x‖ ≤ tolerance · |θ|`, so a converged
/// warm result is an eigenvalue of that operator to the same certainty as a cold one.
/// What it inherits: the claim that `θ` is the *dominant* eigenvalue. A random start gives
/// every eigenvector a share of about `1/√n`; a warm start gives the others only what the
/// operator's change leaks into them, so an eigenvalue that overtakes the previous dominant
/// one between two runs may be missed. It can overtake only by as much as the spectrum
/// moved, so along an operator that barely changes (an iteration near its fixed point) the
/// warm value is the spectral radius to within that motion. Use warm starts only while the
/// operator moves little, start cold when it moved far, and confirm the last value of a
/// sequence cold (the Section 3.5 analysis, `ConvergenceAnalysis` in IFRHead, does all
/// three).
public struct ArnoldiWarmStart<Vector: VectorSpace> {
  /// The start vector (unit norm).
  public var vector: Vector
  /// 1 for a real dominant Ritz value, 2 for a complex pair (the plane the vector lies in).
  public var subspaceDimension: Int
  /// The dominant Ritz value of the run that produced this start.
  public var eigenvalue: Complex<Double>

  /// Creates a warm start from a vector of your own (the run normalises it).
  public init(vector: Vector, subspaceDimension: Int = 1, eigenvalue: Complex<Double> = .zero) {
    self.vector = vector
    self.subspaceDimension = subspaceDimension
    self.eigenvalue = eigenvalue
  }
}

extension ArnoldiWarmStart: Sendable where Vector: Sendable {}

/// A restarted Arnoldi run's result and the warm start for the next run.
public struct ArnoldiRun<Vector: VectorSpace> {
  /// What the run found.
  public var result: ArnoldiResult<Vector.Scalar>
  /// The start for a run on a nearby operator; `nil` when the Ritz vector vanished in
  /// rounding (start the next run cold).
  public var warmStart: ArnoldiWarmStart<Vector>?
}

extension ArnoldiRun: Sendable where Vector: Sendable {}
