/// Rasterisation of a ``MaskShape`` at the target resolution and of its outline at the
/// feature resolution, so that the two always agree.
///
/// With `m` the mask side (28) and `f = m / 2` the feature side (14):
///
/// ```
/// target[i, j] = 1  ⇔  the pixel centre ((j + ½)/m, (i + ½)/m) lies in the shape
///                      (then any background pixel not 4-connected to the border is set to 1)
/// boundary pixel   =   a target-1 pixel with a target-0 4-neighbour
/// edge[r, c]       ⇔  the 2×2 block {2r, 2r+1} × {2c, 2c+1} holds a boundary pixel
/// ```
///
/// The shape's boundary crosses the segment between a boundary pixel's centre and its
/// background neighbour's centre, so an edge cell is one the boundary passes through or
/// within half a target pixel of.
enum MaskRaster {
  /// The target's side in pixels.
  static let maskSize = 28
  /// The features' side in cells; each cell covers 2×2 target pixels.
  static let featureSize = 14

  /// The filled shape at `maskSize × maskSize`, row-major, 0 or 1.
  ///
  /// A background pixel the grid closes off from the border (a notch of a star polygon
  /// narrower than a pixel) is set to 1, so the background is 4-connected to the border.
  static func target(of shape: MaskShape) -> [UInt8] {
    let m = maskSize
    var mask = [UInt8](repeating: 0, count: m * m)
    for i in 0..<m {
      let y = (Double(i) + 0.5) / Double(m)
      for j in 0..<m where shape.contains(x: (Double(j) + 0.5) / Double(m), y: y) {
        mask[i * m + j] = 1
      }
    }
    // Flood the background from the border; whatever it does not reach is a hole.
    var reached = [Bool](repeating: false, count: m * m)
    var stack = [Int]()
    stack.reserveCapacity(m * m)
    for k in 0..<m {
      for p in [k, (m - 1) * m + k, k * m, k * m + m - 1] where mask[p] == 0 && !reached[p] {
        reached[p] = true
        stack.append(p)
      }
    }
    while let p = stack.popLast() {
      let i = p / m
      let j = p % m
      for (di, dj) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
        let a = i + di
        let b = j + dj
        guard a >= 0, a < m, b >= 0, b < m else { continue }
        let q = a * m + b
        if mask[q] == 0 && !reached[q] {
          reached[q] = true
          stack.append(q)
        }
      }
    }
    for p in mask.indices where mask[p] == 0 && !reached[p] { mask[p] = 1 }
    return mask
  }

  /// The edge cells at `featureSize × featureSize`, row-major: cells whose 2×2 block of
  /// `target` holds a foreground pixel with a background 4-neighbour.
  static func edgeCells(of target: [UInt8]) -> [Bool] {
    let m = maskSize
    let f = featureSize
    var edge = [Bool](repeating: false, count: f * f)
    for i in 0..<m {
      for j in 0..<m where target[i * m + j] == 1 {
        let background =
          i == 0 || j == 0 || i == m - 1 || j == m - 1
          || target[(i - 1) * m + j] == 0 || target[(i + 1) * m + j] == 0
          || target[i * m + j - 1] == 0 || target[i * m + j + 1] == 0
        if background { edge[(i / 2) * f + j / 2] = true }
      }
    }
    return edge
  }

  /// Cells a distractor may not use: every cell within one cell (Chebyshev distance) of
  /// a cell that holds a target pixel, so distractors stay outside the shape and never
  /// touch its outline.
  static func protectedCells(of target: [UInt8]) -> [Bool] {
    let m = maskSize
    let f = featureSize
    var protected = [Bool](repeating: false, count: f * f)
    for i in 0..<m {
      for j in 0..<m where target[i * m + j] == 1 {
        let r = i / 2
        let c = j / 2
        for a in max(r - 1, 0)...min(r + 1, f - 1) {
          for b in max(c - 1, 0)...min(c + 1, f - 1) { protected[a * f + b] = true }
        }
      }
    }
    return protected
  }

  /// Marks the cells an open circular arc passes through, skipping `protected` cells.
  ///
  /// The arc has a random centre in the RoI, radius in `[0.1, 0.22]` and angular span in
  /// `[π/3, 1.1π]` (open, so it encloses nothing); points outside the RoI are dropped.
  /// It is sampled every quarter of a cell along its length.
  static func drawArc(
    into cells: inout [Bool], avoiding protected: [Bool], using rng: inout SeededGenerator
  ) {
    func uniform(_ low: Double, _ high: Double) -> Double {
      low + (high - low) * rng.nextUniform(Double.self)
    }
    let f = Double(featureSize)
    let centerX = uniform(0, 1)
    let centerY = uniform(0, 1)
    let radius = uniform(0.1, 0.22)
    let start = uniform(0, 2 * Double.pi)
    let span = uniform(Double.pi / 3, 1.1 * Double.pi)
    let steps = Int((span * radius * f * 4).rounded(.up))
    for k in 0...steps {
      let theta = start + span * Double(k) / Double(steps)
      let x = centerX + radius * Double.cos(theta)
      let y = centerY + radius * Double.sin(theta)
      guard x >= 0, x < 1, y >= 0, y < 1 else { continue }
      let cell = Int(y * f) * featureSize + Int(x * f)
      if !protected[cell] { cells[cell] = true }
    }
  }
}
