import Foundation
import IFRHead
import Testing
import _DEQTestSupport

/// The package's own PyTorch fixtures in `Fixtures/pytorch-seed11`, written by
/// `Tools/export_ifr_fixtures.py` (PyTorch float64 and torchdeq 0.1.0; see Docs/IFR.md).
///
/// Unlike `../shared/reference`, these ship with the package (as test resources), so these
/// tests never skip. The problem: N = 3 RoIs, C = 12, inner width 16, 5 × 7, seed 11, with
/// weight-normalised convolutions.
enum PyTorchFixture {
  /// The fixture folder inside the test bundle.
  static func url(_ name: String) throws -> URL {
    guard let resources = Bundle.module.resourceURL else {
      throw CocoaError(.fileNoSuchFile)
    }
    let url =
      resources
      .appendingPathComponent("Fixtures/pytorch-seed11", isDirectory: true)
      .appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: url.path])
    }
    return url
  }

  static func npy(_ name: String) throws -> Tensor<Double> {
    try NPY.read(contentsOf: url(name))
  }

  static func block(form: IFRBlockForm? = nil) throws -> IFRBlock<Double> {
    try IFRBlock(contentsOf: url("block.safetensors"), form: form)
  }

  static func reference() throws -> Reference {
    try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url("reference.json")))
  }

  /// `reference.json`.
  struct Reference: Decodable {
    struct Meta: Decodable {
      let n, c, inner, h, w, groups, seed: Int
      let gnEps: Double
      enum CodingKeys: String, CodingKey {
        case n = "N"
        case c = "C"
        case inner
        case h = "H"
        case w = "W"
        case groups, seed
        case gnEps = "gn_eps"
      }
    }
    /// torchdeq's traces: `[roi][k]`, k = 0 … 15 (k = 0 is H0 = 0).
    struct Traces: Decodable {
      let absolute: [[Double]]
      let relative: [[Double]]
      enum CodingKeys: String, CodingKey {
        case absolute = "abs_trace"
        case relative = "rel_trace"
      }
    }
    /// The equilibrium by plain steps from H = 0, per RoI.
    struct Equilibrium: Decodable {
      let plainSteps: Int
      let norm: [Double]
      enum CodingKeys: String, CodingKey {
        case plainSteps = "plain_steps"
        case norm
      }
    }
    struct Form: Decodable {
      let broyden15: Traces
      /// `roi<i>` → `h0` / `hstar` → spectral radius of ∂F/∂H.
      let spectral: [String: [String: Double]]
      let equilibrium: Equilibrium
      enum CodingKeys: String, CodingKey {
        case broyden15, spectral
        case equilibrium = "h_star"
      }
    }
    let meta: Meta
    let forms: [String: Form]

    func form(_ form: IFRBlockForm) throws -> Form {
      try #require(forms[form.referenceName], "no \(form.referenceName) in reference.json")
    }
  }
}

@Suite("IFRBlock and Broyden vs the package's PyTorch fixtures (seed 11)")
struct PyTorchFixtureTests {
  @Test("the weight-normalised block loads with the fixture's sizes and metadata")
  func loading() throws {
    let reference = try PyTorchFixture.reference()
    let block = try PyTorchFixture.block()
    let x = try PyTorchFixture.npy("x.npy")
    let meta = reference.meta
    #expect(x.shape == [meta.n, meta.c, meta.h, meta.w])
    #expect(try PyTorchFixture.npy("h_test.npy").shape == x.shape)
    #expect(block.form == .ifrCode)
    #expect(block.channels == meta.c && block.innerChannels == meta.inner)
    #expect(block.innerChannels != block.channels)
    #expect(block.groups == meta.groups && block.epsilon == meta.gnEps)
    #expect(block.conv1Weight.isNormalized && block.conv2Weight.isNormalized)
    #expect(block.conv1Weight.shape == [meta.inner, meta.c, 3, 3])
    #expect(block.conv2Weight.shape == [meta.c, meta.inner, 3, 3])
    // Saving keeps the weight-norm names.
    let names = Set(block.stateDictionary.keys)
    #expect(names.isSuperset(of: ["conv1.weight_g", "conv1.weight_v", "conv2.weight_g"]))
    #expect(!names.contains("conv1.weight"))
  }

  @Test(
    "F(h_test; X) and F(0; X) match PyTorch to 1e-12 relative, by im2col and by Winograd",
    arguments: [IFRBlockForm.ifrCode, .xshort, .eq5], ConvolutionAlgorithm.allCases)
  func forward(_ form: IFRBlockForm, _ convolution: ConvolutionAlgorithm) throws {
    let block = try PyTorchFixture.block(form: form)
    let x = try PyTorchFixture.npy("x.npy")
    let h = try PyTorchFixture.npy("h_test.npy")
    let atTest = try PyTorchFixture.npy("f_\(form.referenceName)_h_test.npy")
    let atZero = try PyTorchFixture.npy("f_\(form.referenceName)_zeros.npy")
    let workspace = block.makeWorkspace(
      height: x.shape[2], width: x.shape[3], capacity: x.shape[0], convolution: convolution)
    let errorTest = relativeError(workspace.evaluate(state: h, injection: x), atTest)
    let errorZero = relativeError(
      workspace.evaluate(state: Tensor(zeros: x.shape), injection: x), atZero)
    #expect(errorTest < 1e-12, "\(form) \(convolution) at h_test: \(errorTest)")
    #expect(errorZero < 1e-12, "\(form) \(convolution) at 0: \(errorZero)")
  }

  @Test(
    "per-RoI Broyden-15 residual traces match torchdeq's to 1e-8 at all 16 entries",
    arguments: [IFRBlockForm.ifrCode, .xshort])
  func broydenTraces(_ form: IFRBlockForm) throws {
    let reference = try PyTorchFixture.reference().form(form).broyden15
    let block = try PyTorchFixture.block(form: form)
    let x = try PyTorchFixture.npy("x.npy")
    let roiShape = [1] + x.shape.dropFirst()
    try #require(reference.absolute.count == x.shape[0])
    for roi in 0..<x.shape[0] {
      let injection = try x.sample(roi).reshaped(to: roiShape)
      let problem = FixedPointProblem(start: Tensor<Double>(zeros: roiShape)) { h in
        block(h, injection: injection)
      }
      let solution = solve(problem, using: Broyden(), stopping: .ifr)
      try #require(solution.trace.count == 16, "\(form) RoI \(roi): \(solution.trace.count)")
      try #require(reference.absolute[roi].count == 16 && reference.relative[roi].count == 16)
      #expect(solution.historyRestarts == 0)
      for k in 0...15 {
        let ours = solution.trace[k]
        let absolute = relativeDifference(ours.absoluteResidual, reference.absolute[roi][k])
        let relative = relativeDifference(ours.relativeResidual, reference.relative[roi][k])
        #expect(
          absolute < 1e-8,
          "\(form) RoI \(roi) step \(k): \(ours.absoluteResidual) vs \(reference.absolute[roi][k])"
        )
        #expect(
          relative < 1e-8,
          "\(form) RoI \(roi) step \(k): \(ours.relativeResidual) vs \(reference.relative[roi][k])"
        )
      }
    }
  }

  @Test(
    "the dense spectral radius of ∂F/∂H at H = 0 and at H* matches NumPy's to 1e-9",
    arguments: [IFRBlockForm.ifrCode, .xshort])
  func spectralRadius(_ form: IFRBlockForm) throws {
    let reference = try PyTorchFixture.reference().form(form)
    let block = try PyTorchFixture.block(form: form)
    let x = try PyTorchFixture.npy("x.npy")
    // The equilibrium as the exporter found it: plain steps from H = 0.
    var hStar = Tensor<Double>(zeros: x.shape)
    for _ in 0..<reference.equilibrium.plainSteps { hStar = block(hStar, injection: x) }
    let analysis = DenseSpectralAnalysis(computesConditionNumber: false)
    for roi in 0..<x.shape[0] {
      let injection = x.sample(roi)
      let state = hStar.sample(roi)
      let residual = block(hStar, injection: x).sample(roi).subtracting(state).norm()
      #expect(residual < 1e-12, "\(form) RoI \(roi): residual at H* \(residual)")
      let norm = relativeDifference(state.norm(), reference.equilibrium.norm[roi])
      #expect(norm < 1e-10, "\(form) RoI \(roi): ‖H*‖ differs by \(norm)")
      let expected = try #require(reference.spectral["roi\(roi)"])
      for (name, point) in [("h0", Tensor<Double>(zeros: state.shape)), ("hstar", state)] {
        let value = try #require(expected[name])
        let jacobian = try block.stateJacobian(at: point, injection: injection)
        let rho = try #require(try analysis.spectralRadius(of: jacobian).value)
        #expect(
          relativeDifference(rho, value) < 1e-9, "\(form) RoI \(roi) \(name): \(rho) vs \(value)")
      }
    }
  }
}
