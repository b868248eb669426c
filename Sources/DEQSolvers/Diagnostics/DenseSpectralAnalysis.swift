// Dense spectral analysis: assemble the Jacobian column by column and hand it to LAPACK.
//
// All eigenvalues come from `?geev` (Hessenberg reduction + shifted QR; Golub & Van Loan,
// "Matrix Computations", §7.5), so complex conjugate pairs and non-normal matrices are
// handled exactly up to rounding. Goals, in order: a correct answer or a typed error;
// no wasted products (exactly n); then speed (one n² buffer, one workspace query).
import DEQCore

/// Exact spectral analysis of a Jacobian by assembling it densely.
///
/// ```
/// J = [J·e₁ | … | J·eₙ]      (n JVPs; or n VJPs give the rows)
/// λ(J) = geev(J),  ρ(J) = max |λᵢ|,  κ₂(I − J) = σ_max(I − J) / σ_min(I − J)
/// ```
/// Practical up to n of a few thousand: the cost is `n` products plus about `10·n³` flops
/// (`geev`) and `n²` scalars of memory (n = 4,096 in `Double`: 128 MB, tens of seconds).
public struct DenseSpectralAnalysis: Sendable, Hashable {
  /// Whether to compute the condition number of `I − J` as well (one SVD, about
  /// `4·n³` more flops).
  public var computesConditionNumber: Bool

  /// Creates the analysis.
  ///
  /// - Parameter computesConditionNumber: whether to compute `κ₂(I − J)`; default `true`.
  public init(computesConditionNumber: Bool = true) {
    self.computesConditionNumber = computesConditionNumber
  }

  /// The relative modulus gap within which eigenvalues count as tied for the lead:
  /// `10·√ε` (about 1.5e-7 in `Double`, 3.5e-3 in `Float`).
  public static func tieTolerance<Scalar: DEQScalar>(_: Scalar.Type) -> Scalar {
    10 * Scalar.ulpOfOne.squareRoot()
  }

  /// All eigenvalues of the Jacobian, sorted by decreasing modulus.
  ///
  /// - Throws: ``DiagnosticsError/emptyProblem``, ``DiagnosticsError/nonFiniteProduct(product:)``
  ///   when a product (a column of `J`) is not finite, ``DiagnosticsError/linearAlgebra(_:)``
  ///   when LAPACK fails.
  /// - Complexity: `n` products, about `10·n³` flops (`14·n³` with the condition number),
  ///   `2·n²` scalars of memory.
  public func spectrum<Vector>(
    of jacobian: JacobianOperator<Vector>
  ) throws(DiagnosticsError) -> DenseSpectrum<Vector.Scalar> {
    typealias Scalar = Vector.Scalar
    let (lines, _, products) = try jacobian.assembleLines()
    let n = jacobian.dimension
    var eigenvalues: [Complex<Scalar>]
    do {
      var workspace = try EigenvalueWorkspace<Scalar>(order: n)
      eigenvalues = try lines.withUnsafeBufferPointer { (p) throws(LinearAlgebraError) in
        try workspace.eigenvalues(of: p)
      }
    } catch {
      throw .linearAlgebra(error)
    }
    eigenvalues.sort { ($0.length, $0.imaginary) > ($1.length, $1.imaginary) }
    var condition: Scalar? = nil
    if computesConditionNumber {
      // I − J (or I − Jᵀ: the same singular values).
      let identityMinus = Tensor<Scalar>(shape: [n, n]) { index in
        (index / n == index % n ? 1 : 0) - lines[index]
      }
      do {
        condition = try LinearAlgebra.conditionNumber(of: identityMinus)
      } catch {
        throw .linearAlgebra(error)
      }
    }
    return DenseSpectrum(
      eigenvalues: eigenvalues, jacobianProducts: products,
      conditionNumberOfIdentityMinusJacobian: condition)
  }

  /// The spectral radius with all dominant eigenvalues; always trustworthy when it returns.
  ///
  /// - Throws: as ``spectrum(of:)``.
  /// - Complexity: as ``spectrum(of:)``.
  public func spectralRadius<Vector>(
    of jacobian: JacobianOperator<Vector>
  ) throws(DiagnosticsError) -> SpectralRadiusEstimate<Vector.Scalar> {
    let spectrum = try spectrum(of: jacobian)
    return SpectralRadiusEstimate(
      value: spectrum.spectralRadius, method: .dense,
      dominantEigenvalues: spectrum.dominantEigenvalues, errorEstimate: 0,
      jacobianProducts: spectrum.jacobianProducts, isTrustworthy: true,
      explanation:
        "all \(jacobian.dimension) eigenvalues of the assembled Jacobian (LAPACK geev)",
      conditionNumberOfIdentityMinusJacobian: spectrum.conditionNumberOfIdentityMinusJacobian)
  }
}

/// Every eigenvalue of a dense Jacobian, with the quantities read off them.
public struct DenseSpectrum<Scalar: DEQScalar>: Sendable {
  /// All `n` eigenvalues, sorted by decreasing modulus (conjugate pairs adjacent, positive
  /// imaginary part first).
  public let eigenvalues: [Complex<Scalar>]
  /// The number of Jacobian products used to assemble the matrix (`n`).
  public let jacobianProducts: Int
  /// `κ₂(I − J)`, when requested; `+∞` when `I − J` is singular (an eigenvalue 1).
  public let conditionNumberOfIdentityMinusJacobian: Scalar?

  /// `ρ(J) = max |λᵢ|`.
  public var spectralRadius: Scalar { eigenvalues.first?.length ?? 0 }

  /// The eigenvalues whose modulus is within
  /// ``DenseSpectralAnalysis/tieTolerance(_:)`` of ``spectralRadius``.
  public var dominantEigenvalues: [Complex<Scalar>] {
    dominantSubset(
      of: eigenvalues, relativeTolerance: DenseSpectralAnalysis.tieTolerance(Scalar.self)
    ).dominant
  }
}
