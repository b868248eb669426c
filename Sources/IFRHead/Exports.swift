// `import IFRHead` brings in the modules its public API is written in: `DEQSolvers`
// (`FixedPointSolution`, `Broyden`, `JacobianOperator`, …), which itself re-exports
// `DEQCore` (`Tensor`, `DEQScalar`, `SeededGenerator`, …).
@_exported import DEQSolvers
