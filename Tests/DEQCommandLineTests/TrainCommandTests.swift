import Foundation
import IFRHead
import Testing

/// Flags for a run small enough for a test.
let tinyTrainFlags = [
  "train", "--channels", "8", "--batch", "2", "--iterations", "6", "--validation-size", "3",
  "--log-every", "1", "--validate-every", "3", "--forward-iterations", "5",
  "--backward-iterations", "5", "--quiet",
]

/// The JSON report with every record's wall-clock time zeroed (the one field two runs
/// cannot share).
func untimedReport(_ text: String) throws -> [String: Any] {
  let object = try #require(
    try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  var result = object
  let records = try #require(object["records"] as? [[String: Any]])
  result["records"] = records.map {
    var r = $0
    r["seconds"] = 0
    return r
  }
  return result
}

@Suite("deq train and deq ablate", .enabled(if: DEQExecutable.isAvailable))
struct TrainCommandTests {
  @Test("deq train writes one JSON record per logged step and a final validation")
  func json() throws {
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let result = try DEQExecutable.run(tinyTrainFlags + ["--format", "json"], in: folder)
    #expect(result.exitCode == 0, "\(result.standardError)")
    let report = try untimedReport(result.standardOutput)
    let records = try #require(report["records"] as? [[String: Any]])
    #expect(records.count == 6)
    #expect(records.map { $0["iteration"] as? Int } == [0, 1, 2, 3, 4, 5])
    for key in [
      "loss", "learningRate", "forwardResiduals", "forwardStatuses", "backwardResiduals",
      "backwardStatuses", "seconds",
    ] {
      #expect(records[0][key] != nil, "record key \(key)")
    }
    let validation = try #require(report["validation"] as? [String: Any])
    let iou = try #require(validation["meanIoU"] as? Double)
    #expect((0...1).contains(iou))
    let count = try #require(report["parameterCount"] as? Int)
    #expect(count == MaskHeadConfiguration(channels: 8, classes: 3).parameterCount.total)
  }

  @Test("--stop-after then --resume gives the JSON of the uninterrupted run")
  func resume() throws {
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let whole = try DEQExecutable.run(
      tinyTrainFlags + ["--format", "json", "--checkpoint-dir", "a", "--checkpoint-every", "2"],
      in: folder)
    #expect(whole.exitCode == 0, "\(whole.standardError)")
    let stopped = try DEQExecutable.run(
      tinyTrainFlags + ["--format", "json", "--checkpoint-dir", "b", "--stop-after", "4"],
      in: folder)
    #expect(stopped.exitCode == 0 && stopped.standardOutput.isEmpty)
    #expect(stopped.standardError.contains("--resume"))
    let resumed = try DEQExecutable.run(
      tinyTrainFlags + ["--format", "json", "--checkpoint-dir", "b", "--resume"], in: folder)
    #expect(resumed.exitCode == 0, "\(resumed.standardError)")
    let a = try untimedReport(whole.standardOutput)
    let b = try untimedReport(resumed.standardOutput)
    #expect(NSDictionary(dictionary: a).isEqual(to: b))
  }

  @Test("a corrupt, mismatched or unrequested checkpoint is refused and left as it was")
  func badCheckpoints() throws {
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let first = try DEQExecutable.run(
      tinyTrainFlags + ["--checkpoint-dir", "run", "--stop-after", "2"], in: folder)
    #expect(first.exitCode == 0, "\(first.standardError)")
    let url = folder.appendingPathComponent("run/checkpoint.safetensors")
    let saved = try Data(contentsOf: url)

    // Without --resume: a usage error; the checkpoint is not overwritten.
    let fresh = try DEQExecutable.run(tinyTrainFlags + ["--checkpoint-dir", "run"], in: folder)
    #expect(fresh.exitCode == 64 && fresh.standardError.contains("--resume"))
    #expect(try Data(contentsOf: url) == saved)

    // Another configuration: exit 65, naming the field.
    let other = try DEQExecutable.run(
      tinyTrainFlags + ["--checkpoint-dir", "run", "--resume", "--learning-rate", "0.5"],
      in: folder)
    #expect(other.exitCode == 65 && other.standardError.contains("learningRate"))
    #expect(try Data(contentsOf: url) == saved)

    // Truncated: exit 65, the file left as it is.
    let truncated = saved.prefix(saved.count - 100)
    try truncated.write(to: url)
    let corrupt = try DEQExecutable.run(
      tinyTrainFlags + ["--checkpoint-dir", "run", "--resume"], in: folder)
    #expect(corrupt.exitCode == 65, "\(corrupt.standardError)")
    #expect(try Data(contentsOf: url) == truncated)

    // --resume with nothing to resume.
    let none = try DEQExecutable.run(
      tinyTrainFlags + ["--checkpoint-dir", "empty", "--resume"], in: folder)
    #expect(none.exitCode == 65)
  }

  @Test(
    "bad flags are usage errors",
    arguments: [
      ["--head", "ifr", "--no-double-residual"], ["--optimizer", "rmsprop"],
      ["--schedule", "step:5,2"], ["--zero-gradient-policy", "ignore"], ["--channels", "6"],
      ["--learning-rate", "-1"], ["--resume"], ["--stop-after", "2"],
    ])
  func badFlags(_ flags: [String]) throws {
    let result = try DEQExecutable.run(tinyTrainFlags + flags)
    #expect(result.exitCode == 64, "\(flags): \(result.standardError)")
  }

  @Test("deq ablate runs shards whose merge is the table; a missing row is an error")
  func ablateShards() throws {
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let flags = [
      "ablate", "--table", "8", "--iterations", "2", "--channels", "8", "--batch", "2",
      "--validation-size", "2", "--quiet", "--format", "json",
    ]
    for shard in ["1/2", "2/2"] {
      // The table on standard output, the JSON beside it.
      let result = try DEQExecutable.run(
        flags.filter { $0 != "json" && $0 != "--format" }
          + ["--shard", shard, "--json", "s\(shard.prefix(1)).json"], in: folder)
      #expect(result.exitCode == 0, "\(result.standardError)")
      #expect(result.standardOutput.contains("Table 8 in miniature"))
    }
    let merged = try DEQExecutable.run(["ablate", "merge", "s1.json", "s2.json"], in: folder)
    #expect(merged.exitCode == 0, "\(merged.standardError)")
    #expect(merged.standardOutput.contains("Table 8"))
    #expect(merged.standardOutput.contains("explicit ×4 (no residual)"))
    let whole = try DEQExecutable.run(flags, in: folder)
    let mergedJSON = try DEQExecutable.run(
      ["ablate", "merge", "s1.json", "s2.json", "--format", "json"], in: folder)
    let a = try #require(
      try JSONSerialization.jsonObject(with: Data(whole.standardOutput.utf8)) as? [String: Any])
    let b = try #require(
      try JSONSerialization.jsonObject(with: Data(mergedJSON.standardOutput.utf8)) as? [String: Any]
    )
    func scores(_ report: [String: Any]) -> [Double] {
      ((report["rows"] as? [[String: Any]]) ?? []).compactMap { $0["meanIoU"] as? Double }
    }
    #expect(scores(a).count == 2 && scores(a) == scores(b))

    let partial = try DEQExecutable.run(["ablate", "merge", "s1.json"], in: folder)
    #expect(partial.exitCode == 65 && partial.standardError.contains("row"))
    let allowed = try DEQExecutable.run(
      ["ablate", "merge", "s1.json", "--allow-missing"], in: folder)
    #expect(allowed.exitCode == 0 && allowed.standardOutput.contains("not in this report"))
    let bad = try DEQExecutable.run(flags + ["--shard", "3/2"], in: folder)
    #expect(bad.exitCode == 64)
  }
}

@Suite(
  "deq train interrupted", .serialized,
  .enabled(if: DEQExecutable.isAvailable, "the deq executable was not built"))
struct TrainInterruptTests {
  let flags = [
    "train", "--channels", "4", "--batch", "2", "--iterations", "150", "--validation-size", "2",
    "--validate-every", "0", "--log-every", "25", "--forward-iterations", "3",
    "--backward-iterations", "3", "--quiet", "--format", "json", "--checkpoint-every", "10",
  ]

  @Test("SIGINT (saves, exit 130) and SIGKILL part-way, then --resume: the uninterrupted JSON")
  func killAndResume() throws {
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let whole = try DEQExecutable.run(flags + ["--checkpoint-dir", "whole"], in: folder)
    #expect(whole.exitCode == 0, "\(whole.standardError)")
    for (signal, name) in [(SIGINT, "int"), (SIGKILL, "kill")] {
      let checkpoint = folder.appendingPathComponent("\(name)/checkpoint.safetensors")
      let killed = try DEQExecutable.run(
        flags + ["--checkpoint-dir", name], in: folder, interruption: (checkpoint, signal))
      #expect(killed.exitCode == (signal == SIGINT ? 130 : SIGKILL))
      let resumed = try DEQExecutable.run(
        flags + ["--checkpoint-dir", name, "--resume"], in: folder)
      #expect(resumed.exitCode == 0, "\(resumed.standardError)")
      let leftovers = try FileManager.default.contentsOfDirectory(
        atPath: folder.appendingPathComponent(name).path)
      #expect(leftovers == ["checkpoint.safetensors"], "\(leftovers)")
      let a = try untimedReport(whole.standardOutput)
      let b = try untimedReport(resumed.standardOutput)
      #expect(NSDictionary(dictionary: a).isEqual(to: b), "signal \(signal)")
    }
  }
}
