import DEQCore
import Foundation

/// Writes files whole or not at all, and never over one of the command's inputs.
struct AtomicFile {
  /// Paths the command read; writing to any of them is refused.
  var protectedPaths: Set<String> = []

  /// Writes `data` to `path` through DEQCore's atomic writer (a temporary file in the same
  /// folder, `fsync`, then a rename), so a reader sees the old file or the new one.
  ///
  /// - Throws: ``CommandLineError/usage(_:)`` when `path` is one of the inputs, and
  ///   ``CommandLineError/output(path:reason:)`` when the file cannot be written.
  func write(_ data: Data, to path: String, option: String) throws(CommandLineError) {
    let url = URL(fileURLWithPath: path)
    let resolved = url.standardizedFileURL.resolvingSymlinksInPath().path
    if protectedPaths.contains(resolved) {
      throw .usage("\(option) \(path) would overwrite an input file; choose another path")
    }
    do {
      try FileIO.writeAtomically(data, to: url)
    } catch {
      throw .output(path: path, reason: error.description)
    }
  }

  /// Adds an input path (resolved) to the protected set.
  mutating func protect(_ path: String) {
    protectedPaths.insert(
      URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path)
  }
}
