// DEQCore's public API speaks swift-numerics' `Real` and `Complex`; re-export them so
// `import DEQCore` is enough to use it.
@_exported import ComplexModule
@_exported import RealModule
