import DEQCore
import Testing

@Suite("AnyTensor")
struct AnyTensorTests {
  @Test("Wrapping keeps the precision; conversion happens only on request")
  func precision() throws {
    let single = AnyTensor(Tensor<Float>([0.1, -3]))
    #expect(single == .float(Tensor<Float>([0.1, -3])))
    #expect(single.shape == [2] && single.count == 2)
    #expect(single.numpyDescriptor == "<f4" && single.safetensorsDType == "F32")
    #expect(single.tensor(as: Float.self) == Tensor<Float>([0.1, -3]))
    #expect(single.tensor(as: Double.self) == nil)
    // Widening is exact: the doubles are the floats' values.
    #expect(single.converted(to: Double.self).scalars == [Double(Float(0.1)), -3])

    let double = AnyTensor(Tensor<Double>(shape: [], repeating: 1.0 / 3))
    #expect(double.numpyDescriptor == "<f8" && double.safetensorsDType == "F64")
    #expect(double.converted(to: Float.self).scalars == [Float(1.0 / 3)])
    #expect(double.tensor(as: Double.self)?.scalars == [1.0 / 3])
  }
}
