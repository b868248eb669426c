import Foundation
import Testing

@testable import DEQCommandLine

/// `deq analyze --checkpoint`: killed part-way (SIGINT or SIGKILL) and rerun, the analysis
/// gives the JSON of an uninterrupted run; another problem's checkpoint is refused.
@Suite(
  "deq analyze checkpoints",
  .serialized, .enabled(if: DEQExecutable.isAvailable, "the deq executable was not built"))
struct AnalyzeCheckpointTests {
  let arguments = [
    "analyze", "--steps", "40000", "--spectral-method", "arnoldi", "--format", "json", "--quiet",
  ]

  @Test("SIGINT and SIGKILL part-way, then the same command: the uninterrupted JSON")
  func killAndResume() throws {
    let whole = try DEQExecutable.run(arguments)
    #expect(whole.exitCode == 0, "\(whole.standardError)")
    for signal in [SIGINT, SIGKILL] {
      let folder = try makeTemporaryFolder()
      defer { try? FileManager.default.removeItem(at: folder) }
      let checkpoint = folder.appendingPathComponent("run.ckpt")
      let extra = ["--checkpoint", checkpoint.path, "--checkpoint-every", "3000"]
      let killed = try DEQExecutable.run(
        arguments + extra, interruption: (checkpoint, signal))
      #expect(killed.exitCode == (signal == SIGINT ? 130 : SIGKILL), "signal \(signal)")
      if signal == SIGINT {
        let lines = killed.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(killed.standardError)")
        #expect(
          killed.standardError.contains("interrupted; progress saved to"),
          "\(killed.standardError)")
      }
      #expect(FileManager.default.fileExists(atPath: checkpoint.path))
      let resumed = try DEQExecutable.run(arguments + extra)
      // A write cut by SIGKILL leaves its temporary file; the resumed run removes it.
      let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      #expect(leftovers == ["run.ckpt"], "\(leftovers)")
      #expect(resumed.exitCode == 0, "\(resumed.standardError)")
      #expect(resumed.standardOutput == whole.standardOutput, "signal \(signal)")
    }
  }

  @Test("a checkpoint of another problem: exit 65, one line, the file untouched")
  func mismatch() throws {
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("run.ckpt")
    let first = try DEQExecutable.run([
      "analyze", "--steps", "200", "--quiet", "--checkpoint", checkpoint.path,
    ])
    #expect(first.exitCode == 0, "\(first.standardError)")
    let written = try Data(contentsOf: checkpoint)
    for other in [
      ["--form", "eq5"], ["--seed", "8"], ["--precision", "float"], ["--steps", "300"],
    ] {
      let result = try DEQExecutable.run(
        ["analyze", "--steps", "200", "--quiet", "--checkpoint", checkpoint.path] + other)
      #expect(result.exitCode == 65, "\(other): \(result.standardError)")
      #expect(result.standardError.split(separator: "\n").count == 1, "\(result.standardError)")
      #expect(result.standardError.contains("belongs to another analysis"))
      #expect(try Data(contentsOf: checkpoint) == written)
    }
    try Data("not a checkpoint".utf8).write(to: checkpoint)
    let corrupt = try DEQExecutable.run([
      "analyze", "--steps", "200", "--quiet", "--checkpoint", checkpoint.path,
    ])
    #expect(corrupt.exitCode == 65, "\(corrupt.standardError)")
    #expect(try String(contentsOf: checkpoint, encoding: .utf8) == "not a checkpoint")
  }
}
