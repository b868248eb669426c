import Foundation

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
    let width = MemoryLayout<Scalar>.size
    precondition(bytes.count == count * width, "byte count checked by the caller")
    var result = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
      let destination = UnsafeMutableRawBufferPointer(buffer)
      if width == MemoryLayout<Scalar>.stride {
        if count > 0 { destination.copyMemory(from: bytes) }
      } else {
        for index in 0..<count {
          let source = UnsafeRawBufferPointer(
            rebasing: bytes[(index * width)..<((index + 1) * width)])
          UnsafeMutableRawBufferPointer(
            rebasing: destination[(index * MemoryLayout<Scalar>.stride)...]
          ).copyMemory(from: source)
        }
      }
      initialized = count
    }
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
