/// A recursive-descent parser for the Python literal syntax of `.npy` headers.
///
/// Grammar (whitespace allowed between tokens, a trailing comma allowed in every container):
///
/// ```
/// value      = string | integer | "True" | "False" | "None" | tuple | list | dictionary
/// string     = "'" chars "'" | '"' chars '"'          (Python escapes: \n \t \xhh \uhhhh …)
/// integer    = ["+" | "-"] digits ["L" | "l"]          (the L suffix of Python 2 headers)
/// tuple      = "(" ")" | "(" value "," [value {"," value}] [","] ")"
/// list       = "[" [value {"," value} [","]] "]"
/// dictionary = "{" [string ":" value {"," string ":" value} [","]] "}"
/// ```
///
/// `(value)` without a comma is a parenthesised value, not a tuple, as in Python. Repeated
/// dictionary keys are an error (Python would silently keep the last one). Nesting is limited
/// to ``maximumDepth`` levels so hostile input cannot exhaust the stack.
struct PythonLiteralParser {
  /// How the bytes of string literals are decoded: Latin-1 for `.npy` versions 1.0 and 2.0,
  /// UTF-8 for version 3.0.
  enum Encoding: Sendable {
    case latin1
    case utf8
  }

  /// A syntax error at byte `offset` of the parsed text.
  struct Failure: Error, Equatable, Sendable {
    var offset: Int
    var message: String
  }

  /// The deepest nesting of containers accepted.
  static let maximumDepth = 32

  private let bytes: [UInt8]
  private let encoding: Encoding
  private var position = 0

  private init(bytes: [UInt8], encoding: Encoding) {
    self.bytes = bytes
    self.encoding = encoding
  }

  /// Parses `bytes` as exactly one literal, surrounded by optional whitespace.
  ///
  /// - Throws: ``Failure`` with the byte offset and a description of the first error.
  static func parse(_ bytes: [UInt8], encoding: Encoding) throws(Failure) -> PythonLiteral {
    var parser = PythonLiteralParser(bytes: bytes, encoding: encoding)
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    if parser.position < bytes.count {
      throw parser.failure("unexpected \(parser.describeCurrent()) after the end of the value")
    }
    return value
  }

  // MARK: Values

  private mutating func parseValue(depth: Int) throws(Failure) -> PythonLiteral {
    skipWhitespace()
    guard let byte = current else { throw failure("expected a value, found the end of the text") }
    switch byte {
    case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
      guard depth < Self.maximumDepth else {
        throw failure("containers nested more than \(Self.maximumDepth) levels deep")
      }
      switch byte {
      case UInt8(ascii: "("): return try parseParenthesised(depth: depth + 1)
      case UInt8(ascii: "["): return .list(try parseElements(closing: "]", depth: depth + 1))
      default: return try parseDictionary(depth: depth + 1)
      }
    case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return .integer(try parseInteger())
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
      UInt8(ascii: "_"):
      return try parseName()
    default:
      throw failure("expected a value, found \(describeCurrent())")
    }
  }

  private mutating func parseName() throws(Failure) -> PythonLiteral {
    let start = position
    while let byte = current, Self.isIdentifierByte(byte) { position += 1 }
    let name = String(decoding: bytes[start..<position], as: UTF8.self)
    switch name {
    case "True": return .boolean(true)
    case "False": return .boolean(false)
    case "None": return .none
    default:
      throw Failure(
        offset: start, message: "unexpected name '\(name)' (only True, False and None are literals)"
      )
    }
  }

  private mutating func parseInteger() throws(Failure) -> Int {
    let start = position
    var negative = false
    if let sign = current, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
      negative = sign == UInt8(ascii: "-")
      position += 1
      skipWhitespace()
    }
    guard let first = current, Self.isDigit(first) else {
      throw failure("expected digits after the sign, found \(describeCurrent())")
    }
    var magnitude = 0
    while let byte = current, Self.isDigit(byte) {
      let (shifted, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
      guard !overflow1, !overflow2 else {
        throw Failure(offset: start, message: "integer literal too large for 64 bits")
      }
      magnitude = sum
      position += 1
    }
    if let suffix = current, suffix == UInt8(ascii: "L") || suffix == UInt8(ascii: "l") {
      position += 1
    }
    if let next = current, Self.isIdentifierByte(next) || next == UInt8(ascii: ".") {
      throw failure("unexpected \(describeCurrent()) in an integer literal")
    }
    return negative ? -magnitude : magnitude
  }

  /// `()`, `(value)`, `(value,)`, `(value, value…)`.
  private mutating func parseParenthesised(depth: Int) throws(Failure) -> PythonLiteral {
    position += 1  // "("
    skipWhitespace()
    if consume(")") { return .tuple([]) }
    let first = try parseValue(depth: depth)
    skipWhitespace()
    if consume(")") { return first }
    guard consume(",") else {
      throw failure("expected ',' or ')' in a tuple, found \(describeCurrent())")
    }
    var elements = [first]
    elements += try parseRemainingElements(closing: ")", depth: depth)
    return .tuple(elements)
  }

  /// `[`, then values separated by commas, then `closing`.
  private mutating func parseElements(
    closing: Unicode.Scalar, depth: Int
  ) throws(Failure) -> [PythonLiteral] {
    position += 1  // opening bracket
    return try parseRemainingElements(closing: closing, depth: depth)
  }

  /// Values separated by commas (trailing comma allowed) up to and including `closing`,
  /// starting right after an opening bracket or a comma.
  private mutating func parseRemainingElements(
    closing: Unicode.Scalar, depth: Int
  ) throws(Failure) -> [PythonLiteral] {
    var elements: [PythonLiteral] = []
    while true {
      skipWhitespace()
      if consume(closing) { return elements }
      elements.append(try parseValue(depth: depth))
      skipWhitespace()
      if consume(closing) { return elements }
      guard consume(",") else {
        throw failure("expected ',' or '\(closing)', found \(describeCurrent())")
      }
    }
  }

  private mutating func parseDictionary(depth: Int) throws(Failure) -> PythonLiteral {
    position += 1  // "{"
    var entries: [PythonLiteral.Entry] = []
    while true {
      skipWhitespace()
      if consume("}") { return .dictionary(entries) }
      guard let byte = current, byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") else {
        throw failure("expected a string key or '}', found \(describeCurrent())")
      }
      let keyOffset = position
      let key = try parseString()
      if entries.contains(where: { $0.key == key }) {
        throw Failure(offset: keyOffset, message: "the key '\(key)' appears more than once")
      }
      skipWhitespace()
      guard consume(":") else {
        throw failure("expected ':' after the key '\(key)', found \(describeCurrent())")
      }
      let value = try parseValue(depth: depth)
      entries.append(PythonLiteral.Entry(key: key, value: value))
      skipWhitespace()
      if consume("}") { return .dictionary(entries) }
      guard consume(",") else {
        throw failure("expected ',' or '}' after the value of '\(key)', found \(describeCurrent())")
      }
    }
  }

  // MARK: Strings

  private mutating func parseString() throws(Failure) -> String {
    let start = position
    let quote = bytes[position]
    position += 1
    var scalars = String.UnicodeScalarView()
    var pending: [UInt8] = []  // undecoded bytes of a UTF-8 run
    while true {
      guard let byte = current else {
        throw Failure(offset: start, message: "string literal is not closed")
      }
      if byte == quote {
        position += 1
        try flush(&pending, into: &scalars)
        return String(scalars)
      }
      if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
        throw Failure(offset: start, message: "string literal is not closed before the line end")
      }
      if byte == UInt8(ascii: "\\") {
        try flush(&pending, into: &scalars)
        try parseEscape(into: &scalars)
        continue
      }
      switch encoding {
      case .latin1: scalars.append(Unicode.Scalar(byte))
      case .utf8: pending.append(byte)
      }
      position += 1
    }
  }

  private func flush(
    _ pending: inout [UInt8], into scalars: inout String.UnicodeScalarView
  ) throws(Failure) {
    guard !pending.isEmpty else { return }
    guard let decoded = String(validating: pending, as: UTF8.self) else {
      throw failure("string literal is not valid UTF-8")
    }
    scalars.append(contentsOf: decoded.unicodeScalars)
    pending.removeAll(keepingCapacity: true)
  }

  private mutating func parseEscape(into scalars: inout String.UnicodeScalarView) throws(Failure) {
    let start = position
    position += 1  // backslash
    guard let byte = current else { throw failure("escape sequence at the end of the text") }
    position += 1
    switch byte {
    case UInt8(ascii: "\\"): scalars.append("\\")
    case UInt8(ascii: "'"): scalars.append("'")
    case UInt8(ascii: "\""): scalars.append("\"")
    case UInt8(ascii: "n"): scalars.append("\n")
    case UInt8(ascii: "t"): scalars.append("\t")
    case UInt8(ascii: "r"): scalars.append("\r")
    case UInt8(ascii: "0"): scalars.append("\0")
    case UInt8(ascii: "a"): scalars.append(Unicode.Scalar(0x07))
    case UInt8(ascii: "b"): scalars.append(Unicode.Scalar(0x08))
    case UInt8(ascii: "f"): scalars.append(Unicode.Scalar(0x0C))
    case UInt8(ascii: "v"): scalars.append(Unicode.Scalar(0x0B))
    case UInt8(ascii: "\n"): break  // line continuation
    case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
      let digits = byte == UInt8(ascii: "x") ? 2 : byte == UInt8(ascii: "u") ? 4 : 8
      var value: UInt32 = 0
      for _ in 0..<digits {
        guard let hex = current, let digit = Self.hexValue(hex) else {
          throw Failure(offset: start, message: "escape sequence needs \(digits) hex digits")
        }
        value = value << 4 | digit
        position += 1
      }
      guard let scalar = Unicode.Scalar(value) else {
        throw Failure(offset: start, message: "escape sequence is not a Unicode scalar")
      }
      scalars.append(scalar)
    default:
      // Python keeps unknown escapes as written.
      scalars.append("\\")
      position -= 1
    }
  }

  // MARK: Bytes

  private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  private mutating func skipWhitespace() {
    while let byte = current,
      byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t")
        || byte == UInt8(ascii: "\r") || byte == 0x0C
    {
      position += 1
    }
  }

  private mutating func consume(_ scalar: Unicode.Scalar) -> Bool {
    guard let byte = current, UInt32(byte) == scalar.value else { return false }
    position += 1
    return true
  }

  private func failure(_ message: String) -> Failure {
    Failure(offset: position, message: message)
  }

  private func describeCurrent() -> String {
    guard let byte = current else { return "the end of the text" }
    if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    return "byte 0x" + String(byte, radix: 16)
  }

  private static func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  private static func isIdentifierByte(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
      || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_")
  }

  private static func hexValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
    default: nil
    }
  }
}
