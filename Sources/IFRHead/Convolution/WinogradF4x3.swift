// Winograd's minimal filtering F(4×4, 3×3) for 3×3, stride-1, zero-padded convolutions
// (Lavin & Gray 2016, interpolation points 0, ±1, ±2 and ∞).
//
// Each 4×4 output tile is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, d the 6×6 input tile around it, so a
// convolution over T tiles becomes 36 GEMMs (K × C) · (C × T): 36 multiplications per
// 16 outputs and channel pair instead of 144, 4× fewer flops than im2col on planes that
// are multiples of 4 (at 14 × 14, 16 tiles of 4×4 cover 16 × 16: 2.9× fewer than im2col,
// 1.36× fewer than F(2×2, 3×3)). Bᵀ and Aᵀ hold small integers, exact in binary; G holds
// 1/4, 1/6, 1/12 and 1/24, so the kernels are transformed in Double and rounded once. The
// larger constants (up to 8 in Aᵀ, 5 in Bᵀ) cost about one more decimal digit than
// F(2×2, 3×3): measured against im2col and PyTorch in Docs/Performance.md.
//
// Layout as `_WinogradScheme` describes, with 36 streams, stream ξ = 6·a + b for row a and
// column b of the 6×6 transformed tile.
//
// Goals in priority order: agreement with the direct sum up to rounding; transforms that
// stream (rows first, so the vertical pass vectorises); no allocation per call.

/// Winograd F(4×4, 3×3) transforms for a channel-major batch.
@usableFromInline
enum _WinogradF4x3<Scalar: DEQScalar>: _WinogradScheme {
  @inlinable static var tile: Int { 4 }
  @inlinable static var streams: Int { 36 }

  /// `6 · (4·⌈W/4⌉ + 2) + W` scalars (the input transform's; the output's needs less).
  @inlinable
  static func rowScratchCount(height: Int, width: Int, roiCount: Int) -> Int {
    6 * (4 * ((width + 3) / 4) + 2) + width
  }

  /// `G v` for one column `v` of a kernel (6 values from 3), in Double.
  @inlinable @inline(__always)
  static func interpolate(_ v0: Double, _ v1: Double, _ v2: Double) -> (
    Double, Double, Double, Double, Double, Double
  ) {
    let a = -(v0 + v1 + v2) / 6
    let b = (v1 - v0 - v2) / 6
    let c = v0 / 24 + v1 / 12 + v2 / 6
    let d = v0 / 24 - v1 / 12 + v2 / 6
    return (v0 / 4, a, b, c, d, v2)
  }

  @inlinable
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func transformWeight(
    _ weight: UnsafePointer<Scalar>, scales: UnsafePointer<Scalar>?, outChannels: Int,
    inChannels: Int, range: Range<Int>, transposed: Bool, into u: UnsafeMutablePointer<Scalar>
  ) {
    let columns = transposed ? outChannels : inChannels
    let matrix = streamStride(outChannels * inChannels)
    for o in range {
      let scale = scales?[o] ?? 1
      for i in 0..<inChannels {
        let w = weight + (o * inChannels + i) * 9
        @inline(__always) func g(_ a: Int, _ b: Int) -> Double {
          Double((transposed ? w[(2 - a) * 3 + (2 - b)] : w[a * 3 + b]) * scale)
        }
        let (row, column) = transposed ? (i, o) : (o, i)
        let target = u + row * columns + column
        // G g: the three columns of g, each interpolated to six rows; then each row a of
        // G g interpolated to six columns, (G g Gᵀ)[a][b] into stream 6a + b.
        let c0 = interpolate(g(0, 0), g(1, 0), g(2, 0))
        let c1 = interpolate(g(0, 1), g(1, 1), g(2, 1))
        let c2 = interpolate(g(0, 2), g(1, 2), g(2, 2))
        @inline(__always) func store(_ a: Int, _ v0: Double, _ v1: Double, _ v2: Double) {
          let r = interpolate(v0, v1, v2)
          target[(a * 6 + 0) * matrix] = Scalar(r.0)
          target[(a * 6 + 1) * matrix] = Scalar(r.1)
          target[(a * 6 + 2) * matrix] = Scalar(r.2)
          target[(a * 6 + 3) * matrix] = Scalar(r.3)
          target[(a * 6 + 4) * matrix] = Scalar(r.4)
          target[(a * 6 + 5) * matrix] = Scalar(r.5)
        }
        store(0, c0.0, c1.0, c2.0)
        store(1, c0.1, c1.1, c2.1)
        store(2, c0.2, c1.2, c2.2)
        store(3, c0.3, c1.3, c2.3)
        store(4, c0.4, c1.4, c2.4)
        store(5, c0.5, c1.5, c2.5)
      }
    }
  }

  @inlinable
  static func transformInput(
    _ input: UnsafePointer<Scalar>, channels: Int, range: Range<Int>, roiCount: Int,
    height: Int, width: Int, channelStride: Int, rowScratch: UnsafeMutablePointer<Scalar>,
    into v: UnsafeMutablePointer<Scalar>
  ) {
    let (tileRows, tileColumns) = tiles(height: height, width: width)
    let padded = 4 * tileColumns + 2
    let matrix = streamStride(channels * roiCount * tileRows * tileColumns)
    forEachInputTileRow(
      input, channels: channels, range: range, roiCount: roiCount, height: height,
      width: width, channelStride: channelStride, rowScratch: rowScratch
    ) { row, rows, base in
      // Rows 4ty − 1 … 4ty + 4, combined vertically by Bᵀ.
      let (d0, d1, d2, d3, d4, d5) = (row(0), row(1), row(2), row(3), row(4), row(5))
      let t0 = rows
      let t1 = rows + padded
      let t2 = rows + 2 * padded
      let t3 = rows + 3 * padded
      let t4 = rows + 4 * padded
      let t5 = rows + 5 * padded
      for j in 0..<width {
        let x0 = d0[j]
        let x1 = d1[j]
        let x2 = d2[j]
        let x3 = d3[j]
        let x4 = d4[j]
        let x5 = d5[j]
        let p = x4 - 4 * x2  // shared by rows 1 and 2
        let q = x3 - 4 * x1
        let s = x4 - x2  // shared by rows 3 and 4
        let e = 2 * (x3 - x1)
        t0[j + 1] = 4 * x0 - 5 * x2 + x4
        t1[j + 1] = p + q
        t2[j + 1] = p - q
        t3[j + 1] = s + e
        t4[j + 1] = s - e
        t5[j + 1] = 4 * x1 - 5 * x3 + x5
      }
      // Horizontally by B, 36 values per tile into 36 streams.
      for a in 0..<6 {
        let t = rows + a * padded
        let s0 = v + (a * 6 + 0) * matrix + base
        let s1 = v + (a * 6 + 1) * matrix + base
        let s2 = v + (a * 6 + 2) * matrix + base
        let s3 = v + (a * 6 + 3) * matrix + base
        let s4 = v + (a * 6 + 4) * matrix + base
        let s5 = v + (a * 6 + 5) * matrix + base
        for tx in 0..<tileColumns {
          let e = t + 4 * tx
          let p = e[4] - 4 * e[2]
          let q = e[3] - 4 * e[1]
          let s = e[4] - e[2]
          let d = 2 * (e[3] - e[1])
          s0[tx] = 4 * e[0] - 5 * e[2] + e[4]
          s1[tx] = p + q
          s2[tx] = p - q
          s3[tx] = s + d
          s4[tx] = s - d
          s5[tx] = 4 * e[1] - 5 * e[3] + e[5]
        }
      }
    }
  }

  @inlinable
  static func transformOutput(
    _ m: UnsafePointer<Scalar>, channels: Int, range: Range<Int>, roiCount: Int, height: Int,
    width: Int, channelStride: Int, rowScratch: UnsafeMutablePointer<Scalar>,
    into output: UnsafeMutablePointer<Scalar>
  ) {
    let plane = height * width
    let (tileRows, tileColumns) = tiles(height: height, width: width)
    let tileCount = roiCount * tileRows * tileColumns
    let matrix = streamStride(channels * tileCount)
    let paddedWidth = 4 * tileColumns
    for c in range {
      for r in 0..<roiCount {
        let target = output + c * channelStride + r * plane
        for ty in 0..<tileRows {
          let base = c * tileCount + (r * tileRows + ty) * tileColumns
          for tx in 0..<tileColumns {
            // Aᵀ m: for each column b, the four output rows from the six product rows.
            @inline(__always) func value(_ a: Int, _ b: Int) -> Scalar {
              m[(a * 6 + b) * matrix + base + tx]
            }
            @inline(__always) func column(_ b: Int) -> (Scalar, Scalar, Scalar, Scalar) {
              let m0 = value(0, b)
              let m1 = value(1, b)
              let m2 = value(2, b)
              let m3 = value(3, b)
              let m4 = value(4, b)
              let m5 = value(5, b)
              let sum12 = m1 + m2
              let difference12 = m1 - m2
              let sum34 = m3 + m4
              let difference34 = m3 - m4
              return (
                m0 + sum12 + sum34, difference12 + 2 * difference34, sum12 + 4 * sum34,
                difference12 + 8 * difference34 + m5
              )
            }
            let k0 = column(0)
            let k1 = column(1)
            let k2 = column(2)
            let k3 = column(3)
            let k4 = column(4)
            let k5 = column(5)
            // (Aᵀ m) A: each of the four rows to four outputs, into the row scratch.
            @inline(__always) func store(
              _ row: (Scalar, Scalar, Scalar, Scalar, Scalar, Scalar), _ y: Int
            ) {
              let sum12 = row.1 + row.2
              let difference12 = row.1 - row.2
              let sum34 = row.3 + row.4
              let difference34 = row.3 - row.4
              let out = rowScratch + y * paddedWidth + 4 * tx
              out[0] = row.0 + sum12 + sum34
              out[1] = difference12 + 2 * difference34
              out[2] = sum12 + 4 * sum34
              out[3] = difference12 + 8 * difference34 + row.5
            }
            store((k0.0, k1.0, k2.0, k3.0, k4.0, k5.0), 0)
            store((k0.1, k1.1, k2.1, k3.1, k4.1, k5.1), 1)
            store((k0.2, k1.2, k2.2, k3.2, k4.2, k5.2), 2)
            store((k0.3, k1.3, k2.3, k3.3, k4.3, k5.3), 3)
          }
          for y in 0..<4 where 4 * ty + y < height {
            (target + (4 * ty + y) * width).update(
              from: rowScratch + y * paddedWidth, count: width)
          }
        }
      }
    }
  }
}

extension _WinogradF4x3 {
  /// The input transform's loops: for every channel in `range`, RoI
  /// and tile row, `body(row, rows, base)` gets the m + 2 input rows the tile row reads
  /// (`row(a)` is plane row m·ty − 1 + a, a zero row outside the plane), the m + 2 padded
  /// scratch rows (`rows + a · padded`, `padded = m·⌈W/m⌉ + 2`; the vertical pass writes
  /// columns 1 … W, the padding columns stay zero) and the tile row's first tile index in a
  /// stream of `v`.
  ///
  /// - Parameter rowScratch: `(m + 2) · padded + W` scalars.
  @inlinable
  static func forEachInputTileRow(
    _ input: UnsafePointer<Scalar>, channels: Int, range: Range<Int>, roiCount: Int,
    height: Int, width: Int, channelStride: Int, rowScratch: UnsafeMutablePointer<Scalar>,
    _ body: (
      _ row: (Int) -> UnsafePointer<Scalar>, _ rows: UnsafeMutablePointer<Scalar>, _ base: Int
    ) -> Void
  ) {
    let plane = height * width
    let (tileRows, tileColumns) = tiles(height: height, width: width)
    let tileCount = roiCount * tileRows * tileColumns
    let padded = tile * tileColumns + 2
    let zeros = UnsafePointer(rowScratch + (tile + 2) * padded)
    (rowScratch + (tile + 2) * padded).update(repeating: 0, count: width)
    for a in 0..<(tile + 2) {
      let t = rowScratch + a * padded
      t[0] = 0
      for j in (width + 1)..<padded { t[j] = 0 }
    }
    for c in range {
      for r in 0..<roiCount {
        let source = input + c * channelStride + r * plane
        for ty in 0..<tileRows {
          body(
            { a in
              let y = tile * ty - 1 + a
              return y >= 0 && y < height ? source + y * width : zeros
            }, rowScratch, c * tileCount + (r * tileRows + ty) * tileColumns)
        }
      }
    }
  }
}
