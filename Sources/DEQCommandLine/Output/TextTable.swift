import FoundationEssentials

/// A fixed-width text table for the terminal (fits 100 columns with the columns `deq` uses).
struct TextTable {
  var headers: [String]
  var rows: [[String]] = []

  init(headers: [String]) { self.headers = headers }

  mutating func append(_ row: [String]) { rows.append(row) }

  func render() -> String {
    var widths = headers.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count {
        widths[i] = Swift.max(widths[i], cell.count)
      }
    }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { i, cell in
        String(repeating: " ", count: widths[i] - cell.count) + cell
      }.joined(separator: "  ")
    }
    var out = line(headers) + "\n"
    out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
    for row in rows { out += line(row) + "\n" }
    return out
  }

  /// The indices of a long trace to show: the first `head` in full, then log-spaced ones,
  /// always the last, at most about `maximum` in all.
  static func logThinnedIndices(count: Int, maximum: Int = 40, head: Int = 10) -> [Int] {
    guard count > maximum else { return Array(0..<count) }
    var chosen = Set(0..<Swift.min(head, count))
    let remaining = Swift.max(maximum - head - 1, 1)
    let (a, b) = (Double.log(Double(head)), Double.log(Double(count - 1)))
    for k in 0...remaining {
      let value = Double.exp(a + (b - a) * Double(k) / Double(remaining))
      chosen.insert(Swift.min(count - 1, Int(value.rounded())))
    }
    chosen.insert(count - 1)
    return chosen.sorted()
  }
}

/// Formats a number for tables: scientific with 4 significant digits, `—` when absent.
func formatScientific(_ value: Double?) -> String {
  guard let value else { return "—" }
  if value.isNaN { return "nan" }
  if value.isInfinite { return value > 0 ? "inf" : "-inf" }
  return String(cFormat: "%.3e", value)
}

/// Formats a number for CSV and exact round trips: shortest representation that reads back.
func formatExact(_ value: Double?) -> String {
  guard let value else { return "" }
  return "\(value)"
}

/// Wraps `text` at word boundaries to lines of at most `width` characters; the first line
/// starts with `indent`, the others with `continuation` (default: `indent`).
func wrapped(
  _ text: String, width: Int = 100, indent: String = "", continuation: String? = nil
) -> String {
  var lines: [String] = []
  var prefix = indent
  var line = prefix
  for word in text.split(separator: " ") {
    if line.count > prefix.count && line.count + 1 + word.count > width {
      lines.append(line)
      prefix = continuation ?? indent
      line = prefix
    }
    line += (line.count > prefix.count ? " " : "") + word
  }
  if line.count > prefix.count { lines.append(line) }
  return lines.joined(separator: "\n") + "\n"
}

/// Formats a spectral radius for tables; an unconverged estimate is marked with `?`.
func formatRadius(_ value: Double?, reliable: Bool?) -> String {
  guard let value, value.isFinite else { return reliable == false ? "failed" : "" }
  return String(cFormat: "%.6f", value) + (reliable == false ? "?" : "")
}
