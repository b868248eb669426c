// printf-style number formatting without Foundation: `String(format:)` lives in Foundation
// (with ICU behind it), which the `deq` process would otherwise load only for a handful of
// "%.3e"-style labels. C's `vsnprintf` formats in the "C" locale, as `String(format:)` does.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

extension String {
  /// Formats `arguments` by the C format string `format` (`"%.3e"`, `"%.1f"`, …), as C's
  /// `snprintf` does. Only numeric conversions are supported (no `%@`).
  package init(cFormat format: String, _ arguments: any CVarArg...) {
    var size = 64
    var buffer = [CChar](repeating: 0, count: size)
    var written = withVaList(arguments) { Int(vsnprintf(&buffer, size, format, $0)) }
    if written >= size {
      size = written + 1
      buffer = [CChar](repeating: 0, count: size)
      written = withVaList(arguments) { Int(vsnprintf(&buffer, size, format, $0)) }
    }
    let bytes = buffer.prefix(Swift.max(0, Swift.min(written, size - 1)))
    self = String(decoding: bytes.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
