// Learning-rate schedules by iteration, as mmdetection's (mmcv's) `LrUpdaterHook`s:
// linear warm-up (Goyal et al. 2017, "Accurate, Large Minibatch SGD"), step decay
// (`StepLrUpdaterHook`, the 1x schedule of Mask R-CNN) and cosine annealing (Loshchilov &
// Hutter 2017, "SGDR", without restarts; `CosineAnnealingLrUpdaterHook`).

/// The learning rate as a function of the iteration: a decay of a base rate, optionally
/// preceded by a linear warm-up.
///
/// With base rate `η`, iteration `i` (from 0), warm-up length `W` and ratio `r`:
///
/// ```
/// decayed(i) = η                                         (.constant)
///            = η · factor^#{ milestones m with i ≥ m }   (.steps)
///            = η_min + ½ (η − η_min)(1 + cos(π · min(i, T) / T))   (.cosine)
/// warm-up(i) = 1 − (1 − i / W)(1 − r)   for i < W,   1 afterwards
/// rate(i)    = decayed(i) · warm-up(i)
/// ```
///
/// The warm-up factor goes linearly from `r` at iteration 0 to 1 at iteration `W`, and
/// multiplies the decayed rate, as mmdetection's `warmup='linear'`. The released Mask R-CNN
/// recipe is `.steps` with factor 0.1 and 500 warm-up iterations at ratio 0.001.
///
/// ```swift
/// let schedule = try LearningRateSchedule(
///   parsing: "step:600,800", baseRate: 0.02, totalIterations: 900, warmupIterations: 100)
/// schedule.learningRate(at: 0)     // 0.02 · 0.001
/// schedule.learningRate(at: 700)   // 0.002
/// ```
public struct LearningRateSchedule: Sendable, Equatable, CustomStringConvertible {
  /// How the rate falls after the warm-up.
  public enum Decay: Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// The rate is multiplied by `factor` at each milestone iteration (strictly increasing,
    /// positive); 0.1 is mmdetection's `gamma`.
    case steps(milestones: [Int], factor: Double = 0.1)
    /// Half a cosine from the base rate at iteration 0 down to `minimum` (an absolute rate,
    /// PyTorch's `eta_min`) at `totalIterations`, and `minimum` after it.
    case cosine(totalIterations: Int, minimum: Double = 0)
  }

  /// The rate `η` before any decay and after the warm-up.
  public let baseRate: Double
  /// The decay.
  public let decay: Decay
  /// The warm-up length `W ≥ 0` in iterations (0: no warm-up).
  public let warmupIterations: Int
  /// The warm-up's starting factor `r ∈ (0, 1]` (default 0.001, mmdetection's).
  public let warmupRatio: Double

  /// Creates a schedule.
  ///
  /// - Parameters:
  ///   - baseRate: `η`, finite and > 0.
  ///   - decay: the decay (default `.constant`).
  ///   - warmupIterations: `W ≥ 0` (default 0).
  ///   - warmupRatio: `r` in (0, 1] (default 0.001).
  /// - Throws: ``TrainingError/invalidHyperparameter(name:value:expected:)`` for a value
  ///   out of range: `η`, `W` or `r` as above; step milestones that are not positive and
  ///   strictly increasing, or a factor outside (0, 1]; a cosine length < 1 or a minimum
  ///   outside [0, η].
  public init(
    baseRate: Double, decay: Decay = .constant, warmupIterations: Int = 0,
    warmupRatio: Double = 0.001
  ) throws(TrainingError) {
    guard baseRate > 0, baseRate.isFinite else {
      throw .invalidHyperparameter(
        name: "learning rate", value: "\(baseRate)", expected: "a finite value > 0")
    }
    guard warmupIterations >= 0 else {
      throw .invalidHyperparameter(
        name: "warm-up iterations", value: "\(warmupIterations)", expected: "a count ≥ 0")
    }
    guard warmupRatio > 0, warmupRatio <= 1 else {
      throw .invalidHyperparameter(
        name: "warm-up ratio", value: "\(warmupRatio)", expected: "a value in (0, 1]")
    }
    switch decay {
    case .constant:
      break
    case .steps(let milestones, let factor):
      guard let first = milestones.first, first > 0,
        zip(milestones, milestones.dropFirst()).allSatisfy({ $0 < $1 })
      else {
        throw .invalidHyperparameter(
          name: "step milestones", value: "\(milestones)",
          expected: "one or more positive, strictly increasing iterations")
      }
      guard factor > 0, factor <= 1 else {
        throw .invalidHyperparameter(
          name: "step factor", value: "\(factor)", expected: "a value in (0, 1]")
      }
    case .cosine(let totalIterations, let minimum):
      guard totalIterations >= 1 else {
        throw .invalidHyperparameter(
          name: "cosine iterations", value: "\(totalIterations)", expected: "a count ≥ 1")
      }
      guard minimum >= 0, minimum <= baseRate else {
        throw .invalidHyperparameter(
          name: "cosine minimum", value: "\(minimum)",
          expected: "a rate in [0, \(baseRate)] (the base rate)")
      }
    }
    self.baseRate = baseRate
    self.decay = decay
    self.warmupIterations = warmupIterations
    self.warmupRatio = warmupRatio
  }

  /// The learning rate at `iteration`, counted from 0.
  ///
  /// - Parameter iteration: the iteration, ≥ 0.
  /// - Returns: `rate(i)` above.
  /// - Precondition: `iteration ≥ 0`.
  /// - Complexity: O(number of milestones).
  public func learningRate(at iteration: Int) -> Double {
    precondition(iteration >= 0, "LearningRateSchedule: negative iteration \(iteration)")
    let decayed: Double
    switch decay {
    case .constant:
      decayed = baseRate
    case .steps(let milestones, let factor):
      let passed = milestones.count(where: { iteration >= $0 })
      decayed = baseRate * Double.pow(factor, passed)
    case .cosine(let total, let minimum):
      let progress = Double(min(iteration, total)) / Double(total)
      decayed = minimum + 0.5 * (baseRate - minimum) * (1 + Double.cos(.pi * progress))
    }
    guard iteration < warmupIterations else { return decayed }
    let remaining = 1 - Double(iteration) / Double(warmupIterations)
    return decayed * (1 - remaining * (1 - warmupRatio))
  }

  // MARK: Text form

  /// The default step milestones for `totalIterations`: mmdetection's 1x schedule decays
  /// at epochs 8 and 11 of 12, so at `⌊8T/12⌋` and `⌊11T/12⌋`.
  ///
  /// - Parameter totalIterations: `T`.
  /// - Returns: the two milestones (distinct and positive once `T ≥ 4`).
  public static func defaultMilestones(totalIterations: Int) -> [Int] {
    [totalIterations * 8 / 12, totalIterations * 11 / 12]
  }

  /// Parses a schedule's decay from its command-line text.
  ///
  /// The grammar, with `T` = `totalIterations`:
  ///
  /// ```
  /// constant                   the base rate throughout
  /// cosine                     cosine from the base rate to 0 over T iterations
  /// cosine@MIN                 … to the rate MIN (≤ the base rate)
  /// step                       ×0.1 at ⌊8T/12⌋ and ⌊11T/12⌋ (mmdetection's 1x schedule)
  /// step:M1,M2,…               ×0.1 at the given iterations (positive, increasing, < T)
  /// step@F, step:M1,…@F        the same with factor F in (0, 1]
  /// ```
  ///
  /// - Parameters:
  ///   - text: the decay, as above (`description` prints it back).
  ///   - baseRate: `η`.
  ///   - totalIterations: `T`, the length of training (≥ 1).
  ///   - warmupIterations: `W` (0 for none).
  ///   - warmupRatio: `r` (default 0.001).
  /// - Throws: ``TrainingError/invalidHyperparameter(name:value:expected:)`` for an unknown
  ///   kind, a malformed number, milestones that are not positive, strictly increasing and
  ///   below `T`, a default step schedule for `T < 4`, or any value ``init(baseRate:decay:warmupIterations:warmupRatio:)``
  ///   rejects.
  public init(
    parsing text: String, baseRate: Double, totalIterations: Int, warmupIterations: Int,
    warmupRatio: Double = 0.001
  ) throws(TrainingError) {
    guard totalIterations >= 1 else {
      throw .invalidHyperparameter(
        name: "total iterations", value: "\(totalIterations)", expected: "a count ≥ 1")
    }
    let syntax = "constant, cosine[@MIN], step[:M1,M2,…][@FACTOR]"
    let parts = text.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count <= 2, let head = parts.first else {
      throw .invalidHyperparameter(name: "schedule", value: text, expected: syntax)
    }
    let argument: Double?
    if parts.count == 2 {
      guard let value = Double(parts[1]), value.isFinite else {
        throw .invalidHyperparameter(
          name: "schedule", value: text, expected: "a number after '@' in \(syntax)")
      }
      argument = value
    } else {
      argument = nil
    }

    let decay: Decay
    if head == "constant" {
      guard argument == nil else {
        throw .invalidHyperparameter(
          name: "schedule", value: text, expected: "'constant' without '@'")
      }
      decay = .constant
    } else if head == "cosine" {
      decay = .cosine(totalIterations: totalIterations, minimum: argument ?? 0)
    } else if head == "step" || head.hasPrefix("step:") {
      let milestones: [Int]
      if head == "step" {
        milestones = Self.defaultMilestones(totalIterations: totalIterations)
        guard milestones[0] > 0, milestones[0] < milestones[1] else {
          throw .invalidHyperparameter(
            name: "schedule", value: text,
            expected: "at least 4 total iterations for the default milestones (got "
              + "\(totalIterations)), or explicit ones: step:M1,M2")
        }
      } else {
        milestones = try Self.parseMilestones(head.dropFirst("step:".count), in: text)
      }
      guard let last = milestones.last, last < totalIterations else {
        throw .invalidHyperparameter(
          name: "step milestones", value: "\(milestones)",
          expected: "iterations below the total \(totalIterations)")
      }
      decay = .steps(milestones: milestones, factor: argument ?? 0.1)
    } else {
      throw .invalidHyperparameter(name: "schedule", value: text, expected: syntax)
    }
    try self.init(
      baseRate: baseRate, decay: decay, warmupIterations: warmupIterations,
      warmupRatio: warmupRatio)
  }

  private static func parseMilestones(
    _ list: Substring, in text: String
  ) throws(TrainingError) -> [Int] {
    var milestones: [Int] = []
    for item in list.split(separator: ",", omittingEmptySubsequences: false) {
      guard let milestone = Int(item) else {
        throw .invalidHyperparameter(
          name: "schedule", value: text,
          expected: "comma-separated iterations after 'step:', as step:600,800")
      }
      guard milestone > 0, milestone > (milestones.last ?? 0) else {
        throw .invalidHyperparameter(
          name: "step milestones", value: String(list),
          expected: "positive, strictly increasing iterations")
      }
      milestones.append(milestone)
    }
    return milestones
  }

  /// The decay in the parser's syntax: `constant`, `cosine`, `cosine@1e-05`,
  /// `step:600,800`, `step:600,800@0.5`.
  ///
  /// `LearningRateSchedule(parsing: s.description, baseRate: s.baseRate, totalIterations: T,
  /// warmupIterations: s.warmupIterations, warmupRatio: s.warmupRatio)` returns `s` back,
  /// with `T` the cosine's `totalIterations` (any `T` above the last milestone for steps).
  public var description: String {
    switch decay {
    case .constant:
      return "constant"
    case .cosine(_, let minimum):
      return minimum == 0 ? "cosine" : "cosine@\(minimum)"
    case .steps(let milestones, let factor):
      let list = "step:" + milestones.map(String.init).joined(separator: ",")
      return factor == 0.1 ? list : "\(list)@\(factor)"
    }
  }
}
