// The C interface that DEQCore binds: OpenBLAS's CBLAS and LAPACK's Fortran routines as
// `lapack.h` declares them (OpenBLAS exports both). Only DEQCore/LinearAlgebra imports
// this module.
#ifndef DEQ_CBLASLAPACK_SHIM_H
#define DEQ_CBLASLAPACK_SHIM_H
#include <cblas.h>
#include <lapack.h>
#endif
