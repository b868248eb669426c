/// A seeded pseudo-random generator that gives the same stream on every run and machine.
///
/// The state is xoshiro256** (Blackman & Vigna 2018) seeded from one 64-bit seed by
/// SplitMix64. ``nextUniform(_:)`` is bit-for-bit reproducible everywhere (integer
/// arithmetic and one exact conversion); ``nextNormal(_:)`` uses the Marsaglia polar
/// method, whose one logarithm comes from the platform's libm (correctly rounded on
/// glibc in practice, so the stream agrees across Linux machines).
///
/// ```swift
/// var rng = SeededGenerator(seed: 7)
/// let x = rng.nextUniform(Double.self)         // in [0, 1)
/// let w = Tensor<Float>(uniformIn: -0.1...0.1, shape: [8, 8, 3, 3], using: &rng)
/// ```
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  @usableFromInline var state: (UInt64, UInt64, UInt64, UInt64)
  @usableFromInline var spareNormal: Double?

  /// The seed this generator started from.
  public let seed: UInt64

  /// Creates a generator from a seed.
  public init(seed: UInt64) {
    self.seed = seed
    var x = seed
    func splitMix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitMix(), splitMix(), splitMix(), splitMix())
    spareNormal = nil
  }

  /// The next 64 random bits.
  @inlinable
  public mutating func next() -> UInt64 {
    let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = state.3 << 45 | state.3 >> 19
    return result
  }

  /// A uniform value in `[0, 1)` with the scalar's full significand precision.
  @inlinable
  public mutating func nextUniform<S: DEQScalar>(_ type: S.Type = S.self) -> S {
    let bits = S.significandBitCount + 1
    return S(next() >> UInt64(64 - bits)) / S(UInt64(1) << UInt64(bits))
  }

  /// A standard normal value (mean 0, variance 1), Marsaglia polar method in `Double`.
  @inlinable
  public mutating func nextNormal<S: DEQScalar>(_ type: S.Type = S.self) -> S {
    if let spare = spareNormal {
      spareNormal = nil
      return S(spare)
    }
    while true {
      let u = 2 * nextUniform(Double.self) - 1
      let v = 2 * nextUniform(Double.self) - 1
      let s = u * u + v * v
      if s > 0 && s < 1 {
        let factor = (-2 * Double.log(s) / s).squareRoot()
        spareNormal = v * factor
        return S(u * factor)
      }
    }
  }
}

extension Tensor {
  /// A tensor with independent uniform elements in `range`.
  public init(
    uniformIn range: ClosedRange<Scalar>, shape: [Int], using generator: inout SeededGenerator
  ) {
    let width = range.upperBound - range.lowerBound
    self.init(shape: shape, repeating: 0)
    for i in 0..<count {
      self[flat: i] = range.lowerBound + width * generator.nextUniform(Scalar.self)
    }
  }

  /// A tensor with independent normal elements of the given mean and standard deviation.
  public init(
    normalWithMean mean: Scalar = 0, standardDeviation: Scalar = 1, shape: [Int],
    using generator: inout SeededGenerator
  ) {
    self.init(shape: shape, repeating: 0)
    for i in 0..<count {
      self[flat: i] = mean + standardDeviation * generator.nextNormal(Scalar.self)
    }
  }
}
