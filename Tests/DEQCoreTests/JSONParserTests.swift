import Testing

@testable import DEQCore

@Suite("JSON parser (safetensors headers)")
struct JSONParserTests {
  private func parse(_ text: String) throws(JSONParser.Failure) -> JSONValue {
    try JSONParser.parse(Array(text.utf8))
  }

  @Test("A safetensors header parses with members in order and integers exact")
  func header() throws {
    let value = try parse(
      #" {"b": {"shape": [9007199254740993], "x": null}, "a": [true, false, -1.5e3]}  "#)
    guard case .object(let members) = value else {
      Issue.record("not an object: \(value)")
      return
    }
    #expect(members.map(\.key) == ["b", "a"])
    guard case .object(let entry) = members[0].value, case .array(let shape) = entry[0].value else {
      Issue.record("unexpected structure: \(value)")
      return
    }
    #expect(shape[0].integerValue == 9_007_199_254_740_993)
    #expect(members[1].value == .array([.boolean(true), .boolean(false), .number("-1.5e3")]))
    #expect(JSONValue.number("-1.5e3").integerValue == nil)
  }

  @Test(
    "Strings decode every escape",
    arguments: [
      (#""a\"b\\c\/d""#, "a\"b\\c/d"),
      (#""\b\f\n\r\t""#, "\u{8}\u{C}\n\r\t"),
      (#""\u00e9\u20AC\ud83d\ude00""#, "é€😀"),
      ("\"é raw\"", "é raw"),
    ])
  func strings(text: String, expected: String) throws {
    #expect(try parse(text) == .string(expected))
  }

  @Test(
    "Repeated keys are reported with their depth",
    arguments: [
      (#"{"a": 1, "a": 2}"#, "a", 1),
      (#"{"t": {"dtype": "F32", "dtype": "F64"}}"#, "dtype", 2),
    ])
  func duplicateKeys(text: String, key: String, depth: Int) throws {
    let error = #expect(throws: JSONParser.Failure.self) { try parse(text) }
    #expect(error?.kind == .duplicateKey(key, depth: depth))
  }

  @Test(
    "Invalid JSON is refused",
    arguments: [
      "", "{", #"{"a" 1}"#, #"{"a": 1,}"#, "[1,]", "01", "1.", "-", "tru", #""\x""#,
      "\"a\u{1}\"", #""\ud800""#, #"{'a': 1}"#, "{} {}", String(repeating: "[", count: 65),
    ])
  func invalid(text: String) throws {
    let error = #expect(throws: JSONParser.Failure.self) { try parse(text) }
    guard case .syntax = error?.kind else {
      Issue.record("expected a syntax error, got \(String(describing: error))")
      return
    }
  }

  @Test("Serialisation escapes as serde_json does and round-trips")
  func serialization() throws {
    let value = JSONValue.object([
      .init(key: "q\"\\", value: .string("line\n\u{1}é/")),
      .init(key: "n", value: .array([.number("0"), .number("12"), .null, .boolean(true)])),
    ])
    #expect(value.serialized == #"{"q\"\\":"line\n\u0001é/","n":[0,12,null,true]}"#)
    #expect(try parse(value.serialized) == value)
  }
}
