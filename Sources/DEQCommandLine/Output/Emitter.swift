import DEQCore
import FoundationEssentials

/// Where a command's data and plot go: standard output or `--output`, written atomically,
/// never over an input file.
struct Emitter {
  var options: OutputOptions
  var files: AtomicFile

  init(options: OutputOptions, inputs: [String]) {
    self.options = options
    files = AtomicFile()
    for path in inputs { files.protect(path) }
  }

  /// Checks before any work that no output path is an input, so a long run does not end
  /// in a refusal.
  func checkOutputs(_ paths: [(path: String?, option: String)]) throws(CommandLineError) {
    for case let (path?, option) in [(options.output, "--output")] + paths {
      try files.checkNotInput(path, option: option)
    }
  }

  /// Writes the data: to `--output` when given, else to standard output.
  func emit(_ text: String) throws(CommandLineError) {
    if let path = options.output {
      try files.write(Data(text.utf8), to: path, option: "--output")
    } else {
      StandardStream.output.write(text)
    }
  }

  /// Writes a file named by an option (a plot).
  func write(_ data: Data, to path: String, option: String) throws(CommandLineError) {
    try files.write(data, to: path, option: option)
  }

  /// Writes a tensor as `.npy` to a file named by an option (a saved state).
  func write<S: DEQScalar>(
    npy tensor: Tensor<S>, to path: String, option: String
  ) throws(CommandLineError) {
    try files.write(npy: tensor, to: path, option: option)
  }

  /// JSON for a report: pretty, sorted keys; non-finite numbers as the strings
  /// `"NaN"`, `"Infinity"`, `"-Infinity"` (JSON has no literal for them).
  static func json<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    do {
      return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    } catch {
      // Only non-finite floats can fail, and the strategy above handles them.
      preconditionFailure("JSON encoding failed: \(error)")
    }
  }

  /// A decoder matching ``json(_:)``.
  static var jsonDecoder: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return decoder
  }
}
