// Building an IFRBlock from tensors under PyTorch state_dict names, as `block.state_dict()`
// of the PyTorch module gives them (and as a safetensors export stores them).

extension IFRBlock {
  /// Creates a block from tensors under PyTorch state_dict names.
  ///
  /// Expected names: `conv1.weight` (`[inner, C, 3, 3]`) or `conv1.weight_g`
  /// (`[inner, 1, 1, 1]`) with `conv1.weight_v`; the same for `conv2` (`[C, inner, 3, 3]`);
  /// `gn1.weight`, `gn1.bias` (`[inner]`); `gn2.*`, `gn3.*` (`[C]`). C and the inner width are
  /// read from the kernels.
  ///
  /// - Parameters:
  ///   - stateDictionary: the tensors by name.
  ///   - metadata: optional string metadata (a safetensors `__metadata__`): `groups`
  ///     (default 4), `gn_eps` (default 1e-5) and `form` (`ifr_code`, `eq5`, `xshort`, `mdeq`).
  ///   - form: the form to compute; `nil` takes the metadata's, else ``IFRBlockForm/ifrCode``.
  /// - Throws: ``IFRHeadError/missingTensor(name:)``, ``IFRHeadError/unexpectedTensors(names:)``
  ///   (all the unused names, sorted), ``IFRHeadError/shapeMismatch(name:expected:actual:)``,
  ///   ``IFRHeadError/invalidMetadata(key:value:)`` (including groups that do not divide
  ///   the channels).
  public init(
    stateDictionary: [String: Tensor<Scalar>], metadata: [String: String] = [:],
    form: IFRBlockForm? = nil
  ) throws(IFRHeadError) {
    var groups = 4
    if let text = metadata["groups"] {
      guard let value = Int(text.trimmingWhitespace), value > 0 else {
        throw .invalidMetadata(key: "groups", value: text)
      }
      groups = value
    }
    var epsilon: Scalar = 1e-5
    if let text = metadata["gn_eps"] {
      guard let value = Double(text.trimmingWhitespace), value > 0, value.isFinite else {
        throw .invalidMetadata(key: "gn_eps", value: text)
      }
      epsilon = Scalar(value)
    }
    var chosenForm = form ?? .ifrCode
    if form == nil, let text = metadata["form"] {
      guard let value = IFRBlockForm(referenceName: text.trimmingWhitespace) else {
        throw .invalidMetadata(key: "form", value: text)
      }
      chosenForm = value
    }

    var used: Set<String> = []
    func tensor(_ name: String) throws(IFRHeadError) -> Tensor<Scalar> {
      guard let value = stateDictionary[name] else { throw .missingTensor(name: name) }
      used.insert(name)
      return value
    }
    func kernel(_ prefix: String) throws(IFRHeadError) -> ConvolutionWeight<Scalar> {
      if stateDictionary["\(prefix).weight"] != nil {
        let weight = try tensor("\(prefix).weight")
        guard weight.rank == 4, weight.shape[2] == 3, weight.shape[3] == 3 else {
          throw .shapeMismatch(
            name: "\(prefix).weight",
            expected: [weight.shape.first ?? -1, weight.shape.dropFirst().first ?? -1, 3, 3],
            actual: weight.shape)
        }
        return .plain(weight)
      }
      guard stateDictionary["\(prefix).weight_v"] != nil else {
        throw .missingTensor(name: "\(prefix).weight")
      }
      let direction = try tensor("\(prefix).weight_v")
      guard direction.rank == 4, direction.shape[2] == 3, direction.shape[3] == 3 else {
        throw .shapeMismatch(
          name: "\(prefix).weight_v",
          expected: [direction.shape.first ?? -1, direction.shape.dropFirst().first ?? -1, 3, 3],
          actual: direction.shape)
      }
      let magnitude = try tensor("\(prefix).weight_g")
      let expected = [direction.shape[0], 1, 1, 1]
      guard magnitude.shape == expected else {
        throw .shapeMismatch(
          name: "\(prefix).weight_g", expected: expected, actual: magnitude.shape)
      }
      return .normalized(WeightNorm(magnitude: magnitude, direction: direction))
    }
    let conv1 = try kernel("conv1")
    let inner = conv1.shape[0]
    let channels = conv1.shape[1]
    let conv2 = try kernel("conv2")
    let conv2Name = conv2.isNormalized ? "conv2.weight_v" : "conv2.weight"
    guard conv2.shape == [channels, inner, 3, 3] else {
      throw .shapeMismatch(name: conv2Name, expected: [channels, inner, 3, 3], actual: conv2.shape)
    }
    func norm(_ prefix: String, _ count: Int) throws(IFRHeadError) -> GroupNorm<Scalar> {
      let scale = try tensor("\(prefix).weight")
      guard scale.shape == [count] else {
        throw .shapeMismatch(name: "\(prefix).weight", expected: [count], actual: scale.shape)
      }
      let offset = try tensor("\(prefix).bias")
      guard offset.shape == [count] else {
        throw .shapeMismatch(name: "\(prefix).bias", expected: [count], actual: offset.shape)
      }
      guard count % groups == 0 else {
        throw .invalidMetadata(key: "groups", value: "\(groups) (does not divide \(count))")
      }
      return GroupNorm(
        channels: count, groups: groups, epsilon: epsilon, scale: scale, offset: offset)
    }
    let gn1 = try norm("gn1", inner)
    let gn2 = try norm("gn2", channels)
    let gn3 = try norm("gn3", channels)
    let unused = stateDictionary.keys.filter { !used.contains($0) }.sorted()
    guard unused.isEmpty else { throw .unexpectedTensors(names: unused) }
    self.init(
      form: chosenForm, conv1Weight: conv1, conv2Weight: conv2, gn1: gn1, gn2: gn2, gn3: gn3)
  }

  /// The parameters under their PyTorch state_dict names (see ``namedParameters``).
  public var stateDictionary: [String: Tensor<Scalar>] {
    Dictionary(uniqueKeysWithValues: namedParameters.map { ($0.name, $0.tensor) })
  }

  /// The metadata a safetensors export of this block carries (`groups`, `gn_eps`, `form`).
  public var metadata: [String: String] {
    ["groups": "\(groups)", "gn_eps": "\(epsilon)", "form": form.referenceName]
  }
}

extension String {
  @usableFromInline var trimmingWhitespace: String {
    String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
  }
}
