// `import IFRHead` brings in the modules its public API is written in: `DEQTraining`
// (optimisers, `SyntheticMaskTask`, `AdjointOutcome`, … for the mask head's training),
// `DEQSolvers` (`FixedPointSolution`, `Broyden`, `JacobianOperator`, …), and `DEQCore`
// (`Tensor`, `DEQScalar`, `SeededGenerator`, …).
@_exported import DEQCore
@_exported import DEQSolvers
@_exported import DEQTraining
