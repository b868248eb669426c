import FoundationEssentials

/// Progress on standard error for long runs: steps, rate and time left.
///
/// Silent when standard error is not a terminal or when the user passed `--quiet`, so
/// that scripts and pipes only ever see the data on standard output.
final class Progress {
  private let total: Int
  private let label: String
  private let enabled: Bool
  private let start = ContinuousClock.now
  private var lastDraw = ContinuousClock.now
  private var drew = false

  init(label: String, total: Int, quiet: Bool) {
    self.label = label
    self.total = total
    self.enabled = !quiet && StandardStream.error.isTerminal
  }

  /// Reports that `done` of `total` steps are complete, with what is being done now
  /// (redraws at most 10 times a second, and only after the first second).
  func update(_ done: Int, doing detail: String? = nil) {
    guard enabled else { return }
    let now = ContinuousClock.now
    guard now - start > .seconds(1), now - lastDraw > .milliseconds(100) || detail != nil else {
      return
    }
    lastDraw = now
    let elapsed = (now - start).seconds
    let rate = Double(done) / Swift.max(elapsed, 1e-9)
    let left = rate > 0 ? Double(total - done) / rate : 0
    var line =
      "\r\u{1B}[K\(label): \(done)/\(total) steps, "
      + String(cFormat: "%.0f steps/s, %.1f s left", rate, left)
    if let detail { line += " (\(detail))" }
    StandardStream.error.write(line)
    drew = true
  }

  /// Clears the progress line.
  func finish() {
    guard enabled, drew else { return }
    StandardStream.error.write("\r\u{1B}[K")
  }

}
