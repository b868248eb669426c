import FoundationEssentials

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whole-file reads and atomic whole-file writes, with the operating system's own error
/// messages (`"No such file or directory"`) in the thrown
/// ``TensorFileError/io(file:operation:message:)``.
///
/// A write goes to a new temporary file in the destination's directory (so both are on one
/// file system), is flushed to disk with `fsync`, and is then renamed over the destination.
/// `rename` is atomic: a reader sees the old file or the new one, never a mixture, and a
/// failed or interrupted write leaves the old file as it was. The temporary file is created
/// with mode `0666` less the umask, like any new file, and is removed if anything fails.
public enum FileIO {
  /// The path of a file URL, as used in error messages.
  public static func label(for url: URL) -> String {
    url.isFileURL ? url.path(percentEncoded: false) : url.absoluteString
  }

  /// Reads a whole regular file.
  ///
  /// - Throws: ``TensorFileError/io(file:operation:message:)`` when the file cannot be opened
  ///   or read, or is not a regular file.
  public static func read(contentsOf url: URL) throws(TensorFileError) -> Data {
    try withOpenFile(url) { (file) throws(TensorFileError) in
      var data = Data(count: file.size)
      var filled = 0
      var failure: String?
      data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
        (filled, failure) = file.readAvailable(at: 0, into: buffer)
      }
      if let failure { throw .io(file: file.path, operation: "read", message: failure) }
      // The file shrank while we read it: keep what is there.
      if filled < data.count { data.removeSubrange(filled...) }
      return data
    }
  }

  /// An open regular file, for reading parts of it in place (`withOpenFile(_:_:)`).
  struct OpenFile: ~Copyable {
    /// The path, as used in error messages.
    let path: String
    /// The size when it was opened, in bytes.
    let size: Int
    let descriptor: Int32

    /// Fills `buffer` with the bytes at `offset` onwards.
    ///
    /// - Throws: ``TensorFileError/truncated(file:part:expectedBytes:actualBytes:)`` (naming
    ///   `part`) when the file ends first (it shrank since it was opened),
    ///   ``TensorFileError/io(file:operation:message:)`` when the system cannot read it.
    func read(
      at offset: Int, into buffer: UnsafeMutableRawBufferPointer, part: String
    ) throws(TensorFileError) {
      let (filled, failure) = readAvailable(at: offset, into: buffer)
      if let failure { throw .io(file: path, operation: "read", message: failure) }
      if filled < buffer.count {
        throw .truncated(
          file: path, part: part, expectedBytes: buffer.count, actualBytes: filled)
      }
    }

    /// Reads up to `buffer.count` bytes at `offset`: how many it read, and the system's
    /// message if a read failed.
    func readAvailable(at offset: Int, into buffer: UnsafeMutableRawBufferPointer)
      -> (filled: Int, failure: String?)
    {
      var filled = 0
      while filled < buffer.count, let base = buffer.baseAddress {
        let result = Glue.pread(descriptor, base + filled, buffer.count - filled, offset + filled)
        if result > 0 {
          filled += result
        } else if result == 0 {
          break
        } else if errno != EINTR {
          return (filled, FileIO.lastErrorMessage())
        }
      }
      return (filled, nil)
    }
  }

  /// Opens a regular file for reading and calls `body` with it; the file is closed after.
  ///
  /// - Throws: ``TensorFileError/io(file:operation:message:)`` when the file cannot be opened
  ///   or inspected, or is not a regular file, and whatever `body` throws.
  static func withOpenFile<R>(
    _ url: URL, _ body: (borrowing OpenFile) throws(TensorFileError) -> R
  ) throws(TensorFileError) -> R {
    let path = label(for: url)
    guard url.isFileURL else {
      throw .io(file: path, operation: "read", message: "only file URLs can be read")
    }
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw .io(file: path, operation: "open", message: lastErrorMessage())
    }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
      throw .io(file: path, operation: "inspect", message: lastErrorMessage())
    }
    guard status.st_mode & S_IFMT == S_IFREG else {
      throw .io(file: path, operation: "read", message: "it is not a regular file")
    }
    let file = OpenFile(path: path, size: Int(status.st_size), descriptor: descriptor)
    return try body(file)
  }

  /// Removes the temporary files that writes of `url` left behind when their process was
  /// killed mid-write (`.NAME.HEX.tmp` next to it); other files are never touched. Call it
  /// only when no other process writes `url`. Returns how many were removed.
  @discardableResult
  public static func removeAbandonedTemporaries(of url: URL) -> Int {
    let folder = url.deletingLastPathComponent()
    let prefix = ".\(url.lastPathComponent)."
    guard
      let names = try? FileManager.default.contentsOfDirectory(
        atPath: folder.path(percentEncoded: false))
    else { return 0 }
    var removed = 0
    for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
      let middle = name.dropFirst(prefix.count).dropLast(4)
      guard !middle.isEmpty, middle.allSatisfy(\.isHexDigit) else { continue }
      if unlink(folder.appendingPathComponent(name).path(percentEncoded: false)) == 0 {
        removed += 1
      }
    }
    return removed
  }

  /// Replaces the file at `url` with `data` atomically (see the type's documentation).
  ///
  /// - Throws: ``TensorFileError/io(file:operation:message:)`` when the temporary file cannot
  ///   be created, written or flushed, or cannot be renamed over the destination.
  public static func writeAtomically(_ data: Data, to url: URL) throws(TensorFileError) {
    let path = label(for: url)
    guard url.isFileURL else {
      throw .io(file: path, operation: "write", message: "only file URLs can be written")
    }
    let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    let temporaryURL = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).\(suffix).tmp", isDirectory: false)
    let temporary = temporaryURL.path(percentEncoded: false)

    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    guard descriptor >= 0 else {
      throw .io(
        file: path, operation: "create a temporary file next to", message: lastErrorMessage())
    }
    var failure: (operation: String, message: String)?
    data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
      var written = 0
      while written < buffer.count, let base = buffer.baseAddress {
        let result = Glue.write(descriptor, base + written, buffer.count - written)
        if result >= 0 {
          written += result
        } else if errno != EINTR {
          failure = ("write", lastErrorMessage())
          return
        }
      }
    }
    if failure == nil, fsync(descriptor) != 0 { failure = ("flush", lastErrorMessage()) }
    if close(descriptor) != 0, failure == nil { failure = ("close", lastErrorMessage()) }
    if failure == nil, rename(temporary, path) != 0 { failure = ("replace", lastErrorMessage()) }
    if let failure {
      unlink(temporary)
      throw .io(file: path, operation: failure.operation, message: failure.message)
    }
  }

  fileprivate static func lastErrorMessage() -> String {
    String(cString: strerror(errno))
  }

  /// The C library's `pread` and `write`, under names that do not clash with `FileIO`'s.
  fileprivate enum Glue {
    static func pread(
      _ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: Int
    ) -> Int {
      #if canImport(Glibc)
        Glibc.pread(descriptor, buffer, count, off_t(offset))
      #elseif canImport(Musl)
        Musl.pread(descriptor, buffer, count, off_t(offset))
      #else
        Darwin.pread(descriptor, buffer, count, off_t(offset))
      #endif
    }

    static func write(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
      #if canImport(Glibc)
        Glibc.write(descriptor, buffer, count)
      #elseif canImport(Musl)
        Musl.write(descriptor, buffer, count)
      #else
        Darwin.write(descriptor, buffer, count)
      #endif
    }
  }
}
