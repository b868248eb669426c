import ArgumentParser
import FoundationEssentials
import IFRHead

/// `deq params`: the mask-head parameter counts of the paper's tables, from layer shapes.
struct Params: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Mask R-CNN mask-head parameter counts: IFR, the explicit heads, Table 9 widths.",
    discussion: """
      Counted from the layers' tensor shapes (refinement, then the 2× transposed conv \
      256→256 and the 1×1 predictor to 80 classes), not typed in: Table 6 compares four \
      explicit double-residual blocks with IFR's one shared block, Table 9 varies the \
      block's inner width.

      Examples:
        deq params
        deq params --format json
      """)

  @OptionGroup(title: "Output") var output: OutputOptions

  @Option(help: "RoI feature channels.")
  var channels: Int = 256

  @Option(help: "Mask classes of the predictor.")
  var classes: Int = 80

  func validate() throws {
    guard channels > 0 else {
      throw ValidationError("--channels must be positive, got \(channels)")
    }
    guard classes > 0 else { throw ValidationError("--classes must be positive, got \(classes)") }
  }

  var heads: [Reports.Head] {
    func head(_ name: String, _ refinement: MaskHeadParameterCount.Refinement, inner: Int? = nil)
      -> Reports.Head
    {
      let count = MaskHeadParameterCount(
        refinement: refinement, channels: channels, innerChannels: inner, classes: classes)
      return Reports.Head(name: name, innerChannels: count.innerChannels, parameters: count.total)
    }
    var heads = [
      head("mask-rcnn-4conv", .stackedConvolutions(4)),
      head("shared-conv", .sharedConvolution),
      head("explicit-4-blocks", .independentBlocks(4)),
      head("ifr", .sharedBlock),
    ]
    for width in [32, 64, 128, 256, 512] where width % 4 == 0 {
      heads.append(head("ifr-inner-\(width)", .sharedBlock, inner: width))
    }
    return heads
  }

  func run() throws {
    let emitter = Emitter(options: output, inputs: [])
    let heads = self.heads
    switch output.format {
    case .json: try emitter.emit(Emitter.json(Reports.ParamsDocument(heads: heads)))
    case .csv:
      try emitter.emit(
        "name,innerChannels,parameters\n"
          + heads.map { "\($0.name),\($0.innerChannels),\($0.parameters)" }.joined(separator: "\n")
          + "\n")
    case .table:
      var table = TextTable(headers: ["head", "inner width", "parameters", "millions"])
      for head in heads {
        table.append([
          head.name, "\(head.innerChannels)", "\(head.parameters)",
          String(cFormat: "%.1fM", Double(head.parameters) / 1e6),
        ])
      }
      try emitter.emit(
        "Mask-head parameters (\(channels) channels, \(classes) classes), from layer shapes\n\n"
          + table.render())
    }
  }
}
