import Foundation
import IFRHead
import Testing
import _DEQTestSupport

/// The spectral radius of ∂F/∂H against PyTorch autograd + NumPy `eigvals` (spectral.json).
@Suite(
  "Spectral radius of ∂F/∂H vs the PyTorch reference",
  .enabled(if: ReferenceData.isAvailable, Comment(rawValue: ReferenceData.skipMessage)))
struct SpectralTests {
  func reference() throws -> [String: [String: [String: Double]]] {
    let data = try Data(contentsOf: ReferenceData.url("spectral.json"))
    return try #require(
      try JSONSerialization.jsonObject(with: data) as? [String: [String: [String: Double]]])
  }

  @Test(
    "at H = 0, after plain steps 1…5 and at the equilibrium",
    arguments: [IFRBlockForm.ifrCode, .xshort, .eq5])
  func spectralRadius(_ form: IFRBlockForm) throws {
    let expected = try #require(try reference()[form.referenceName])
    let block = try ReferenceFiles.block(form: form)
    let x = try ReferenceFiles.npy("x.npy")
    var points: [(String, Tensor<Double>)] = []
    var h = Tensor<Double>(zeros: x.shape)
    for step in 0...5 {
      points.append(("step\(step)", h))
      h = block(h, injection: x)
    }
    if form != .eq5 {
      points.append(("hstar", try ReferenceFiles.npy("h_star_\(form.referenceName).npy")))
    }
    let analysis = DenseSpectralAnalysis(computesConditionNumber: false)
    for roi in 0..<x.shape[0] {
      for (name, point) in points {
        guard let value = expected["roi\(roi)"]?[name] else { continue }
        let jacobian = try block.stateJacobian(at: point.sample(roi), injection: x.sample(roi))
        let rho = try #require(try analysis.spectralRadius(of: jacobian).value)
        #expect(
          relativeDifference(rho, value) < 1e-9, "\(form) roi\(roi) \(name): \(rho) vs \(value)")
      }
    }
  }
}
