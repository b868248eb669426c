import Foundation
import IFRHead
import _DEQTestSupport

/// The reference folder's files through the library's readers.
enum ReferenceFiles {
  /// A float64 `.npy` array of the reference folder.
  static func npy(_ name: String) throws -> Tensor<Double> {
    try NPY.read(contentsOf: ReferenceData.url(name))
  }

  /// The reference block's safetensors file.
  static func safetensors() throws -> SafeTensorsFile {
    try SafeTensorsFile(contentsOf: ReferenceData.url("block.safetensors"))
  }

  /// The reference block in the given form.
  static func block(form: IFRBlockForm) throws -> IFRBlock<Double> {
    try IFRBlock(contentsOf: ReferenceData.url("block.safetensors"), form: form)
  }
}
