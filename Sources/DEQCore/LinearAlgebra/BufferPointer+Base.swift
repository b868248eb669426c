// The one place that turns a buffer into its start pointer for a BLAS/LAPACK call.
// Callers only use it on buffers they allocated with at least one element, so a nil
// base address is a bug in this library, reported with a message rather than a bare `!`.

extension UnsafeBufferPointer {
  @inlinable
  var unsafeBase: UnsafePointer<Element> {
    guard let base = baseAddress else { preconditionFailure("empty buffer passed to BLAS/LAPACK") }
    return base
  }
}

extension UnsafeMutableBufferPointer {
  @inlinable
  var unsafeBase: UnsafeMutablePointer<Element> {
    guard let base = baseAddress else { preconditionFailure("empty buffer passed to BLAS/LAPACK") }
    return base
  }
}
