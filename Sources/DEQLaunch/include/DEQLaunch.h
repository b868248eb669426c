// Process-wide settings of the `deq` executable (see launch.c). Linked into `deq` only.
#ifndef DEQ_LAUNCH_H
#define DEQ_LAUNCH_H

/// The spin time of idle OpenBLAS workers in `deq` unless OPENBLAS_THREAD_TIMEOUT is set:
/// 2^20 cycles, about 0.4 ms (OpenBLAS's default is 2^28, about 0.1 s).
#define DEQ_LAUNCH_OPENBLAS_THREAD_TIMEOUT 20

/// OpenBLAS's hook for its worker spin time (log2 of cycles), defined by `deq`.
int openblas_thread_timeout(void);

#endif
