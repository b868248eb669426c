import Foundation
import Testing

/// Runs the built `deq` executable as a user would and captures what it prints.
struct CommandResult {
  var exitCode: Int32
  var standardOutput: String
  var standardError: String
}

enum DEQExecutable {
  /// The `deq` binary next to the test bundle (`swift test` builds it: the test target
  /// depends on it).
  static let url: URL? = {
    let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    var folder = testBinary.deletingLastPathComponent()
    for _ in 0..<4 {
      let candidate = folder.appendingPathComponent("deq")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      folder = folder.deletingLastPathComponent()
    }
    return nil
  }()

  static var isAvailable: Bool { url != nil }

  /// Runs `deq arguments…` in `directory` and waits for it. Standard output and error go
  /// to temporary files (no pipe can fill up and block the child).
  ///
  /// With `interruption`, sends `signal` as soon as `file` exists (within 60 s), expecting
  /// the command still to be running then: a command killed part-way.
  static func run(
    _ arguments: [String], in directory: URL? = nil,
    interruption: (file: URL, signal: Int32)? = nil
  ) throws -> CommandResult {
    guard let url else { throw CocoaError(.fileNoSuchFile) }
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let outURL = folder.appendingPathComponent("stdout")
    let errURL = folder.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = url
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    process.standardOutput = out
    process.standardError = err
    try process.run()
    if let interruption {
      let deadline = Date().addingTimeInterval(60)
      while !FileManager.default.fileExists(atPath: interruption.file.path) && process.isRunning
        && Date() < deadline
      {
        Thread.sleep(forTimeInterval: 0.02)
      }
      #expect(process.isRunning, "the run ended before it could be interrupted")
      kill(process.processIdentifier, interruption.signal)
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    return CommandResult(
      exitCode: process.terminationStatus,
      standardOutput: try String(contentsOf: outURL, encoding: .utf8),
      standardError: try String(contentsOf: errURL, encoding: .utf8))
  }
}

/// A fresh temporary folder, removed by the caller.
func makeTemporaryFolder() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "deq-cli-tests-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}
