import Foundation

/// Writes files whole or not at all, and never over one of the command's inputs.
struct AtomicFile {
  /// Paths the command read; writing to any of them is refused.
  var protectedPaths: Set<String> = []

  /// Writes `data` to `path` through a temporary file in the same folder and a rename,
  /// so a reader sees the old file or the new one, never a half-written one.
  ///
  /// - Throws: ``CommandLineError/usage(_:)`` when `path` is one of the inputs, and
  ///   ``CommandLineError/output(path:reason:)`` when the file cannot be written.
  func write(_ data: Data, to path: String, option: String) throws(CommandLineError) {
    let url = URL(fileURLWithPath: path)
    let resolved = url.standardizedFileURL.resolvingSymlinksInPath().path
    if protectedPaths.contains(resolved) {
      throw .usage("\(option) \(path) would overwrite an input file; choose another path")
    }
    let folder = url.deletingLastPathComponent()
    let temporary = folder.appendingPathComponent(
      ".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
    do {
      try data.write(to: temporary)
    } catch {
      throw .output(path: path, reason: Self.reason(error))
    }
    if rename(temporary.path, url.path) != 0 {
      let reason = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: temporary)
      throw .output(path: path, reason: reason)
    }
  }

  /// Adds an input path (resolved) to the protected set.
  mutating func protect(_ path: String) {
    protectedPaths.insert(
      URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path)
  }

  private static func reason(_ error: Error) -> String {
    if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError {
      return underlying.localizedDescription
    }
    return (error as NSError).localizedDescription
  }
}
