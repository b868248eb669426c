import DEQCore
import Testing
import _DEQTestSupport

@Suite("Tensor and VectorSpace")
struct TensorTests {
  @Test("Row-major indexing, samples and reshaping")
  func indexing() throws {
    let t = try Tensor<Double>(shape: [2, 3, 2], scalars: (0..<12).map(Double.init))
    #expect(t[1, 2, 0] == 10)
    #expect(t.strides == [6, 2, 1])
    #expect(t.sample(1).scalars == [6, 7, 8, 9, 10, 11])
    #expect(t.sample(1).shape == [3, 2])
    let sum = t.withSample(0) { $0.reduce(0, +) }
    #expect(sum == 15)
    #expect(try t.reshaped(to: [4, 3]).shape == [4, 3])
    #expect(throws: TensorError.countMismatch(shape: [5, 3], count: 12)) {
      try t.reshaped(to: [5, 3])
    }
    #expect(throws: TensorError.invalidShape([-1, 3])) {
      try Tensor<Double>(shape: [-1, 3], scalars: [])
    }
    let stacked = try Tensor.stacking([t.sample(0), t.sample(1)])
    #expect(stacked == t)
    var u = t
    u.setSample(0, to: t.sample(1))
    #expect(u.sample(0) == t.sample(1))
    #expect(t.sample(0).scalars == [0, 1, 2, 3, 4, 5])  // copy-on-write: t unchanged
  }

  @Test("isFinite finds one infinity or NaN anywhere, in the eight-lane part and the tail")
  func finiteScan() {
    func check<S: DEQScalar>(_: S.Type) {
      for count in [1, 7, 8, 9, 16, 21, 1027] {
        let finite = (0..<count).map { S(Double($0) - 3.5) * (S.greatestFiniteMagnitude / 4096) }
        #expect(finite.isFinite, "\(S.self) n = \(count)")
        #expect(Tensor(finite).isFinite)
        for position in Set([0, count / 2, count - 1]) {
          for special in [S.infinity, -S.infinity, S.nan] {
            var x = finite
            x[position] = special
            #expect(!x.isFinite, "\(S.self) n = \(count) at \(position): \(special)")
          }
        }
      }
    }
    check(Double.self)
    check(Float.self)
    // x − x is 0 for every finite x, however large.
    #expect([Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude].isFinite)
  }

  @Test("Vector-space operations agree with elementwise closed forms")
  func vectorSpace() {
    let x: [Double] = [3, 4, 0]
    let y: [Double] = [1, -2, 5]
    #expect(x.norm() == 5)
    #expect(x.dot(y) == -5)
    #expect(x.adding(y, scaledBy: 2) == [5, 0, 10])
    #expect(x.subtracting(y) == [2, 6, -5])
    #expect(x.scaled(by: 0.5) == [1.5, 2, 0])
    #expect(x.zeroed() == [0, 0, 0])
    #expect(x.isFinite && ![1.0, .nan].isFinite && ![Float.infinity].isFinite)
    let t = Tensor<Float>([3, 4])
    #expect((t + t).scalars == [6, 8])
    #expect((2 * t - t).scalars == [3, 4])
    #expect(t.norm() == 5)
    #expect(t.scalarCount == 2)
    var z: [Float] = [1, 2]
    z.assign(2, [1, 1], plus: 3, [0, 1])
    #expect(z == [2, 5])
  }

  @Test("The norm does not overflow where sqrt(dot) would")
  func normOverflow() {
    let big: [Float] = [3e30, 4e30]
    #expect(big.norm().isApproximatelyEqual(to: 5e30, relativeTolerance: 1e-6))
    // Double takes the blocked sum of squares unless it overflows or may have underflowed.
    for scale in [1.0, 1e200, 1e-200, 1e-160] {
      let x: [Double] = [3 * scale, 4 * scale] + [Double](repeating: 0, count: 1_029)
      #expect(x.norm().isApproximatelyEqual(to: 5 * scale, relativeTolerance: 1e-15), "\(scale)")
    }
  }

  @Test("The double norm's blocked sum agrees with a compensated sum and with special values")
  func blockedNorm() {
    var rng = SeededGenerator(seed: 17)
    for count in [0, 1, 7, 8, 9, 511, 512, 513, 4_099, 50_176] {
      let x = (0..<count).map { _ in rng.nextNormal(Double.self) * 3 }
      // Reference: squares summed with Kahan compensation, in the same order.
      var sum = 0.0
      var compensation = 0.0
      for v in x {
        let term = v * v - compensation
        let next = sum + term
        compensation = (next - sum) - term
        sum = next
      }
      let expected = sum.squareRoot()
      #expect(abs(x.norm() - expected) <= 1e-14 * Swift.max(expected, 1e-300), "n = \(count)")
    }
    #expect([1.0, .infinity, 2].norm() == .infinity)
    #expect([1.0, .nan, 2].norm().isNaN)
    #expect([Double](repeating: 0, count: 20).norm() == 0)
  }
}

@Suite("Seeded random numbers")
struct SeededGeneratorTests {
  @Test("The stream matches an independent xoshiro256** + SplitMix64 implementation")
  func referenceStream() {
    // First outputs for seed 7, computed with a Python implementation of the published
    // algorithms (Blackman & Vigna 2018), integer arithmetic only.
    var rng = SeededGenerator(seed: 7)
    let expected: [UInt64] = [
      12_923_355_070_828_475_994, 5_142_052_590_334_782_674, 15_488_392_906_492_639_638,
      18_098_058_644_649_177_664, 18_278_145_976_438_096_664,
    ]
    #expect((0..<5).map { _ in rng.next() } == expected)
    var again = SeededGenerator(seed: 7)
    #expect(again.nextUniform(Double.self) == 0.7005764821796896)
  }

  @Test("Normal samples have mean 0 and variance 1 within sampling error")
  func normalMoments() {
    var rng = SeededGenerator(seed: 1)
    let n = 200_000
    let xs = (0..<n).map { _ in rng.nextNormal(Double.self) }
    let mean = xs.reduce(0, +) / Double(n)
    let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
    // Standard errors: 1/√n ≈ 0.0022 for the mean, √(2/n) ≈ 0.0032 for the variance.
    #expect(abs(mean) < 0.0022 * 5)
    #expect(abs(variance - 1) < 0.0032 * 5)
    var u = SeededGenerator(seed: 2)
    let uniforms = (0..<10_000).map { _ in u.nextUniform(Float.self) }
    #expect(uniforms.allSatisfy { $0 >= 0 && $0 < 1 })
  }
}

@Suite("BLAS thread count")
struct BLASThreadsTests {
  @Test("Setting the count is read back and restored")
  func roundTrip() {
    let before = BLASThreads.count
    BLASThreads.withCount(1) { #expect(BLASThreads.count == 1) }
    #expect(BLASThreads.count == before)
  }
}
