import Foundation
import IFRHead
import Testing
import _DEQTestSupport

/// `Fixtures/pytorch-mask-head`, written by `Tools/export_mask_head_fixture.py` (PyTorch
/// float64 autograd): a mask head with two explicit IFR blocks, the transposed convolution,
/// ReLU, the 1×1 predictor and the BCE on each RoI's class channel; its logits, loss and
/// every gradient.
@Suite("MaskHead against PyTorch autograd")
struct MaskHeadPyTorchTests {
  static func url(_ name: String) throws -> URL {
    guard let resources = Bundle.module.resourceURL else { throw CocoaError(.fileNoSuchFile) }
    return resources.appendingPathComponent("Fixtures/pytorch-mask-head/\(name)")
  }

  struct Meta: Decodable {
    let classIndices: [Int]
    let loss: Double
  }

  @Test("logits, loss, ∂L/∂θ for every tensor and ∂L/∂X equal PyTorch's (double)")
  func matchesAutograd() throws {
    let meta = try JSONDecoder().decode(Meta.self, from: Data(contentsOf: Self.url("meta.json")))
    let file = try SafeTensorsFile(contentsOf: Self.url("head.safetensors"))
    let gradients = try SafeTensorsFile(contentsOf: Self.url("gradients.safetensors"))
    let x: Tensor<Double> = try NPY.read(contentsOf: Self.url("x.npy"))
    let targets: Tensor<Double> = try NPY.read(contentsOf: Self.url("targets.npy"))
    let expectedLogits: Tensor<Double> = try NPY.read(contentsOf: Self.url("logits.npy"))
    let expectedDX: Tensor<Double> = try NPY.read(contentsOf: Self.url("dx.npy"))

    var rng = SeededGenerator(seed: 1)
    var head = MaskHead<Double>(
      configuration: MaskHeadConfiguration(
        refinement: .explicit, channels: 8, classes: 3, depth: 2),
      using: &rng)
    try head.loadStateDictionary(file.tensors.mapValues { $0.converted(to: Double.self) })

    let forward = head.forward(x)
    #expect(relativeError(forward.logits, expectedLogits) < 1e-12)
    let (loss, cotangent) = try head.loss(forward, targets: targets, classes: meta.classIndices)
    #expect(loss.isApproximatelyEqual(to: meta.loss, relativeTolerance: 1e-12))
    let gradient = head.backward(forward, logitsCotangent: cotangent)
    for entry in gradient.parameters.entries {
      let expected = try gradients.tensor(named: entry.name, as: Double.self)
      let error = relativeError(gradient.parameters.tensor(entry), expected)
      #expect(error < 1e-10, "\(entry.name): \(error)")
    }
    #expect(relativeError(gradient.features, expectedDX) < 1e-10)
  }
}
