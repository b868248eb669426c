import DEQSolvers
import Testing
