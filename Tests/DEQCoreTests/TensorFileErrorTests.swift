import DEQCore
import Testing

@Suite("Tensor file errors")
struct TensorFileErrorTests {
  static let file = "runs/7/block.safetensors"

  static let all: [TensorFileError] = [
    .truncated(file: file, part: "data", expectedBytes: 48, actualBytes: 40),
    .corruptHeader(file: file, reason: "the key 'shape' is missing"),
    .oversizedHeader(file: file, length: 1 << 40, limit: 100_000_000),
    .unsupportedVersion(file: file, major: 9, minor: 1),
    .wrongDType(file: file, tensor: "w", expected: "F32", found: "F64"),
    .wrongDType(file: file, tensor: nil, expected: "<f4", found: "<f8"),
    .unsupportedDType(file: file, tensor: "n", dtype: "I64"),
    .bigEndian(file: file, dtype: ">f8"),
    .fortranOrder(file: file, shape: [2, 3]),
    .duplicateName(file: file, name: "w"),
    .byteCountMismatch(
      file: file, tensor: "w", shape: [3], dtype: "F32", expectedBytes: 12, actualBytes: 8),
    .offsetsOutOfRange(file: file, tensor: "w", begin: 0, end: 16, dataLength: 8),
    .overlappingTensors(file: file, first: "a", second: "b"),
    .uncoveredData(file: file, begin: 4, end: 8),
    .invalidName(file: file, name: "__metadata__", reason: "it is reserved"),
    .missingTensor(file: file, name: "x", available: (0..<20).map { "t\($0)" }),
    .io(file: file, operation: "open", message: "No such file or directory"),
  ]

  @Test("Every error names its file and says what to do in full sentences", arguments: all)
  func description(error: TensorFileError) {
    #expect(error.file == Self.file)
    #expect(error.description.contains(Self.file))
    #expect(error.description.hasSuffix("."))
    #expect(!error.description.contains("Optional("))
  }

  @Test("A long list of available tensors is shortened")
  func missingTensorList() {
    let description = Self.all[15].description
    #expect(description.contains("'t0', 't1'"))
    #expect(description.contains("and 8 more"))
  }
}
