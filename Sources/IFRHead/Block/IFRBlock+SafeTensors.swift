// Loading and saving an IFRBlock as a safetensors file under PyTorch state_dict names, so a
// block exported from PyTorch (`safetensors.torch.save_file(block.state_dict(), path,
// metadata={...})`) loads here and a block made here loads there.

import FoundationEssentials

extension IFRBlock {
  /// Creates a block from a safetensors file under PyTorch state_dict names.
  ///
  /// Tensors stored in the other precision are converted. The file's `__metadata__`
  /// entries `groups`, `gn_eps` and `form` are honoured (see
  /// ``init(stateDictionary:metadata:form:)``).
  ///
  /// ```swift
  /// let block = try IFRBlock<Double>(contentsOf: URL(fileURLWithPath: "block.safetensors"))
  /// ```
  /// - Parameters:
  ///   - url: a file URL.
  ///   - form: the form to compute; `nil` takes the file's metadata, else `ifrCode`.
  /// - Throws: ``IFRHeadError/tensorFile(_:)`` when the file cannot be read as safetensors;
  ///   otherwise as ``init(stateDictionary:metadata:form:)``, naming the offending tensor.
  public init(contentsOf url: URL, form: IFRBlockForm? = nil) throws(IFRHeadError) {
    let file: SafeTensorsFile
    do {
      file = try SafeTensorsFile(contentsOf: url)
    } catch {
      throw .tensorFile(error)
    }
    try self.init(safeTensors: file, form: form)
  }

  /// Creates a block from a parsed safetensors file (see ``init(contentsOf:form:)``).
  public init(safeTensors file: SafeTensorsFile, form: IFRBlockForm? = nil) throws(IFRHeadError) {
    try self.init(
      stateDictionary: file.tensors.mapValues { $0.converted(to: Scalar.self) },
      metadata: file.metadata, form: form)
  }

  /// The block as a safetensors file: its state_dict and metadata (`groups`, `gn_eps`,
  /// `form`).
  public var safeTensors: SafeTensorsFile {
    SafeTensorsFile(tensors: stateDictionary.mapValues { AnyTensor($0) }, metadata: metadata)
  }

  /// Writes the block as a safetensors file.
  ///
  /// - Throws: ``IFRHeadError/tensorFile(_:)`` when the file cannot be written.
  public func write(to url: URL) throws(IFRHeadError) {
    do {
      try safeTensors.write(to: url)
    } catch {
      throw .tensorFile(error)
    }
  }
}
