import DEQCore
import Foundation
import IFRHead

/// A small IFR problem written to files for `deq gradient`: a weight-normalised block with
/// random GroupNorm affine parameters, and an injection X of `[batch, channels, size, size]`.
///
/// With PyTorch's initial γ = 1, β = 0, the block's last GroupNorm makes ½‖H*‖² almost the
/// constant n/2, so its gradient would be a test of the GroupNorm ε alone; random γ and β
/// give every parameter a gradient of order one.
struct GradientFixture {
  let folder: URL
  let block: IFRBlock<Double>
  let injection: Tensor<Double>

  var weightsPath: String { path("block.safetensors") }
  var inputPath: String { path("x.npy") }
  var fileArguments: [String] { ["--weights", weightsPath, "--input", inputPath, "--quiet"] }

  init(batch: Int, channels: Int = 8, size: Int = 5, seed: UInt64) throws {
    folder = try makeTemporaryFolder()
    var rng = SeededGenerator(seed: seed)
    let initial = IFRBlock<Double>(channels: channels, using: &rng)
    var state = initial.stateDictionary
    // In name order: a Dictionary's order changes from process to process (Swift seeds
    // its hashing per process), and drawing the noise in that order made the fixture a
    // different block on every run, some with a ReLU kink inside a finite-difference
    // stencil.
    for name in state.keys.sorted() where name.hasPrefix("gn") {
      let shape = state[name]?.shape ?? []
      let noise = Tensor<Double>(
        normalWithMean: 0, standardDeviation: 0.5, shape: shape, using: &rng)
      state[name] =
        name.hasSuffix(".weight") ? noise.adding(Tensor(shape: shape) { _ in 1 }) : noise
    }
    block = try IFRBlock(stateDictionary: state, metadata: initial.metadata)
    injection = Tensor(
      normalWithMean: 0, standardDeviation: 1, shape: [batch, channels, size, size], using: &rng)
    try block.write(to: URL(fileURLWithPath: weightsPath))
    try NPY.write(injection, to: URL(fileURLWithPath: inputPath))
  }

  func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

  func remove() { try? FileManager.default.removeItem(at: folder) }
}
