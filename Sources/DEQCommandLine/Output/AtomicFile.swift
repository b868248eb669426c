import DEQCore
import FoundationEssentials

/// Writes files whole or not at all, and never over one of the command's inputs.
struct AtomicFile {
  /// Paths the command read (resolved); writing to any of them is refused.
  private var protectedPaths: Set<String> = []

  private static func resolved(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
  }

  /// Adds an input path to the protected set.
  mutating func protect(_ path: String) {
    protectedPaths.insert(Self.resolved(path))
  }

  /// Refuses an output path that names one of the inputs.
  ///
  /// - Throws: ``CommandLineError/usage(_:)`` naming the option.
  func checkNotInput(_ path: String, option: String) throws(CommandLineError) {
    if protectedPaths.contains(Self.resolved(path)) {
      throw .usage("\(option) \(path) would overwrite an input file; choose another path")
    }
  }

  /// Writes `data` to `path` through DEQCore's atomic writer (a temporary file in the same
  /// folder, `fsync`, then a rename), so a reader sees the old file or the new one.
  ///
  /// - Throws: ``CommandLineError/usage(_:)`` when `path` is one of the inputs, and
  ///   ``CommandLineError/output(path:reason:)`` when the file cannot be written.
  func write(_ data: Data, to path: String, option: String) throws(CommandLineError) {
    try checkNotInput(path, option: option)
    do {
      try FileIO.writeAtomically(data, to: URL(fileURLWithPath: path))
    } catch {
      throw .output(path: path, reason: error.description)
    }
  }

  /// Writes a tensor as `.npy` (see ``write(_:to:option:)``).
  func write<S: DEQScalar>(
    npy tensor: Tensor<S>, to path: String, option: String
  ) throws(CommandLineError) {
    let data: Data
    do {
      data = try NPY.encode(tensor)
    } catch {
      throw .output(path: path, reason: error.description)
    }
    try write(data, to: path, option: option)
  }
}
