// `import DEQTraining` brings in the modules its public API is written in: `DEQSolvers`
// (`FixedPointSolution`, `FixedPointStatus`), which itself re-exports `DEQCore`
// (`VectorSpace`, `NamedParameters`, `Tensor`, `SeededGenerator`, …).
@_exported import DEQCore
@_exported import DEQSolvers
