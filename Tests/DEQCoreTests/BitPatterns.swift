import DEQCore

/// The bit patterns of the elements, widened to `UInt64`.
///
/// File I/O must be lossless, so its tests compare bit patterns: that is exact, unlike `==`,
/// and also tells `-0.0` from `0.0` and checks NaNs.
func bitPatterns<Scalar: DEQScalar>(_ tensor: Tensor<Scalar>) -> [UInt64] {
  tensor.scalars.map { scalar in
    if let float = scalar as? Float { return UInt64(float.bitPattern) }
    if let double = scalar as? Double { return double.bitPattern }
    fatalError("only Float and Double tensors are tested")
  }
}

/// The bit patterns of the elements of a tensor of either precision.
func bitPatterns(_ tensor: AnyTensor) -> [UInt64] {
  switch tensor {
  case .float(let tensor): bitPatterns(tensor)
  case .double(let tensor): bitPatterns(tensor)
  }
}
