// The checkpoint of a MaskHeadTraining run: the head's parameters under their state_dict
// names, the optimiser's state under PyTorch's names (`optimizer.<param>.momentum_buffer`,
// `optimizer.<param>.exp_avg`, `optimizer.<param>.exp_avg_sq`), and in the metadata the
// configuration, the step, the records so far and the loss window, so that resuming
// continues bit for bit. A checkpoint of another configuration, precision or format is
// refused, never mixed in; a corrupt one is an error, never a crash.

import FoundationEssentials

extension MaskHeadTraining {
  static var checkpointFormat: String { "deq-mask-head-training-checkpoint" }
  static var checkpointVersion: String { "1" }

  /// The configuration as the checkpoint stores it (sorted-key JSON).
  static func configurationText(_ configuration: TrainingConfiguration) -> String {
    (try? _CheckpointJSON.encoder().encode(configuration)).map {
      String(decoding: $0, as: UTF8.self)
    } ?? ""
  }

  /// The run's state as a safetensors file.
  ///
  /// - Throws: ``IFRHeadError/tensorFile(_:)`` if encoding fails.
  public func checkpointData() throws(IFRHeadError) -> Data {
    var tensors = [String: AnyTensor]()
    for (name, tensor) in head.parameters.namedTensors { tensors[name] = AnyTensor(tensor) }
    for (name, tensor) in optimizer.stateTensors { tensors[name] = AnyTensor(tensor) }
    let recordsText: String
    do {
      recordsText = String(decoding: try _CheckpointJSON.encoder().encode(records), as: UTF8.self)
    } catch {
      throw .invalidConfiguration("cannot encode the training records: \(error)")
    }
    let metadata: [String: String] = [
      "format": Self.checkpointFormat,
      "formatVersion": Self.checkpointVersion,
      "precision": String(describing: Scalar.self),
      "configuration": Self.configurationText(configuration),
      "iteration": String(iteration),
      "optimizerSteps": String(optimizer.steps),
      "elapsedBits": String(elapsed.bitPattern),
      "windowLossSumBits": String(windowLossSum.bitPattern),
      "windowCount": String(windowCount),
      "zeroGradientTotal": String(zeroGradientTotal),
      "records": recordsText,
    ]
    do {
      return try SafeTensorsFile(tensors: tensors, metadata: metadata).encoded()
    } catch {
      throw .tensorFile(error)
    }
  }

  /// Resumes the run `configuration` describes from its checkpoint.
  ///
  /// - Throws: ``IFRHeadError/unreadableCheckpoint(path:reason:)`` for a file that is not a
  ///   readable training checkpoint (truncated, corrupt, missing or mis-shaped tensors,
  ///   inconsistent metadata); ``IFRHeadError/checkpointMismatch(path:reason:)`` for one of
  ///   another precision or configuration (the reason names the first field that differs);
  ///   ``IFRHeadError/invalidConfiguration(_:)`` for an invalid `configuration`.
  public init(configuration: TrainingConfiguration, resumingFrom url: URL) throws(IFRHeadError) {
    try self.init(configuration: configuration)
    let path = url.path
    let file: SafeTensorsFile
    do {
      file = try SafeTensorsFile(contentsOf: url)
    } catch {
      throw .unreadableCheckpoint(path: path, reason: error.description)
    }
    let m = file.metadata
    guard m["format"] == Self.checkpointFormat else {
      throw .unreadableCheckpoint(
        path: path, reason: "a safetensors file, but not a training checkpoint")
    }
    guard m["formatVersion"] == Self.checkpointVersion else {
      throw .checkpointMismatch(
        path: path,
        reason:
          "format version \(m["formatVersion"] ?? "none"), this build reads \(Self.checkpointVersion)"
      )
    }
    let precision = String(describing: Scalar.self)
    guard m["precision"] == precision else {
      throw .checkpointMismatch(
        path: path,
        reason: "its precision is \(m["precision"] ?? "none"), this run's is \(precision)")
    }
    guard let stored = m["configuration"],
      let theirs = try? _CheckpointJSON.decoder().decode(
        TrainingConfiguration.self, from: Data(stored.utf8))
    else {
      throw .unreadableCheckpoint(path: path, reason: "its configuration is unreadable")
    }
    if theirs != configuration {
      throw .checkpointMismatch(path: path, reason: Self.difference(theirs, configuration))
    }
    func integer(_ key: String) throws(IFRHeadError) -> Int {
      guard let text = m[key], let value = Int(text), value >= 0 else {
        throw .unreadableCheckpoint(path: path, reason: "its \(key) is missing or corrupt")
      }
      return value
    }
    func double(_ key: String) throws(IFRHeadError) -> Double {
      guard let text = m[key], let bits = UInt64(text) else {
        throw .unreadableCheckpoint(path: path, reason: "its \(key) is missing or corrupt")
      }
      return Double(bitPattern: bits)
    }
    let savedIteration = try integer("iteration")
    guard savedIteration <= configuration.iterations else {
      throw .unreadableCheckpoint(
        path: path, reason: "its step \(savedIteration) is past the run's end")
    }
    let steps = try integer("optimizerSteps")
    let windowCount = try integer("windowCount")
    let zeroTotal = try integer("zeroGradientTotal")
    let elapsed = try double("elapsedBits")
    let windowSum = try double("windowLossSumBits")
    guard let recordsText = m["records"],
      let records = try? _CheckpointJSON.decoder().decode(
        [TrainingRecord].self, from: Data(recordsText.utf8)),
      records.allSatisfy({ $0.iteration < savedIteration })
    else {
      throw .unreadableCheckpoint(path: path, reason: "its records are missing or corrupt")
    }
    var state = [String: Tensor<Scalar>]()
    for name in file.tensors.keys {
      do {
        state[name] = try file.tensor(named: name, as: Scalar.self)
      } catch {
        throw .unreadableCheckpoint(path: path, reason: "tensor '\(name)': \(error.description)")
      }
    }
    var restored = head
    do {
      try restored.loadStateDictionary(state, ignoringPrefix: Optimizer<Scalar>.statePrefix)
    } catch {
      throw .unreadableCheckpoint(path: path, reason: error.description)
    }
    do {
      try optimizer.restoreState(from: state, steps: steps, parameters: restored.parameters)
    } catch {
      throw .unreadableCheckpoint(path: path, reason: "optimiser state: \(error.description)")
    }
    head = restored
    iteration = savedIteration
    self.records = records
    self.elapsed = elapsed
    self.windowCount = windowCount
    self.windowLossSum = windowSum
    self.zeroGradientTotal = zeroTotal
  }

  /// The first field in which two configurations differ, as a sentence.
  static func difference(_ theirs: TrainingConfiguration, _ ours: TrainingConfiguration)
    -> String
  {
    // The stored properties, nested ones as `head.width`; an absent optional is left out.
    func flatten(_ value: Any, _ key: String, into result: inout [String: String]) {
      let mirror = Mirror(reflecting: value)
      switch mirror.displayStyle {
      case .struct?:
        for case (let label?, let child) in mirror.children {
          flatten(child, key.isEmpty ? label : key + "." + label, into: &result)
        }
      case .optional?:
        if let wrapped = mirror.children.first?.value { flatten(wrapped, key, into: &result) }
      default:
        result[key] = "\(value)"
      }
    }
    func fields(_ c: TrainingConfiguration) -> [String: String] {
      var result = [String: String]()
      flatten(c, "", into: &result)
      return result
    }
    let a = fields(theirs)
    let b = fields(ours)
    for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
      return "its \(key) is \(a[key] ?? "unset"), this run's is \(b[key] ?? "unset")"
    }
    return "its configuration differs from this run's"
  }
}
