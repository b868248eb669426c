import Foundation

/// torchdeq's 15-step Broyden traces on the reference block (`torchdeq.json`).
public struct TorchDEQTraces: Decodable, Sendable {
  // swift-format-ignore: AlwaysUseLowerCamelCase
  /// `abs_trace[roi][k]` = ‖F(H_k) − H_k‖₂, k = 0 … 15; `nil` where torchdeq wrote NaN/∞.
  public let abs_trace: [[Double?]]
  // swift-format-ignore: AlwaysUseLowerCamelCase
  /// `rel_trace[roi][k]` = that / (‖F(H_k)‖₂ + 1e-9).
  public let rel_trace: [[Double?]]

  struct Form: Decodable { let broyden15: TorchDEQTraces }
  struct File: Decodable { let forms: [String: Form] }

  /// The traces of one form (`ifr_code`, `xshort`, `eq5`).
  ///
  /// Python's json writes bare NaN/Infinity (eq5's trace runs off); JSON has no such
  /// tokens, so they become `nil` here.
  public static func load(form: String) throws -> TorchDEQTraces {
    let text = try String(contentsOf: ReferenceData.url("torchdeq.json"), encoding: .utf8)
      .replacingOccurrences(of: "-Infinity", with: "null")
      .replacingOccurrences(of: "Infinity", with: "null")
      .replacingOccurrences(of: "NaN", with: "null")
    let file = try JSONDecoder().decode(File.self, from: Data(text.utf8))
    guard let form = file.forms[form] else { throw CocoaError(.coderValueNotFound) }
    return form.broyden15
  }
}
