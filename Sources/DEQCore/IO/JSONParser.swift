/// A strict recursive-descent JSON parser (RFC 8259) for safetensors headers.
///
/// Unlike Foundation's `JSONSerialization`, which silently keeps one of two members with the
/// same key, it reports a repeated key (with the depth of the object it is in, so a repeated
/// tensor name at the top level can be told from a repeated field inside an entry). Strings
/// must be valid UTF-8 and unescaped control characters are refused. Nesting is limited to
/// ``maximumDepth`` levels so hostile input cannot exhaust the stack.
struct JSONParser {
  /// Why parsing stopped, at byte `offset` of the text.
  struct Failure: Error, Equatable, Sendable {
    /// What is wrong.
    enum Kind: Equatable, Sendable {
      /// The text is not JSON; the message says what was expected.
      case syntax(String)
      /// An object repeats `key`; `depth` 1 is the outermost object.
      case duplicateKey(String, depth: Int)
    }

    var offset: Int
    var kind: Kind
  }

  /// The deepest nesting of arrays and objects accepted.
  static let maximumDepth = 64

  private let bytes: [UInt8]
  private var position = 0

  private init(bytes: [UInt8]) { self.bytes = bytes }

  /// Parses `bytes` as exactly one JSON value, surrounded by optional whitespace.
  ///
  /// - Throws: ``Failure`` for the first error found.
  static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
    var parser = JSONParser(bytes: bytes)
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    guard parser.position == bytes.count else {
      throw parser.syntax("unexpected \(parser.describeCurrent()) after the end of the value")
    }
    return value
  }

  // MARK: Values

  private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
    skipWhitespace()
    guard let byte = current else { throw syntax("expected a value, found the end of the text") }
    switch byte {
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      guard depth < Self.maximumDepth else {
        throw syntax("arrays and objects nested more than \(Self.maximumDepth) levels deep")
      }
      return byte == UInt8(ascii: "{")
        ? try parseObject(depth: depth + 1) : try parseArray(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
    case UInt8(ascii: "t"): return try parseKeyword("true", .boolean(true))
    case UInt8(ascii: "f"): return try parseKeyword("false", .boolean(false))
    case UInt8(ascii: "n"): return try parseKeyword("null", .null)
    default: throw syntax("expected a value, found \(describeCurrent())")
    }
  }

  private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
    position += 1  // "{"
    var members: [JSONValue.Member] = []
    var keys: Set<String> = []
    skipWhitespace()
    if consume(UInt8(ascii: "}")) { return .object([]) }
    while true {
      skipWhitespace()
      guard current == UInt8(ascii: "\"") else {
        throw syntax("expected a string key, found \(describeCurrent())")
      }
      let keyOffset = position
      let key = try parseString()
      guard keys.insert(key).inserted else {
        throw Failure(offset: keyOffset, kind: .duplicateKey(key, depth: depth))
      }
      skipWhitespace()
      guard consume(UInt8(ascii: ":")) else {
        throw syntax("expected ':' after the key \"\(key)\", found \(describeCurrent())")
      }
      members.append(JSONValue.Member(key: key, value: try parseValue(depth: depth)))
      skipWhitespace()
      if consume(UInt8(ascii: "}")) { return .object(members) }
      guard consume(UInt8(ascii: ",")) else {
        throw syntax(
          "expected ',' or '}' after the value of \"\(key)\", found \(describeCurrent())")
      }
    }
  }

  private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
    position += 1  // "["
    var elements: [JSONValue] = []
    skipWhitespace()
    if consume(UInt8(ascii: "]")) { return .array([]) }
    while true {
      elements.append(try parseValue(depth: depth))
      skipWhitespace()
      if consume(UInt8(ascii: "]")) { return .array(elements) }
      guard consume(UInt8(ascii: ",")) else {
        throw syntax("expected ',' or ']' in an array, found \(describeCurrent())")
      }
    }
  }

  private mutating func parseKeyword(
    _ keyword: String, _ value: JSONValue
  ) throws(Failure) -> JSONValue {
    let start = position
    for expected in keyword.utf8 {
      guard consume(expected) else {
        throw Failure(offset: start, kind: .syntax("expected '\(keyword)'"))
      }
    }
    return value
  }

  /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, returned as its text.
  private mutating func parseNumber() throws(Failure) -> String {
    let start = position
    _ = consume(UInt8(ascii: "-"))
    if consume(UInt8(ascii: "0")) {
      if let byte = current, Self.isDigit(byte) {
        throw syntax("numbers must not have leading zeros")
      }
    } else {
      try digits()
    }
    if consume(UInt8(ascii: ".")) { try digits() }
    if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
      _ = consume(UInt8(ascii: "+")) || consume(UInt8(ascii: "-"))
      try digits()
    }
    return String(decoding: bytes[start..<position], as: UTF8.self)
  }

  private mutating func digits() throws(Failure) {
    guard let first = current, Self.isDigit(first) else {
      throw syntax("expected a digit, found \(describeCurrent())")
    }
    while let byte = current, Self.isDigit(byte) { position += 1 }
  }

  // MARK: Strings

  private mutating func parseString() throws(Failure) -> String {
    let start = position
    position += 1  // opening quote
    var utf8: [UInt8] = []
    while true {
      guard let byte = current else {
        throw Failure(offset: start, kind: .syntax("string is not closed"))
      }
      position += 1
      switch byte {
      case UInt8(ascii: "\""):
        guard let string = String(validating: utf8, as: UTF8.self) else {
          throw Failure(offset: start, kind: .syntax("string is not valid UTF-8"))
        }
        return string
      case UInt8(ascii: "\\"):
        try parseEscape(into: &utf8)
      case 0..<0x20:
        throw Failure(
          offset: position - 1, kind: .syntax("control character in a string must be escaped"))
      default:
        utf8.append(byte)
      }
    }
  }

  private mutating func parseEscape(into utf8: inout [UInt8]) throws(Failure) {
    let start = position - 1
    guard let byte = current else { throw syntax("escape sequence at the end of the text") }
    position += 1
    let simple: UInt8? =
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): byte
      case UInt8(ascii: "b"): 0x08
      case UInt8(ascii: "f"): 0x0C
      case UInt8(ascii: "n"): 0x0A
      case UInt8(ascii: "r"): 0x0D
      case UInt8(ascii: "t"): 0x09
      default: nil
      }
    if let simple {
      utf8.append(simple)
      return
    }
    guard byte == UInt8(ascii: "u") else {
      throw Failure(offset: start, kind: .syntax("unknown escape sequence"))
    }
    var value = try hexQuad(escapeStart: start)
    if (0xD800..<0xDC00).contains(value) {
      // A high surrogate must be followed by an escaped low surrogate.
      guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")) else {
        throw Failure(offset: start, kind: .syntax("unpaired surrogate in a \\u escape"))
      }
      let low = try hexQuad(escapeStart: start)
      guard (0xDC00..<0xE000).contains(low) else {
        throw Failure(offset: start, kind: .syntax("unpaired surrogate in a \\u escape"))
      }
      value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
    }
    guard let scalar = Unicode.Scalar(value) else {
      throw Failure(offset: start, kind: .syntax("unpaired surrogate in a \\u escape"))
    }
    utf8.append(contentsOf: String(Character(scalar)).utf8)
  }

  private mutating func hexQuad(escapeStart: Int) throws(Failure) -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard let byte = current, let digit = Self.hexValue(byte) else {
        throw Failure(offset: escapeStart, kind: .syntax("\\u escape needs four hex digits"))
      }
      value = value << 4 | digit
      position += 1
    }
    return value
  }

  // MARK: Bytes

  private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  private mutating func skipWhitespace() {
    while let byte = current,
      byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t")
        || byte == UInt8(ascii: "\r")
    {
      position += 1
    }
  }

  private mutating func consume(_ byte: UInt8) -> Bool {
    guard current == byte else { return false }
    position += 1
    return true
  }

  private func syntax(_ message: String) -> Failure {
    Failure(offset: position, kind: .syntax(message))
  }

  private func describeCurrent() -> String {
    guard let byte = current else { return "the end of the text" }
    if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    return "byte 0x" + String(byte, radix: 16)
  }

  private static func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
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
