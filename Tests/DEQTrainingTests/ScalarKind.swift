import Testing

/// The scalar a generic test runs in (a `@Test(arguments:)` value).
enum ScalarKind: String, CaseIterable, CustomTestStringConvertible {
  case float, double
  var testDescription: String { rawValue }
}
