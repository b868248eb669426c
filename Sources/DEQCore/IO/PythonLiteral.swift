/// A value of the subset of Python literal syntax that `.npy` headers are written in.
///
/// A `.npy` header is the `repr` of a Python dictionary such as
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }`; NumPy reads it back with
/// `ast.literal_eval`. ``PythonLiteralParser`` reads the same syntax (strings, integers,
/// `True`/`False`/`None`, tuples, lists and dictionaries with string keys) without guessing.
indirect enum PythonLiteral: Equatable, Sendable, CustomStringConvertible {
  /// One `key: value` pair of a dictionary, in the order written.
  struct Entry: Equatable, Sendable {
    var key: String
    var value: PythonLiteral
  }

  case string(String)
  case integer(Int)
  case boolean(Bool)
  case none
  case tuple([PythonLiteral])
  case list([PythonLiteral])
  case dictionary([Entry])

  /// The value in Python `repr` syntax (used to quote header values in error messages).
  var description: String {
    switch self {
    case .string(let value): Self.quoted(value)
    case .integer(let value): "\(value)"
    case .boolean(let value): value ? "True" : "False"
    case .none: "None"
    case .tuple(let elements):
      elements.count == 1
        ? "(\(elements[0]),)" : "(\(elements.map(\.description).joined(separator: ", ")))"
    case .list(let elements): "[\(elements.map(\.description).joined(separator: ", "))]"
    case .dictionary(let entries):
      "{\(entries.map { "\(Self.quoted($0.key)): \($0.value)" }.joined(separator: ", "))}"
    }
  }

  /// A short name of the value's kind for error messages (`"a string"`, `"a tuple"`).
  var kindName: String {
    switch self {
    case .string: "a string"
    case .integer: "an integer"
    case .boolean: "a boolean"
    case .none: "None"
    case .tuple: "a tuple"
    case .list: "a list"
    case .dictionary: "a dictionary"
    }
  }

  private static func quoted(_ value: String) -> String {
    var result = "'"
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\\": result += "\\\\"
      case "'": result += "\\'"
      case "\n": result += "\\n"
      case "\t": result += "\\t"
      case "\r": result += "\\r"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          let hex = String(scalar.value, radix: 16)
          result += (hex.count < 2 ? "\\x0" : "\\x") + hex
        } else {
          result.unicodeScalars.append(scalar)
        }
      }
    }
    return result + "'"
  }
}
