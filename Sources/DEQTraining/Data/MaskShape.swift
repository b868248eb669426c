/// One random closed shape in RoI coordinates: the unit square `[0, 1]²`, `x` to the
/// right (columns) and `y` down (rows).
///
/// Every shape is star-shaped about its centre (ellipses and rectangles are convex, the
/// polygons have their vertices at increasing angles), so a point outside it can walk
/// straight away from the centre to the RoI border without entering it.
struct MaskShape: Sendable {
  /// The shape in coordinates relative to its centre.
  enum Geometry: Sendable {
    /// `(u/a)² + (v/b)² ≤ 1` in the frame rotated by the shape's angle.
    case ellipse(a: Double, b: Double)
    /// `|u| ≤ a` and `|v| ≤ b` in the frame rotated by the shape's angle.
    case rectangle(a: Double, b: Double)
    /// A simple polygon, vertices relative to the centre (already rotated) at increasing
    /// angles.
    case polygon(x: [Double], y: [Double])
  }

  var centerX: Double
  var centerY: Double
  var cosine: Double
  var sine: Double
  var geometry: Geometry

  /// Whether the point `(x, y)` lies in the closed shape.
  func contains(x: Double, y: Double) -> Bool {
    let dx = x - centerX
    let dy = y - centerY
    switch geometry {
    case .ellipse(let a, let b):
      let u = (cosine * dx + sine * dy) / a
      let v = (-sine * dx + cosine * dy) / b
      return u * u + v * v <= 1
    case .rectangle(let a, let b):
      return abs(cosine * dx + sine * dy) <= a && abs(-sine * dx + cosine * dy) <= b
    case .polygon(let xs, let ys):
      // Crossing number: count the edges a ray towards +x crosses.
      var inside = false
      var j = xs.count - 1
      for i in xs.indices {
        if (ys[i] > dy) != (ys[j] > dy) {
          let crossing = xs[i] + (dy - ys[i]) * (xs[j] - xs[i]) / (ys[j] - ys[i])
          if dx < crossing { inside.toggle() }
        }
        j = i
      }
      return inside
    }
  }

  /// Half the width and half the height of the axis-aligned bounding box.
  var halfExtent: (x: Double, y: Double) {
    switch geometry {
    case .ellipse(let a, let b):
      return (
        (a * a * cosine * cosine + b * b * sine * sine).squareRoot(),
        (a * a * sine * sine + b * b * cosine * cosine).squareRoot()
      )
    case .rectangle(let a, let b):
      return (a * abs(cosine) + b * abs(sine), a * abs(sine) + b * abs(cosine))
    case .polygon(let xs, let ys):
      return (xs.map(abs).max() ?? 0, ys.map(abs).max() ?? 0)
    }
  }

  /// The geometry scaled by `factor` about the centre.
  func scaled(by factor: Double) -> MaskShape {
    var result = self
    switch geometry {
    case .ellipse(let a, let b): result.geometry = .ellipse(a: a * factor, b: b * factor)
    case .rectangle(let a, let b): result.geometry = .rectangle(a: a * factor, b: b * factor)
    case .polygon(let xs, let ys):
      result.geometry = .polygon(x: xs.map { $0 * factor }, y: ys.map { $0 * factor })
    }
    return result
  }

  /// A random shape of `family` whose bounding box keeps `margin` from every RoI side.
  ///
  /// Sizes (in RoI widths): ellipse semi-axes `a ∈ [0.2, 0.4]`, `b ∈ [0.14, a]`;
  /// rectangle half-sides `a ∈ [0.18, 0.36]`, `b ∈ [0.13, a]`; star polygon with 5 to 8
  /// vertices at jittered equal angles and radii `R·[0.55, 1]`, `R ∈ [0.26, 0.42]`.
  /// A shape whose bounding box would exceed `1 − 2·margin` is scaled down to fit, then
  /// the centre is drawn uniformly where the box fits.
  static func random(
    _ family: SyntheticMaskTask.ShapeFamily, margin: Double,
    using rng: inout SeededGenerator
  ) -> MaskShape {
    func uniform(_ low: Double, _ high: Double) -> Double {
      low + (high - low) * rng.nextUniform(Double.self)
    }
    let angle = uniform(0, Double.pi)
    var shape = MaskShape(
      centerX: 0.5, centerY: 0.5, cosine: Double.cos(angle), sine: Double.sin(angle),
      geometry: .ellipse(a: 1, b: 1))
    switch family {
    case .ellipse:
      let a = uniform(0.2, 0.4)
      shape.geometry = .ellipse(a: a, b: uniform(0.14, a))
    case .rectangle:
      let a = uniform(0.18, 0.36)
      shape.geometry = .rectangle(a: a, b: uniform(0.13, a))
    case .star:
      let vertices = 5 + Int(rng.next() % 4)
      let radius = uniform(0.26, 0.42)
      let step = 2 * Double.pi / Double(vertices)
      var xs = [Double](), ys = [Double]()
      for k in 0..<vertices {
        let theta = angle + (Double(k) + uniform(-0.3, 0.3)) * step
        let r = radius * uniform(0.55, 1)
        xs.append(r * Double.cos(theta))
        ys.append(r * Double.sin(theta))
      }
      shape.geometry = .polygon(x: xs, y: ys)
    }
    let limit = 0.5 - margin
    let extent = shape.halfExtent
    let largest = max(extent.x, extent.y)
    if largest > limit { shape = shape.scaled(by: limit / largest) }
    let fitted = shape.halfExtent
    shape.centerX = uniform(margin + fitted.x, 1 - margin - fitted.x)
    shape.centerY = uniform(margin + fitted.y, 1 - margin - fitted.y)
    return shape
  }
}
