import DEQCore
import Foundation
import Testing

/// Bytes of a `.npy` file with a hand-written header, for malformed-file tests.
///
/// - Parameters:
///   - header: The header text, written as is (no padding is added).
///   - major: The format version's major number; 1 gives a 2-byte length field, else 4 bytes.
///   - declaredLength: The header length to declare; `nil` for the real one.
///   - data: The bytes after the header.
func npyBytes(
  header: String, major: UInt8 = 1, declaredLength: UInt64? = nil, data: [UInt8] = []
) -> Data {
  let text = Array(header.utf8)
  let length = declaredLength ?? UInt64(text.count)
  var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
  for index in 0..<(major == 1 ? 2 : 4) {
    bytes.append(UInt8(truncatingIfNeeded: length >> (8 * index)))
  }
  return Data(bytes + text + data)
}

@Suite("NPY files")
struct NPYTests {
  static let precisions: [any DEQScalar.Type] = [Float.self, Double.self]
  static let shapes: [[Int]] = [
    [], [1], [7], [2, 3], [0], [2, 0, 3], [2, 3, 4, 5], [1, 1, 1, 1, 1],
  ]

  // MARK: Round trips

  @Test("A tensor written to a file reads back bit for bit", arguments: precisions, shapes)
  func fileRoundTrip(precision: any DEQScalar.Type, shape: [Int]) throws {
    try fileRoundTrip(precision, shape: shape)
  }

  private func fileRoundTrip<Scalar: DEQScalar>(_: Scalar.Type, shape: [Int]) throws {
    var tensor = Tensor<Scalar>(shape: shape) { Scalar($0) * 0.37 - 1.5 }
    if tensor.count > 2 {
      tensor[flat: 0] = -0.0
      tensor[flat: 1] = .nan
      tensor[flat: 2] = -.infinity
    }
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("tensor.npy")
      try NPY.write(tensor, to: url)
      let back = try NPY.read(contentsOf: url, as: Scalar.self)
      #expect(back.shape == shape)
      #expect(bitPatterns(back) == bitPatterns(tensor))
      let any = try NPY.readAny(contentsOf: url)
      #expect(any.shape == shape)
      #expect(any.numpyDescriptor == Scalar.numpyDescriptor)
      #expect(try directoryEntries(directory) == ["tensor.npy"])
    }
  }

  @Test(
    "In-memory data round-trips in every format version", arguments: precisions,
    [
      NPY.FormatVersion.version1, .version2, .version3,
    ])
  func dataRoundTrip(precision: any DEQScalar.Type, version: NPY.FormatVersion) throws {
    try dataRoundTrip(precision, version: version)
  }

  private func dataRoundTrip<Scalar: DEQScalar>(
    _: Scalar.Type, version: NPY.FormatVersion
  ) throws {
    let tensor = Tensor<Scalar>(shape: [3, 2]) { Scalar($0) / 3 }
    let data = try NPY.encode(tensor, version: version)
    #expect(data[6] == version.major && data[7] == 0)
    #expect(data.count % 64 == tensor.count * MemoryLayout<Scalar>.size % 64)
    let back: Tensor<Scalar> = try NPY.read(from: data)
    #expect(back == tensor)
  }

  // MARK: Files written by NumPy

  @Test(
    "Files written by NumPy read with their shape and exact elements",
    arguments: NPYFixtures.valid)
  func readsNumPyFiles(fixture: NPYFixture) throws {
    let data = try #require(fixture.data)
    let tensor = try NPY.readAny(from: data, label: fixture.name)
    #expect(tensor.shape == fixture.shape)
    #expect(tensor.numpyDescriptor == fixture.descriptor)
    #expect(bitPatterns(tensor) == fixture.bitPatterns)
    switch tensor {
    case .float:
      #expect(try NPY.read(from: data, as: Float.self).shape == fixture.shape)
    case .double:
      #expect(try NPY.read(from: data, as: Double.self).shape == fixture.shape)
    }
  }

  /// Our writer produces NumPy's bytes exactly (same header text, padding and alignment), so
  /// `numpy.load` reads what we write. This was also checked by hand with NumPy 2.4.6: files
  /// written by `NPY.write` for every shape of `shapes`, in both precisions, loaded with
  /// `numpy.load` with the right dtype, shape and elements.
  @Test("Written bytes are identical to NumPy's for the same array", arguments: NPYFixtures.valid)
  func writesNumPyBytes(fixture: NPYFixture) throws {
    let data = try #require(fixture.data)
    let encoded =
      switch try NPY.readAny(from: data) {
      case .float(let tensor): try NPY.encode(tensor, version: fixture.version)
      case .double(let tensor): try NPY.encode(tensor, version: fixture.version)
      }
    #expect(encoded == data)
  }

  @Test("The other precision is refused, and converts only when asked")
  func precisionIsExplicit() throws {
    let float = try #require(NPYFixtures.valid.first { $0.name == "float32 rank 2" })
    let data = try #require(float.data)
    let error = #expect(throws: TensorFileError.self) {
      try NPY.read(from: data, label: "f.npy", as: Double.self)
    }
    #expect(error == .wrongDType(file: "f.npy", tensor: nil, expected: "<f8", found: "<f4"))
    #expect(error?.description.contains("converted(to:)") == true)

    let single = try NPY.read(from: data, as: Float.self)
    let widened = try NPY.readAny(from: data).converted(to: Double.self)
    #expect(widened.shape == single.shape)
    #expect(widened.scalars == single.scalars.map { Double($0) })
    #expect(try NPY.readAny(from: data).tensor(as: Double.self) == nil)
  }

  // MARK: Files that must be refused

  @Test("Files NumPy writes in unsupported layouts are refused with the reason")
  func refusesUnsupportedNumPyFiles() throws {
    func error(_ name: String) throws -> TensorFileError? {
      let data = try #require(
        NPYFixtures.refused[name].flatMap {
          Data(base64Encoded: $0, options: .ignoreUnknownCharacters)
        })
      return #expect(throws: TensorFileError.self) { try NPY.readAny(from: data, label: name) }
    }
    #expect(try error("big-endian") == .bigEndian(file: "big-endian", dtype: ">f8"))
    #expect(try error("fortran order") == .fortranOrder(file: "fortran order", shape: [2, 3]))
    #expect(try error("int32") == .unsupportedDType(file: "int32", tensor: nil, dtype: "<i4"))
    #expect(try error("float16") == .unsupportedDType(file: "float16", tensor: nil, dtype: "<f2"))
    #expect(
      try error("structured")
        == .unsupportedDType(
          file: "structured", tensor: nil, dtype: "[('a', '<f8'), ('b', '<f4')]"))
  }

  @Test("Fortran order is accepted where it coincides with C order")
  func acceptsTrivialFortranOrder() throws {
    let data = npyBytes(
      header: "{'descr': '<f8', 'fortran_order': True, 'shape': (1, 2, 1), }\n",
      data: [UInt8](repeating: 0, count: 16))
    #expect(try NPY.read(from: data, as: Double.self).shape == [1, 2, 1])
  }

  @Test("Python 2 headers with long-integer suffixes are read")
  func acceptsLongSuffix() throws {
    let data = npyBytes(
      header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }\n",
      data: [0, 0, 128, 63, 0, 0, 0, 64])
    #expect(try NPY.read(from: data, as: Float.self) == Tensor(shape: [2, 1], scalars: [1, 2]))
  }

  @Test("A truncated file is reported with the part that is cut short")
  func truncated() throws {
    let fixture = try #require(NPYFixtures.valid.first { $0.name == "float64 rank 2" })
    let data = try #require(fixture.data)
    func error(_ bytes: Data) -> TensorFileError? {
      #expect(throws: TensorFileError.self) {
        try NPY.read(from: bytes, label: "t", as: Double.self)
      }
    }
    #expect(
      error(Data())
        == .truncated(
          file: "t", part: "magic string and format version", expectedBytes: 8, actualBytes: 0))
    #expect(
      error(data.prefix(9))
        == .truncated(
          file: "t", part: "header length field", expectedBytes: 2, actualBytes: 1))
    #expect(
      error(data.prefix(60))
        == .truncated(
          file: "t", part: "header", expectedBytes: 118, actualBytes: 50))
    #expect(
      error(data.dropLast(5))
        == .truncated(
          file: "t", part: "data", expectedBytes: 48, actualBytes: 43))
    #expect(
      error(data + [0, 0, 0, 0])
        == .byteCountMismatch(
          file: "t", tensor: nil, shape: [2, 3], dtype: "<f8", expectedBytes: 48, actualBytes: 52))
  }

  static let corruptHeaders: [(header: String, reason: String)] = [
    ("{'descr': '<f8', 'fortran_order': False, }", "the key 'shape' is missing"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (), 'x': 1}", "unexpected key 'x'"),
    ("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': ()}", "more than once"),
    ("['descr', '<f8']", "not a dictionary"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': [2, 3]}", "not a tuple"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3)}", "non-negative"),
    ("{'descr': '<f8', 'fortran_order': 0, 'shape': ()}", "not True or False"),
    ("{'descr': 8, 'fortran_order': False, 'shape': ()}", "not a type descriptor"),
    ("{'descr': '<f8, 'fortran_order': False, 'shape': ()}", "expected ',' or '}'"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3}", "expected ',' or ')'"),
    ("{'descr': '<f8', 'fortran_order': false, 'shape': ()}", "unexpected name 'false'"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': ()} junk", "after the end"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}", "too large"),
    (
      "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
      "too many elements"
    ),
    ("", "expected a value"),
  ]

  @Test("A corrupt header is reported with what is wrong", arguments: corruptHeaders)
  func corruptHeader(header: String, reason: String) throws {
    let error = #expect(throws: TensorFileError.self) {
      try NPY.readAny(from: npyBytes(header: header), label: "bad.npy")
    }
    guard case .corruptHeader(let file, let actual) = error else {
      Issue.record("expected corruptHeader, got \(String(describing: error))")
      return
    }
    #expect(file == "bad.npy")
    #expect(actual.contains(reason), "\(actual)")
  }

  @Test("A file that is not .npy at all is refused")
  func notNPY() throws {
    let error = #expect(throws: TensorFileError.self) {
      try NPY.readAny(from: Data("PK\u{3}\u{4} a zip archive".utf8), label: "x.zip")
    }
    #expect(
      error
        == .corruptHeader(
          file: "x.zip", reason: "it does not start with the .npy magic string \\x93NUMPY"))
  }

  @Test("An absurd header length is refused before anything is parsed")
  func oversizedHeader() throws {
    let data = npyBytes(header: "{}", major: 2, declaredLength: 0xFFFF_FFF0)
    let error = #expect(throws: TensorFileError.self) { try NPY.readAny(from: data, label: "h") }
    #expect(error == .oversizedHeader(file: "h", length: 0xFFFF_FFF0, limit: 1 << 20))
  }

  @Test("An unknown format version is refused")
  func unsupportedVersion() throws {
    let data = npyBytes(header: "{}", major: 4)
    let error = #expect(throws: TensorFileError.self) { try NPY.readAny(from: data, label: "v") }
    #expect(error == .unsupportedVersion(file: "v", major: 4, minor: 0))
  }

  // MARK: Files on disk

  @Test("A missing file or a directory gives an I/O error with the system's message")
  func ioErrors() throws {
    try withTemporaryDirectory { directory in
      let missing = directory.appendingPathComponent("missing.npy")
      let error = #expect(throws: TensorFileError.self) { try NPY.readAny(contentsOf: missing) }
      #expect(
        error
          == .io(
            file: missing.path(percentEncoded: false), operation: "open",
            message: "No such file or directory"))
      #expect(error?.description.hasPrefix("Could not open ") == true)

      let notFile = #expect(throws: TensorFileError.self) { try NPY.readAny(contentsOf: directory) }
      #expect(notFile?.file == directory.path(percentEncoded: false))
    }
  }

  @Test("A write replaces the old file atomically and leaves no temporary file")
  func atomicWrite() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("x.npy")
      try NPY.write(Tensor<Double>([1, 2, 3]), to: url)
      try NPY.write(Tensor<Float>(shape: [2, 2], repeating: 4), to: url)
      #expect(try NPY.read(contentsOf: url, as: Float.self).shape == [2, 2])
      #expect(try directoryEntries(directory) == ["x.npy"])

      // Renaming over a directory fails: the directory stays, the temporary file goes.
      let occupied = directory.appendingPathComponent("occupied")
      try FileManager.default.createDirectory(at: occupied, withIntermediateDirectories: false)
      let error = #expect(throws: TensorFileError.self) {
        try NPY.write(Tensor<Double>([1]), to: occupied)
      }
      guard case .io(let file, let operation, _) = error else {
        Issue.record("expected an I/O error, got \(String(describing: error))")
        return
      }
      #expect(file == occupied.path(percentEncoded: false))
      #expect(operation == "replace")
      #expect(try directoryEntries(directory) == ["occupied", "x.npy"])

      let nowhere = directory.appendingPathComponent("no/such/dir/x.npy")
      let missingDirectory = #expect(throws: TensorFileError.self) {
        try NPY.write(Tensor<Double>([1]), to: nowhere)
      }
      #expect(
        missingDirectory
          == .io(
            file: nowhere.path(percentEncoded: false), operation: "create a temporary file next to",
            message: "No such file or directory"))
    }
  }
}
