// The JSON inside IFRHead's checkpoints (the convergence analysis's and the training run's
// safetensors metadata): sorted keys, so equal values are equal text, and the non-finite
// numbers a diverging run records written as "inf", "-inf" and "nan".

import FoundationEssentials

enum _CheckpointJSON {
  /// Sorted keys; non-finite numbers as strings.
  static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return encoder
  }

  /// Reads what ``encoder()`` writes.
  static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return decoder
  }
}
