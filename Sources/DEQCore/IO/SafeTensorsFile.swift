import FoundationEssentials

/// The contents of a safetensors file: named float32/float64 tensors and a string metadata map.
///
/// The format (Hugging Face's `safetensors`) is an 8-byte little-endian header length, a JSON
/// header, and a data region:
///
/// ```
/// {"__metadata__": {"groups": "4"},
///  "conv1.weight": {"dtype": "F64", "shape": [8, 8, 3, 3], "data_offsets": [0, 4608]}, …}
/// ```
///
/// Offsets are relative to the start of the data region; elements are little-endian, row-major.
///
/// ```swift
/// let block = try SafeTensorsFile(contentsOf: url)
/// let w: Tensor<Double> = try block.tensor(named: "conv1.weight")
/// let groups = block.metadata["groups"]
/// ```
///
/// ## Validation
///
/// Reading checks the whole file before it returns: the header length (at most
/// ``maximumHeaderLength`` bytes, and inside the file), the JSON (parsed strictly; a name
/// that appears twice is ``TensorFileError/duplicateName(file:name:)``, which JSON libraries
/// usually hide by keeping one), every entry's dtype (`F32` or `F64`, otherwise
/// ``TensorFileError/unsupportedDType(file:tensor:dtype:)`` naming the tensor), shape and
/// offsets (inside the data region, exactly `shape product × dtype size` bytes), and that the
/// tensors tile the data region with no overlap and no gap.
///
/// ## Writing
///
/// ``write(to:)`` lays the tensors out in name order, puts `__metadata__` first (omitted when
/// empty), pads the header with spaces to a multiple of 8 bytes as the reference
/// implementation does, and replaces the destination atomically.
public struct SafeTensorsFile: Sendable, Equatable {
  /// The longest header accepted or written, 100 MB, the limit of the reference implementation.
  public static let maximumHeaderLength = 100_000_000
  /// The name in error messages for in-memory data read without a label.
  public static let defaultDataLabel = "in-memory safetensors data"
  /// The name in error messages for a value that was built in memory rather than read.
  public static let unsavedLabel = "unsaved safetensors file"
  /// The header key the format reserves for the metadata map.
  public static let metadataKey = "__metadata__"

  /// The tensors, by name.
  public var tensors: [String: AnyTensor]
  /// Free-form string metadata (the header's `__metadata__` map).
  public var metadata: [String: String]
  /// The path or label the contents were read from, used in error messages; for a value built
  /// in memory, ``unsavedLabel``. It takes no part in equality.
  public var source: String

  /// Creates contents to write.
  ///
  /// - Parameters:
  ///   - tensors: The tensors, by name (any name but `"__metadata__"`).
  ///   - metadata: String metadata to store alongside.
  public init(tensors: [String: AnyTensor] = [:], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
    self.source = Self.unsavedLabel
  }

  /// Reads a safetensors file.
  ///
  /// - Parameter url: A file URL.
  /// - Throws: ``TensorFileError``: `.io` when the file cannot be read; `.truncated`,
  ///   `.oversizedHeader`, `.corruptHeader`, `.duplicateName`, `.unsupportedDType`,
  ///   `.byteCountMismatch`, `.offsetsOutOfRange`, `.overlappingTensors` or `.uncoveredData`
  ///   when its content is not a valid safetensors file of float32/float64 tensors.
  /// - Complexity: O(file size) time; each tensor is read straight into its own storage (the
  ///   file is not held in memory as a whole).
  public init(contentsOf url: URL) throws(TensorFileError) {
    self = try FileIO.withOpenFile(url) { (file) throws(TensorFileError) in
      try SafeTensorsCodec.decode(file)
    }
  }

  /// Reads safetensors data from memory.
  ///
  /// - Parameters:
  ///   - data: The complete file content.
  ///   - label: What to call the data in error messages.
  /// - Throws: ``TensorFileError`` as ``init(contentsOf:)`` does, except `.io`.
  /// - Complexity: O(data size) time and memory.
  public init(data: Data, label: String = defaultDataLabel) throws(TensorFileError) {
    self = try data.withTypedBytes { (bytes) throws(TensorFileError) in
      try SafeTensorsCodec.decode(bytes, file: label)
    }
  }

  /// The tensor names, sorted.
  public var names: [String] { tensors.keys.sorted() }

  /// The tensor with this name, in the precision the file stores.
  ///
  /// - Throws: ``TensorFileError/missingTensor(file:name:available:)`` when there is none.
  public func tensor(named name: String) throws(TensorFileError) -> AnyTensor {
    guard let tensor = tensors[name] else {
      throw .missingTensor(file: source, name: name, available: names)
    }
    return tensor
  }

  /// The tensor with this name, which must be stored in precision `Scalar`.
  ///
  /// - Parameters:
  ///   - name: The tensor's name (`"conv1.weight"`).
  ///   - type: The precision, usually inferred from the context.
  /// - Throws: ``TensorFileError/missingTensor(file:name:available:)`` when there is no such
  ///   tensor; ``TensorFileError/wrongDType(file:tensor:expected:found:)`` when it is stored in
  ///   the other precision (convert explicitly with `tensor(named:).converted(to:)`).
  public func tensor<Scalar: DEQScalar>(
    named name: String, as type: Scalar.Type = Scalar.self
  ) throws(TensorFileError) -> Tensor<Scalar> {
    let stored = try tensor(named: name)
    guard let tensor = stored.tensor(as: Scalar.self) else {
      throw .wrongDType(
        file: source, tensor: name, expected: Scalar.safetensorsDType,
        found: stored.safetensorsDType)
    }
    return tensor
  }

  /// Writes the tensors and metadata to a safetensors file, atomically replacing any file at
  /// `url`.
  ///
  /// - Parameter url: A file URL; its directory must exist.
  /// - Throws: ``TensorFileError/invalidName(file:name:reason:)`` for a tensor named
  ///   `"__metadata__"`; ``TensorFileError/io(file:operation:message:)`` when the file cannot
  ///   be written (the destination is then unchanged).
  /// - Complexity: O(total size) time; a second copy of the data in memory while writing.
  public func write(to url: URL) throws(TensorFileError) {
    let data = try SafeTensorsCodec.encode(self, file: FileIO.label(for: url))
    try FileIO.writeAtomically(data, to: url)
  }

  /// The bytes of the safetensors file ``write(to:)`` writes.
  ///
  /// - Throws: ``TensorFileError/invalidName(file:name:reason:)`` for a tensor named
  ///   `"__metadata__"`.
  /// - Complexity: O(total size) time and memory.
  public func encoded() throws(TensorFileError) -> Data {
    try SafeTensorsCodec.encode(self, file: source)
  }

  /// Whether two values hold the same tensors (same names, precisions, shapes and elements)
  /// and the same metadata; ``source`` is not compared.
  public static func == (lhs: SafeTensorsFile, rhs: SafeTensorsFile) -> Bool {
    lhs.tensors == rhs.tensors && lhs.metadata == rhs.metadata
  }
}
