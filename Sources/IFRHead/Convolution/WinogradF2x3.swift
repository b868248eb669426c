// Winograd's minimal filtering F(2×2, 3×3) for 3×3, stride-1, zero-padded convolutions
// (Winograd 1980; Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks").
//
// Each 2×2 output tile is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, d the 4×4 input tile around it, so
// that a convolution over T tiles becomes 16 GEMMs (K × C) · (C × T): 16 multiplications
// per tile and channel pair instead of 36, 2.25× fewer flops than im2col. The constants
// are 0, ±1 and ½, exact in binary, so the transforms add no rounding of their own beyond
// the sums (the error stays at the level of the direct sum; see Docs/Performance.md).
//
// Layout: activations are channel-major over a batch, `[C][N·H·W]` (channel rows
// `N·H·W` long, RoI r at offset r·H·W in each row); transformed inputs are `[16][C][T]`
// and GEMM products `[16][K][T]`, T = N · ⌈H/2⌉ · ⌈W/2⌉, tile t = (r·⌈H/2⌉ + ty)·⌈W/2⌉ + tx.
//
// Goals in priority order: exact agreement with the direct sum up to rounding; transforms
// that stream (rows first, so the vertical pass vectorises); no allocation per call.

/// Winograd F(2×2, 3×3) transforms for a channel-major batch.
@usableFromInline
enum _WinogradF2x3<Scalar: DEQScalar>: _WinogradScheme {
  @inlinable static var tile: Int { 2 }
  @inlinable static var streams: Int { 16 }

  /// `4 · (2·⌈W/2⌉ + 2) + W` scalars (the input transform's; the output's needs less).
  @inlinable
  static func rowScratchCount(width: Int) -> Int { 4 * (2 * ((width + 1) / 2) + 2) + width }

  /// `U[ξ][o][i] = (G g Gᵀ)[ξ]` for the kernels of the output channels `o` in `range`, a kernel `g = weight[o, i]` (`outChannels × inChannels
  /// × 3 × 3`), or, with `transposed`, the kernels of the transposed convolution
  /// `g'[i, o] = weight[o, i]` rotated by 180° (`U` is then `[16][inChannels][outChannels]`).
  @inlinable
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func transformWeight(
    _ weight: UnsafePointer<Scalar>, outChannels: Int, inChannels: Int, range: Range<Int>,
    transposed: Bool, into u: UnsafeMutablePointer<Scalar>
  ) {
    let columns = transposed ? outChannels : inChannels
    let matrix = outChannels * inChannels
    let half: Scalar = 0.5
    for o in range {
      for i in 0..<inChannels {
        let w = weight + (o * inChannels + i) * 9
        @inline(__always) func g(_ a: Int, _ b: Int) -> Scalar {
          transposed ? w[(2 - a) * 3 + (2 - b)] : w[a * 3 + b]
        }
        let (row, column) = transposed ? (i, o) : (o, i)
        let target = u + row * columns + column
        for a in 0..<4 {
          // Row a of G g: G's row a applied to g's columns.
          @inline(__always) func gg(_ b: Int) -> Scalar {
            switch a {
            case 0: g(0, b)
            case 1: (g(0, b) + g(1, b) + g(2, b)) * half
            case 2: (g(0, b) - g(1, b) + g(2, b)) * half
            default: g(2, b)
            }
          }
          let (r0, r1, r2) = (gg(0), gg(1), gg(2))
          target[(a * 4 + 0) * matrix] = r0
          target[(a * 4 + 1) * matrix] = (r0 + r1 + r2) * half
          target[(a * 4 + 2) * matrix] = (r0 - r1 + r2) * half
          target[(a * 4 + 3) * matrix] = r2
        }
      }
    }
  }

  /// `V[ξ][c][t] = (Bᵀ d B)[ξ]` for every channel and tile of a channel-major batch.
  ///
  /// - Parameters:
  ///   - input: `channels` rows, `channelStride` apart, each holding `roiCount` planes.
  ///   - range: the channels to transform (the others are left as they are).
  ///   - rowScratch: `4 · (2·⌈W/2⌉ + 2) + W` scalars.
  ///   - v: `16 · channels · T` scalars.
  @inlinable
  static func transformInput(
    _ input: UnsafePointer<Scalar>, channels: Int, range: Range<Int>, roiCount: Int,
    height: Int, width: Int, channelStride: Int, rowScratch: UnsafeMutablePointer<Scalar>,
    into v: UnsafeMutablePointer<Scalar>
  ) {
    let (tileRows, tileColumns) = tiles(height: height, width: width)
    let padded = 2 * tileColumns + 2
    let matrix = channels * roiCount * tileRows * tileColumns
    forEachInputTileRow(
      input, channels: channels, range: range, roiCount: roiCount, height: height,
      width: width, channelStride: channelStride, rowScratch: rowScratch
    ) { row, rows, base in
      // Rows 2ty − 1 … 2ty + 2, combined vertically by Bᵀ.
      let (d0, d1, d2, d3) = (row(0), row(1), row(2), row(3))
      let t0 = rows
      let t1 = rows + padded
      let t2 = rows + 2 * padded
      let t3 = rows + 3 * padded
      for j in 0..<width {
        let x0 = d0[j]
        let x1 = d1[j]
        let x2 = d2[j]
        let x3 = d3[j]
        t0[j + 1] = x0 - x2
        t1[j + 1] = x1 + x2
        t2[j + 1] = x2 - x1
        t3[j + 1] = x1 - x3
      }
      // Horizontally by B, 16 values per tile into 16 streams.
      for a in 0..<4 {
        let t = rows + a * padded
        let s0 = v + (a * 4 + 0) * matrix + base
        let s1 = v + (a * 4 + 1) * matrix + base
        let s2 = v + (a * 4 + 2) * matrix + base
        let s3 = v + (a * 4 + 3) * matrix + base
        for tx in 0..<tileColumns {
          let e = t + 2 * tx
          s0[tx] = e[0] - e[2]
          s1[tx] = e[1] + e[2]
          s2[tx] = e[2] - e[1]
          s3[tx] = e[1] - e[3]
        }
      }
    }
  }

  /// `y = Aᵀ m A` for every channel and tile: the products `[16][channels][T]` back to a
  /// channel-major batch (`channels` rows `channelStride` apart), cropping partial tiles.
  ///
  /// - Parameters:
  ///   - range: the channels to write.
  ///   - rowScratch: `2 · 2·⌈W/2⌉` scalars.
  @inlinable
  static func transformOutput(
    _ m: UnsafePointer<Scalar>, channels: Int, range: Range<Int>, roiCount: Int, height: Int,
    width: Int, channelStride: Int, rowScratch: UnsafeMutablePointer<Scalar>,
    into output: UnsafeMutablePointer<Scalar>
  ) {
    let plane = height * width
    let (tileRows, tileColumns) = tiles(height: height, width: width)
    let tileCount = roiCount * tileRows * tileColumns
    let matrix = channels * tileCount
    let paddedWidth = 2 * tileColumns
    let upper = rowScratch
    let lower = rowScratch + paddedWidth
    for c in range {
      for r in 0..<roiCount {
        let target = output + c * channelStride + r * plane
        for ty in 0..<tileRows {
          let base = c * tileCount + (r * tileRows + ty) * tileColumns
          @inline(__always) func stream(_ xi: Int) -> UnsafePointer<Scalar> {
            m + xi * matrix + base
          }
          let m00 = stream(0)
          let m01 = stream(1)
          let m02 = stream(2)
          let m03 = stream(3)
          let m10 = stream(4)
          let m11 = stream(5)
          let m12 = stream(6)
          let m13 = stream(7)
          let m20 = stream(8)
          let m21 = stream(9)
          let m22 = stream(10)
          let m23 = stream(11)
          let m30 = stream(12)
          let m31 = stream(13)
          let m32 = stream(14)
          let m33 = stream(15)
          for tx in 0..<tileColumns {
            // Aᵀ m: rows 0 + 1 + 2 and 1 − 2 − 3, per column b.
            let a0 = m00[tx] + m10[tx] + m20[tx]
            let a1 = m01[tx] + m11[tx] + m21[tx]
            let a2 = m02[tx] + m12[tx] + m22[tx]
            let a3 = m03[tx] + m13[tx] + m23[tx]
            let b0 = m10[tx] - m20[tx] - m30[tx]
            let b1 = m11[tx] - m21[tx] - m31[tx]
            let b2 = m12[tx] - m22[tx] - m32[tx]
            let b3 = m13[tx] - m23[tx] - m33[tx]
            upper[2 * tx] = a0 + a1 + a2
            upper[2 * tx + 1] = a1 - a2 - a3
            lower[2 * tx] = b0 + b1 + b2
            lower[2 * tx + 1] = b1 - b2 - b3
          }
          let y = 2 * ty
          (target + y * width).update(from: upper, count: width)
          if y + 1 < height { (target + (y + 1) * width).update(from: lower, count: width) }
        }
      }
    }
  }
}
