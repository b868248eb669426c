/// What a running ``ConvergenceAnalysis`` reports to its progress callback.
public struct AnalysisProgress: Sendable {
  /// What the analysis is doing.
  public enum Activity: Sendable, Equatable {
    /// Unrolling a RoI (the step it reached).
    case unrolling(roi: Int, step: Int)
    /// Computing ρ at an examined step (reported when it starts).
    case spectralRadius(roi: Int, step: Int, warmStart: Bool)
    /// Recomputing the last examined step's ρ from a cold start.
    case coldConfirmation(roi: Int, step: Int)
    /// The Broyden solves of a RoI (after its unrolling).
    case solving(roi: Int)
    /// A checkpoint was written.
    case checkpointWritten
  }

  /// Unrolled steps done over all RoIs, including those restored from a checkpoint.
  public var stepsDone: Int
  /// `N · steps`.
  public var stepsTotal: Int
  /// What is happening now.
  public var activity: Activity
  /// Time since this run started.
  public var elapsed: Duration
  /// Steps per second in this run (restored steps excluded).
  public var stepsPerSecond: Double
  /// The time left at this run's rate, once there is a rate to go by.
  public var estimatedRemaining: Duration?
}
