import DEQCore

extension SpectralRadiusRecord {
  /// The algorithm behind a ``SpectralRadiusRecord``: one of the library's, or one a user's
  /// own ``StepDiagnostics`` hook names.
  ///
  /// A method is identified by its ``name``, which is also how it is encoded (one JSON
  /// string). Built-in names decode to their cases, so `Method(name: "arnoldi")` is
  /// ``arnoldi``, and equality and hashing compare names: `.custom("arnoldi") == .arnoldi`,
  /// as a round trip through JSON would make them anyway.
  ///
  /// ```swift
  /// let hook = StepDiagnostics<[Double]>(schedule: .every(5)) { z, _ in
  ///   SpectralRadiusRecord(value: myEstimate(at: z), method: .custom("my-estimate"))
  /// }
  /// ```
  public enum Method: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The dense Jacobian and LAPACK `geev` (``DenseSpectralAnalysis``); name `"dense-geev"`.
    case dense
    /// Restarted Arnoldi (``ArnoldiIteration``); name `"arnoldi"`.
    case arnoldi
    /// Power iteration (``PowerIteration``); name `"power"`.
    case powerIteration
    /// A method the library does not provide, by the name its hook gives it.
    case custom(String)

    /// The method with this name: a built-in case for `"dense-geev"`, `"arnoldi"` and
    /// `"power"`, else ``custom(_:)``.
    public init(name: String) {
      switch name {
      case "dense-geev": self = .dense
      case "arnoldi": self = .arnoldi
      case "power": self = .powerIteration
      default: self = .custom(name)
      }
    }

    /// The method of a ``SpectralRadiusEstimate``.
    public init<Scalar: DEQScalar>(_ method: SpectralRadiusEstimate<Scalar>.Method) {
      switch method {
      case .dense: self = .dense
      case .arnoldi: self = .arnoldi
      case .powerIteration: self = .powerIteration
      }
    }

    /// The short name used in traces and their JSON: `"dense-geev"`, `"arnoldi"`, `"power"`
    /// or the custom name.
    public var name: String {
      switch self {
      case .dense: "dense-geev"
      case .arnoldi: "arnoldi"
      case .powerIteration: "power"
      case .custom(let name): name
      }
    }

    public var description: String { name }

    public static func == (lhs: Method, rhs: Method) -> Bool { lhs.name == rhs.name }

    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    /// Decodes a method from its name (a single string).
    public init(from decoder: any Decoder) throws {
      self.init(name: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the method as its name (a single string).
    public func encode(to encoder: any Encoder) throws {
      var container = encoder.singleValueContainer()
      try container.encode(name)
    }
  }
}
