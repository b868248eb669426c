import IFRHead
import Testing

@Suite("Mask-head parameter counts (paper Tables 1, 6, 9)")
struct ParameterCountTests {
  /// Rounds to one decimal, as the paper's "P(M)" columns.
  func rounded(_ millions: Double) -> Double { (millions * 10).rounded() / 10 }

  @Test("the block's listed shapes are the ones it is built with", arguments: [true, false])
  func shapesMatchBlock(_ weightNormalization: Bool) {
    var rng = SeededGenerator(seed: 5)
    let block = IFRBlock<Float>(
      channels: 16, innerChannels: 8, weightNormalization: weightNormalization, using: &rng)
    let listed = IFRBlock<Float>.parameterShapes(
      channels: 16, innerChannels: 8, weightNormalization: weightNormalization)
    #expect(listed.map(\.name) == block.namedParameters.map(\.name))
    #expect(listed.map(\.shape) == block.namedParameters.map(\.tensor.shape))
  }

  @Test("Table 6: four explicit double-residual blocks 5.0M, IFR 1.5M (30%)")
  func table6() {
    let explicit = MaskHeadParameterCount(refinement: .independentBlocks(4))
    let ifr = MaskHeadParameterCount(refinement: .sharedBlock)
    #expect(rounded(explicit.millions) == 5.0, "\(explicit.total)")
    #expect(rounded(ifr.millions) == 1.5, "\(ifr.total)")
    // The abstract's "30.0% parameters" is the ratio of the rounded figures, 1.5 / 5.0.
    #expect(rounded(ifr.millions) / rounded(explicit.millions) == 0.3)
  }

  @Test(
    "Table 9: inner widths 32…512 give 0.4, 0.6, 0.9, 1.5, 2.6M",
    arguments: zip([32, 64, 128, 256, 512], [0.4, 0.6, 0.9, 1.5, 2.6]))
  func table9(_ inner: Int, _ expected: Double) {
    let count = MaskHeadParameterCount(refinement: .sharedBlock, innerChannels: inner)
    #expect(rounded(count.millions) == expected, "\(count.total)")
  }

  @Test("standard Mask R-CNN head (four convs) 2.6M; shared conv about 0.9M")
  func baselines() {
    let standard = MaskHeadParameterCount(refinement: .stackedConvolutions(4))
    #expect(rounded(standard.millions) == 2.6, "\(standard.total)")
    #expect(standard.total == 4 * (256 * 256 * 9 + 256) + 256 * 256 * 4 + 256 + 80 * 256 + 80)
    let shared = MaskHeadParameterCount(refinement: .sharedConvolution)
    #expect(rounded(shared.millions) == 0.9, "\(shared.total)")
  }
}
