import FoundationEssentials
import IFRHead
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Ctrl-C during a long run: the first SIGINT sets a flag the run polls (it then saves its
/// checkpoint and stops); a second one exits at once, as an uncaught SIGINT would.
enum InterruptFlag {
  private static let flag = Atomic<Bool>(false)

  struct Handle: Sendable {
    var isSet: Bool { InterruptFlag.flag.load(ordering: .relaxed) }
  }

  /// Installs the SIGINT handler and returns the flag to poll.
  static func install() -> Handle {
    flag.store(false, ordering: .relaxed)
    // A parent may have blocked SIGINT (the mask survives exec): unblock it here.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigprocmask(SIG_UNBLOCK, &set, nil)
    signal(SIGINT) { _ in
      if InterruptFlag.flag.exchange(true, ordering: .relaxed) { _exit(130) }
    }
    return Handle()
  }

  /// Restores the default SIGINT action.
  static func uninstall() { signal(SIGINT, SIG_DFL) }
}

/// Progress of a library run, drawn by a `Progress` line; safe to call from any thread.
final class ProgressReporter: Sendable {
  private let progress: Mutex<Progress>

  init(label: String, total: Int, quiet: Bool) {
    progress = Mutex(Progress(label: label, total: total, quiet: quiet))
  }

  /// Clears the progress line.
  func finish() { progress.withLock { $0.finish() } }

  func update(_ event: AnalysisProgress) {
    let detail: String? =
      switch event.activity {
      case .unrolling: nil
      case .spectralRadius(let roi, let step, let warm):
        "RoI \(roi): ρ(∂F/∂H) at step \(step)\(warm ? ", warm start" : "")"
      case .coldConfirmation(let roi, let step): "RoI \(roi): cold check of ρ at step \(step)"
      case .solving(let roi): "RoI \(roi): Broyden"
      case .checkpointWritten: "checkpoint written"
      }
    progress.withLock { $0.update(event.stepsDone, doing: detail) }
  }
}
