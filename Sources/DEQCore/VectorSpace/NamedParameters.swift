/// A model's parameters as one vector: named tensors stored back to back.
///
/// A layer or block exposes its weights as `NamedParameters`, in the order and under the
/// names of its PyTorch `state_dict`, so that a gradient (the same layout, holding
/// cotangents) updates them with vector-space operations and an optimiser in `DEQTraining`
/// treats any model alike:
///
/// ```swift
/// var parameters = block.parameters                      // conv1.weight_g, conv1.weight_v, …
/// parameters.add(gradient.parameters, scaledBy: -0.01)   // one SGD step
/// block.parameters = parameters
/// let kernel = parameters["conv1.weight_v"]              // a Tensor copy
/// ```
///
/// The scalars are one contiguous buffer (``ContiguousVectorSpace``), so every vector
/// operation is one BLAS call over all the parameters. Two values combine only when they
/// have the same number of scalars (a trap otherwise, as for every ``VectorSpace``); give
/// them the same ``entries`` as well, or the sum means nothing.
public struct NamedParameters<Scalar: DEQScalar>: ContiguousVectorSpace, Sendable {
  /// One named tensor: where its scalars sit in ``scalars``.
  public struct Entry: Sendable, Equatable {
    /// The state_dict name (`conv1.weight_v`, `gn1.bias`, `deconv.weight`, …).
    public var name: String
    /// The tensor's shape.
    public var shape: [Int]
    /// Its scalars' positions in ``NamedParameters/scalars``.
    public var range: Range<Int>

    /// Creates an entry.
    public init(name: String, shape: [Int], range: Range<Int>) {
      self.name = name
      self.shape = shape
      self.range = range
    }
  }

  /// The tensors' names, shapes and positions, in order.
  public let entries: [Entry]
  /// Every scalar, entry after entry (each tensor row-major).
  @inlinable public var scalars: [Scalar] { _scalars }
  @usableFromInline internal var _scalars: [Scalar]

  /// Collects tensors under names, in the given order.
  ///
  /// - Precondition: the names are distinct (a programmer error otherwise: names come
  ///   from the layers, not from users).
  public init(_ tensors: [(name: String, tensor: Tensor<Scalar>)]) {
    precondition(
      Set(tensors.map(\.name)).count == tensors.count, "NamedParameters: duplicate names")
    var entries: [Entry] = []
    var scalars: [Scalar] = []
    scalars.reserveCapacity(tensors.reduce(0) { $0 + $1.tensor.count })
    for (name, tensor) in tensors {
      entries.append(
        Entry(
          name: name, shape: tensor.shape, range: scalars.count..<(scalars.count + tensor.count)))
      scalars.append(contentsOf: tensor.scalars)
    }
    self.entries = entries
    self._scalars = scalars
  }

  /// Parameters with `entries`' layout and the given scalars.
  ///
  /// - Precondition: `scalars.count` is the last entry's end.
  @inlinable
  public init(entries: [Entry], scalars: [Scalar]) {
    precondition(scalars.count == (entries.last?.range.upperBound ?? 0), "NamedParameters: count")
    self.entries = entries
    self._scalars = scalars
  }

  /// The entries' names, in order.
  public var names: [String] { entries.map(\.name) }

  /// The number of scalars.
  public var count: Int { scalars.count }

  /// The tensor named `name` (a copy), or `nil`.
  public subscript(name: String) -> Tensor<Scalar>? {
    guard let entry = entries.first(where: { $0.name == name }) else { return nil }
    return tensor(entry)
  }

  /// The tensor of `entry` (a copy).
  public func tensor(_ entry: Entry) -> Tensor<Scalar> {
    let slice = scalars[entry.range]
    return Tensor(shape: entry.shape) { slice[entry.range.lowerBound + $0] }
  }

  /// Every entry as a named tensor, in order.
  public var namedTensors: [(name: String, tensor: Tensor<Scalar>)] {
    entries.map { ($0.name, tensor($0)) }
  }

  /// The same values under names with `prefix` in front (`refine.shared.` + `gn1.bias`).
  public func prefixed(_ prefix: String) -> NamedParameters {
    let renamed = entries.map { Entry(name: prefix + $0.name, shape: $0.shape, range: $0.range) }
    return NamedParameters(entries: renamed, scalars: scalars)
  }

  /// `self`'s entries followed by `other`'s.
  ///
  /// - Precondition: no name in both.
  public func concatenated(with other: NamedParameters) -> NamedParameters {
    NamedParameters(namedTensors + other.namedTensors)
  }

  /// The consecutive pieces of `self` with the given entry counts (the inverse of
  /// ``concatenated(with:)``), names unchanged.
  ///
  /// - Precondition: the counts add up to `entries.count`.
  public func split(entryCounts: [Int]) -> [NamedParameters] {
    precondition(entryCounts.reduce(0, +) == entries.count, "NamedParameters.split: counts")
    var result: [NamedParameters] = []
    var first = 0
    for count in entryCounts {
      let piece = entries[first..<(first + count)]
      let start = piece.first?.range.lowerBound ?? 0
      let shifted = piece.map {
        Entry(
          name: $0.name, shape: $0.shape,
          range: ($0.range.lowerBound - start)..<($0.range.upperBound - start))
      }
      let end = piece.last?.range.upperBound ?? start
      result.append(NamedParameters(entries: shifted, scalars: Array(scalars[start..<end])))
      first += count
    }
    return result
  }

  /// The same layout holding 1 in the entries `include` accepts and 0 elsewhere (for
  /// example the tensors that take weight decay).
  public func mask(where include: (Entry) -> Bool) -> NamedParameters {
    var result = zeroed()
    for entry in entries where include(entry) {
      for i in entry.range { result._scalars[i] = 1 }
    }
    return result
  }

  /// Whether `other` has the same names and shapes in the same order.
  public func hasSameLayout(as other: NamedParameters) -> Bool {
    entries == other.entries
  }

  // MARK: ContiguousVectorSpace

  @inlinable
  public func zeroed() -> NamedParameters {
    NamedParameters(entries: entries, scalars: [Scalar](repeating: 0, count: scalars.count))
  }

  @inlinable
  public func withUnsafeBufferPointer<R, E: Error>(
    _ body: (UnsafeBufferPointer<Scalar>) throws(E) -> R
  ) throws(E) -> R {
    try _scalars.withUnsafeBufferPointer(body)
  }

  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R, E: Error>(
    _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws(E) -> R
  ) throws(E) -> R {
    try _scalars.withUnsafeMutableBufferPointer(body)
  }
}
