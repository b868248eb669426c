// The public face of IFRBlockWorkspace: `Tensor`s in and out, one RoI (`[C, H, W]`), a
// batch (`[N, C, H, W]`) or a list of RoIs (what a lockstep batch solve hands its map).
// Each call packs its RoIs channel-major, runs the packed kernel and unpacks.

extension IFRBlockWorkspace {
  // MARK: Packing

  /// The number of RoIs in `tensor` (`[C, H, W]` is one, `[N, C, H, W]` is N).
  @inlinable
  func roiCount(of tensor: Tensor<Scalar>, _ what: String) -> Int {
    let shape = tensor.shape
    if shape == roiShape { return 1 }
    precondition(
      shape.count == 4 && Array(shape.dropFirst()) == roiShape,
      "IFRBlockWorkspace: \(what) must be \(roiShape) or [N] + \(roiShape), got \(shape)")
    return shape[0]
  }

  /// Copies RoIs stored one after another (`[N][C][H·W]`) into a channel-major buffer.
  @inlinable
  func pack(
    _ source: UnsafePointer<Scalar>, roi: Int, count: Int, into buffer: _ScalarBuffer<Scalar>
  ) {
    let stride = count * plane
    let target = buffer.pointer(count: channels * stride)
    for c in 0..<channels {
      (target + c * stride + roi * plane).update(from: source + c * plane, count: plane)
    }
  }

  /// The inverse of ``pack(_:roi:count:into:)`` for one RoI.
  @inlinable
  func unpack(
    _ buffer: _ScalarBuffer<Scalar>, roi: Int, count: Int, into target: UnsafeMutablePointer<Scalar>
  ) {
    let stride = count * plane
    let source = buffer.pointer(count: channels * stride)
    for c in 0..<channels {
      (target + c * plane).update(from: source + c * stride + roi * plane, count: plane)
    }
  }

  @inlinable
  func pack(_ tensor: Tensor<Scalar>, count: Int, into buffer: _ScalarBuffer<Scalar>) {
    tensor.withUnsafeBufferPointer { source in
      let base = source.baseAddress.unsafelyUnwrapped
      for r in 0..<count { pack(base + r * roiCount, roi: r, count: count, into: buffer) }
    }
  }

  @inlinable
  func unpack(_ buffer: _ScalarBuffer<Scalar>, count: Int, into tensor: inout Tensor<Scalar>) {
    tensor.withUnsafeMutableBufferPointer { target in
      let base = target.baseAddress.unsafelyUnwrapped
      for r in 0..<count { unpack(buffer, roi: r, count: count, into: base + r * roiCount) }
    }
  }

  // MARK: One RoI or a batch tensor

  /// `F(H; X)` for one RoI (`[C, H, W]`) or a batch (`[N, C, H, W]`), recording the point.
  ///
  /// - Complexity: `2 · 2 · 9 · C · inner · H · W` flops per RoI under im2col (two GEMMs
  ///   over all RoIs), 2.25× fewer under Winograd, plus O(C·H·W) per RoI.
  @inlinable
  public func evaluate(state: Tensor<Scalar>, injection: Tensor<Scalar>) -> Tensor<Scalar> {
    var output = Tensor<Scalar>(zeros: state.shape)
    evaluate(state: state, injection: injection, into: &output)
    return output
  }

  /// `F(H; X)` into `output` (H's shape), recording the point; allocates nothing once the
  /// capacity holds the batch.
  @inlinable
  public func evaluate(
    state: Tensor<Scalar>, injection: Tensor<Scalar>, into output: inout Tensor<Scalar>
  ) {
    let count = roiCount(of: state, "H")
    precondition(
      injection.shape == state.shape && output.shape == state.shape,
      "IFRBlockWorkspace: H \(state.shape), X \(injection.shape) and F \(output.shape) differ")
    reserve(count)
    withThreads(count: count) {
      pack(state, count: count, into: batch.input)
      pack(injection, count: count, into: batch.injection)
      packedInjections = []
      evaluatePacked(count: count)
      unpack(batch.output, count: count, into: &output)
    }
  }

  /// `∂F/∂H · V` at the last evaluated point (V has the shape of the H evaluated).
  @inlinable
  public func jvp(tangent: Tensor<Scalar>) -> Tensor<Scalar> {
    var output = Tensor<Scalar>(zeros: tangent.shape)
    jvp(tangent: tangent, into: &output)
    return output
  }

  /// `∂F/∂H · V` into `output`, allocating nothing.
  @inlinable
  public func jvp(tangent: Tensor<Scalar>, into output: inout Tensor<Scalar>) {
    let count = roiCount(of: tangent, "V")
    precondition(
      count == recordedCount, "IFRBlockWorkspace: the tangent's RoIs differ from the tape's")
    precondition(output.shape == tangent.shape, "IFRBlockWorkspace: output shape")
    withThreads(count: count) {
      pack(tangent, count: count, into: batch.input)
      jvpPacked()
      unpack(batch.output, count: count, into: &output)
    }
  }

  /// `Uᵀ·∂F/∂H` at the last evaluated point (no parameter cotangents).
  @inlinable
  public func vjp(cotangent: Tensor<Scalar>) -> Tensor<Scalar> {
    let count = roiCount(of: cotangent, "U")
    precondition(
      count == recordedCount, "IFRBlockWorkspace: the cotangent's RoIs differ from the tape's")
    var output = Tensor<Scalar>(zeros: cotangent.shape)
    withThreads(count: count) {
      pack(cotangent, count: count, into: batch.input)
      vjpPacked(parameters: false)
      unpack(batch.output, count: count, into: &output)
    }
    return output
  }

  /// `Uᵀ·∂F/∂H` and `Uᵀ·∂F/∂X` at the last evaluated point; optionally adds `Uᵀ·∂F/∂θ`
  /// (summed over the RoIs) to the parameter accumulators (see ``parameterGradient()``).
  ///
  /// - Complexity: one evaluation's flops, twice that with parameters.
  @inlinable
  public func vjp(cotangent: Tensor<Scalar>, accumulatingParameters: Bool)
    -> (state: Tensor<Scalar>, injection: Tensor<Scalar>)
  {
    let count = roiCount(of: cotangent, "U")
    precondition(
      count == recordedCount, "IFRBlockWorkspace: the cotangent's RoIs differ from the tape's")
    var dh = Tensor<Scalar>(zeros: cotangent.shape)
    var dx = Tensor<Scalar>(zeros: cotangent.shape)
    withThreads(count: count) {
      pack(cotangent, count: count, into: batch.input)
      vjpPacked(parameters: accumulatingParameters)
      unpack(batch.output, count: count, into: &dh)
      unpack(batch.injectionCotangent, count: count, into: &dx)
    }
    return (dh, dx)
  }

  // MARK: Lists of RoIs (lockstep batch solves)

  /// `F(Hᵢ; Xᵢ)` for a list of RoIs (`[C, H, W]` each), evaluated together and recorded in
  /// this order.
  ///
  /// With `recording: false` only F is computed: the linearisation is not kept (JVPs and
  /// VJPs need a recorded evaluation first), which saves writing four of the tape's
  /// batch-sized buffers; a forward solve, which never differentiates its iterates, uses it.
  @inlinable
  public func evaluate(
    states: [Tensor<Scalar>], injections: [Tensor<Scalar>], recording: Bool = true
  ) -> [Tensor<Scalar>] {
    let count = states.count
    precondition(injections.count == count, "IFRBlockWorkspace: one X per H")
    guard count > 0 else { return [] }
    reserve(count)
    return withThreads(count: count) {
      pack(states, "states", into: batch.input)
      if !holdsPacked(injections) {
        pack(injections, "injections", into: batch.injection)
        packedInjections = injections
      }
      evaluatePacked(count: count, recording: recording)
      return unpackList(batch.output, count: count)
    }
  }

  /// Whether `batch.injection` holds exactly `injections`, packed by the last list
  /// evaluation: the same tensors, in order, sharing storage with the ones the workspace kept
  /// (a kept tensor's storage stays alive, so no other tensor can have its address, and a
  /// caller's mutation would have copied it first).
  @inlinable
  func holdsPacked(_ injections: [Tensor<Scalar>]) -> Bool {
    guard injections.count == packedInjections.count else { return false }
    for (given, kept) in zip(injections, packedInjections) {
      let same = given.withUnsafeBufferPointer { a in
        kept.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress && a.count == b.count }
      }
      if !same { return false }
    }
    return true
  }

  /// `∂F/∂H · Vᵢ` for the RoIs last evaluated by ``evaluate(states:injections:)``.
  @inlinable
  public func jvp(tangents: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
    packList(tangents, "tangents")
    return withThreads(count: tangents.count) {
      jvpPacked()
      return unpackList(batch.output, count: tangents.count)
    }
  }

  /// `Uᵢᵀ·∂F/∂H` for the RoIs last evaluated by ``evaluate(states:injections:)``.
  @inlinable
  public func vjp(cotangents: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
    packList(cotangents, "cotangents")
    return withThreads(count: cotangents.count) {
      vjpPacked(parameters: false)
      return unpackList(batch.output, count: cotangents.count)
    }
  }

  /// Packs tangents or cotangents for the RoIs of the tape.
  @inlinable
  func packList(_ tensors: [Tensor<Scalar>], _ what: String) {
    precondition(
      tensors.count == recordedCount && tensors.count > 0,
      "IFRBlockWorkspace: \(tensors.count) \(what) for a tape of \(recordedCount) RoIs")
    pack(tensors, what, into: batch.input)
  }

  /// Packs a list of RoIs (`[C, H, W]` each) into a channel-major buffer.
  @inlinable
  func pack(_ tensors: [Tensor<Scalar>], _ what: String, into buffer: _ScalarBuffer<Scalar>) {
    for (r, tensor) in tensors.enumerated() {
      precondition(
        tensor.shape == roiShape,
        "IFRBlockWorkspace: \(what)[\(r)] is \(tensor.shape), expected \(roiShape)")
      tensor.withUnsafeBufferPointer {
        pack($0.baseAddress.unsafelyUnwrapped, roi: r, count: tensors.count, into: buffer)
      }
    }
  }

  @inlinable
  func unpackList(_ buffer: _ScalarBuffer<Scalar>, count: Int) -> [Tensor<Scalar>] {
    (0..<count).map { r in
      Tensor<Scalar>(shape: roiShape) {
        unpack(buffer, roi: r, count: count, into: $0.baseAddress.unsafelyUnwrapped)
      }
    }
  }

  // MARK: Parameter cotangents

  /// The accumulated parameter cotangents, as a block whose tensors hold them (conv kernels
  /// in the block's parametrisation: `weight`, or `weight_g` and `weight_v`).
  public func parameterGradient() -> IFRBlock<Scalar> {
    func tensor(_ buffer: _ScalarBuffer<Scalar>, _ shape: [Int]) -> Tensor<Scalar> {
      let scalars = Array(UnsafeBufferPointer(start: buffer.base, count: buffer.count))
      guard let result = try? Tensor(shape: shape, scalars: scalars) else {
        preconditionFailure("IFRBlockWorkspace: inconsistent parameter shape \(shape)")
      }
      return result
    }
    func norm(_ gamma: _ScalarBuffer<Scalar>, _ beta: _ScalarBuffer<Scalar>, _ c: Int)
      -> GroupNorm<Scalar>
    {
      GroupNorm(
        channels: c, groups: groups, epsilon: epsilon, scale: tensor(gamma, [c]),
        offset: tensor(beta, [c]))
    }
    return IFRBlock(
      form: form,
      conv1Weight: block.conv1Weight.pullback(tensor(dw1, [inner, channels, 3, 3])),
      conv2Weight: block.conv2Weight.pullback(tensor(dw2, [channels, inner, 3, 3])),
      gn1: norm(dgamma1, dbeta1, inner), gn2: norm(dgamma2, dbeta2, channels),
      gn3: norm(dgamma3, dbeta3, channels))
  }

  /// Sets the parameter cotangent accumulators to zero.
  public func resetParameterGradient() {
    for buffer in [dw1, dw2, dgamma1, dbeta1, dgamma2, dbeta2, dgamma3, dbeta3] { buffer.zero() }
  }
}
