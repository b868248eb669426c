// The mask head's parameters under PyTorch state_dict names (the names
// MaskHeadParameterCount lists), to and from safetensors files: a trained head's checkpoint
// loads into a fresh head of the same configuration, in either precision, and a file with a
// missing, extra or mis-shaped tensor is a typed error naming it.

import FoundationEssentials

extension MaskHead {
  /// Every parameter under its state_dict name (see ``parameters``).
  public var stateDictionary: [String: Tensor<Scalar>] {
    Dictionary(uniqueKeysWithValues: parameters.namedTensors.map { ($0.name, $0.tensor) })
  }

  /// Replaces every parameter with the tensor of the same name.
  ///
  /// - Parameters:
  ///   - tensors: the tensors by state_dict name.
  ///   - ignoringPrefix: names with this prefix are skipped (for example `optimizer.` in a
  ///     training checkpoint); `nil` skips none.
  /// - Throws: ``IFRHeadError/missingTensor(name:)``,
  ///   ``IFRHeadError/shapeMismatch(name:expected:actual:)`` or
  ///   ``IFRHeadError/unexpectedTensors(names:)`` (every unused name, sorted); the head is
  ///   unchanged when it throws.
  public mutating func loadStateDictionary(
    _ tensors: [String: Tensor<Scalar>], ignoringPrefix: String? = nil
  ) throws(IFRHeadError) {
    let entries = parameters.entries
    var loaded: [(name: String, tensor: Tensor<Scalar>)] = []
    for entry in entries {
      guard let tensor = tensors[entry.name] else { throw .missingTensor(name: entry.name) }
      guard tensor.shape == entry.shape else {
        throw .shapeMismatch(name: entry.name, expected: entry.shape, actual: tensor.shape)
      }
      loaded.append((entry.name, tensor))
    }
    let known = Set(entries.map(\.name))
    let unused = tensors.keys.filter { name in
      !known.contains(name) && !(ignoringPrefix.map { name.hasPrefix($0) } ?? false)
    }
    guard unused.isEmpty else { throw .unexpectedTensors(names: unused.sorted()) }
    parameters = NamedParameters(loaded)
  }

  /// A head of `configuration` with the parameters of a safetensors file (a `deq train`
  /// checkpoint, or an export from PyTorch under the same names). Tensors stored in the
  /// other precision are converted; the optimiser state of a checkpoint (`optimizer.…`) is
  /// skipped.
  ///
  /// ```swift
  /// let head = try MaskHead<Float>(
  ///   configuration: run.configuration.head,
  ///   contentsOf: URL(fileURLWithPath: "run1/checkpoint.safetensors"))
  /// ```
  /// - Throws: ``IFRHeadError/invalidConfiguration(_:)`` for an invalid configuration,
  ///   ``IFRHeadError/tensorFile(_:)`` for a file that is not safetensors, otherwise as
  ///   ``loadStateDictionary(_:ignoringPrefix:)``.
  public init(configuration: MaskHeadConfiguration, contentsOf url: URL) throws(IFRHeadError) {
    try configuration.validate()
    let file: SafeTensorsFile
    do {
      file = try SafeTensorsFile(contentsOf: url)
    } catch {
      throw .tensorFile(error)
    }
    var generator = SeededGenerator(seed: 0)
    self.init(configuration: configuration, using: &generator)
    try loadStateDictionary(
      file.tensors.mapValues { $0.converted(to: Scalar.self) }, ignoringPrefix: "optimizer.")
  }

  /// Writes the parameters as a safetensors file under their state_dict names.
  ///
  /// - Throws: ``IFRHeadError/tensorFile(_:)`` when the file cannot be written.
  public func write(to url: URL) throws(IFRHeadError) {
    do {
      try SafeTensorsFile(tensors: stateDictionary.mapValues { AnyTensor($0) }).write(to: url)
    } catch {
      throw .tensorFile(error)
    }
  }
}
