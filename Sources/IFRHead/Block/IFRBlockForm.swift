/// Which map F(H; X) the block computes. With `R = H + X` and
/// `g(R) = GN2(conv2(ReLU(GN1(conv1(R)))))`:
///
/// | form | F(H; X) | fixed point |
/// |---|---|---|
/// | ``ifrCode`` | `GN3(ReLU(g(R) + R))` | yes in practice (a bounded, normalised map) |
/// | ``eq5`` | `g(R) + R` | no for a generic X: `F = H` needs `g(R) = −X`, which GN2's output cannot equal |
/// | ``xshort`` | `g(R) + X` | yes in practice |
/// | ``mdeq`` | `GN3(ReLU(GN2(conv2(ReLU(GN1(conv1(H))))) + X) + H))` | yes in practice |
/// | ``noResidual`` | `g(H)` (X ignored) | not an IFR form: the explicit baseline without the double residual (Table 8) |
public enum IFRBlockForm: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
  /// `GN3(ReLU(g(R) + R))`: what the authors' released mask head computes (the default).
  case ifrCode
  /// `g(R) + R`: the paper's Eq. 5 read literally.
  case eq5
  /// `g(R) + X`: the shortcut from X instead of R.
  case xshort
  /// `GN3(ReLU(GN2(conv2(ReLU(GN1(conv1(H)))) + X) + H))`: the locuslab MDEQ residual block,
  /// X injected before GN2.
  case mdeq
  /// `g(H) = GN2(conv2(ReLU(GN1(conv1(H)))))`: the two convolutions without either residual
  /// connection; X does not enter. Only for the explicit baseline of the paper's Table 8
  /// (started from `H₀ = X`), not a fixed-point form.
  case noResidual

  /// The name used in the reference files and safetensors metadata (`ifr_code`, `eq5`,
  /// `xshort`, `mdeq`, `no_residual`).
  public var referenceName: String {
    switch self {
    case .ifrCode: "ifr_code"
    case .eq5: "eq5"
    case .xshort: "xshort"
    case .mdeq: "mdeq"
    case .noResidual: "no_residual"
    }
  }

  /// The form named `name` in the reference files or metadata (``referenceName``; the Swift
  /// case names are accepted too).
  public init?(referenceName name: String) {
    guard
      let form = Self.allCases.first(where: { $0.referenceName == name || $0.rawValue == name })
    else { return nil }
    self = form
  }

  /// Whether the output passes through ReLU and the final GroupNorm GN3.
  public var hasFinalNormalization: Bool { self == .ifrCode || self == .mdeq }

  /// The four fixed-point forms of the IFR block (every case but ``noResidual``).
  public static var fixedPointForms: [IFRBlockForm] { [.ifrCode, .eq5, .xshort, .mdeq] }

  /// Whether conv1 reads `H` alone (``mdeq``, ``noResidual``) rather than `R = H + X`.
  @inlinable var convolvesStateOnly: Bool { self == .mdeq || self == .noResidual }

  /// The reference name.
  public var description: String { referenceName }
}
