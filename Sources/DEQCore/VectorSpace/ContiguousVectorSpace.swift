/// A ``VectorSpace`` whose scalars live in one contiguous buffer.
///
/// Conforming gives every ``VectorSpace`` requirement a BLAS implementation, and lets
/// solvers keep their history as one matrix and hand it to BLAS (one `gemv` instead of
/// `m` inner products). A conformer provides ``VectorSpace/zeroed()`` and the two buffer
/// accessors.
///
/// The buffer's element order is the type's own; two values of the same shape must use
/// the same order, so that elementwise operations on buffers are meaningful.
public protocol ContiguousVectorSpace: VectorSpace {
  /// Calls `body` with the scalars of `self`.
  func withUnsafeBufferPointer<R, E: Error>(
    _ body: (UnsafeBufferPointer<Scalar>) throws(E) -> R
  ) throws(E) -> R

  /// Calls `body` with the scalars of `self`, which it may change (not the count).
  mutating func withUnsafeMutableBufferPointer<R, E: Error>(
    _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws(E) -> R
  ) throws(E) -> R
}

extension ContiguousVectorSpace {
  @inlinable
  public var scalarCount: Int { withUnsafeBufferPointer { $0.count } }

  @inlinable
  public mutating func add(_ other: Self, scaledBy scale: Scalar) {
    other.withUnsafeBufferPointer { x in
      withUnsafeMutableBufferPointer { y in
        precondition(x.count == y.count, "VectorSpace operands differ in size")
        guard let xb = x.baseAddress, let yb = y.baseAddress else { return }
        Scalar.blasAxpy(x.count, scale, xb, 1, yb, 1)
      }
    }
  }

  @inlinable
  public mutating func scale(by scale: Scalar) {
    withUnsafeMutableBufferPointer { y in
      guard let yb = y.baseAddress else { return }
      Scalar.blasScal(y.count, scale, yb, 1)
    }
  }

  @inlinable
  public func dot(_ other: Self) -> Scalar {
    withUnsafeBufferPointer { x in
      other.withUnsafeBufferPointer { y in
        precondition(x.count == y.count, "VectorSpace operands differ in size")
        guard let xb = x.baseAddress, let yb = y.baseAddress else { return 0 }
        return Scalar.blasDot(x.count, xb, 1, yb, 1)
      }
    }
  }

  /// `‖x‖₂`, by ``_EuclideanNorm``.
  @inlinable
  public func norm() -> Scalar {
    withUnsafeBufferPointer { x in
      guard let xb = x.baseAddress else { return 0 }
      return _EuclideanNorm.of(xb, count: x.count)
    }
  }

  /// Whether every scalar is finite (``_FiniteScan``).
  @inlinable
  public var isFinite: Bool {
    withUnsafeBufferPointer { x in
      guard let base = x.baseAddress else { return true }
      return _FiniteScan.all(base, count: x.count)
    }
  }

  /// `self ← a · x + b · y`, written in place without allocating.
  ///
  /// - Complexity: O(n) flops, no allocation.
  @inlinable
  public mutating func assign(
    _ a: Scalar, _ x: Self, plus b: Scalar, _ y: Self
  ) {
    x.withUnsafeBufferPointer { xs in
      y.withUnsafeBufferPointer { ys in
        withUnsafeMutableBufferPointer { out in
          precondition(
            xs.count == out.count && ys.count == out.count,
            "VectorSpace operands differ in size")
          for i in 0..<out.count { out[i] = a * xs[i] + b * ys[i] }
        }
      }
    }
  }

  /// Copies the scalars of `other` (of the same size) into `self` without allocating.
  @inlinable
  public mutating func assign(_ other: Self) {
    other.withUnsafeBufferPointer { xs in
      withUnsafeMutableBufferPointer { out in
        precondition(xs.count == out.count, "VectorSpace operands differ in size")
        guard let src = xs.baseAddress, let dst = out.baseAddress else { return }
        dst.update(from: src, count: xs.count)
      }
    }
  }
}
