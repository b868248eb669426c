import Foundation
import Testing

@testable import DEQCore

/// Bytes of a safetensors file with a hand-written header, for malformed-file tests.
///
/// - Parameters:
///   - header: The JSON header, written as is.
///   - dataCount: The number of data bytes after the header (all zero).
///   - declaredLength: The header length to declare; `nil` for the real one.
func safetensorsBytes(header: String, dataCount: Int = 0, declaredLength: UInt64? = nil) -> Data {
  let text = Array(header.utf8)
  let length = declaredLength ?? UInt64(text.count)
  let prefix = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
  return Data(prefix + text + [UInt8](repeating: 0, count: dataCount))
}

/// The data of a fixture from `SafeTensorsFixtures.swift`.
func fixtureData(_ base64: String) throws -> Data {
  try #require(Data(base64Encoded: base64, options: .ignoreUnknownCharacters))
}

@Suite("safetensors files")
struct SafeTensorsTests {
  static let sample = SafeTensorsFile(
    tensors: [
      "scalar": AnyTensor(Tensor<Double>(shape: [], repeating: 2.5)),
      "conv.weight": AnyTensor(Tensor<Float>(shape: [2, 1, 3, 3]) { Float($0) / 7 - 1 }),
      "empty": AnyTensor(Tensor<Double>(zeros: [3, 0])),
      "vector": AnyTensor(Tensor<Double>([-0.0, .infinity, .nan, .leastNonzeroMagnitude])),
      "gn.bias": AnyTensor(Tensor<Float>([0.25, -0.5])),
    ],
    metadata: ["groups": "4", "quote\"back\\slash": "line\nbreak\u{1} é ∑ 😀", "": "empty key"])

  // MARK: Round trips

  @Test("Named tensors of both precisions and metadata survive a write and a read")
  func fileRoundTrip() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("block.safetensors")
      try Self.sample.write(to: url)
      let back = try SafeTensorsFile(contentsOf: url)
      #expect(back.source == url.path(percentEncoded: false))
      #expect(back.names == Self.sample.names)
      #expect(back.metadata == Self.sample.metadata)
      for name in Self.sample.names {
        let original = try Self.sample.tensor(named: name)
        let read = try back.tensor(named: name)
        #expect(read.shape == original.shape, "\(name)")
        #expect(read.safetensorsDType == original.safetensorsDType, "\(name)")
        #expect(bitPatterns(read) == bitPatterns(original), "\(name)")
      }
      #expect(try directoryEntries(directory) == ["block.safetensors"])
    }
  }

  @Test("Tensors are laid out in name order after a header padded to 8 bytes")
  func layout() throws {
    let data = try Self.sample.encoded()
    let length = data.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
    #expect(length % 8 == 0)
    let header = try #require(String(data: data.subdata(in: 8..<(8 + length)), encoding: .utf8))
    #expect(header.hasPrefix("{\"__metadata__\":{\"\":\"empty key\",\"groups\":\"4\","))
    let positions = Self.sample.names.map { header.range(of: "\"\($0)\":{")?.lowerBound }
    #expect(positions.allSatisfy { $0 != nil })
    #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
    #expect(
      header.contains(
        "\"conv.weight\":{\"dtype\":\"F32\",\"shape\":[2,1,3,3],"
          + "\"data_offsets\":[0,72]}"))
    #expect(data.count == 8 + length + 72 + 0 + 8 + 8 + 32)
  }

  // MARK: Files written by the reference library

  /// The reference library writes the same bytes as we do for one dtype and one metadata key
  /// (with several dtypes it orders tensors by alignment first, and metadata by hash). Files we
  /// write were also loaded by hand with `safetensors.numpy.load_file` (safetensors 0.8.0):
  /// same names, dtypes, shapes, elements and metadata.
  @Test("Files written by the reference library read back, and we write the same bytes")
  func referenceLibraryFiles() throws {
    let data = try fixtureData(SafeTensorsFixtures.float32)
    let file = try SafeTensorsFile(data: data)
    #expect(file.names == ["a.scale", "b.weight", "c.empty"])
    #expect(file.metadata == ["format": "np"])
    #expect(try file.tensor(named: "a.scale", as: Float.self) == Tensor(shape: [], scalars: [0.75]))
    let weight = try file.tensor(named: "b.weight", as: Float.self)
    #expect(weight.shape == [2, 3])
    #expect(
      bitPatterns(weight) == [1, -2.5, 0.1, 3, 0.001, -0.0].map { UInt64(Float($0).bitPattern) })
    #expect(try file.tensor(named: "c.empty", as: Float.self).shape == [0, 4])
    #expect(try file.encoded() == data)

    let mixed = try SafeTensorsFile(data: try fixtureData(SafeTensorsFixtures.mixed))
    #expect(mixed.metadata == ["groups": "4", "note": "quote \" and \\ and é"])
    #expect(
      try mixed.tensor(named: "weight", as: Double.self).scalars
        == [0, 1, 2, 3, 4, 5].map { $0 / 8 })
    #expect(try mixed.tensor(named: "bias", as: Float.self).scalars == [0.5, -1.5])
  }

  @Test("Tensors of other dtypes are refused, naming the tensor and the dtype")
  func unsupportedDTypes() throws {
    let int64 = #expect(throws: TensorFileError.self) {
      try SafeTensorsFile(data: try fixtureData(SafeTensorsFixtures.int64), label: "bn")
    }
    #expect(int64 == .unsupportedDType(file: "bn", tensor: "num_batches_tracked", dtype: "I64"))
    #expect(int64?.description.contains("'num_batches_tracked'") == true)
    let half = #expect(throws: TensorFileError.self) {
      try SafeTensorsFile(data: try fixtureData(SafeTensorsFixtures.float16), label: "h")
    }
    #expect(half == .unsupportedDType(file: "h", tensor: "half", dtype: "F16"))
  }

  @Test("Asking for a missing tensor or the other precision names the file and the tensor")
  func accessorErrors() throws {
    let file = try SafeTensorsFile(data: try fixtureData(SafeTensorsFixtures.mixed), label: "m")
    let missing = #expect(throws: TensorFileError.self) { try file.tensor(named: "wieght") }
    #expect(missing == .missingTensor(file: "m", name: "wieght", available: ["bias", "weight"]))
    #expect(missing?.description.contains("'bias', 'weight'") == true)
    let wrong = #expect(throws: TensorFileError.self) {
      try file.tensor(named: "weight", as: Float.self)
    }
    #expect(wrong == .wrongDType(file: "m", tensor: "weight", expected: "F32", found: "F64"))
    #expect(try file.tensor(named: "weight").converted(to: Float.self).scalars.last == 0.625)
  }

  // MARK: Malformed files

  static let entry = #"{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#

  static let malformed: [(name: String, data: Data, error: TensorFileError)] = [
    (
      "short length field", Data([1, 0, 0]),
      .truncated(file: "f", part: "header length field", expectedBytes: 8, actualBytes: 3)
    ),
    (
      "header beyond the file", safetensorsBytes(header: "{}", declaredLength: 100),
      .truncated(file: "f", part: "header", expectedBytes: 100, actualBytes: 2)
    ),
    (
      "oversized header", safetensorsBytes(header: "{}", declaredLength: 0xFFFF_FFFF_FFFF),
      .oversizedHeader(file: "f", length: 0xFFFF_FFFF_FFFF, limit: 100_000_000)
    ),
    (
      "duplicate name", safetensorsBytes(header: #"{"a":\#(entry),"a":\#(entry)}"#, dataCount: 8),
      .duplicateName(file: "f", name: "a")
    ),
    (
      "shape and byte count disagree",
      safetensorsBytes(
        header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataCount: 8),
      .byteCountMismatch(
        file: "f", tensor: "a", shape: [3], dtype: "F32", expectedBytes: 12, actualBytes: 8)
    ),
    (
      "offsets past the end",
      safetensorsBytes(
        header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, dataCount: 8),
      .offsetsOutOfRange(file: "f", tensor: "a", begin: 0, end: 16, dataLength: 8)
    ),
    (
      "offsets reversed",
      safetensorsBytes(
        header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, dataCount: 8),
      .offsetsOutOfRange(file: "f", tensor: "a", begin: 8, end: 0, dataLength: 8)
    ),
    (
      "overlapping tensors",
      safetensorsBytes(
        header: #"{"a":\#(entry),"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
        dataCount: 12),
      .overlappingTensors(file: "f", first: "a", second: "b")
    ),
    (
      "gap between tensors",
      safetensorsBytes(
        header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
          + #""b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
        dataCount: 12),
      .uncoveredData(file: "f", begin: 4, end: 8)
    ),
    (
      "trailing data", safetensorsBytes(header: #"{"a":\#(entry)}"#, dataCount: 12),
      .uncoveredData(file: "f", begin: 8, end: 12)
    ),
    (
      "unsupported dtype",
      safetensorsBytes(
        header: #"{"i":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}"#, dataCount: 8),
      .unsupportedDType(file: "f", tensor: "i", dtype: "I32")
    ),
  ]

  @Test(
    "A malformed file is refused with the specific reason, from memory and from a file",
    arguments: malformed)
  func refusesMalformed(name: String, data: Data, error expected: TensorFileError) throws {
    let error = #expect(throws: TensorFileError.self, "\(name)") {
      try SafeTensorsFile(data: data, label: "f")
    }
    #expect(error == expected, "\(name)")
    // A file is read a range at a time into the tensors: the same checks, the same errors.
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("f.safetensors")
      try data.write(to: url)
      let path = FileIO.label(for: url)
      let fileError = #expect(throws: TensorFileError.self, "\(name) (file)") {
        try SafeTensorsFile(contentsOf: url)
      }
      #expect(fileError?.file == path, "\(name)")
      #expect(
        fileError.map { "\($0)".replacingOccurrences(of: path, with: "f") } == "\(expected)",
        "\(name)")
    }
  }

  @Test("A file that shrinks after it is opened is reported as truncated, naming the part")
  func shrinkingFile() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("s.safetensors")
      try Self.sample.write(to: url)
      let size = try #require(
        FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
      let error = #expect(throws: TensorFileError.self) {
        try FileIO.withOpenFile(url) { (file) throws(TensorFileError) in
          #expect(file.size == size)
          #expect(truncate(url.path, off_t(size - 4)) == 0)
          _ = try SafeTensorsCodec.decode(file)
        }
      }
      guard case .truncated(_, let part, let expected, let actual) = error else {
        Issue.record("expected truncated, got \(String(describing: error))")
        return
      }
      #expect(part.hasPrefix("data of tensor"), "\(part)")
      #expect(actual == expected - 4)
    }
  }

  static let corruptHeaders: [(header: String, reason: String)] = [
    (#"{"a":"#, "the JSON header is invalid at byte 13"),
    ("[1, 2]", "the header is an array, not an object"),
    (#"{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, "appears twice"),
    (#"{"__metadata__":{},"__metadata__":{}}"#, "\"__metadata__\" appears twice"),
    (#"{"__metadata__":{"k":1}}"#, "metadata value of \"k\" is a number, not a string"),
    (#"{"__metadata__":"x"}"#, "\"__metadata__\" is a string"),
    (#"{"a":{"dtype":"F32","shape":[2]}}"#, "has no \"data_offsets\""),
    (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, "not an array of non-negative"),
    (#"{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, "not an array of non-negative"),
    (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#, "not two non-negative integers"),
    (#"{"a":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}"#, "\"dtype\" that is not a string"),
    (#"{"a":[]}"#, "is an array, not an object"),
    (
      #"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,
      "too many elements"
    ),
  ]

  @Test("A corrupt header is refused with what is wrong", arguments: corruptHeaders)
  func corruptHeader(header: String, reason: String) throws {
    let error = #expect(throws: TensorFileError.self) {
      try SafeTensorsFile(data: safetensorsBytes(header: header, dataCount: 8), label: "c")
    }
    guard case .corruptHeader(let file, let actual) = error else {
      Issue.record("expected corruptHeader, got \(String(describing: error))")
      return
    }
    #expect(file == "c")
    #expect(actual.contains(reason), "\(actual)")
  }

  @Test("The reserved name __metadata__ cannot be written as a tensor")
  func reservedName() throws {
    let file = SafeTensorsFile(tensors: ["__metadata__": AnyTensor(Tensor<Float>([1]))])
    let error = #expect(throws: TensorFileError.self) { try file.encoded() }
    guard case .invalidName(let label, let name, _) = error else {
      Issue.record("expected invalidName, got \(String(describing: error))")
      return
    }
    #expect(label == SafeTensorsFile.unsavedLabel)
    #expect(name == "__metadata__")
  }
}
