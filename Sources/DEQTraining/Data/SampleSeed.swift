/// The seed of one sample's generator, a pure function of (task seed, stream, index).
///
/// Each input is folded in through the SplitMix64 finaliser (Steele, Lea & Flood 2014),
/// a bijection of 64-bit words with full avalanche, so neighbouring indices and the two
/// splits give unrelated generator seeds:
///
/// ```
/// s = mix(mix(taskSeed ⊕ salt(stream)) + index)
/// ```
///
/// The result seeds a ``SeededGenerator``, which runs SplitMix64 again over it.
enum SampleSeed {
  /// Salts that keep the streams of one task seed apart.
  enum Stream: UInt64 {
    /// The training split.
    case train = 0x5452_4149_4E5F_5350  // "TRAIN_SP"
    /// The validation split.
    case validation = 0x5641_4C49_445F_5350  // "VALID_SP"
    /// The per-class edge embeddings drawn once per task.
    case edgeEmbeddings = 0x4544_4745_5F45_4D42  // "EDGE_EMB"
  }

  /// The SplitMix64 finaliser of `x + γ` (γ = 2⁶⁴/φ).
  static func mix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// The generator seed of sample `index` of `stream` under `taskSeed`.
  static func seed(task taskSeed: UInt64, stream: Stream, index: Int) -> UInt64 {
    mix(mix(taskSeed ^ stream.rawValue) &+ UInt64(bitPattern: Int64(index)))
  }
}
