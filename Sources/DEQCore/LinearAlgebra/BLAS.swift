/// Matrix products on ``Tensor`` values through BLAS.
///
/// Rank-2 tensors are row-major matrices. These are conveniences for code outside the
/// hot paths; hot loops call ``DEQScalar/blasGemm(transposeA:transposeB:_:_:_:_:_:_:_:_:_:_:_:)``
/// on preallocated buffers.
public enum BLAS {
  /// `op(A) · op(B)` for rank-2 tensors.
  ///
  /// - Throws: ``LinearAlgebraError/dimensionMismatch(expected:actual:)`` when the inner
  ///   dimensions differ or an operand is not rank 2.
  /// - Complexity: 2·m·n·k flops.
  public static func matmul<S: DEQScalar>(
    _ a: Tensor<S>, _ b: Tensor<S>, transposeA: Bool = false, transposeB: Bool = false
  ) throws(LinearAlgebraError) -> Tensor<S> {
    guard a.rank == 2 else { throw .dimensionMismatch(expected: [-1, -1], actual: a.shape) }
    guard b.rank == 2 else { throw .dimensionMismatch(expected: [-1, -1], actual: b.shape) }
    let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard k == kb else { throw .dimensionMismatch(expected: [k, n], actual: [kb, n]) }
    var c = Tensor<S>(zeros: [m, n])
    guard m > 0, n > 0, k > 0 else { return c }
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          guard let pa = pa.baseAddress, let pb = pb.baseAddress, let pc = pc.baseAddress
          else { return }
          S.blasGemm(
            transposeA: transposeA, transposeB: transposeB, m, n, k, 1,
            pa, a.shape[1], pb, b.shape[1], 0, pc, n)
        }
      }
    }
    return c
  }

  /// `op(A) · x` for a rank-2 tensor `A` and a vector `x`.
  ///
  /// - Throws: ``LinearAlgebraError/dimensionMismatch(expected:actual:)``.
  /// - Complexity: 2·m·n flops.
  public static func matvec<S: DEQScalar>(
    _ a: Tensor<S>, _ x: [S], transpose: Bool = false
  ) throws(LinearAlgebraError) -> [S] {
    guard a.rank == 2 else { throw .dimensionMismatch(expected: [-1, -1], actual: a.shape) }
    let (rows, columns) = (a.shape[0], a.shape[1])
    let (inputCount, outputCount) = transpose ? (rows, columns) : (columns, rows)
    guard x.count == inputCount else {
      throw .dimensionMismatch(expected: [inputCount], actual: [x.count])
    }
    var y = [S](repeating: 0, count: outputCount)
    guard rows > 0, columns > 0 else { return y }
    a.withUnsafeBufferPointer { pa in
      x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
          guard let pa = pa.baseAddress, let px = px.baseAddress, let py = py.baseAddress
          else { return }
          S.blasGemv(transpose: transpose, rows, columns, 1, pa, columns, px, 1, 0, py, 1)
        }
      }
    }
    return y
  }
}
