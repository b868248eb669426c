/// The header of a `.npy` file: format version, element type, memory order and shape.
///
/// Layout (NumPy's `numpy.lib.format`, all integers little-endian):
///
/// ```
/// "\x93NUMPY"  major  minor  header length (UInt16 in 1.0, UInt32 in 2.0 and 3.0)
/// header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }" + spaces + "\n"
/// data:   shape product × element size bytes
/// ```
///
/// The header text is Latin-1 in versions 1.0 and 2.0 and UTF-8 in 3.0. It is parsed with
/// ``PythonLiteralParser``, then checked to have exactly the keys `descr`, `fortran_order` and
/// `shape`, as NumPy's own reader requires.
struct NPYHeader: Equatable, Sendable {
  /// The six bytes every `.npy` file starts with.
  static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
  /// The longest header this reader accepts. NumPy's loader refuses headers over 10 000
  /// bytes by default; a limit a hundred times larger still lets a corrupt length field fail
  /// fast instead of sending the parser through megabytes of data.
  static let maximumLength = 1 << 20
  /// NumPy pads the prelude and header so the data starts at a multiple of this.
  static let alignment = 64
  /// NumPy leaves room for the growth axis (the first, in C order) to reach this many digits.
  static let growthAxisMaximumDigits = 21

  /// The format version (1.0, 2.0 or 3.0).
  var version: NPY.FormatVersion
  /// The NumPy type descriptor as written (`"<f8"`), or a structured descriptor's `repr`.
  var descriptor: String
  /// Whether the descriptor is a plain string (not a structured dtype's list of fields).
  var descriptorIsString: Bool
  /// Whether the data are in Fortran (column-major) order.
  var fortranOrder: Bool
  /// The shape; every extent is non-negative.
  var shape: [Int]
  /// The element count (the shape's product, checked for overflow).
  var count: Int
  /// The byte offset of the data from the start of the file.
  var dataOffset: Int

  // MARK: Reading

  /// Parses the prelude and header at the start of `bytes`.
  ///
  /// - Throws: ``TensorFileError`` `.truncated`, `.corruptHeader`, `.oversizedHeader` or
  ///   `.unsupportedVersion`, naming `file`.
  static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws(TensorFileError)
    -> NPYHeader
  {
    let magicPresent = min(bytes.count, magic.count)
    guard bytes.prefix(magicPresent).elementsEqual(magic.prefix(magicPresent)) else {
      throw .corruptHeader(
        file: file, reason: "it does not start with the .npy magic string \\x93NUMPY")
    }
    guard bytes.count >= 8 else {
      throw .truncated(
        file: file, part: "magic string and format version", expectedBytes: 8,
        actualBytes: bytes.count)
    }
    guard let version = NPY.FormatVersion(major: bytes[6], minor: bytes[7]) else {
      throw .unsupportedVersion(file: file, major: bytes[6], minor: bytes[7])
    }
    let lengthSize = version.headerLengthSize
    guard bytes.count >= 8 + lengthSize else {
      throw .truncated(
        file: file, part: "header length field", expectedBytes: lengthSize,
        actualBytes: bytes.count - 8)
    }
    var length: UInt64 = 0
    for index in (0..<lengthSize).reversed() { length = length << 8 | UInt64(bytes[8 + index]) }
    guard length <= UInt64(maximumLength) else {
      throw .oversizedHeader(file: file, length: length, limit: maximumLength)
    }
    let headerStart = 8 + lengthSize
    let available = bytes.count - headerStart
    guard Int(length) <= available else {
      throw .truncated(
        file: file, part: "header", expectedBytes: Int(length), actualBytes: available)
    }
    let text = Array(bytes[headerStart..<(headerStart + Int(length))])
    let literal: PythonLiteral
    do {
      literal = try PythonLiteralParser.parse(text, encoding: version.headerEncoding)
    } catch {
      throw .corruptHeader(
        file: file, reason: "at byte \(headerStart + error.offset): \(error.message)")
    }
    return try interpret(
      literal, version: version, dataOffset: headerStart + Int(length), file: file)
  }

  private static func interpret(
    _ literal: PythonLiteral, version: NPY.FormatVersion, dataOffset: Int, file: String
  ) throws(TensorFileError) -> NPYHeader {
    guard case .dictionary(let entries) = literal else {
      throw .corruptHeader(
        file: file, reason: "the header is \(literal.kindName), not a dictionary")
    }
    let required = ["descr", "fortran_order", "shape"]
    if let extra = entries.first(where: { !required.contains($0.key) }) {
      throw .corruptHeader(
        file: file,
        reason: "unexpected key '\(extra.key)' (a .npy header has exactly the keys "
          + "'descr', 'fortran_order' and 'shape')")
    }
    func value(_ key: String) throws(TensorFileError) -> PythonLiteral {
      guard let entry = entries.first(where: { $0.key == key }) else {
        throw .corruptHeader(file: file, reason: "the key '\(key)' is missing")
      }
      return entry.value
    }

    let descriptor: String
    let descriptorIsString: Bool
    switch try value("descr") {
    case .string(let string):
      descriptor = string
      descriptorIsString = true
    case .list(let fields):
      descriptor = PythonLiteral.list(fields).description
      descriptorIsString = false
    case let other:
      throw .corruptHeader(
        file: file, reason: "'descr' is \(other.kindName), not a type descriptor string")
    }

    let fortranLiteral = try value("fortran_order")
    guard case .boolean(let fortranOrder) = fortranLiteral else {
      throw .corruptHeader(
        file: file, reason: "'fortran_order' is \(fortranLiteral.kindName), not True or False")
    }

    let shapeLiteral = try value("shape")
    guard case .tuple(let extents) = shapeLiteral else {
      throw .corruptHeader(
        file: file, reason: "'shape' is \(shapeLiteral.kindName), not a tuple of integers")
    }
    var shape: [Int] = []
    for extent in extents {
      guard case .integer(let value) = extent, value >= 0 else {
        throw .corruptHeader(
          file: file,
          reason: "'shape' \(shapeLiteral) has an extent that is not a "
            + "non-negative integer")
      }
      shape.append(value)
    }
    guard let count = elementCount(of: shape) else {
      throw .corruptHeader(file: file, reason: "'shape' \(shapeLiteral) has too many elements")
    }
    return NPYHeader(
      version: version, descriptor: descriptor, descriptorIsString: descriptorIsString,
      fortranOrder: fortranOrder, shape: shape, count: count, dataOffset: dataOffset)
  }

  /// The product of the extents, or `nil` if it overflows `Int`.
  static func elementCount(of shape: [Int]) -> Int? {
    var count = 1
    for extent in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: extent)
      if overflow { return nil }
      count = product
    }
    return count
  }

  // MARK: Writing

  /// The prelude and header NumPy's `np.save` writes for a C-order array of `descriptor`
  /// elements and this `shape`, byte for byte.
  ///
  /// NumPy sorts the keys, adds room for the first extent to grow to 21 digits, and pads with
  /// spaces and a final newline so the data start at a multiple of 64 bytes (a full extra 64
  /// when the text already ends on a boundary, as NumPy does).
  ///
  /// - Parameter version: The format version; `nil` picks 1.0 when the header fits its 16-bit
  ///   length field and 2.0 otherwise, as NumPy does.
  /// - Throws: ``TensorFileError/oversizedHeader(file:length:limit:)`` when `version` is 1.0
  ///   and the header does not fit.
  static func encode(
    descriptor: String, shape: [Int], version: NPY.FormatVersion?, file: String
  ) throws(TensorFileError) -> [UInt8] {
    let shapeText = PythonLiteral.tuple(shape.map { .integer($0) }).description
    var text = "{'descr': \(PythonLiteral.string(descriptor)), 'fortran_order': False, "
    text += "'shape': \(shapeText), }"
    if let first = shape.first {
      let digits = String(first).count
      text += String(repeating: " ", count: max(0, growthAxisMaximumDigits - digits))
    }
    let textBytes = Array(text.utf8)
    let lengthWithNewline = textBytes.count + 1

    func padded(_ version: NPY.FormatVersion) -> Int {
      let prelude = magic.count + 2 + version.headerLengthSize
      let padding = alignment - (prelude + lengthWithNewline) % alignment
      return lengthWithNewline + padding
    }
    let chosen: NPY.FormatVersion
    if let version {
      chosen = version
    } else {
      chosen = padded(.version1) <= Int(UInt16.max) ? .version1 : .version2
    }
    let length = padded(chosen)
    if chosen == .version1, length > Int(UInt16.max) {
      throw .oversizedHeader(file: file, length: UInt64(length), limit: Int(UInt16.max))
    }

    var bytes = magic + [chosen.major, chosen.minor]
    for index in 0..<chosen.headerLengthSize {
      bytes.append(UInt8(truncatingIfNeeded: length >> (8 * index)))
    }
    bytes += textBytes
    bytes += [UInt8](repeating: UInt8(ascii: " "), count: length - lengthWithNewline)
    bytes.append(UInt8(ascii: "\n"))
    return bytes
  }
}
