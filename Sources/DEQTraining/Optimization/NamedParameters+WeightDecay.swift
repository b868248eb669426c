// Weight-decay projections over named parameters: which tensors an optimiser decays.
//
// Detectron2 (`SOLVER.WEIGHT_DECAY_NORM = 0` by default) and mmdetection (`paramwise_cfg`
// with `norm_decay_mult=0`, `bias_decay_mult=0`) can exempt normalisation parameters, and
// biases, from L2 weight decay: decaying a GroupNorm scale shrinks the features it
// normalises rather than regularising the model.

extension NamedParameters {
  /// A weight-decay projection that zeroes the entries `exclude` accepts and keeps the rest.
  ///
  /// ```
  /// D(p)[i] = 0      if i lies in an entry e with exclude(e)
  ///         = p[i]   otherwise
  /// ```
  ///
  /// Pass it as the `decayProjection` of ``SGD`` or ``Adam`` so that the excluded tensors
  /// take no weight decay.
  ///
  /// - Parameter exclude: whether an entry takes no weight decay, decided from its name,
  ///   shape or range.
  /// - Returns: `D`, which copies its argument and zeroes the excluded entries.
  /// - Complexity: each call of `D` allocates a copy of its n scalars and visits every
  ///   entry once.
  public static func decayProjection(
    excluding exclude: @escaping @Sendable (Entry) -> Bool
  ) -> @Sendable (NamedParameters) -> NamedParameters {
    { parameters in
      var result = parameters
      let excluded = parameters.entries.filter(exclude)
      guard !excluded.isEmpty else { return result }
      result.withUnsafeMutableBufferPointer { scalars in
        for entry in excluded {
          for i in entry.range { scalars[i] = 0 }
        }
      }
      return result
    }
  }

  /// Whether an entry is a normalisation parameter or a bias, the tensors that
  /// ``excludingNormalization`` keeps out of weight decay.
  ///
  /// An entry is excluded when its name (the state_dict name, split at `.`):
  /// - has a component that starts with `gn` (`gn1.weight`, `refine.gn.bias`: GroupNorm,
  ///   the IFR head's normalisation),
  /// - has a component that contains `norm` (`norm.weight`, `layernorm.bias`,
  ///   `batch_norm1.weight`), or
  /// - ends in `.bias` or is `bias` (every bias, of convolutions as well).
  ///
  /// The comparison is case-sensitive. Weight-normalised kernels (`conv1.weight_g`,
  /// `conv1.weight_v`) are *not* excluded: they are convolution weights.
  ///
  /// - Parameter entry: an entry of a ``NamedParameters``.
  /// - Returns: `true` when the entry should take no weight decay.
  public static func isNormalizationOrBias(_ entry: Entry) -> Bool {
    if entry.name == "bias" || entry.name.hasSuffix(".bias") { return true }
    return entry.name.split(separator: ".").contains { component in
      component.hasPrefix("gn") || component.contains("norm")
    }
  }

  /// The weight-decay projection that exempts normalisation parameters and biases (see
  /// ``isNormalizationOrBias(_:)`` for the exact rule): the released recipe takes no decay
  /// on normalisation parameters.
  public static var excludingNormalization: @Sendable (NamedParameters) -> NamedParameters {
    decayProjection(excluding: { isNormalizationOrBias($0) })
  }
}
