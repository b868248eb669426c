// The C interface that DEQCore binds: OpenBLAS's CBLAS and the LAPACKE interface.
// Only DEQCore/LinearAlgebra imports this module.
#ifndef DEQ_CBLASLAPACK_SHIM_H
#define DEQ_CBLASLAPACK_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif
