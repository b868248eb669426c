/// A tensor file (`.npy` or safetensors) that could not be read or written.
///
/// Every case names the file it is about: its path, or for in-memory data the label the caller
/// passed (see ``NPY/read(from:label:as:)`` and ``SafeTensorsFile/init(data:label:)``), and
/// says what is wrong with it. ``description`` turns that into a sentence a person can act on.
///
/// Readers validate the whole file before they build a tensor, so a thrown error never leaves
/// a half-filled tensor behind; writers replace the destination atomically, so a failed write
/// leaves any previous file untouched.
public enum TensorFileError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file ends before `part` does: `part` needs `expectedBytes` bytes, `actualBytes` remain.
  case truncated(file: String, part: String, expectedBytes: Int, actualBytes: Int)
  /// The header cannot be parsed or lacks what the format requires; `reason` says what and where.
  case corruptHeader(file: String, reason: String)
  /// The header declares `length` bytes, more than the `limit` the format or reader allows.
  case oversizedHeader(file: String, length: UInt64, limit: Int)
  /// The file has a `.npy` magic string but a format version this reader does not know.
  case unsupportedVersion(file: String, major: UInt8, minor: UInt8)
  /// The elements are stored in the other supported precision than the one requested.
  ///
  /// `tensor` is the tensor's name in a safetensors file and `nil` for a `.npy` file;
  /// `expected` and `found` are dtype spellings of the file's format (`"<f8"`, `"F32"`).
  case wrongDType(file: String, tensor: String?, expected: String, found: String)
  /// The elements have a type other than little-endian float32 or float64.
  case unsupportedDType(file: String, tensor: String?, dtype: String)
  /// A `.npy` file stores its elements in big-endian byte order (`dtype` is like `">f8"`).
  case bigEndian(file: String, dtype: String)
  /// A `.npy` file stores an array of this `shape` in Fortran (column-major) order.
  case fortranOrder(file: String, shape: [Int])
  /// A safetensors header names the same tensor twice.
  case duplicateName(file: String, name: String)
  /// The data of a tensor has `actualBytes` bytes, but `shape` of `dtype` needs `expectedBytes`.
  case byteCountMismatch(
    file: String, tensor: String?, shape: [Int], dtype: String, expectedBytes: Int,
    actualBytes: Int)
  /// A safetensors tensor's `data_offsets` do not lie inside the data region of `dataLength`
  /// bytes (or end before they begin).
  case offsetsOutOfRange(file: String, tensor: String, begin: Int, end: Int, dataLength: Int)
  /// Two safetensors tensors claim some of the same bytes.
  case overlappingTensors(file: String, first: String, second: String)
  /// Bytes `begin..<end` of a safetensors data region belong to no tensor.
  case uncoveredData(file: String, begin: Int, end: Int)
  /// A tensor name cannot be written (`"__metadata__"` is reserved by the safetensors format).
  case invalidName(file: String, name: String, reason: String)
  /// ``SafeTensorsFile/tensor(named:)`` was asked for a name the file does not contain.
  case missingTensor(file: String, name: String, available: [String])
  /// The operating system could not `operation` the file (`"read"`, `"write"`, …);
  /// `message` is its explanation.
  case io(file: String, operation: String, message: String)

  /// The path or label of the file the error is about.
  public var file: String {
    switch self {
    case .truncated(let file, _, _, _), .corruptHeader(let file, _),
      .oversizedHeader(let file, _, _), .unsupportedVersion(let file, _, _),
      .wrongDType(let file, _, _, _), .unsupportedDType(let file, _, _),
      .bigEndian(let file, _), .fortranOrder(let file, _), .duplicateName(let file, _),
      .byteCountMismatch(let file, _, _, _, _, _), .offsetsOutOfRange(let file, _, _, _, _),
      .overlappingTensors(let file, _, _), .uncoveredData(let file, _, _),
      .invalidName(let file, _, _), .missingTensor(let file, _, _), .io(let file, _, _):
      file
    }
  }

  /// What went wrong and what to do about it, in one or two sentences.
  public var description: String {
    switch self {
    case .truncated(let file, let part, let expected, let actual):
      "\(file) is truncated: its \(part) needs \(expected) bytes but only \(actual) are left; "
        + "the file was cut short (an interrupted copy or save?), so write it again."
    case .corruptHeader(let file, let reason):
      "\(file) has a corrupt header: \(reason). It is damaged or not a file of this format."
    case .oversizedHeader(let file, let length, let limit):
      "\(file): a header of \(length) bytes exceeds the limit of \(limit) bytes; a header "
        + "this long means the file is damaged or not a file of this format."
    case .unsupportedVersion(let file, let major, let minor):
      "\(file) is a .npy file of format version \(major).\(minor); only versions 1.0, 2.0 "
        + "and 3.0 can be read, so save it again with numpy.save."
    case .wrongDType(let file, let tensor, let expected, let found):
      "\(file)\(Self.tensorPhrase(tensor)) holds \(found) elements, not the \(expected) "
        + "requested; read it without a precision (NPY.readAny or "
        + "SafeTensorsFile.tensor(named:)) and call converted(to:) to change precision."
    case .unsupportedDType(let file, let tensor, let dtype):
      "\(file)\(Self.tensorPhrase(tensor)) holds elements of type \(dtype); only "
        + "little-endian float32 and float64 are supported, so convert it before saving "
        + "(NumPy: a.astype(np.float64); PyTorch: t.double())."
    case .bigEndian(let file, let dtype):
      "\(file) stores big-endian \(dtype) elements; save it again in little-endian order "
        + "(NumPy: np.save(path, a.astype(a.dtype.newbyteorder('<'))))."
    case .fortranOrder(let file, let shape):
      "\(file) stores its \(shape) array in Fortran (column-major) order; save it again in C "
        + "order (NumPy: np.save(path, np.ascontiguousarray(a)))."
    case .duplicateName(let file, let name):
      "\(file) names the tensor '\(name)' more than once, so it is ambiguous which data "
        + "belongs to it; export the tensors again with unique names."
    case .byteCountMismatch(let file, let tensor, let shape, let dtype, let expected, let actual):
      "\(file)\(Self.tensorPhrase(tensor)) has \(actual) bytes of data, but shape \(shape) "
        + "of \(dtype) needs \(expected); the header and the data disagree, so the file is "
        + "damaged or was written by a faulty exporter."
    case .offsetsOutOfRange(let file, let tensor, let begin, let end, let dataLength):
      "\(file): tensor '\(tensor)' claims bytes \(begin)..<\(end), outside the data region "
        + "of \(dataLength) bytes; the file is truncated or its header is damaged."
    case .overlappingTensors(let file, let first, let second):
      "\(file): tensors '\(first)' and '\(second)' share bytes of the data region; "
        + "the header is damaged, so export the tensors again."
    case .uncoveredData(let file, let begin, let end):
      "\(file): bytes \(begin)..<\(end) of the data region belong to no tensor; "
        + "the header is damaged or data was appended, so export the tensors again."
    case .invalidName(let file, let name, let reason):
      "\(file): the tensor name '\(name)' cannot be used: \(reason); rename the tensor."
    case .missingTensor(let file, let name, let available):
      "\(file) has no tensor named '\(name)'; it has \(Self.namesPhrase(available)). "
        + "Check the spelling (PyTorch state_dict names look like 'conv1.weight')."
    case .io(let file, let operation, let message):
      "Could not \(operation) \(file): \(message). Check the path and its permissions."
    }
  }

  private static func tensorPhrase(_ tensor: String?) -> String {
    tensor.map { ": tensor '\($0)'" } ?? ""
  }

  private static func namesPhrase(_ names: [String]) -> String {
    if names.isEmpty { return "no tensors at all" }
    let shown = names.prefix(12).map { "'\($0)'" }.joined(separator: ", ")
    return names.count > 12 ? "\(shown) and \(names.count - 12) more" : shown
  }
}
