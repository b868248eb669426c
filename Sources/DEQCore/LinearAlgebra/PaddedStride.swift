// The distance between arrays that a loop reads or writes together (Winograd's streams, a
// solver history's rows). Underscored: an implementation detail of the package's modules,
// not API.

/// `count` scalars rounded up to whole 4 KB pages plus 256 bytes.
///
/// Arrays a multiple of 4 KB apart put their elements at the same offsets in the same L1
/// sets, so a loop over several of them at once evicts its own lines: at the IFR head's paper
/// size a Winograd stream (256 · 196 floats) and a Broyden history row (50,176 floats) are
/// both exactly 49 pages. The extra 256 bytes shift each next array by four cache lines.
public enum _PaddedStride {
  @inlinable
  public static func of<Scalar>(_ count: Int, _: Scalar.Type) -> Int {
    let size = MemoryLayout<Scalar>.stride
    let page = 4096 / size
    return (count + page - 1) / page * page + 256 / size
  }
}
