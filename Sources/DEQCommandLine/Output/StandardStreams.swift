// Standard output and error as file descriptors, and the process exit: what the command
// needs of the C library directly, without Foundation's `FileHandle`.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Standard output or standard error.
enum StandardStream {
  case output
  case error

  private var descriptor: Int32 { self == .output ? STDOUT_FILENO : STDERR_FILENO }

  /// Whether the stream is a terminal.
  var isTerminal: Bool { isatty(descriptor) == 1 }

  /// Writes `text` whole (a short write is continued, an interrupted one retried); a
  /// stream that cannot be written (closed) is given up on silently.
  func write(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
      guard var next = bytes.baseAddress else { return }
      var left = bytes.count
      while left > 0 {
        #if canImport(Glibc) || canImport(Musl)
          let written = Glibc.write(descriptor, next, left)
        #else
          let written = Darwin.write(descriptor, next, left)
        #endif
        if written < 0 {
          if errno == EINTR { continue }
          return
        }
        next += written
        left -= written
      }
    }
  }
}

/// Ends the process with `code` (buffers flushed, as C's `exit`).
func exitProcess(_ code: Int32) -> Never {
  exit(code)
}
