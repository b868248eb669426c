import DEQCore
import Foundation
import IFRHead
import _DEQTestSupport

/// Minimal readers for the reference folder's float64 `.npy` and safetensors files, so the
/// reference tests do not wait for DEQCore's I/O.
enum ReferenceFiles {
  struct FormatError: Error, CustomStringConvertible {
    var description: String
  }

  static func littleEndianDoubles(_ bytes: Data) -> [Double] {
    let count = bytes.count / 8
    return bytes.withUnsafeBytes { raw in
      (0..<count).map { i in
        Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
      }
    }
  }

  /// A C-order `<f8` NumPy array.
  static func npy(_ name: String) throws -> Tensor<Double> {
    let data = try Data(contentsOf: ReferenceData.url(name))
    guard data.count > 10, data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)) else {
      throw FormatError(description: "\(name): not an npy file")
    }
    let major = data[data.startIndex + 6]
    let headerLength: Int
    let headerStart: Int
    if major == 1 {
      headerLength = Int(data[8]) | Int(data[9]) << 8
      headerStart = 10
    } else {
      headerLength = (0..<4).reduce(0) { $0 | Int(data[8 + $1]) << (8 * $1) }
      headerStart = 12
    }
    let header = String(decoding: data[headerStart..<(headerStart + headerLength)], as: UTF8.self)
    guard header.contains("'<f8'"), header.contains("'fortran_order': False") else {
      throw FormatError(description: "\(name): unsupported header \(header)")
    }
    guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")")
    else { throw FormatError(description: "\(name): no shape") }
    let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
      Int($0.trimmingCharacters(in: .whitespaces))
    }
    let scalars = littleEndianDoubles(data[(headerStart + headerLength)...])
    return try Tensor(shape: shape, scalars: scalars)
  }

  /// The F64 tensors and metadata of a safetensors file.
  static func safetensors(_ name: String) throws -> ([String: Tensor<Double>], [String: String]) {
    let data = try Data(contentsOf: ReferenceData.url(name))
    let length = (0..<8).reduce(0) { $0 | Int(data[$1]) << (8 * $1) }
    let json = try JSONSerialization.jsonObject(with: data[8..<(8 + length)]) as? [String: Any] ?? [:]
    var tensors: [String: Tensor<Double>] = [:]
    var metadata: [String: String] = [:]
    for (key, value) in json {
      guard let entry = value as? [String: Any] else { continue }
      if key == "__metadata__" {
        for (k, v) in entry { metadata[k] = v as? String }
        continue
      }
      guard entry["dtype"] as? String == "F64", let shape = entry["shape"] as? [Int],
        let offsets = entry["data_offsets"] as? [Int]
      else { throw FormatError(description: "\(name): bad entry \(key)") }
      let start = 8 + length + offsets[0]
      let end = 8 + length + offsets[1]
      tensors[key] = try Tensor(shape: shape, scalars: littleEndianDoubles(data[start..<end]))
    }
    return (tensors, metadata)
  }

  /// The reference block in the given form.
  static func block(form: IFRBlockForm) throws -> IFRBlock<Double> {
    let (tensors, metadata) = try safetensors("block.safetensors")
    return try IFRBlock(stateDictionary: tensors, metadata: metadata, form: form)
  }
}
