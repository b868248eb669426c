/// A JSON value as the safetensors header reader sees it: objects keep their members in the
/// order written (so duplicates can be reported and headers written deterministically), and
/// numbers keep their literal text (so integers are read exactly, not through `Double`).
indirect enum JSONValue: Equatable, Sendable {
  /// One `"key": value` member of an object.
  struct Member: Equatable, Sendable {
    var key: String
    var value: JSONValue
  }

  case object([Member])
  case array([JSONValue])
  case string(String)
  /// A number, as its literal text (`"-12"`, `"1.5e3"`).
  case number(String)
  case boolean(Bool)
  case null

  /// The value of an integer literal that fits in `Int` (no fraction, no exponent).
  var integerValue: Int? {
    guard case .number(let text) = self, !text.contains(where: { ".eE".contains($0) }) else {
      return nil
    }
    return Int(text)
  }

  /// A short name of the value's kind for error messages (`"a string"`, `"an object"`).
  var kindName: String {
    switch self {
    case .object: "an object"
    case .array: "an array"
    case .string: "a string"
    case .number: "a number"
    case .boolean: "a boolean"
    case .null: "null"
    }
  }

  /// The value as compact JSON text: no whitespace, members in order, strings escaped as
  /// serde_json (which the reference safetensors library uses) escapes them.
  var serialized: String {
    var text = ""
    serialize(into: &text)
    return text
  }

  private func serialize(into text: inout String) {
    switch self {
    case .object(let members):
      text += "{"
      for (index, member) in members.enumerated() {
        if index > 0 { text += "," }
        Self.serialize(string: member.key, into: &text)
        text += ":"
        member.value.serialize(into: &text)
      }
      text += "}"
    case .array(let elements):
      text += "["
      for (index, element) in elements.enumerated() {
        if index > 0 { text += "," }
        element.serialize(into: &text)
      }
      text += "]"
    case .string(let string): Self.serialize(string: string, into: &text)
    case .number(let literal): text += literal
    case .boolean(let value): text += value ? "true" : "false"
    case .null: text += "null"
    }
  }

  private static func serialize(string: String, into text: inout String) {
    text += "\""
    for scalar in string.unicodeScalars {
      switch scalar {
      case "\"": text += "\\\""
      case "\\": text += "\\\\"
      case "\n": text += "\\n"
      case "\r": text += "\\r"
      case "\t": text += "\\t"
      case "\u{08}": text += "\\b"
      case "\u{0C}": text += "\\f"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          text += (hex.count < 2 ? "\\u000" : "\\u00") + hex
        } else {
          text.unicodeScalars.append(scalar)
        }
      }
    }
    text += "\""
  }
}
