import FoundationEssentials

/// A line chart of one or more stacked panels sharing an x axis, written as SVG.
///
/// Used for residual and adjacent-difference traces (log y axis) above spectral-radius
/// traces (linear y axis, with a dashed line at 1). Non-positive values on a log axis and
/// non-finite values are left out (the line breaks there), never drawn at a made-up place.
struct SVGPlot {
  struct Series {
    var name: String
    var points: [(x: Double, y: Double)]
  }

  struct Panel {
    var yLabel: String
    var logY: Bool
    var series: [Series]
    /// A horizontal dashed reference line (for example ρ = 1).
    var referenceLine: Double?
  }

  var title: String
  var xLabel: String
  /// Log x axis over `x + 1`, so that step 0 has a place.
  var logX: Bool
  var panels: [Panel]

  static let palette = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  ]

  private let width = 900.0
  private let panelHeight = 300.0
  private let left = 90.0
  private let right = 170.0
  private let top = 50.0
  private let gap = 70.0

  init(title: String, xLabel: String, logX: Bool, panels: [Panel]) {
    self.title = title
    self.xLabel = xLabel
    self.logX = logX
    self.panels = panels
  }

  func render() -> String {
    let height = top + Double(panels.count) * (panelHeight + gap) + 10
    var svg = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
      viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="13">
      <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="white"/>
      <text x="\(fmt(width / 2))" y="28" text-anchor="middle" font-size="16">\(escape(title))</text>

      """
    let allX = panels.flatMap { $0.series.flatMap { $0.points.map(\.x) } }.filter(\.isFinite)
    let xMin = allX.min() ?? 0
    let xMax = Swift.max(allX.max() ?? 1, xMin + 1)
    for (index, panel) in panels.enumerated() {
      let y0 = top + Double(index) * (panelHeight + gap)
      svg += renderPanel(panel, originY: y0, xRange: (xMin, xMax))
    }
    svg += "</svg>\n"
    return svg
  }

  private func tx(_ x: Double, _ range: (Double, Double)) -> Double {
    let plotWidth = width - left - right
    if logX {
      let (a, b) = (Double.log10(range.0 + 1), Double.log10(range.1 + 1))
      return left + (Double.log10(x + 1) - a) / Swift.max(b - a, 1e-12) * plotWidth
    }
    return left + (x - range.0) / Swift.max(range.1 - range.0, 1e-12) * plotWidth
  }

  private func renderPanel(
    _ panel: Panel, originY: Double, xRange: (Double, Double)
  ) -> String {
    var out = ""
    let plotWidth = width - left - right
    // y range from the drawable values.
    var ys = panel.series.flatMap { $0.points.map(\.y) }.filter {
      $0.isFinite && (!panel.logY || $0 > 0)
    }
    if let line = panel.referenceLine { ys.append(line) }
    var (yMin, yMax) = (ys.min() ?? 0, ys.max() ?? 1)
    if panel.logY {
      yMin = Double.pow(10, Double.log10(Swift.max(yMin, 1e-300)).rounded(.down))
      yMax = Double.pow(10, Double.log10(Swift.max(yMax, yMin * 10)).rounded(.up))
      if yMax <= yMin { yMax = yMin * 10 }
    } else {
      let pad = Swift.max((yMax - yMin) * 0.08, 0.05)
      (yMin, yMax) = (Swift.max(0, yMin - pad), yMax + pad)
    }
    func ty(_ y: Double) -> Double {
      let t =
        panel.logY
        ? (Double.log10(y) - Double.log10(yMin))
          / (Double.log10(yMax) - Double.log10(yMin))
        : (y - yMin) / (yMax - yMin)
      return originY + panelHeight - t * panelHeight
    }
    // Frame, grid and tick labels.
    out += """
      <rect x="\(fmt(left))" y="\(fmt(originY))" width="\(fmt(plotWidth))" \
      height="\(fmt(panelHeight))" fill="none" stroke="#333"/>

      """
    for tick in yTicks(panel.logY, yMin, yMax) {
      let y = ty(tick)
      out += """
        <line x1="\(fmt(left))" y1="\(fmt(y))" x2="\(fmt(left + plotWidth))" y2="\(fmt(y))" \
        stroke="#ddd"/>
        <text x="\(fmt(left - 6))" y="\(fmt(y + 4))" text-anchor="end">\(tickLabel(tick, log: panel.logY))</text>

        """
    }
    for tick in xTicks(xRange) {
      let x = tx(tick, xRange)
      out += """
        <line x1="\(fmt(x))" y1="\(fmt(originY))" x2="\(fmt(x))" y2="\(fmt(originY + panelHeight))" \
        stroke="#eee"/>
        <text x="\(fmt(x))" y="\(fmt(originY + panelHeight + 18))" text-anchor="middle">\(tickLabel(tick, log: false))</text>

        """
    }
    out += """
      <text x="\(fmt(left + plotWidth / 2))" y="\(fmt(originY + panelHeight + 40))" \
      text-anchor="middle">\(escape(xLabel))</text>
      <text transform="translate(22,\(fmt(originY + panelHeight / 2))) rotate(-90)" \
      text-anchor="middle">\(escape(panel.yLabel))</text>

      """
    if let line = panel.referenceLine {
      let y = ty(line)
      out += """
        <line x1="\(fmt(left))" y1="\(fmt(y))" x2="\(fmt(left + plotWidth))" y2="\(fmt(y))" \
        stroke="#555" stroke-dasharray="6,4"/>

        """
    }
    // Curves: one path per series, broken at values that cannot be drawn.
    for (index, series) in panel.series.enumerated() {
      let color = Self.palette[index % Self.palette.count]
      var path = ""
      var penDown = false
      var markers = ""
      for point in series.points {
        guard point.x.isFinite, point.y.isFinite, !panel.logY || point.y > 0 else {
          penDown = false
          continue
        }
        let (x, y) = (tx(point.x, xRange), ty(point.y))
        path += "\(penDown ? "L" : "M")\(fmt(x)),\(fmt(y)) "
        penDown = true
        if series.points.count <= 60 {
          markers += "<circle cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"2.5\" fill=\"\(color)\"/>\n"
        }
      }
      if !path.isEmpty {
        out += """
          <path d="\(path)" fill="none" stroke="\(color)" stroke-width="1.6"/>
          \(markers)
          """
      }
      let legendY = originY + 16 + Double(index) * 18
      out += """
        <line x1="\(fmt(left + plotWidth + 12))" y1="\(fmt(legendY - 4))" \
        x2="\(fmt(left + plotWidth + 34))" y2="\(fmt(legendY - 4))" stroke="\(color)" stroke-width="2"/>
        <text x="\(fmt(left + plotWidth + 40))" y="\(fmt(legendY))">\(escape(series.name))</text>

        """
    }
    return out
  }

  private func yTicks(_ log: Bool, _ lo: Double, _ hi: Double) -> [Double] {
    if log {
      let a = Int(Double.log10(lo).rounded(.down))
      let b = Int(Double.log10(hi).rounded(.up))
      let step = Swift.max(1, (b - a + 7) / 8)
      return stride(from: a, through: b, by: step).map { Double.pow(10, Double($0)) }
    }
    return niceTicks(lo, hi)
  }

  private func xTicks(_ range: (Double, Double)) -> [Double] {
    if logX {
      var ticks: [Double] = [0]
      var decade = 1.0
      while decade <= range.1 {
        ticks.append(decade)
        decade *= 10
      }
      return ticks
    }
    return niceTicks(range.0, range.1)
  }

  private func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
    let span = Swift.max(hi - lo, 1e-12)
    let raw = span / 6
    let magnitude = Double.pow(10, Double.log10(raw).rounded(.down))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? magnitude * 10
    var ticks: [Double] = []
    var t = (lo / step).rounded(.up) * step
    while t <= hi + step * 1e-9 {
      ticks.append(t)
      t += step
    }
    return ticks
  }

  private func tickLabel(_ value: Double, log: Bool) -> String {
    if log { return "1e\(Int(Double.log10(value).rounded()))" }
    if value == value.rounded() && Swift.abs(value) < 1e9 { return "\(Int(value))" }
    return String(cFormat: "%.2g", value)
  }

  private func fmt(_ value: Double) -> String { String(cFormat: "%.1f", value) }

  private func escape(_ text: String) -> String {
    var escaped = ""
    for character in text {
      switch character {
      case "&": escaped += "&amp;"
      case "<": escaped += "&lt;"
      case ">": escaped += "&gt;"
      default: escaped.append(character)
      }
    }
    return escaped
  }
}
