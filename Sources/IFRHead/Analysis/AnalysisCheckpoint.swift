// The checkpoint of a ConvergenceAnalysis: every RoI's unrolled progress (state, series,
// spectral samples, warm start), in one safetensors file written atomically, with a header
// that says which analysis it belongs to. A checkpoint from another problem, form,
// precision, configuration or format version is refused, never mixed in.

import DEQSolvers
import FoundationEssentials

/// How often a running analysis saves its checkpoint.
public enum CheckpointPolicy: Sendable, Hashable {
  /// After every `k` unrolled steps of each RoI.
  case everySteps(Int)
  /// Whenever this much time has passed since a RoI last saved (default: a minute).
  case interval(Duration)
}

/// Where and how often a running analysis saves its progress.
public struct AnalysisCheckpointing: Sendable {
  /// The checkpoint file (read at the start when it exists, rewritten atomically).
  public var url: URL
  /// How often it is written.
  public var policy: CheckpointPolicy

  /// Creates the setting.
  public init(url: URL, policy: CheckpointPolicy = .interval(.seconds(60))) {
    self.url = url
    self.policy = policy
  }
}

/// One RoI's unrolled iteration as far as it went: what a checkpoint holds per RoI.
struct _UnrollProgress<Scalar: DEQScalar>: Sendable, Equatable {
  var roi: Int
  /// The step of ``state``.
  var step: Int
  var state: Tensor<Scalar>
  /// `differences[i − 1] = ‖H_i − H_{i−1}‖` for `i = 1 … step` (one more, NaN, when the
  /// state stopped being finite).
  var differences: [Double]
  /// The examined steps done, up to and including ``step``.
  var samples: [SpectralSample]
  /// The next Arnoldi start, if the last examined step left one.
  var warmStart: Tensor<Scalar>?
  /// The state at the last examined step (to measure how far the iterate moved since).
  var previousExamined: Tensor<Scalar>?
  var nonFiniteStep: Int?
  var coldConfirmation: SpectralSample?
  var finished: Bool

  init(roi: Int, shape: [Int]) {
    self.roi = roi
    step = 0
    state = Tensor(zeros: shape)
    differences = []
    samples = []
    finished = false
  }
}

/// The file format.
enum _AnalysisCheckpointFile {
  static let format = "deq-convergence-analysis-checkpoint"
  static let formatVersion = "1"

  /// What must match for a checkpoint to be resumed, field by field (so that a refusal
  /// can say which one differs).
  static func header<Scalar: DEQScalar>(
    _ analysis: ConvergenceAnalysis<Scalar>, blasThreads: Int
  ) -> [(key: String, value: String, what: String)] {
    let c = analysis.configuration
    let schedule: String =
      switch c.spectralSchedule {
      case .logSpaced: "log-spaced"
      case .every(let k): "every \(k)"
      case .steps(let set): "steps " + set.sorted().map(String.init).joined(separator: ",")
      }
    // What the unroll runs: the resolved method, with the Arnoldi settings it uses.
    let method: String =
      switch analysis.resolvedSpectralMethod {
      case .dense: "dense"
      case .powerIteration(let p): "power(\(p))"
      case .arnoldi(let a):
        "arnoldi k=\(a.krylovDimension) maxProducts=\(a.maxProducts) tol=\(a.tolerance) seed=\(a.seed)"
      case .automatic: "automatic"  // never: the resolved method is concrete
      }
    return [
      ("format", format, "file format"),
      ("formatVersion", formatVersion, "checkpoint format version"),
      ("precision", String(describing: Scalar.self), "precision"),
      ("form", analysis.block.form.referenceName, "block form"),
      (
        "shape", analysis.injection.shape.map(String.init).joined(separator: "×"), "injection shape"
      ),
      ("blockHash", _Fingerprint.of(analysis.block), "block weights"),
      ("injectionHash", _Fingerprint.of(analysis.injection), "injection X"),
      ("steps", String(c.steps), "number of steps"),
      ("schedule", schedule, "spectral schedule"),
      ("spectralMethod", method, "spectral method and its settings"),
      (
        "warmStarts", c.warmStarts ? "on, change ≤ \(c.warmStartMaximumChange)" : "off",
        "warm-start setting"
      ),
      ("confirmLastCold", String(c.confirmLastCold), "cold-confirmation setting"),
      ("blasThreads", String(blasThreads), "BLAS threads per RoI"),
    ]
  }

  static func encode<Scalar: DEQScalar>(
    header: [(key: String, value: String, what: String)], progress: [_UnrollProgress<Scalar>]
  ) throws -> Data {
    var metadata = [String: String]()
    for field in header { metadata[field.key] = field.value }
    var tensors = [String: AnyTensor]()
    let encoder = _CheckpointJSON.encoder()
    metadata["rois"] = progress.map { String($0.roi) }.joined(separator: ",")
    for p in progress {
      let key = "roi\(p.roi)"
      tensors["\(key).state"] = AnyTensor(p.state)
      if !p.differences.isEmpty { tensors["\(key).differences"] = AnyTensor(Tensor(p.differences)) }
      if let w = p.warmStart { tensors["\(key).warmStart"] = AnyTensor(w) }
      if let s = p.previousExamined { tensors["\(key).previousExamined"] = AnyTensor(s) }
      let record = _ProgressRecord(
        step: p.step, samples: p.samples, nonFiniteStep: p.nonFiniteStep,
        coldConfirmation: p.coldConfirmation, finished: p.finished)
      metadata["\(key).record"] = String(decoding: try encoder.encode(record), as: UTF8.self)
    }
    return try SafeTensorsFile(tensors: tensors, metadata: metadata).encoded()
  }

  /// Reads a checkpoint and checks it belongs to this analysis.
  static func decode<Scalar: DEQScalar>(
    contentsOf url: URL, header: [(key: String, value: String, what: String)], roiCount: Int,
    roiShape: [Int]
  ) throws(ConvergenceAnalysisError) -> [Int: _UnrollProgress<Scalar>] {
    let path = url.path
    let file: SafeTensorsFile
    do {
      file = try SafeTensorsFile(contentsOf: url)
    } catch {
      throw .unreadableCheckpoint(path: path, reason: error.description)
    }
    guard file.metadata["format"] == format else {
      throw .unreadableCheckpoint(
        path: path, reason: "a safetensors file, but not a convergence-analysis checkpoint")
    }
    for field in header where file.metadata[field.key] != field.value {
      let found = file.metadata[field.key] ?? "none"
      throw .checkpointMismatch(
        path: path,
        reason:
          "its \(field.what) is \(found.count > 60 ? String(found.prefix(60)) + "…" : found), this run's is \(field.value.count > 60 ? String(field.value.prefix(60)) + "…" : field.value)"
      )
    }
    let decoder = _CheckpointJSON.decoder()
    var result = [Int: _UnrollProgress<Scalar>]()
    let rois = (file.metadata["rois"] ?? "").split(separator: ",").map { Int($0) }
    for roi in rois {
      guard let roi, roi >= 0, roi < roiCount else {
        throw .unreadableCheckpoint(path: path, reason: "its RoI list is corrupt")
      }
      let key = "roi\(roi)"
      do {
        guard let json = file.metadata["\(key).record"] else {
          throw ConvergenceAnalysisError.unreadableCheckpoint(
            path: path, reason: "RoI \(roi) has no record")
        }
        let record = try decoder.decode(_ProgressRecord.self, from: Data(json.utf8))
        var p = _UnrollProgress<Scalar>(roi: roi, shape: roiShape)
        p.step = record.step
        p.samples = record.samples
        p.nonFiniteStep = record.nonFiniteStep
        p.coldConfirmation = record.coldConfirmation
        p.finished = record.finished
        func tensor(_ name: String) throws -> Tensor<Scalar>? {
          guard file.tensors["\(key).\(name)"] != nil else { return nil }
          let t: Tensor<Scalar> = try file.tensor(named: "\(key).\(name)", as: Scalar.self)
          guard t.shape == roiShape else {
            throw ConvergenceAnalysisError.unreadableCheckpoint(
              path: path, reason: "RoI \(roi)'s \(name) has shape \(t.shape), expected \(roiShape)")
          }
          return t
        }
        guard let state = try tensor("state") else {
          throw ConvergenceAnalysisError.unreadableCheckpoint(
            path: path, reason: "RoI \(roi) has no state")
        }
        p.state = state
        p.warmStart = try tensor("warmStart")
        p.previousExamined = try tensor("previousExamined")
        if file.tensors["\(key).differences"] != nil {
          let differences: Tensor<Double> = try file.tensor(
            named: "\(key).differences", as: Double.self)
          guard differences.rank == 1 else {
            throw ConvergenceAnalysisError.unreadableCheckpoint(
              path: path, reason: "RoI \(roi)'s differences are not a series")
          }
          p.differences = differences.scalars
        }
        let expected = p.step + (p.nonFiniteStep == nil ? 0 : 1)
        guard p.step >= 0, p.differences.count == expected,
          p.samples.allSatisfy({ $0.step <= p.step })
        else {
          throw ConvergenceAnalysisError.unreadableCheckpoint(
            path: path, reason: "RoI \(roi)'s record is inconsistent")
        }
        result[roi] = p
      } catch let error as ConvergenceAnalysisError {
        throw error
      } catch {
        throw .unreadableCheckpoint(path: path, reason: "RoI \(roi): \(error)")
      }
    }
    return result
  }

  struct _ProgressRecord: Codable {
    var step: Int
    var samples: [SpectralSample]
    var nonFiniteStep: Int?
    var coldConfirmation: SpectralSample?
    var finished: Bool
  }
}

/// A 64-bit FNV-1a fingerprint of tensors' shapes and scalar bit patterns.
enum _Fingerprint {
  static func of<Scalar: DEQScalar>(_ block: IFRBlock<Scalar>) -> String {
    var hash = Hasher64()
    for (name, tensor) in block.stateDictionary.sorted(by: { $0.key < $1.key }) {
      hash.add(name)
      hash.add(tensor)
    }
    for (key, value) in block.metadata.sorted(by: { $0.key < $1.key }) {
      hash.add(key)
      hash.add(value)
    }
    return hash.hex
  }

  static func of<Scalar: DEQScalar>(_ tensor: Tensor<Scalar>) -> String {
    var hash = Hasher64()
    hash.add(tensor)
    return hash.hex
  }

  struct Hasher64 {
    var state: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(byte: UInt8) {
      state ^= UInt64(byte)
      state = state &* 0x0000_0100_0000_01b3
    }
    mutating func add(word: UInt64) {
      for shift in stride(from: 0, to: 64, by: 8) {
        add(byte: UInt8(truncatingIfNeeded: word >> shift))
      }
    }
    mutating func add(_ string: String) {
      for byte in string.utf8 { add(byte: byte) }
      add(byte: 0)
    }
    mutating func add<Scalar: DEQScalar>(_ tensor: Tensor<Scalar>) {
      for size in tensor.shape { add(word: UInt64(size)) }
      tensor.withUnsafeBufferPointer { buffer in
        for x in buffer { add(word: Double(x).bitPattern) }
      }
    }
    var hex: String {
      let digits = String(state, radix: 16)
      return String(repeating: "0", count: 16 - digits.count) + digits
    }
  }
}
