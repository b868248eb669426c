// Calling LAPACK's Fortran routines directly (OpenBLAS exports them) rather than through
// LAPACKE: every call is column-major, which LAPACKE's `_work` functions only forward, and
// liblapacke would load three more libraries (and a second LAPACK) into every process.
//
// Arguments go by address; each CHARACTER argument adds a trailing length (1) after the
// others, as gfortran's calling convention and `lapack.h` have it.

import CBLASLAPACK

/// Helpers for the Fortran calls of the `lapack…` requirements.
enum _Fortran {
  /// A one-letter CHARACTER argument.
  @inline(__always)
  static func character(_ letter: Unicode.Scalar) -> CChar {
    CChar(bitPattern: UInt8(ascii: letter))
  }

  /// LAPACK's `info` as LAPACKE reports it: an illegal argument `i` (`info = −i`) counts
  /// LAPACKE's leading layout argument, `−(i + 1)`.
  @inline(__always)
  static func info(_ info: Int32) -> Int {
    Int(info < 0 ? info - 1 : info)
  }
}
