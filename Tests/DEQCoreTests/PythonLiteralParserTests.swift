import Testing

@testable import DEQCore

@Suite("Python literal parser (.npy headers)")
struct PythonLiteralParserTests {
  private func parse(_ text: String) throws(PythonLiteralParser.Failure) -> PythonLiteral {
    try PythonLiteralParser.parse(Array(text.utf8), encoding: .utf8)
  }

  @Test("NumPy's header parses to its dictionary")
  func numpyHeader() throws {
    let literal = try parse(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 8, 6, 6), }          \n")
    #expect(
      literal
        == .dictionary([
          .init(key: "descr", value: .string("<f8")),
          .init(key: "fortran_order", value: .boolean(false)),
          .init(key: "shape", value: .tuple([.integer(2), .integer(8), .integer(6), .integer(6)])),
        ]))
  }

  @Test(
    "Tuples, parentheses and lists follow Python's rules",
    arguments: [
      ("()", PythonLiteral.tuple([])),
      ("(3)", .integer(3)),
      ("(3,)", .tuple([.integer(3)])),
      ("( 3 , 4 , )", .tuple([.integer(3), .integer(4)])),
      ("[]", .list([])),
      ("[1, [2, (3,)]]", .list([.integer(1), .list([.integer(2), .tuple([.integer(3)])])])),
      ("-5", .integer(-5)),
      ("12L", .integer(12)),
      ("None", .none),
      ("True", .boolean(true)),
      ("\"a'b\"", .string("a'b")),
      ("'a\\'b\\\\c\\n\\x41\\u00e9'", .string("a'b\\c\nAé")),
      ("'\\q'", .string("\\q")),
      (
        "[('a', '<f8'), ('b', '<f4')]",
        .list([
          .tuple([.string("a"), .string("<f8")]), .tuple([.string("b"), .string("<f4")]),
        ])
      ),
    ])
  func literals(text: String, expected: PythonLiteral) throws {
    #expect(try parse(text) == expected)
  }

  @Test("Latin-1 and UTF-8 headers decode strings by their encoding")
  func encodings() throws {
    let bytes: [UInt8] = [0x27, 0xC3, 0xA9, 0x27]  // 'é' in UTF-8
    #expect(try PythonLiteralParser.parse(bytes, encoding: .utf8) == .string("é"))
    #expect(try PythonLiteralParser.parse(bytes, encoding: .latin1) == .string("Ã©"))
  }

  @Test(
    "Errors say what is wrong and where",
    arguments: [
      ("{'a': 1, 'a': 2}", 9, "the key 'a' appears more than once"),
      ("'open", 0, "string literal is not closed"),
      ("(1 2)", 3, "expected ',' or ')' in a tuple"),
      ("{1: 2}", 1, "expected a string key"),
      ("99999999999999999999", 0, "integer literal too large"),
      ("1.5", 1, "unexpected '.' in an integer literal"),
      ("nan", 0, "unexpected name 'nan'"),
      ("{} x", 3, "after the end of the value"),
      (String(repeating: "[", count: 40), 32, "nested more than 32 levels"),
    ])
  func errors(text: String, offset: Int, message: String) throws {
    let error = #expect(throws: PythonLiteralParser.Failure.self) { try parse(text) }
    #expect(error?.offset == offset)
    #expect(error?.message.contains(message) == true, "\(String(describing: error))")
  }

  @Test("repr of values, as used in error messages")
  func description() {
    #expect(PythonLiteral.tuple([.integer(3)]).description == "(3,)")
    #expect(PythonLiteral.tuple([.integer(2), .integer(3)]).description == "(2, 3)")
    #expect(PythonLiteral.string("it's\n\u{1}").description == "'it\\'s\\n\\x01'")
  }
}
