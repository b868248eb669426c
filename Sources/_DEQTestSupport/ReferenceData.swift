import Foundation

/// The PyTorch reference problem in `../shared/reference/ifr-small`, when present.
///
/// CI has the folder beside the clone; a user's clone may not. Tests that read it use
/// `.enabled(if: ReferenceData.isAvailable, Comment(rawValue: ReferenceData.skipMessage))`.
public enum ReferenceData {
  /// The package root (three levels above this file).
  public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// `<package root>/../shared/reference/ifr-small`, or the folder named by the
  /// environment variable `DEQ_REFERENCE_DIR`.
  public static let directory: URL = {
    if let override = ProcessInfo.processInfo.environment["DEQ_REFERENCE_DIR"] {
      return URL(fileURLWithPath: override)
    }
    return packageRoot.deletingLastPathComponent()
      .appendingPathComponent("shared/reference/ifr-small")
  }()

  /// Whether the reference folder exists.
  public static var isAvailable: Bool {
    FileManager.default.fileExists(atPath: directory.appendingPathComponent("x.npy").path)
  }

  /// Why a reference test was skipped.
  public static let skipMessage: String =
    "reference data not found at ../shared/reference/ifr-small (set DEQ_REFERENCE_DIR); skipped"

  /// The URL of a file in the reference folder.
  public static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
}
