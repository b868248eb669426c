// The block's evaluation, JVP and VJP on the workspace's packed, channel-major buffers:
// `count` RoIs, each channel row `count · H · W` long. The public entry points pack their
// tensors into `batch.input` / `batch.injection`, call one of these, and unpack
// `batch.output` / `batch.injectionCotangent`.

extension IFRBlockWorkspace {
  /// Runs a GroupNorm kernel on every (RoI, group) of a packed buffer of `channels` rows:
  /// `body(offset, firstChannel, deviation, stride, part)` gets the group's first scalar,
  /// its first channel, its inverse-deviation slot, the channel stride and the parallel
  /// part running it. Groups run in parallel (each owns its channels' parameter
  /// cotangents), RoIs in order within a group.
  @inlinable
  func forEachGroup(
    _ count: Int, channels: Int,
    _ body: (_ offset: Int, _ firstChannel: Int, _ deviation: Int, _ stride: Int, _ part: Int)
      -> Void
  ) {
    let stride = count * plane
    let perGroup = channels / groups
    _ParallelRanges.forEach(groups, parts: parts) { part, range in
      for g in range {
        for r in 0..<count {
          body(r * plane + g * perGroup * stride, g * perGroup, r * groups + g, stride, part)
        }
      }
    }
  }

  /// GroupNorm forward over the packed rows of `x`: `x̂` (unless `nil`) and the inverse
  /// deviations recorded, `y = γ x̂ + β` written (`y` may alias `x`, not `x̂`), then, on
  /// each row while it is in cache, the `epilogue`. What is not recorded goes to the
  /// part's row of `discardRows` (a row that stays in cache).
  @inlinable
  func normalizeGroups(
    _ x: UnsafePointer<Scalar>, count: Int, channels: Int,
    normalized xhat: UnsafeMutablePointer<Scalar>?, deviations s: UnsafeMutablePointer<Scalar>,
    scale gamma: _ScalarBuffer<Scalar>, offset beta: _ScalarBuffer<Scalar>,
    into y: UnsafeMutablePointer<Scalar>, then epilogue: _GroupNormEpilogue<Scalar> = .none
  ) {
    let perGroup = channels / groups
    let discard = discardRows.pointer(count: 2 * plane * parts)
    forEachGroup(count, channels: channels) { offset, c, d, stride, part in
      let (mean, inverse) = GroupNorm<Scalar>.statistics(
        x + offset, channels: perGroup, plane: plane, channelStride: stride, epsilon: epsilon)
      s[d] = inverse
      let unrecorded = discard + 2 * plane * part
      for k in 0..<perGroup {
        let row = offset + k * stride
        let (a, b) = (gamma.base[c + k], beta.base[c + k])
        let (xr, xh, yr) = (x + row, xhat.map { $0 + row } ?? unrecorded, y + row)
        // The rectifying selects are whole-register selects (`t > 0 ? t : 0`: a NaN becomes
        // 0, the engine's convention, whose solvers see the NaN in the state instead), which
        // the loops vectorise.
        switch epilogue {
        case .none:
          for i in 0..<plane {
            let v = (xr[i] - mean) * inverse
            xh[i] = v
            yr[i] = a * v + b
          }
        case .rectify:
          for i in 0..<plane {
            let v = (xr[i] - mean) * inverse
            xh[i] = v
            let t = a * v + b
            yr[i] = t > 0 ? t : 0
          }
        case .addRectify(let residual, let preActivation):
          // Two loops: with five rows in one, the compiler leaves it scalar (the checks that
          // the rows do not overlap would be too many).
          let (rr, pr) = (residual + row, preActivation.map { $0 + row } ?? unrecorded + plane)
          for i in 0..<plane {
            let v = (xr[i] - mean) * inverse
            xh[i] = v
            pr[i] = (a * v + b) + rr[i]
          }
          for i in 0..<plane {
            let t = pr[i]
            yr[i] = t > 0 ? t : 0
          }
        }
      }
    }
  }

  /// GroupNorm's JVP at the recorded point over packed rows (`y` may alias `t`).
  @inlinable
  func groupsJVP(
    _ t: UnsafePointer<Scalar>, count: Int, channels: Int,
    normalized xhat: UnsafePointer<Scalar>, deviations s: UnsafePointer<Scalar>,
    scale gamma: _ScalarBuffer<Scalar>, into y: UnsafeMutablePointer<Scalar>
  ) {
    forEachGroup(count, channels: channels) { offset, c, d, stride, _ in
      GroupNorm<Scalar>.jvp(
        t + offset, normalized: xhat + offset, inverseDeviation: s + d,
        scale: gamma.base + c, channels: channels / groups, groups: 1, plane: plane,
        channelStride: stride, into: y + offset)
    }
  }

  /// GroupNorm's VJP at the recorded point over packed rows (`y` may alias `u`); with
  /// cotangent buffers, adds `∂γ` and `∂β` (each group owns its channels' entries).
  @inlinable
  func groupsVJP(
    _ u: UnsafePointer<Scalar>, count: Int, channels: Int,
    normalized xhat: UnsafePointer<Scalar>, deviations s: UnsafePointer<Scalar>,
    scale gamma: _ScalarBuffer<Scalar>, scaleCotangent dgamma: _ScalarBuffer<Scalar>?,
    offsetCotangent dbeta: _ScalarBuffer<Scalar>?, into y: UnsafeMutablePointer<Scalar>
  ) {
    forEachGroup(count, channels: channels) { offset, c, d, stride, _ in
      GroupNorm<Scalar>.vjp(
        u + offset, normalized: xhat + offset, inverseDeviation: s + d,
        scale: gamma.base + c, channels: channels / groups, groups: 1, plane: plane,
        channelStride: stride, into: y + offset, scaleCotangent: dgamma.map { $0.base + c },
        offsetCotangent: dbeta.map { $0.base + c })
    }
  }

  /// `F(H; X)` for `count` RoIs from `batch.input` (H) and `batch.injection` (X) into
  /// `batch.output`, recording the tape (unless `recording` is false: then only F, and
  /// no tape until the next recorded evaluation).
  @inlinable
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  func evaluatePacked(count: Int, recording: Bool = true) {
    let b = batch
    let n = channels * plane * count
    let m = inner * plane * count
    let h = b.input.pointer(count: n)
    let x = b.injection.pointer(count: n)
    let out = b.output.pointer(count: n)
    let r = b.convInput.pointer(count: n)
    let scratchInner = b.scratchInner.pointer(count: m)
    let hidden = b.hidden.pointer(count: m)
    let scratchA = b.scratchA.pointer(count: n)
    // Unrecorded, the tape's x̂ and pre-activation rows are never written (nor faulted in).
    let xhat1 = recording ? b.xhat1.pointer(count: m) : nil
    let xhat2 = recording ? b.xhat2.pointer(count: n) : nil
    let xhat3 = recording ? b.xhat3.pointer(count: n) : nil
    let pre = recording ? b.preActivation.pointer(count: n) : nil
    let s1 = b.s1.pointer(count: groups * count)
    let s2 = b.s2.pointer(count: groups * count)
    let s3 = b.s3.pointer(count: groups * count)
    if discardRows.count < 2 * plane * parts {
      discardRows = _ScalarBuffer(count: 2 * plane * parts, zeroed: false)
    }
    // Invalid until the evaluation is complete (and stays so when it is not recorded).
    recordedCount = 0
    if form.convolvesStateOnly {
      r.update(from: h, count: n)
    } else {
      for i in 0..<n { r[i] = h[i] + x[i] }
    }
    // hidden = ReLU(GN1(conv1(R))).
    conv1.forward(r, count: count, parts: parts, into: scratchInner)
    normalizeGroups(
      scratchInner, count: count, channels: inner, normalized: xhat1, deviations: s1,
      scale: gamma1, offset: beta1, into: hidden, then: .rectify)
    // scratchA = GN2(conv2(hidden) [+ X for mdeq]) [+ R, recorded, rectified].
    conv2.forward(hidden, count: count, parts: parts, into: scratchA)
    if form == .mdeq { for i in 0..<n { scratchA[i] += x[i] } }
    let rectifiesResidual = form == .ifrCode || form == .mdeq
    normalizeGroups(
      scratchA, count: count, channels: channels, normalized: xhat2,
      deviations: s2, scale: gamma2, offset: beta2, into: scratchA,
      then: rectifiesResidual ? .addRectify(residual: r, preActivation: pre) : .none)
    switch form {
    case .eq5:
      for i in 0..<n { out[i] = scratchA[i] + r[i] }
    case .xshort:
      for i in 0..<n { out[i] = scratchA[i] + x[i] }
    case .noResidual:
      out.update(from: scratchA, count: n)
    case .ifrCode, .mdeq:
      normalizeGroups(
        scratchA, count: count, channels: channels, normalized: xhat3, deviations: s3,
        scale: gamma3, offset: beta3, into: out)
    }
    recordedCount = recording ? count : 0
  }

  /// `∂F/∂H · V` at the recorded point, from `batch.input` (V) into `batch.output`.
  @inlinable
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  func jvpPacked() {
    let count = recordedCount
    precondition(count > 0, "IFRBlockWorkspace: evaluate a point before differentiating")
    let b = batch
    let n = channels * plane * count
    let m = inner * plane * count
    let t = b.input.pointer(count: n)
    let out = b.output.pointer(count: n)
    let scratchInner = b.scratchInner.pointer(count: m)
    let scratchA = b.scratchA.pointer(count: n)
    let xhat1 = b.xhat1.pointer(count: m)
    let hidden = b.hidden.pointer(count: m)
    let xhat2 = b.xhat2.pointer(count: n)
    let xhat3 = b.xhat3.pointer(count: n)
    let pre = b.preActivation.pointer(count: n)
    let s1 = b.s1.pointer(count: groups * count)
    let s2 = b.s2.pointer(count: groups * count)
    let s3 = b.s3.pointer(count: groups * count)
    conv1.forward(t, count: count, parts: parts, into: scratchInner)
    groupsJVP(
      scratchInner, count: count, channels: inner, normalized: xhat1,
      deviations: s1, scale: gamma1, into: scratchInner)
    ReLU<Scalar>.mask(scratchInner, where: hidden, count: m)
    conv2.forward(scratchInner, count: count, parts: parts, into: scratchA)
    groupsJVP(
      scratchA, count: count, channels: channels, normalized: xhat2,
      deviations: s2, scale: gamma2, into: scratchA)
    switch form {
    case .eq5:
      for i in 0..<n { out[i] = scratchA[i] + t[i] }
    case .xshort, .noResidual:
      out.update(from: scratchA, count: n)
    case .ifrCode, .mdeq:
      for i in 0..<n { scratchA[i] += t[i] }
      ReLU<Scalar>.mask(scratchA, where: pre, count: n)
      groupsJVP(
        scratchA, count: count, channels: channels, normalized: xhat3,
        deviations: s3, scale: gamma3, into: out)
    }
  }

  /// `Uᵀ·∂F/∂H` into `batch.output` and `Uᵀ·∂F/∂X` into `batch.injectionCotangent` at the
  /// recorded point, from `batch.input` (U); with `parameters`, adds `Uᵀ·∂F/∂θ` (summed
  /// over the RoIs) to the accumulators.
  @inlinable
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  func vjpPacked(parameters: Bool) {
    let count = recordedCount
    precondition(count > 0, "IFRBlockWorkspace: evaluate a point before differentiating")
    let b = batch
    let n = channels * plane * count
    let m = inner * plane * count
    let u = b.input.pointer(count: n)
    let dh = b.output.pointer(count: n)
    let dx = b.injectionCotangent.pointer(count: n)
    let r = b.convInput.pointer(count: n)
    let scratchInner = b.scratchInner.pointer(count: m)
    let scratchA = b.scratchA.pointer(count: n)
    let scratchB = b.scratchB.pointer(count: n)
    let xhat1 = b.xhat1.pointer(count: m)
    let hidden = b.hidden.pointer(count: m)
    let xhat2 = b.xhat2.pointer(count: n)
    let xhat3 = b.xhat3.pointer(count: n)
    let pre = b.preActivation.pointer(count: n)
    let s1 = b.s1.pointer(count: groups * count)
    let s2 = b.s2.pointer(count: groups * count)
    let s3 = b.s3.pointer(count: groups * count)
    // scratchB = ∂(GN2 output) and the direct path to the conv1 input.
    switch form {
    case .eq5, .xshort, .noResidual:
      scratchB.update(from: u, count: n)
    case .ifrCode, .mdeq:
      groupsVJP(
        u, count: count, channels: channels, normalized: xhat3,
        deviations: s3, scale: gamma3,
        scaleCotangent: parameters ? dgamma3 : nil,
        offsetCotangent: parameters ? dbeta3 : nil, into: scratchB)
      ReLU<Scalar>.mask(scratchB, where: pre, count: n)
    }
    // scratchA = ∂(GN2 input) = ∂(conv2 output) (and ∂X for mdeq).
    groupsVJP(
      scratchB, count: count, channels: channels, normalized: xhat2,
      deviations: s2, scale: gamma2,
      scaleCotangent: parameters ? dgamma2 : nil,
      offsetCotangent: parameters ? dbeta2 : nil, into: scratchA)
    if parameters {
      conv2.accumulateWeightCotangent(
        scratchA, input: hidden, count: count, parts: parts, into: dw2.pointer(count: dw2.count))
    }
    conv2.inputCotangent(scratchA, count: count, parts: parts, into: scratchInner)
    ReLU<Scalar>.mask(scratchInner, where: hidden, count: m)
    groupsVJP(
      scratchInner, count: count, channels: inner, normalized: xhat1,
      deviations: s1, scale: gamma1,
      scaleCotangent: parameters ? dgamma1 : nil,
      offsetCotangent: parameters ? dbeta1 : nil, into: scratchInner)
    if parameters {
      conv1.accumulateWeightCotangent(
        scratchInner, input: r, count: count, parts: parts, into: dw1.pointer(count: dw1.count))
    }
    conv1.inputCotangent(scratchInner, count: count, parts: parts, into: dh)
    // Direct paths: ∂R (or ∂H for mdeq) gets scratchB except for xshort and noResidual.
    switch form {
    case .xshort:
      for i in 0..<n { dx[i] = dh[i] + u[i] }
    case .eq5, .ifrCode:
      for i in 0..<n { dh[i] += scratchB[i] }
      dx.update(from: dh, count: n)
    case .mdeq:
      for i in 0..<n { dh[i] += scratchB[i] }
      dx.update(from: scratchA, count: n)
    case .noResidual:
      dx.update(repeating: 0, count: n)
    }
  }
}

/// What a GroupNorm pass of the workspace does to each output row `y` after writing it.
@usableFromInline
enum _GroupNormEpilogue<Scalar: DEQScalar> {
  case none
  /// `y ← max(y, 0)`.
  case rectify
  /// `y ← y + residual`, recorded in `preActivation` (unless `nil`), then `y ← max(y, 0)`.
  case addRectify(
    residual: UnsafePointer<Scalar>, preActivation: UnsafeMutablePointer<Scalar>?)
}
