import ArgumentParser
import IFRHead

/// The form of the block, as spelled on the command line.
enum FormOption: String, CaseIterable, ExpressibleByArgument {
  case ifrCode = "ifr-code"
  case eq5
  case xshort
  case mdeq

  var form: IFRBlockForm {
    switch self {
    case .ifrCode: .ifrCode
    case .eq5: .eq5
    case .xshort: .xshort
    case .mdeq: .mdeq
    }
  }
}

/// A problem size for the random block and input.
enum PresetOption: String, CaseIterable, ExpressibleByArgument {
  /// 2 RoIs of 8 × 6 × 6: seconds for the whole 100,000-step analysis.
  case small
  /// 4 RoIs of 256 × 14 × 14: the Mask R-CNN mask head's RoI features.
  case paper

  var channels: Int { self == .paper ? 256 : 8 }
  var size: Int { self == .paper ? 14 : 6 }
  var batch: Int { self == .paper ? 4 : 2 }
}

/// The floating-point precision of a run.
enum PrecisionOption: String, CaseIterable, ExpressibleByArgument {
  case double
  case float
}

/// The options that say which problem to work on, shared by every subcommand.
struct ProblemOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Block weights: a safetensors file with PyTorch state_dict names.",
      discussion:
        "conv1.weight (or conv1.weight_g + conv1.weight_v), conv2.*, gn1.weight, gn1.bias, gn2.*, gn3.*. Without it a seeded random block is made.",
      valueName: "file.safetensors"))
  var weights: String?

  @Option(
    help: ArgumentHelp(
      "The injection X: a .npy file of shape [N, C, H, W] (N RoIs).",
      discussion:
        "Without it a seeded standard-normal X of --batch × --channels × --size × --size is made.",
      valueName: "x.npy"))
  var input: String?

  @Option(
    help: ArgumentHelp(
      "A problem size: small (2 RoIs of 8 × 6 × 6) or paper (4 RoIs of 256 × 14 × 14, the mask head's size).",
      discussion:
        "Sets --channels, --size and --batch of the random block and input (each can still be given); 4 GroupNorm groups as released. With --weights/--input the files decide the sizes."
    ))
  var preset: PresetOption = .small

  @Option(
    help:
      "Channels C of a random block and input (default: the preset's; ignored with --weights/--input)."
  )
  var channels: Int?

  @Option(help: "Inner width of a random block (default: --channels).")
  var innerChannels: Int?

  @Option(help: "Height and width of a random input (default: the preset's).")
  var size: Int?

  @Option(help: "Number of RoIs N of a random input (default: the preset's).")
  var batch: Int?

  /// The channels of a random block: --channels, else the preset's.
  var effectiveChannels: Int { channels ?? preset.channels }
  /// The size of a random input: --size, else the preset's.
  var effectiveSize: Int { size ?? preset.size }
  /// The RoIs of a random input: --batch, else the preset's.
  var effectiveBatch: Int { batch ?? preset.batch }

  @Option(help: "Seed of the random block and input.")
  var seed: UInt64 = 7

  @Option(
    help: "The map F: ifr-code (released code), eq5 (the paper's Eq. 5 literally), xshort, mdeq.")
  var form: FormOption = .ifrCode

  @Option(help: "GroupNorm groups (default: the weights file's metadata, else 4).")
  var groups: Int?

  @Option(help: "Floating-point precision: double or float.")
  var precision: PrecisionOption = .double

  @Option(
    help:
      "OpenBLAS threads at most (default: every core; GEMMs too small to share run on one).")
  var threads: Int?

  mutating func validate() throws {
    func positive(_ value: Int, _ flag: String) throws {
      guard value > 0 else { throw ValidationError("--\(flag) must be positive, got \(value)") }
    }
    if let channels { try positive(channels, "channels") }
    if let size { try positive(size, "size") }
    if let batch { try positive(batch, "batch") }
    if let innerChannels { try positive(innerChannels, "inner-channels") }
    if let groups { try positive(groups, "groups") }
    if let threads { try positive(threads, "threads") }
    if weights == nil {
      let g = groups ?? 4
      let c = effectiveChannels
      guard c % g == 0, (innerChannels ?? c) % g == 0 else {
        throw ValidationError(
          "--groups \(g) must divide --channels \(c) and the inner width \(innerChannels ?? c)"
        )
      }
    }
  }
}
