import DEQSolvers
import Foundation
import Testing

@Suite("Spectral-radius records: typed method and failure, stable JSON")
struct SpectralRadiusRecordTests {
  /// A failed record's value is NaN, which plain JSON cannot hold: spelled "nan".
  static let nonFinite = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

  static func json(_ record: SpectralRadiusRecord) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity,
      nan: nonFinite.nan)
    return String(decoding: try encoder.encode(record), as: UTF8.self)
  }

  static func decode(_ text: String) throws -> SpectralRadiusRecord {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity,
      nan: nonFinite.nan)
    return try decoder.decode(SpectralRadiusRecord.self, from: Data(text.utf8))
  }

  @Test(
    "methods encode as the names traces have always used, and decode back",
    arguments: [
      (SpectralRadiusRecord.Method.dense, "dense-geev"), (.arnoldi, "arnoldi"),
      (.powerIteration, "power"), (.custom("test"), "test"),
    ])
  func methodNames(method: SpectralRadiusRecord.Method, name: String) throws {
    let record = SpectralRadiusRecord(value: 0.5, method: method, errorEstimate: 0.25)
    let text = try Self.json(record)
    #expect(
      text == #"{"errorEstimate":0.25,"isReliable":true,"method":"\#(name)","value":0.5}"#)
    #expect(try Self.decode(text) == record)
    #expect(method.name == name && "\(method)" == name)
    #expect(SpectralRadiusRecord.Method(name: name) == method)
  }

  @Test("a record written before the typed fields decodes, its method a built-in case")
  func legacyJSON() throws {
    let record = try Self.decode(#"{"value":0.8,"method":"power","isReliable":false}"#)
    #expect(record.method == .powerIteration && record.failure == nil && !record.isReliable)
    guard case .powerIteration = record.method else {
      Issue.record("\(record.method) is not the .powerIteration case")
      return
    }
  }

  @Test("names identify methods: a custom name equal to a built-in one is that method")
  func equalityByName() {
    let custom = SpectralRadiusRecord.Method.custom("arnoldi")
    #expect(custom == .arnoldi)
    #expect(Set([custom, .arnoldi, .dense, .custom("dense-geev")]).count == 2)
    #expect(SpectralRadiusRecord.Method.custom("mine") != .custom("yours"))
  }

  @Test("every estimate method has its record method")
  func estimateMethods() {
    let names = SpectralRadiusEstimate<Double>.Method.allCases.map {
      SpectralRadiusRecord.Method($0).name
    }
    #expect(names == ["dense-geev", "power", "arnoldi"])
  }

  @Test(
    "a failure is a typed error in the record and survives a JSON round trip",
    arguments: [
      DiagnosticsError.nonFiniteProduct(product: 3), .jacobianUnavailable(reason: "no weights"),
      .linearAlgebra(.noConvergence(routine: "dgeev", info: 2)),
      .invalidParameter(name: "krylovDimension", reason: "must be at least 2"),
    ])
  func failures(failure: DiagnosticsError) throws {
    let record = SpectralRadiusRecord(method: .arnoldi, failure: failure)
    #expect(record.value.isNaN && !record.isReliable && record.errorEstimate == nil)
    #expect(record.method == .arnoldi && record.failure == failure)
    let decoded = try Self.decode(try Self.json(record))
    #expect(decoded.failure == failure && decoded.method == .arnoldi && decoded.value.isNaN)
  }
}
