import IFRHead
import Testing
import _DEQTestSupport

/// The block against PyTorch's float64 reference problem (`../shared/reference/ifr-small`).
@Suite(
  "IFRBlock vs the PyTorch reference",
  .enabled(if: ReferenceData.isAvailable, Comment(rawValue: ReferenceData.skipMessage)))
struct IFRBlockReferenceTests {
  static let referenceForms: [IFRBlockForm] = [.ifrCode, .xshort, .eq5]

  @Test(
    "F(h_test; X) and F(0; X) match PyTorch to 1e-12, by im2col and by Winograd",
    arguments: referenceForms, ConvolutionAlgorithm.allCases)
  func forward(_ form: IFRBlockForm, _ convolution: ConvolutionAlgorithm) throws {
    let block = try ReferenceFiles.block(form: form)
    let x = try ReferenceFiles.npy("x.npy")
    let h = try ReferenceFiles.npy("h_test.npy")
    let atTest = try ReferenceFiles.npy("f_\(form.referenceName)_h_test.npy")
    let atZero = try ReferenceFiles.npy("f_\(form.referenceName)_zeros.npy")
    let workspace = block.makeWorkspace(
      height: x.shape[2], width: x.shape[3], capacity: x.shape[0], convolution: convolution)
    let errorTest = relativeError(workspace.evaluate(state: h, injection: x), atTest)
    let errorZero = relativeError(
      workspace.evaluate(state: Tensor(zeros: x.shape), injection: x), atZero)
    #expect(errorTest < 1e-12, "\(form) \(convolution): \(errorTest)")
    #expect(errorZero < 1e-12, "\(form) \(convolution): \(errorZero)")
  }

  @Test(
    "3,000 plain steps from H = 0 reproduce h_star to 1e-10",
    arguments: [IFRBlockForm.ifrCode, .xshort])
  func equilibrium(_ form: IFRBlockForm) throws {
    let block = try ReferenceFiles.block(form: form)
    let x = try ReferenceFiles.npy("x.npy")
    let expected = try ReferenceFiles.npy("h_star_\(form.referenceName).npy")
    var h = Tensor<Double>(zeros: x.shape)
    for _ in 0..<3000 { h = block(h, injection: x) }
    let residual = block(h, injection: x).subtracting(h).norm()
    let error = relativeError(h, expected)
    #expect(error < 1e-10, "\(form): ‖H − h_star‖/‖h_star‖ = \(error)")
    #expect(residual < 1e-12, "\(form): residual \(residual)")
  }

  @Test("loading honours the metadata (groups, gn_eps, form)")
  func metadata() throws {
    let file = try ReferenceFiles.safetensors()
    let metadata = file.metadata
    let block = try IFRBlock<Double>(safeTensors: file)
    #expect(block.form == IFRBlockForm(referenceName: metadata["form"] ?? ""))
    #expect(block.groups == 4 && block.epsilon == 1e-5)
    #expect(block.channels == 8 && block.innerChannels == 8)
    #expect(!block.conv1Weight.isNormalized)
    let eq5 = try IFRBlock<Double>(safeTensors: file, form: .eq5)
    #expect(eq5.form == .eq5)
    // Float loads the float64 file by conversion.
    let single = try IFRBlock<Float>(safeTensors: file)
    #expect(single.parameterVector.count == block.parameterCount)
  }
}
