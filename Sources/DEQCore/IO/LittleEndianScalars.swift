import FoundationEssentials

/// Conversion between scalars and their little-endian bytes, the element layout of both
/// `.npy` (`<f4`, `<f8`) and safetensors files.
///
/// On a little-endian host (every platform Swift ships for today) both directions are one
/// `memcpy`; on a big-endian host each element's bytes are reversed as well.
enum LittleEndianScalars {
  /// The number of bytes one element of `Scalar` takes in a file.
  static func width<Scalar: DEQScalar>(of type: Scalar.Type) -> Int {
    MemoryLayout<Scalar>.size
  }

  /// Decodes `count` scalars from exactly `count · width` little-endian bytes.
  ///
  /// The caller has checked the byte count; `bytes` needs no alignment.
  /// - Complexity: O(`count`) time, one allocation of the result.
  static func decode<Scalar: DEQScalar>(
    _ bytes: UnsafeRawBufferPointer, count: Int, as type: Scalar.Type
  ) -> [Scalar] {
    precondition(
      bytes.count == count * MemoryLayout<Scalar>.size, "byte count checked by the caller")
    return decode(count: count, as: type) { destination in
      if count > 0 { destination.copyMemory(from: bytes) }
    }
  }

  /// Decodes `count` scalars whose `count · width` little-endian bytes `fill` writes into
  /// the result's own memory (a file read lands there directly, with no copy in between).
  ///
  /// - Complexity: O(`count`) time, one allocation of the result.
  static func decode<Scalar: DEQScalar, E: Error>(
    count: Int, as type: Scalar.Type,
    fill: (UnsafeMutableRawBufferPointer) throws(E) -> Void
  ) throws(E) -> [Scalar] {
    // Float and Double have no padding: an element's bytes are its storage.
    precondition(MemoryLayout<Scalar>.size == MemoryLayout<Scalar>.stride)
    var failure: E?
    var result = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
      do throws(E) {
        try fill(UnsafeMutableRawBufferPointer(buffer))
        initialized = count
      } catch {
        failure = error
        initialized = 0
      }
    }
    if let failure { throw failure }
    #if _endian(big)
      result.withUnsafeMutableBytes { reverseEachElement($0, count: count, as: Scalar.self) }
    #endif
    return result
  }

  /// Appends the little-endian bytes of `scalars` to `data`.
  ///
  /// - Complexity: O(`scalars.count`) time; no allocation beyond `data`'s growth.
  static func append<Scalar: DEQScalar>(_ scalars: [Scalar], to data: inout Data) {
    let width = MemoryLayout<Scalar>.size
    #if _endian(little)
      if width == MemoryLayout<Scalar>.stride {
        scalars.withUnsafeBufferPointer { data.append($0) }
        return
      }
    #endif
    var element = [UInt8](repeating: 0, count: width)
    for scalar in scalars {
      withUnsafeBytes(of: scalar) { bytes in
        for offset in 0..<width { element[offset] = bytes[offset] }
      }
      #if _endian(big)
        element.reverse()
      #endif
      data.append(contentsOf: element)
    }
  }

  #if _endian(big)
    private static func reverseEachElement<Scalar: DEQScalar>(
      _ bytes: UnsafeMutableRawBufferPointer, count: Int, as type: Scalar.Type
    ) {
      let stride = MemoryLayout<Scalar>.stride
      let width = MemoryLayout<Scalar>.size
      for index in 0..<count {
        var low = index * stride
        var high = low + width - 1
        while low < high {
          bytes.swapAt(low, high)
          low += 1
          high -= 1
        }
      }
    }
  #endif
}
