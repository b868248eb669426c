// Parameter counting for the Mask R-CNN mask head with its refinement replaced by the IFR
// block or its explicit baselines (Ma et al. 2021, Tables 1, 6 and 9). Every count comes
// from a layer's tensor shapes; nothing is typed in.

/// One trainable tensor of a layer: its name and shape.
public struct ParameterTensor: Sendable, Equatable {
  /// The PyTorch-style name (`refine.0.conv1.weight_v`, `deconv.weight`, …).
  public var name: String
  /// The tensor's shape.
  public var shape: [Int]
  /// The number of scalars.
  public var count: Int { shape.reduce(1, *) }
}

/// The trainable tensors of a Mask R-CNN mask head and their total, derived from shapes.
///
/// The head is: a feature refinement on `channels × 14 × 14` RoI features, then a 2×2
/// stride-2 transposed convolution `channels → channels` with bias and ReLU, then a 1×1
/// predictor `channels → classes` with bias (Mask R-CNN's head after its four convs). The
/// refinement is one of ``Refinement``.
///
/// ```swift
/// MaskHeadParameterCount(refinement: .sharedBlock).millions            // ≈ 1.5 (IFR)
/// MaskHeadParameterCount(refinement: .independentBlocks(4)).millions   // ≈ 5.0
/// ```
public struct MaskHeadParameterCount: Sendable {
  /// How the RoI features are refined before the upsampling and prediction.
  public enum Refinement: Sendable, Equatable {
    /// `count` independent 3×3 convolutions with bias and ReLU (standard Mask R-CNN: 4).
    case stackedConvolutions(Int)
    /// One 3×3 convolution with bias, shared and applied repeatedly (Table 1 "4*").
    case sharedConvolution
    /// `count` independent double-residual blocks (Table 6, explicit).
    case independentBlocks(Int)
    /// One double-residual block, shared: unrolled with weight sharing or solved as IFR.
    case sharedBlock
  }

  /// The refinement.
  public let refinement: Refinement
  /// RoI feature channels (256).
  public let channels: Int
  /// The blocks' inner width (256; Table 9 varies it).
  public let innerChannels: Int
  /// The number of classes of the mask predictor (80 for COCO).
  public let classes: Int
  /// Whether the blocks' convolutions are weight-normalised (adds `weight_g`).
  public let weightNormalization: Bool
  /// Every trainable tensor, in order.
  public let tensors: [ParameterTensor]

  /// Lists the head's tensors.
  ///
  /// - Parameters:
  ///   - refinement: the refinement (default ``Refinement/sharedBlock``, IFR).
  ///   - channels: RoI channels (256).
  ///   - innerChannels: the blocks' inner width; `nil` means `channels`.
  ///   - classes: mask classes (80).
  ///   - weightNormalization: weight-normalised block convolutions (on, as released).
  public init(
    refinement: Refinement = .sharedBlock, channels: Int = 256, innerChannels: Int? = nil,
    classes: Int = 80, weightNormalization: Bool = true
  ) {
    let inner = innerChannels ?? channels
    self.refinement = refinement
    self.channels = channels
    self.innerChannels = inner
    self.classes = classes
    self.weightNormalization = weightNormalization
    var tensors: [ParameterTensor] = []
    func convolution(_ name: String) {
      tensors.append(ParameterTensor(name: "\(name).weight", shape: [channels, channels, 3, 3]))
      tensors.append(ParameterTensor(name: "\(name).bias", shape: [channels]))
    }
    func block(_ prefix: String) {
      for (name, shape) in IFRBlock<Float>.parameterShapes(
        channels: channels, innerChannels: inner, weightNormalization: weightNormalization)
      {
        tensors.append(ParameterTensor(name: "\(prefix).\(name)", shape: shape))
      }
    }
    switch refinement {
    case .stackedConvolutions(let count):
      for i in 0..<count { convolution("refine.\(i)") }
    case .sharedConvolution:
      convolution("refine.shared")
    case .independentBlocks(let count):
      for i in 0..<count { block("refine.\(i)") }
    case .sharedBlock:
      block("refine.shared")
    }
    tensors.append(ParameterTensor(name: "deconv.weight", shape: [channels, channels, 2, 2]))
    tensors.append(ParameterTensor(name: "deconv.bias", shape: [channels]))
    tensors.append(ParameterTensor(name: "predictor.weight", shape: [classes, channels, 1, 1]))
    tensors.append(ParameterTensor(name: "predictor.bias", shape: [classes]))
    self.tensors = tensors
  }

  /// The total number of trainable scalars.
  public var total: Int { tensors.reduce(0) { $0 + $1.count } }

  /// The total in millions (the paper's "P(M)").
  public var millions: Double { Double(total) / 1e6 }

  /// The scalars in the refinement alone (without the transposed conv and predictor).
  public var refinementTotal: Int {
    tensors.filter { $0.name.hasPrefix("refine.") }.reduce(0) { $0 + $1.count }
  }
}

extension IFRBlock {
  /// The names and shapes of a block's parameters in state_dict order, without building it.
  ///
  /// `IFRBlock(channels:innerChannels:weightNormalization:using:)` creates exactly these
  /// (checked by the tests).
  public static func parameterShapes(
    channels: Int, innerChannels: Int? = nil, weightNormalization: Bool = true
  ) -> [(name: String, shape: [Int])] {
    let inner = innerChannels ?? channels
    func kernel(_ name: String, _ out: Int, _ input: Int) -> [(name: String, shape: [Int])] {
      weightNormalization
        ? [("\(name).weight_g", [out, 1, 1, 1]), ("\(name).weight_v", [out, input, 3, 3])]
        : [("\(name).weight", [out, input, 3, 3])]
    }
    return kernel("conv1", inner, channels) + [("gn1.weight", [inner]), ("gn1.bias", [inner])]
      + kernel("conv2", channels, inner) + [
        ("gn2.weight", [channels]), ("gn2.bias", [channels]),
        ("gn3.weight", [channels]), ("gn3.bias", [channels]),
      ]
  }
}
