import FoundationEssentials

extension Data {
  /// Calls `body` with the bytes of the data, keeping `body`'s typed error (Foundation's
  /// `withUnsafeBytes` is `rethrows`, which erases it to `any Error`).
  func withTypedBytes<Result>(
    _ body: (UnsafeRawBufferPointer) throws(TensorFileError) -> Result
  ) throws(TensorFileError) -> Result {
    let outcome = withUnsafeBytes { bytes in
      Swift.Result { () throws(TensorFileError) in try body(bytes) }
    }
    return try outcome.get()
  }
}
