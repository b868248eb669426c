import DEQCore
import Foundation
import Testing
import _DEQTestSupport

/// The shared reference data (`ReferenceData.directory`: `../shared/reference/ifr-small`
/// beside the package, or `DEQ_REFERENCE_DIR`).
let referenceDirectory = ReferenceData.directory

/// The expected values were read with NumPy 2.4.6 (`np.load`, and `np.frombuffer` on the
/// safetensors data region). Files are read losslessly, so the elements must equal NumPy's
/// exactly; the literals are the shortest decimal forms of those doubles, which round-trip.
@Suite(
  "Reference files from the IFR export",
  .enabled(if: ReferenceData.isAvailable, Comment(rawValue: ReferenceData.skipMessage)))
struct ReferenceFilesTests {
  @Test("x.npy holds the N × C × H × W input of the IFR block")
  func input() throws {
    let url = referenceDirectory.appendingPathComponent("x.npy")
    let x = try NPY.read(contentsOf: url, as: Double.self)
    #expect(x.shape == [2, 8, 6, 6])
    #expect(x[0, 0, 0, 0] == 0.09120471661981977)
    #expect(x[0, 1, 2, 3] == -1.7791130361437686)
    #expect(x[1, 3, 2, 4] == -0.5927251998809306)
    #expect(x[1, 7, 5, 5] == 2.37498282552672)

    let error = #expect(throws: TensorFileError.self) {
      try NPY.read(contentsOf: url, as: Float.self)
    }
    #expect(
      error
        == .wrongDType(
          file: url.path(percentEncoded: false), tensor: nil, expected: "<f4", found: "<f8"))
  }

  @Test("block.safetensors holds the block's weights and its metadata")
  func block() throws {
    let url = referenceDirectory.appendingPathComponent("block.safetensors")
    let block = try SafeTensorsFile(contentsOf: url)
    #expect(
      block.names == [
        "conv1.weight", "conv2.weight", "gn1.bias", "gn1.weight", "gn2.bias", "gn2.weight",
        "gn3.bias", "gn3.weight",
      ])
    #expect(block.metadata == ["groups": "4", "gn_eps": "1e-05", "form": "ifr_code"])

    let conv1 = try block.tensor(named: "conv1.weight", as: Double.self)
    #expect(conv1.shape == [8, 8, 3, 3])
    #expect(conv1[flat: 0] == -0.0998650939054011)
    #expect(conv1[flat: 7] == -0.10086851520080338)
    #expect(conv1[7, 7, 2, 2] == -0.022289912362895556)
    let conv2 = try block.tensor(named: "conv2.weight", as: Double.self)
    #expect(conv2.shape == [8, 8, 3, 3])
    #expect(conv2[flat: 0] == -0.08127143770735093)
    #expect(conv2[7, 7, 2, 2] == 0.09554318843884636)
    let gn1Weight = try block.tensor(named: "gn1.weight", as: Double.self)
    #expect(gn1Weight.shape == [8])
    #expect(gn1Weight[0] == 0.8509926212192183)
    #expect(try block.tensor(named: "gn3.bias", as: Double.self)[7] == -0.04800530049588564)

    // Our own file of the same contents reads back equal.
    let rewritten = try SafeTensorsFile(data: try block.encoded())
    #expect(rewritten == block)
  }
}
