import Foundation
import IFRHead
import Testing

@Suite("Loading from PyTorch state_dict names")
struct StateDictionaryTests {
  func dictionary(weightNormalization: Bool = true) -> [String: Tensor<Double>] {
    var rng = SeededGenerator(seed: 91)
    return IFRBlock<Double>(
      channels: 8, innerChannels: 4, weightNormalization: weightNormalization, using: &rng
    ).stateDictionary
  }

  @Test(
    "round trip through state_dict names, plain and weight-normalised", arguments: [true, false])
  func roundTrip(_ weightNormalization: Bool) throws {
    let tensors = dictionary(weightNormalization: weightNormalization)
    let names = Set(tensors.keys)
    let conv = weightNormalization ? ["conv1.weight_g", "conv1.weight_v"] : ["conv1.weight"]
    #expect(names.isSuperset(of: conv + ["gn1.weight", "gn1.bias", "gn3.bias"]))
    let block = try IFRBlock<Double>(stateDictionary: tensors)
    #expect(block.innerChannels == 4 && block.channels == 8)
    #expect(block.conv1Weight.isNormalized == weightNormalization)
  }

  @Test("a missing tensor is reported by name")
  func missing() {
    var tensors = dictionary()
    tensors["gn2.bias"] = nil
    #expect(throws: IFRHeadError.missingTensor(name: "gn2.bias")) {
      try IFRBlock<Double>(stateDictionary: tensors)
    }
    var noConv = dictionary()
    noConv["conv2.weight_v"] = nil
    noConv["conv2.weight_g"] = nil
    #expect(throws: IFRHeadError.missingTensor(name: "conv2.weight")) {
      try IFRBlock<Double>(stateDictionary: noConv)
    }
    var noMagnitude = dictionary()
    noMagnitude["conv1.weight_g"] = nil
    #expect(throws: IFRHeadError.missingTensor(name: "conv1.weight_g")) {
      try IFRBlock<Double>(stateDictionary: noMagnitude)
    }
  }

  @Test("extra tensors are reported by name")
  func extra() {
    var tensors = dictionary()
    tensors["gn4.weight"] = Tensor(zeros: [8])
    tensors["conv3.weight"] = Tensor(zeros: [8, 8, 3, 3])
    #expect(throws: IFRHeadError.unexpectedTensors(names: ["conv3.weight", "gn4.weight"])) {
      try IFRBlock<Double>(stateDictionary: tensors)
    }
  }

  @Test("mis-shaped tensors are reported by name with both shapes")
  func misshaped() {
    var tensors = dictionary()
    tensors["gn1.weight"] = Tensor(zeros: [8])
    #expect(throws: IFRHeadError.shapeMismatch(name: "gn1.weight", expected: [4], actual: [8])) {
      try IFRBlock<Double>(stateDictionary: tensors)
    }
    var conv = dictionary()
    conv["conv2.weight_v"] = Tensor(zeros: [8, 5, 3, 3])
    conv["conv2.weight_g"] = Tensor(zeros: [8, 1, 1, 1])
    #expect(
      throws: IFRHeadError.shapeMismatch(
        name: "conv2.weight_v", expected: [8, 4, 3, 3], actual: [8, 5, 3, 3])
    ) { try IFRBlock<Double>(stateDictionary: conv) }
    var magnitude = dictionary()
    magnitude["conv1.weight_g"] = Tensor(zeros: [4])
    #expect(
      throws: IFRHeadError.shapeMismatch(
        name: "conv1.weight_g", expected: [4, 1, 1, 1], actual: [4])
    ) { try IFRBlock<Double>(stateDictionary: magnitude) }
  }

  @Test("metadata: groups, gn_eps and form are honoured; bad values are errors")
  func metadata() throws {
    let tensors = dictionary()
    let block = try IFRBlock<Double>(
      stateDictionary: tensors, metadata: ["groups": "2", "gn_eps": "1e-3", "form": "xshort"])
    #expect(block.groups == 2 && block.epsilon == 1e-3 && block.form == .xshort)
    #expect(throws: IFRHeadError.invalidMetadata(key: "form", value: "eq6")) {
      try IFRBlock<Double>(stateDictionary: tensors, metadata: ["form": "eq6"])
    }
    #expect(throws: IFRHeadError.invalidMetadata(key: "groups", value: "three")) {
      try IFRBlock<Double>(stateDictionary: tensors, metadata: ["groups": "three"])
    }
    #expect(throws: IFRHeadError.self) {
      try IFRBlock<Double>(stateDictionary: tensors, metadata: ["groups": "3"])
    }
    #expect(block.metadata["form"] == "xshort")
  }

  @Test("safetensors round trip through a file, and unreadable files are typed errors")
  func safeTensorsFile() throws {
    var rng = SeededGenerator(seed: 92)
    let block = IFRBlock<Float>(channels: 8, innerChannels: 4, form: .mdeq, using: &rng)
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("ifr-block-\(ProcessInfo.processInfo.processIdentifier).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try block.write(to: url)
    let loaded = try IFRBlock<Float>(contentsOf: url)
    #expect(loaded.form == .mdeq)
    #expect(loaded.parameterVector == block.parameterVector)
    let missing = url.appendingPathExtension("missing")
    #expect {
      try IFRBlock<Float>(contentsOf: missing)
    } throws: { error in
      if case .tensorFile = error as? IFRHeadError { return true }
      return false
    }
  }
}
