import DEQCore
import Testing

@Suite("NamedParameters")
struct NamedParametersTests {
  let a = Tensor<Double>(shape: [2, 3]) { Double($0) + 1 }
  let b = Tensor<Double>([10, 20])

  @Test("Entries keep names, shapes and values; vector operations act on all scalars")
  func layoutAndArithmetic() throws {
    var p = NamedParameters([("w", a), ("b", b)])
    #expect(p.names == ["w", "b"])
    #expect(p.entries.map(\.range) == [0..<6, 6..<8])
    #expect(try #require(p["w"]) == a)
    #expect(try #require(p["b"]) == b)
    #expect(p["missing"] == nil)
    p.add(p.scaled(by: 2))  // 3·p
    #expect(p.scalars == [3, 6, 9, 12, 15, 18, 30, 60])
    let expectedNorm = (a.scalars + b.scalars).map { 9 * $0 * $0 }.reduce(0, +).squareRoot()
    #expect(p.norm().isApproximatelyEqual(to: expectedNorm, relativeTolerance: 1e-15))
  }

  @Test("Masks, prefixes, concatenation and splitting")
  func reshaping() throws {
    let p = NamedParameters([("w", a), ("b", b)])
    #expect(p.mask { $0.name == "b" }.scalars == [0, 0, 0, 0, 0, 0, 1, 1])
    let q = p.prefixed("head.")
    #expect(q.names == ["head.w", "head.b"])
    let joined = p.concatenated(with: NamedParameters([("c", Tensor<Double>([7]))]))
    #expect(joined.names == ["w", "b", "c"])
    let pieces = joined.split(entryCounts: [2, 1])
    #expect(pieces[0].hasSameLayout(as: p) && pieces[0].scalars == p.scalars)
    #expect(pieces[1].entries == [.init(name: "c", shape: [1], range: 0..<1)])
    #expect(pieces[1].scalars == [7])
  }
}
