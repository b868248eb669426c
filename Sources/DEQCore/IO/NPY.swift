import FoundationEssentials

/// Reading and writing NumPy `.npy` files of float32 and float64 tensors.
///
/// The files are the ones `numpy.save` writes and `numpy.load` reads: little-endian elements
/// (`<f4`, `<f8`) in C (row-major) order, any rank including 0 and zero-size extents, format
/// versions 1.0 and 2.0 (read and write) and 3.0 (read; also written on request).
///
/// ```swift
/// let x: Tensor<Double> = try NPY.read(contentsOf: inputURL)
/// try NPY.write(x.scaled(by: 2), to: outputURL)
/// ```
///
/// ## Precision
///
/// ``read(contentsOf:as:)`` returns the precision you ask for and never converts silently: a
/// file of the other precision throws ``TensorFileError/wrongDType(file:tensor:expected:found:)``.
/// To accept either, call ``readAny(contentsOf:)``, which returns an ``AnyTensor``, and convert
/// explicitly with ``AnyTensor/converted(to:)``.
///
/// ## Validation
///
/// Readers check the whole file before they build a tensor: the magic string and version, the
/// header (parsed as the Python literal it is, with exactly the keys `descr`,
/// `fortran_order` and `shape`), the element type and byte order, the memory order, and that
/// the data are exactly `shape product × element size` bytes (a shorter file is truncated;
/// trailing bytes, such as a second array appended to the same file, are an error too).
/// Arrays in Fortran order are accepted only where that order coincides with C order (at most
/// one extent greater than 1).
///
/// Writers produce the same bytes as `numpy.save` for the same array and replace the
/// destination atomically (a temporary file in the same directory, then `rename`).
public enum NPY {
  /// A version of the `.npy` format.
  ///
  /// Versions differ only in the header: 1.0 has a 16-bit header length and a Latin-1 header,
  /// 2.0 a 32-bit length, and 3.0 a 32-bit length and a UTF-8 header.
  public enum FormatVersion: Sendable, Hashable, CustomStringConvertible {
    /// Format 1.0, which NumPy writes whenever the header fits in 65 535 bytes.
    case version1
    /// Format 2.0, for headers longer than 65 535 bytes.
    case version2
    /// Format 3.0, for headers with non-Latin-1 text (structured dtypes with Unicode names).
    case version3

    /// Creates the version with this major and minor number, if it exists.
    public init?(major: UInt8, minor: UInt8) {
      switch (major, minor) {
      case (1, 0): self = .version1
      case (2, 0): self = .version2
      case (3, 0): self = .version3
      default: return nil
      }
    }

    /// The major version number (1, 2 or 3).
    public var major: UInt8 {
      switch self {
      case .version1: 1
      case .version2: 2
      case .version3: 3
      }
    }

    /// The minor version number (0 for every version so far).
    public var minor: UInt8 { 0 }

    /// The version as NumPy prints it (`"1.0"`).
    public var description: String { "\(major).\(minor)" }

    /// The size in bytes of the little-endian header length field.
    var headerLengthSize: Int { self == .version1 ? 2 : 4 }

    /// How the header text is encoded.
    var headerEncoding: PythonLiteralParser.Encoding { self == .version3 ? .utf8 : .latin1 }
  }

  /// The name in error messages for in-memory `.npy` data read without a label.
  public static let defaultDataLabel = "in-memory .npy data"

  /// The NumPy descriptors of the element types ``readAny(contentsOf:)`` accepts.
  static let supportedDescriptors = [Float.numpyDescriptor, Double.numpyDescriptor]

  // MARK: Reading

  /// Reads a tensor of precision `Scalar` from a `.npy` file.
  ///
  /// - Parameters:
  ///   - url: A file URL.
  ///   - type: The precision, `Float.self` (`<f4` files) or `Double.self` (`<f8` files);
  ///     usually inferred from the context.
  /// - Returns: The tensor, with the file's shape and elements.
  /// - Throws: ``TensorFileError``: `.io` when the file cannot be read; `.wrongDType` when it
  ///   holds the other precision; `.unsupportedDType`, `.bigEndian`, `.fortranOrder`,
  ///   `.truncated`, `.byteCountMismatch`, `.corruptHeader`, `.oversizedHeader` or
  ///   `.unsupportedVersion` when its content is not a valid file of this kind.
  /// - Complexity: O(n) time; the file's bytes and the tensor in memory at once.
  public static func read<Scalar: DEQScalar>(
    contentsOf url: URL, as type: Scalar.Type = Scalar.self
  ) throws(TensorFileError) -> Tensor<Scalar> {
    try read(from: FileIO.read(contentsOf: url), label: FileIO.label(for: url), as: type)
  }

  /// Reads a tensor of precision `Scalar` from the bytes of a `.npy` file.
  ///
  /// - Parameters:
  ///   - data: The complete file content.
  ///   - label: What to call the data in error messages (a path, a URL, a resource name).
  ///   - type: The precision, usually inferred from the context.
  /// - Returns: The tensor, with the file's shape and elements.
  /// - Throws: ``TensorFileError`` as ``read(contentsOf:as:)`` does, except `.io`.
  /// - Complexity: O(n) time and memory.
  public static func read<Scalar: DEQScalar>(
    from data: Data, label: String = defaultDataLabel, as type: Scalar.Type = Scalar.self
  ) throws(TensorFileError) -> Tensor<Scalar> {
    try data.withTypedBytes { (bytes) throws(TensorFileError) in
      let header = try NPYHeader.parse(bytes, file: label)
      guard header.descriptorIsString, header.descriptor == Scalar.numpyDescriptor else {
        throw elementTypeError(header, requested: Scalar.numpyDescriptor, file: label)
      }
      return try decodeData(bytes, header: header, file: label, as: Scalar.self)
    }
  }

  /// Reads a float32 or float64 tensor from a `.npy` file in the precision the file stores.
  ///
  /// - Parameter url: A file URL.
  /// - Returns: `.float` for a `<f4` file, `.double` for a `<f8` file.
  /// - Throws: ``TensorFileError`` as ``read(contentsOf:as:)`` does, except `.wrongDType`.
  /// - Complexity: O(n) time; the file's bytes and the tensor in memory at once.
  public static func readAny(contentsOf url: URL) throws(TensorFileError) -> AnyTensor {
    try readAny(from: FileIO.read(contentsOf: url), label: FileIO.label(for: url))
  }

  /// Reads a float32 or float64 tensor from the bytes of a `.npy` file in the precision the
  /// file stores.
  ///
  /// - Parameters:
  ///   - data: The complete file content.
  ///   - label: What to call the data in error messages.
  /// - Returns: `.float` for `<f4` data, `.double` for `<f8` data.
  /// - Throws: ``TensorFileError`` as ``read(from:label:as:)`` does, except `.wrongDType`.
  /// - Complexity: O(n) time and memory.
  public static func readAny(
    from data: Data, label: String = defaultDataLabel
  ) throws(TensorFileError) -> AnyTensor {
    try data.withTypedBytes { (bytes) throws(TensorFileError) in
      let header = try NPYHeader.parse(bytes, file: label)
      switch (header.descriptorIsString, header.descriptor) {
      case (true, Float.numpyDescriptor):
        return .float(try decodeData(bytes, header: header, file: label, as: Float.self))
      case (true, Double.numpyDescriptor):
        return .double(try decodeData(bytes, header: header, file: label, as: Double.self))
      default:
        throw elementTypeError(header, requested: nil, file: label)
      }
    }
  }

  // MARK: Writing

  /// Writes a tensor to a `.npy` file, atomically replacing any file at `url`.
  ///
  /// The bytes are those `numpy.save` writes for the same array, so `numpy.load` reads the
  /// file back with the same shape, dtype (`<f4` or `<f8`) and elements.
  ///
  /// - Parameters:
  ///   - tensor: The tensor; its elements are written in row-major order.
  ///   - url: A file URL; its directory must exist.
  ///   - version: The format version; `nil` (the default) chooses as NumPy does: 1.0, or 2.0
  ///     for a header too long for 1.0.
  /// - Throws: ``TensorFileError/io(file:operation:message:)`` when the file cannot be written
  ///   (the destination is then unchanged); ``TensorFileError/oversizedHeader(file:length:limit:)``
  ///   when `version` is 1.0 and the header does not fit.
  /// - Complexity: O(n) time; a second copy of the data in memory while writing.
  public static func write<Scalar: DEQScalar>(
    _ tensor: Tensor<Scalar>, to url: URL, version: FormatVersion? = nil
  ) throws(TensorFileError) {
    let data = try encode(tensor, version: version, label: FileIO.label(for: url))
    try FileIO.writeAtomically(data, to: url)
  }

  /// The bytes of a `.npy` file holding a tensor, as ``write(_:to:version:)`` writes them.
  ///
  /// - Parameters:
  ///   - tensor: The tensor; its elements are written in row-major order.
  ///   - version: The format version; `nil` (the default) chooses as NumPy does.
  /// - Returns: The complete file content.
  /// - Throws: ``TensorFileError/oversizedHeader(file:length:limit:)`` when `version` is 1.0
  ///   and the header does not fit.
  /// - Complexity: O(n) time and memory.
  public static func encode<Scalar: DEQScalar>(
    _ tensor: Tensor<Scalar>, version: FormatVersion? = nil
  ) throws(TensorFileError) -> Data {
    try encode(tensor, version: version, label: defaultDataLabel)
  }

  // MARK: Implementation

  static func encode<Scalar: DEQScalar>(
    _ tensor: Tensor<Scalar>, version: FormatVersion?, label: String
  ) throws(TensorFileError) -> Data {
    let header = try NPYHeader.encode(
      descriptor: Scalar.numpyDescriptor, shape: tensor.shape, version: version, file: label)
    var data = Data(
      capacity: header.count + tensor.count * LittleEndianScalars.width(of: Scalar.self))
    data.append(contentsOf: header)
    LittleEndianScalars.append(tensor.scalars, to: &data)
    return data
  }

  /// Checks the memory order and data size, then decodes the elements.
  static func decodeData<Scalar: DEQScalar>(
    _ bytes: UnsafeRawBufferPointer, header: NPYHeader, file: String, as type: Scalar.Type
  ) throws(TensorFileError) -> Tensor<Scalar> {
    if header.fortranOrder, header.count > 0, header.shape.filter({ $0 > 1 }).count > 1 {
      throw .fortranOrder(file: file, shape: header.shape)
    }
    let width = LittleEndianScalars.width(of: Scalar.self)
    let (byteCount, overflow) = header.count.multipliedReportingOverflow(by: width)
    guard !overflow else {
      throw .corruptHeader(file: file, reason: "'shape' \(header.shape) has too many elements")
    }
    let available = bytes.count - header.dataOffset
    guard available >= byteCount else {
      throw .truncated(
        file: file, part: "data", expectedBytes: byteCount, actualBytes: available)
    }
    guard available == byteCount else {
      throw .byteCountMismatch(
        file: file, tensor: nil, shape: header.shape, dtype: header.descriptor,
        expectedBytes: byteCount, actualBytes: available)
    }
    let scalars = LittleEndianScalars.decode(
      UnsafeRawBufferPointer(rebasing: bytes[header.dataOffset...]), count: header.count,
      as: Scalar.self)
    return Tensor(uncheckedShape: header.shape, scalars: scalars)
  }

  /// The error for a header whose element type is not the one `requested` (or, with `nil`,
  /// not one of the supported ones).
  static func elementTypeError(
    _ header: NPYHeader, requested: String?, file: String
  ) -> TensorFileError {
    guard header.descriptorIsString else {
      return .unsupportedDType(file: file, tensor: nil, dtype: header.descriptor)
    }
    if let requested, supportedDescriptors.contains(header.descriptor) {
      return .wrongDType(file: file, tensor: nil, expected: requested, found: header.descriptor)
    }
    if header.descriptor.hasPrefix(">"),
      supportedDescriptors.contains("<" + header.descriptor.dropFirst())
    {
      return .bigEndian(file: file, dtype: header.descriptor)
    }
    return .unsupportedDType(file: file, tensor: nil, dtype: header.descriptor)
  }
}
