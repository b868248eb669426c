import FoundationEssentials

/// Decoding and encoding of the safetensors format for ``SafeTensorsFile``.
///
/// Decoding validates in this order, so each file gets the most specific error: header length
/// field, header length limit and bounds, JSON syntax and repeated names, then per entry (in
/// header order) its fields, dtype, offsets and byte count, and last the tiling of the data
/// region. Tensors are built only after every check has passed.
enum SafeTensorsCodec {
  /// One header entry, checked but not yet decoded.
  private struct Entry {
    var name: String
    var dtype: String
    var shape: [Int]
    var count: Int
    var begin: Int
    var end: Int
  }

  // MARK: Decoding

  static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws(TensorFileError)
    -> SafeTensorsFile
  {
    try decode(byteCount: bytes.count, file: file) { offset, destination, _ in
      destination.copyMemory(
        from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + destination.count)]))
    }
  }

  /// Decodes an open file, reading each tensor's bytes straight into the tensor's storage
  /// (no copy of the whole file in memory first: at the paper's size that is 9.4 MB of
  /// fresh pages, and their first touch costs more than the read).
  static func decode(_ file: borrowing FileIO.OpenFile) throws(TensorFileError)
    -> SafeTensorsFile
  {
    try decode(byteCount: file.size, file: file.path) {
      (offset, destination, part) throws(TensorFileError) in
      try file.read(at: offset, into: destination, part: part)
    }
  }

  /// Decodes `byteCount` bytes that `read(offset, destination, part)` provides, a range at a
  /// time: the header length, the header, then each tensor's data (`part` names the range
  /// for a file that turns out shorter than `byteCount`).
  private static func decode(
    byteCount: Int, file: String,
    read: (Int, UnsafeMutableRawBufferPointer, String) throws(TensorFileError) -> Void
  ) throws(TensorFileError) -> SafeTensorsFile {
    guard byteCount >= 8 else {
      throw .truncated(
        file: file, part: "header length field", expectedBytes: 8, actualBytes: byteCount)
    }
    func bytes(_ offset: Int, _ count: Int, _ part: String) throws(TensorFileError) -> [UInt8] {
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
      defer { buffer.deallocate() }
      try read(offset, buffer, part)
      return [UInt8](buffer)
    }
    let lengthField = try bytes(0, 8, "header length field")
    var length: UInt64 = 0
    for index in (0..<8).reversed() { length = length << 8 | UInt64(lengthField[index]) }
    let limit = SafeTensorsFile.maximumHeaderLength
    guard length <= UInt64(limit) else {
      throw .oversizedHeader(file: file, length: length, limit: limit)
    }
    let headerLength = Int(length)
    guard headerLength <= byteCount - 8 else {
      throw .truncated(
        file: file, part: "header", expectedBytes: headerLength, actualBytes: byteCount - 8)
    }
    let header = try parseHeader(bytes(8, headerLength, "header"), file: file)
    let dataStart = 8 + headerLength
    let dataLength = byteCount - dataStart

    var metadata: [String: String] = [:]
    var entries: [Entry] = []
    for member in header {
      if member.key == SafeTensorsFile.metadataKey {
        metadata = try parseMetadata(member.value, file: file)
      } else {
        entries.append(
          try parseEntry(name: member.key, member.value, dataLength: dataLength, file: file))
      }
    }
    try checkTiling(entries, dataLength: dataLength, file: file)

    var tensors: [String: AnyTensor] = [:]
    for entry in entries {
      func fill(_ destination: UnsafeMutableRawBufferPointer) throws(TensorFileError) {
        try read(dataStart + entry.begin, destination, "data of tensor '\(entry.name)'")
      }
      if entry.dtype == Float.safetensorsDType {
        let scalars = try LittleEndianScalars.decode(count: entry.count, as: Float.self, fill: fill)
        tensors[entry.name] = .float(Tensor(uncheckedShape: entry.shape, scalars: scalars))
      } else {
        let scalars = try LittleEndianScalars.decode(
          count: entry.count, as: Double.self, fill: fill)
        tensors[entry.name] = .double(Tensor(uncheckedShape: entry.shape, scalars: scalars))
      }
    }
    var result = SafeTensorsFile(tensors: tensors, metadata: metadata)
    result.source = file
    return result
  }

  /// Parses the header JSON into its top-level members.
  private static func parseHeader(
    _ text: [UInt8], file: String
  ) throws(TensorFileError) -> [JSONValue.Member] {
    let value: JSONValue
    do {
      value = try JSONParser.parse(text)
    } catch {
      switch error.kind {
      case .duplicateKey(let key, depth: 1) where key != SafeTensorsFile.metadataKey:
        throw .duplicateName(file: file, name: key)
      case .duplicateKey(let key, _):
        throw .corruptHeader(
          file: file,
          reason: "the key \"\(key)\" appears twice in one object at byte "
            + "\(8 + error.offset)")
      case .syntax(let message):
        throw .corruptHeader(
          file: file, reason: "the JSON header is invalid at byte \(8 + error.offset): \(message)")
      }
    }
    guard case .object(let members) = value else {
      throw .corruptHeader(file: file, reason: "the header is \(value.kindName), not an object")
    }
    return members
  }

  private static func parseMetadata(
    _ value: JSONValue, file: String
  ) throws(TensorFileError) -> [String: String] {
    guard case .object(let members) = value else {
      throw .corruptHeader(
        file: file, reason: "\"__metadata__\" is \(value.kindName), not an object of strings")
    }
    var metadata: [String: String] = [:]
    for member in members {
      guard case .string(let string) = member.value else {
        throw .corruptHeader(
          file: file,
          reason: "the metadata value of \"\(member.key)\" is "
            + "\(member.value.kindName), not a string")
      }
      metadata[member.key] = string
    }
    return metadata
  }

  private static func parseEntry(
    name: String, _ value: JSONValue, dataLength: Int, file: String
  ) throws(TensorFileError) -> Entry {
    func corrupt(_ reason: String) -> TensorFileError {
      .corruptHeader(file: file, reason: "the entry of tensor '\(name)' \(reason)")
    }
    guard case .object(let members) = value else {
      throw corrupt("is \(value.kindName), not an object")
    }
    func field(_ key: String) throws(TensorFileError) -> JSONValue {
      guard let member = members.first(where: { $0.key == key }) else {
        throw corrupt("has no \"\(key)\"")
      }
      return member.value
    }
    func naturals(_ value: JSONValue) -> [Int]? {
      guard case .array(let elements) = value else { return nil }
      var result: [Int] = []
      for element in elements {
        guard let integer = element.integerValue, integer >= 0 else { return nil }
        result.append(integer)
      }
      return result
    }

    guard case .string(let dtype) = try field("dtype") else {
      throw corrupt("has a \"dtype\" that is not a string")
    }
    guard let shape = naturals(try field("shape")) else {
      throw corrupt("has a \"shape\" that is not an array of non-negative integers")
    }
    guard let offsets = naturals(try field("data_offsets")), offsets.count == 2 else {
      throw corrupt("has \"data_offsets\" that are not two non-negative integers")
    }
    let width: Int
    switch dtype {
    case Float.safetensorsDType: width = LittleEndianScalars.width(of: Float.self)
    case Double.safetensorsDType: width = LittleEndianScalars.width(of: Double.self)
    default: throw .unsupportedDType(file: file, tensor: name, dtype: dtype)
    }
    guard let count = NPYHeader.elementCount(of: shape),
      case (let byteCount, false) = count.multipliedReportingOverflow(by: width)
    else {
      throw corrupt("has a shape \(shape) with too many elements")
    }
    let (begin, end) = (offsets[0], offsets[1])
    guard begin <= end, end <= dataLength else {
      throw .offsetsOutOfRange(
        file: file, tensor: name, begin: begin, end: end, dataLength: dataLength)
    }
    guard end - begin == byteCount else {
      throw .byteCountMismatch(
        file: file, tensor: name, shape: shape, dtype: dtype, expectedBytes: byteCount,
        actualBytes: end - begin)
    }
    return Entry(name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end)
  }

  /// Checks that the entries, ordered by offset, tile `0..<dataLength` exactly.
  private static func checkTiling(
    _ entries: [Entry], dataLength: Int, file: String
  ) throws(TensorFileError) {
    let ordered = entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
    var cursor = 0
    var previous: String?
    for entry in ordered {
      if entry.begin < cursor, let previous {
        throw .overlappingTensors(file: file, first: previous, second: entry.name)
      }
      if entry.begin > cursor {
        throw .uncoveredData(file: file, begin: cursor, end: entry.begin)
      }
      cursor = entry.end
      previous = entry.name
    }
    if cursor < dataLength {
      throw .uncoveredData(file: file, begin: cursor, end: dataLength)
    }
  }

  // MARK: Encoding

  static func encode(_ contents: SafeTensorsFile, file: String) throws(TensorFileError) -> Data {
    if contents.tensors[SafeTensorsFile.metadataKey] != nil {
      throw .invalidName(
        file: file, name: SafeTensorsFile.metadataKey,
        reason: "the safetensors format reserves it for the metadata map")
    }
    var members: [JSONValue.Member] = []
    if !contents.metadata.isEmpty {
      let metadata = contents.metadata.keys.sorted().map { key in
        JSONValue.Member(key: key, value: .string(contents.metadata[key] ?? ""))
      }
      members.append(JSONValue.Member(key: SafeTensorsFile.metadataKey, value: .object(metadata)))
    }
    let names = contents.names
    var offset = 0
    for name in names {
      guard let tensor = contents.tensors[name] else { continue }
      let byteCount =
        switch tensor {
        case .float(let tensor): tensor.count * LittleEndianScalars.width(of: Float.self)
        case .double(let tensor): tensor.count * LittleEndianScalars.width(of: Double.self)
        }
      let entry: JSONValue = .object([
        JSONValue.Member(key: "dtype", value: .string(tensor.safetensorsDType)),
        JSONValue.Member(key: "shape", value: .array(tensor.shape.map { .number(String($0)) })),
        JSONValue.Member(
          key: "data_offsets",
          value: .array([.number(String(offset)), .number(String(offset + byteCount))])),
      ])
      members.append(JSONValue.Member(key: name, value: entry))
      offset += byteCount
    }

    var header = Array(JSONValue.object(members).serialized.utf8)
    header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
    guard header.count <= SafeTensorsFile.maximumHeaderLength else {
      throw .oversizedHeader(
        file: file, length: UInt64(header.count), limit: SafeTensorsFile.maximumHeaderLength)
    }

    var data = Data(capacity: 8 + header.count + offset)
    for index in 0..<8 { data.append(UInt8(truncatingIfNeeded: header.count >> (8 * index))) }
    data.append(contentsOf: header)
    for name in names {
      switch contents.tensors[name] {
      case .float(let tensor): LittleEndianScalars.append(tensor.scalars, to: &data)
      case .double(let tensor): LittleEndianScalars.append(tensor.scalars, to: &data)
      case nil: break
      }
    }
    return data
  }
}
