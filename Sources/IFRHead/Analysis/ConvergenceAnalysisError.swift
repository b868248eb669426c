/// Why a ``ConvergenceAnalysis`` could not produce its result.
///
/// A claim that fails is not an error (it is the ``AnalysisVerdict``); these are the cases
/// where no verdict exists: bad input, a checkpoint that belongs to another run or cannot
/// be read or written, or a run the caller interrupted.
public enum ConvergenceAnalysisError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A configuration value is out of range.
  case invalidConfiguration(String)
  /// The block and injection do not make a problem (shapes, NaN).
  case invalidProblem(String)
  /// The checkpoint file is not a readable analysis checkpoint (truncated, corrupt, or
  /// another kind of file).
  case unreadableCheckpoint(path: String, reason: String)
  /// The checkpoint was written by another analysis (problem, form, precision,
  /// configuration or version); it is left as it is.
  case checkpointMismatch(path: String, reason: String)
  /// The checkpoint could not be written.
  case checkpointWriteFailed(path: String, reason: String)
  /// `shouldStop` asked the run to stop; `checkpointWritten` says whether the progress so
  /// far was saved (a rerun with the same checkpoint continues from it).
  case interrupted(checkpointWritten: Bool)

  public var description: String {
    switch self {
    case .invalidConfiguration(let reason): "invalid analysis configuration: \(reason)"
    case .invalidProblem(let reason): "invalid analysis problem: \(reason)"
    case .unreadableCheckpoint(let path, let reason):
      "\(path): not a readable analysis checkpoint: \(reason)"
    case .checkpointMismatch(let path, let reason):
      "\(path): the checkpoint belongs to another analysis (\(reason)); it was left unchanged"
    case .checkpointWriteFailed(let path, let reason):
      "\(path): cannot write the checkpoint: \(reason)"
    case .interrupted(let written):
      written
        ? "interrupted; the progress so far is in the checkpoint: rerun to continue"
        : "interrupted (no checkpoint was requested, so the progress is lost)"
    }
  }
}
