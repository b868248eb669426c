// Judging the three claims of Section 3.5 from the per-RoI results (moved here from the
// `deq analyze` command so that the library's verdict and the command's are one).

import FoundationEssentials

extension AnalysisVerdict {
  /// Judges the claims on the per-RoI results.
  ///
  /// - Parameters:
  ///   - rois: the per-RoI analyses.
  ///   - form: the block's form (eq5's failure is explained).
  ///   - vanish: the threshold below which the last difference counts as vanished.
  ///   - agreement: the threshold below which the equilibria agree.
  ///   - examinedFromOne: whether any step ≥ 1 was examined (else the spectral claim
  ///     cannot hold).
  public init<Scalar: DEQScalar>(
    judging rois: [RoIAnalysis<Scalar>], form: IFRBlockForm, vanish: Double, agreement: Double,
    examinedFromOne: Bool
  ) {
    func scientific(_ x: Double) -> String {
      x.isNaN ? "nan" : x.isInfinite ? (x > 0 ? "inf" : "-inf") : String(cFormat: "%.3e", x)
    }
    // NaN (a state that stopped being finite) counts as the worst.
    let worstDifference =
      rois.map(\.finalAdjacentDifference).map { $0.isNaN ? .infinity : $0 }.max() ?? .nan
    let vanishes = rois.allSatisfy { $0.finalAdjacentDifference <= vanish }
    let belowOne =
      examinedFromOne && rois.allSatisfy { $0.firstStepBelowOne.map { $0 <= 1 } ?? false }
    let firsts = rois.map(\.firstStepBelowOne)
    let firstStep: Int? = firsts.contains(nil) ? nil : firsts.compactMap { $0 }.max()
    let agree = rois.allSatisfy { $0.difference < agreement }
    var explanation: [String] = []
    explanation.append(
      vanishes
        ? "Holds: the adjacent differences vanish; the largest final ‖ΔH‖ is \(scientific(worstDifference)) ≤ \(scientific(vanish))."
        : "Fails: the adjacent differences do not vanish; the largest final ‖ΔH‖ is \(scientific(worstDifference)) > \(scientific(vanish))."
    )
    if belowOne {
      explanation.append(
        "Holds: ρ(∂F/∂H) < 1 at every examined step from step 1 on (H0 = 0 itself need not be contractive)."
      )
    } else if let firstStep {
      explanation.append(
        "Fails: ρ(∂F/∂H) ≥ 1 (or could not be trusted) at an examined step ≥ 1; every examined value is below one from step \(firstStep) on."
      )
    } else {
      explanation.append(
        "Fails: ρ(∂F/∂H) does not stay below one: the last examined step of some RoI has ρ ≥ 1 or no trustworthy value."
      )
    }
    let worstGap = rois.map { $0.difference.isNaN ? .infinity : $0.difference }.max() ?? .nan
    explanation.append(
      agree
        ? "Holds: ‖H_Broyden − H_unrolled‖₂ ≤ \(scientific(worstGap)) < \(scientific(agreement)) for every RoI."
        : "Fails: ‖H_Broyden − H_unrolled‖₂ reaches \(scientific(worstGap)) ≥ \(scientific(agreement))."
    )
    if form == .eq5 && !(vanishes && agree) {
      explanation.append(
        "Why: eq5 (F = g(R) + R, R = H + X) has no fixed point for a generic X: a fixed point needs g(R) = −X, but g ends in GroupNorm, whose output has zero mean and fixed scale per group, so it cannot equal an arbitrary −X. The iterate drifts instead of settling."
      )
    }
    self.init(
      differencesVanish: vanishes, spectralRadiusBelowOne: belowOne, equilibriaAgree: agree,
      firstStepBelowOne: firstStep, vanishThreshold: vanish, agreementThreshold: agreement,
      explanation: explanation)
  }

  /// The first examined step from which every examined ρ is reliably below one.
  static func firstStepBelowOne(_ samples: [SpectralSample], through lastStep: Int) -> Int? {
    var first: Int?
    for sample in samples.reversed() where sample.step <= lastStep {
      guard let rho = sample.value, rho < 1, sample.isReliable else { break }
      first = sample.step
    }
    return first
  }
}
