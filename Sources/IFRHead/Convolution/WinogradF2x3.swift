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
// and GEMM products `[16][K][T]` (streams `streamStride(_:)` apart), T = N · ⌈H/2⌉ · ⌈W/2⌉,
// tile t = (r·⌈H/2⌉ + ty)·⌈W/2⌉ + tx.
//
// Goals in priority order: exact agreement with the direct sum up to rounding; transforms
// that stream (rows first, so the vertical pass vectorises); no allocation per call.

/// Winograd F(2×2, 3×3) transforms for a channel-major batch.
@usableFromInline
enum _WinogradF2x3<Scalar: DEQScalar>: _WinogradScheme {
  @inlinable static var tile: Int { 2 }
  @inlinable static var streams: Int { 16 }

  /// `(2·H + 1) · L` scalars for the input transform (`L` below), `4 · T` for the output's.
  @inlinable
  static func rowScratchCount(height: Int, width: Int, roiCount: Int) -> Int {
    let (rows, columns) = tiles(height: height, width: width)
    return Swift.max(
      (2 * height + 1) * splitRowLength(tileColumns: columns), 4 * roiCount * rows * columns)
  }

  /// The length `L` of one half of a split row: the `⌈W/2⌉ + 1` even or odd padded
  /// positions, rounded up to whole eight-lane vectors, plus one vector (the shifted loads
  /// of the last chunk read up to eight entries past it).
  @inlinable
  static func splitRowLength(tileColumns: Int) -> Int {
    (tileColumns + 8) / 8 * 8 + 8
  }

  /// `U[ξ][o][i] = (G g Gᵀ)[ξ]` for the kernels of the output channels `o` in `range`, a kernel `g = weight[o, i]` (`outChannels × inChannels
  /// × 3 × 3`), or, with `transposed`, the kernels of the transposed convolution
  /// `g'[i, o] = weight[o, i]` rotated by 180° (`U` is then `[16][inChannels][outChannels]`).
  @inlinable
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func transformWeight(
    _ weight: UnsafePointer<Scalar>, scales: UnsafePointer<Scalar>?, outChannels: Int,
    inChannels: Int, range: Range<Int>, transposed: Bool, into u: UnsafeMutablePointer<Scalar>
  ) {
    let columns = transposed ? outChannels : inChannels
    let matrix = streamStride(outChannels * inChannels)
    let half: Scalar = 0.5
    for o in range {
      let scale = scales?[o] ?? 1
      var first = 0
      if !transposed {
        // Eight input channels at a time: their kernels' elements gathered into vectors,
        // the same operations lane by lane, eight neighbouring columns of each stream.
        typealias Lanes = SIMD8<Scalar>
        let lanes = Lanes(repeating: scale)
        let halves = Lanes(repeating: half)
        while first + 8 <= inChannels {
          let w = weight + (o * inChannels + first) * 9
          @inline(__always) func g(_ k: Int) -> Lanes {
            Lanes(w[k], w[k + 9], w[k + 18], w[k + 27], w[k + 36], w[k + 45], w[k + 54], w[k + 63])
              * lanes
          }
          let (g00, g01, g02) = (g(0), g(1), g(2))
          let (g10, g11, g12) = (g(3), g(4), g(5))
          let (g20, g21, g22) = (g(6), g(7), g(8))
          let target = u + o * columns + first
          @inline(__always) func put(_ a: Int, _ r0: Lanes, _ r1: Lanes, _ r2: Lanes) {
            @inline(__always) func store(_ value: Lanes, _ b: Int) {
              UnsafeMutableRawPointer(target + (a * 4 + b) * matrix)
                .storeBytes(of: value, as: Lanes.self)
            }
            store(r0, 0)
            store((r0 + r1 + r2) * halves, 1)
            store((r0 - r1 + r2) * halves, 2)
            store(r2, 3)
          }
          put(0, g00, g01, g02)
          put(
            1, (g00 + g10 + g20) * halves, (g01 + g11 + g21) * halves,
            (g02 + g12 + g22) * halves)
          put(
            2, (g00 - g10 + g20) * halves, (g01 - g11 + g21) * halves,
            (g02 - g12 + g22) * halves)
          put(3, g20, g21, g22)
          first += 8
        }
      }
      for i in first..<inChannels {
        let w = weight + (o * inChannels + i) * 9
        @inline(__always) func g(_ a: Int, _ b: Int) -> Scalar {
          (transposed ? w[(2 - a) * 3 + (2 - b)] : w[a * 3 + b]) * scale
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
  /// Each plane row is first split by padded position p = x + 1 into its even (`E[k]` =
  /// position 2k) and odd (`O[k]` = 2k + 1) halves, zero outside the plane. A tile's input
  /// columns 2tx … 2tx + 3 are then `E[tx]`, `O[tx]`, `E[tx + 1]`, `O[tx + 1]`: eight
  /// neighbouring tiles are whole vectors, so both passes of Bᵀ d B (rows, then columns)
  /// run eight tiles at a time, each element getting the same additions as one tile alone.
  ///
  /// - Parameters:
  ///   - input: `channels` rows, `channelStride` apart, each holding `roiCount` planes.
  ///   - range: the channels to transform (the others are left as they are).
  ///   - rowScratch: `(2·H + 1) · L` scalars (``splitRowLength(tileColumns:)``).
  ///   - v: `16` streams of `channels · T` scalars, `streamStride(_:)` apart.
  @inlinable
  static func transformInput(
    _ input: UnsafePointer<Scalar>, channels: Int, range: Range<Int>, roiCount: Int,
    height: Int, width: Int, channelStride: Int, rowScratch: UnsafeMutablePointer<Scalar>,
    into v: UnsafeMutablePointer<Scalar>
  ) {
    typealias Lanes = SIMD8<Scalar>
    let plane = height * width
    let (tileRows, tileColumns) = tiles(height: height, width: width)
    let tileCount = roiCount * tileRows * tileColumns
    let matrix = streamStride(channels * tileCount)
    let length = splitRowLength(tileColumns: tileColumns)
    // Split rows: plane row y's even half at 2·y·L, odd half at (2y + 1)·L; then L zeros
    // (the halves of the rows above and below the plane).
    let zeros = UnsafePointer(rowScratch + 2 * height * length)
    rowScratch.update(repeating: 0, count: (2 * height + 1) * length)
    let oddCount = (width + 1) / 2  // O[k] = x = 2k
    let evenCount = width / 2  // E[k + 1] = x = 2k + 1
    @inline(__always) func load(_ p: UnsafePointer<Scalar>) -> Lanes {
      UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }
    for c in range {
      // The eight-lane stores of a tile row's last chunk may run past its last tile, into
      // later tiles of this channel (written later by this loop), never past the channel.
      let channelEnd = (c + 1) * tileCount
      for r in 0..<roiCount {
        let source = input + c * channelStride + r * plane
        for y in 0..<height {
          let row = source + y * width
          let even = rowScratch + 2 * y * length
          let odd = even + length
          for k in 0..<oddCount { odd[k] = row[2 * k] }
          for k in 0..<evenCount { even[k + 1] = row[2 * k + 1] }
        }
        @inline(__always) func halves(_ y: Int) -> (UnsafePointer<Scalar>, UnsafePointer<Scalar>) {
          guard y >= 0 && y < height else { return (zeros, zeros) }
          let even = UnsafePointer(rowScratch + 2 * y * length)
          return (even, even + length)
        }
        for ty in 0..<tileRows {
          // Plane rows 2ty − 1 … 2ty + 2.
          let (e0, o0) = halves(2 * ty - 1)
          let (e1, o1) = halves(2 * ty)
          let (e2, o2) = halves(2 * ty + 1)
          let (e3, o3) = halves(2 * ty + 2)
          let base = c * tileCount + (r * tileRows + ty) * tileColumns
          var tx = 0
          while tx < tileColumns {
            let lanes = Swift.min(8, tileColumns - tx)
            let whole = lanes == 8 || base + tx + 8 <= channelEnd
            // Rows by Bᵀ, on each half and on each half shifted by one tile.
            @inline(__always) func rows(
              _ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, _ sign: Scalar
            ) -> (Lanes, Lanes) {
              (load(a + tx) + sign * load(b + tx), load(a + tx + 1) + sign * load(b + tx + 1))
            }
            @inline(__always) func columns(_ a: Int, _ e: (Lanes, Lanes), _ o: (Lanes, Lanes)) {
              // Columns by B: tile columns E[tx], O[tx], E[tx + 1], O[tx + 1].
              let values = (e.0 - e.1, o.0 + e.1, e.1 - o.0, o.0 - o.1)
              let target = v + a * 4 * matrix + base + tx
              @inline(__always) func put(_ value: Lanes, _ b: Int) {
                let p = target + b * matrix
                if whole {
                  UnsafeMutableRawPointer(p).storeBytes(of: value, as: Lanes.self)
                } else {
                  for lane in 0..<lanes { p[lane] = value[lane] }
                }
              }
              put(values.0, 0)
              put(values.1, 1)
              put(values.2, 2)
              put(values.3, 3)
            }
            let minus: Scalar = -1
            let plus: Scalar = 1
            // t₀ = d₀ − d₂, t₁ = d₁ + d₂, t₂ = d₂ − d₁, t₃ = d₁ − d₃.
            columns(0, rows(e0, e2, minus), rows(o0, o2, minus))
            columns(1, rows(e1, e2, plus), rows(o1, o2, plus))
            columns(2, rows(e2, e1, minus), rows(o2, o1, minus))
            columns(3, rows(e1, e3, minus), rows(o1, o3, minus))
            tx += 8
          }
        }
      }
    }
  }

  /// `y = Aᵀ m A` for every channel and tile: the products `[16][channels][T]` back to a
  /// channel-major batch (`channels` rows `channelStride` apart), cropping partial tiles.
  ///
  /// Per channel, the four outputs of every tile of every RoI are first computed eight
  /// tiles at a time (a channel's tiles are contiguous in each stream, so the loads are
  /// whole vectors), then placed into the planes.
  ///
  /// - Parameters:
  ///   - range: the channels to write.
  ///   - rowScratch: `4 · T` scalars.
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
    // The 2×2 outputs of the channel's tiles, `tileCount` each.
    let y00 = rowScratch
    let y01 = rowScratch + tileCount
    let y10 = rowScratch + 2 * tileCount
    let y11 = rowScratch + 3 * tileCount
    let vectorEnd = tileCount - tileCount % 8
    for c in range {
      let streams = m + c * tileCount
      @inline(__always) func load(_ xi: Int, _ t: Int) -> SIMD8<Scalar> {
        UnsafeRawPointer(streams + xi * matrix + t).loadUnaligned(as: SIMD8<Scalar>.self)
      }
      @inline(__always) func store(_ value: SIMD8<Scalar>, _ y: UnsafeMutablePointer<Scalar>) {
        UnsafeMutableRawPointer(y).storeBytes(of: value, as: SIMD8<Scalar>.self)
      }
      var t = 0
      while t < vectorEnd {
        // Aᵀ m: rows 0 + 1 + 2 and 1 − 2 − 3, per column b; then the same on columns.
        let m10 = load(4, t)
        let m11 = load(5, t)
        let m12 = load(6, t)
        let m13 = load(7, t)
        let m20 = load(8, t)
        let m21 = load(9, t)
        let m22 = load(10, t)
        let m23 = load(11, t)
        let a0 = load(0, t) + m10 + m20
        let a1 = load(1, t) + m11 + m21
        let a2 = load(2, t) + m12 + m22
        let a3 = load(3, t) + m13 + m23
        let b0 = m10 - m20 - load(12, t)
        let b1 = m11 - m21 - load(13, t)
        let b2 = m12 - m22 - load(14, t)
        let b3 = m13 - m23 - load(15, t)
        store(a0 + a1 + a2, y00 + t)
        store(a1 - a2 - a3, y01 + t)
        store(b0 + b1 + b2, y10 + t)
        store(b1 - b2 - b3, y11 + t)
        t += 8
      }
      for t in vectorEnd..<tileCount {
        @inline(__always) func value(_ xi: Int) -> Scalar { streams[xi * matrix + t] }
        let (m10, m11, m12, m13) = (value(4), value(5), value(6), value(7))
        let (m20, m21, m22, m23) = (value(8), value(9), value(10), value(11))
        let a0 = value(0) + m10 + m20
        let a1 = value(1) + m11 + m21
        let a2 = value(2) + m12 + m22
        let a3 = value(3) + m13 + m23
        let b0 = m10 - m20 - value(12)
        let b1 = m11 - m21 - value(13)
        let b2 = m12 - m22 - value(14)
        let b3 = m13 - m23 - value(15)
        y00[t] = a0 + a1 + a2
        y01[t] = a1 - a2 - a3
        y10[t] = b0 + b1 + b2
        y11[t] = b1 - b2 - b3
      }
      // Into the planes, cropping the partial tiles.
      for r in 0..<roiCount {
        let target = output + c * channelStride + r * plane
        for ty in 0..<tileRows {
          let first = (r * tileRows + ty) * tileColumns
          @inline(__always) func place(
            _ even: UnsafeMutablePointer<Scalar>, _ odd: UnsafeMutablePointer<Scalar>,
            into row: UnsafeMutablePointer<Scalar>
          ) {
            for tx in 0..<(width / 2) {
              row[2 * tx] = even[first + tx]
              row[2 * tx + 1] = odd[first + tx]
            }
            if width % 2 == 1 { row[width - 1] = even[first + tileColumns - 1] }
          }
          place(y00, y01, into: target + 2 * ty * width)
          if 2 * ty + 1 < height { place(y10, y11, into: target + (2 * ty + 1) * width) }
        }
      }
    }
  }
}
