// How long idle OpenBLAS workers spin in the `deq` process.
//
// OpenBLAS starts its worker threads in its library constructor, and each worker spins
// (`sched_yield`) for 2^28 cycles, about 0.1 s, after it is created and after every
// multi-threaded call, before it sleeps. The IFR engine makes only single-threaded BLAS
// calls and splits its work over the cores itself, so a spinning worker only takes a core
// from it: on 2 cores it cost 10-30 ms of a 0.25-0.45 s `deq solve` (Docs/Performance.md).
//
// OpenBLAS reads the spin time from OPENBLAS_THREAD_TIMEOUT (2^n cycles, 4 <= n <= 30) in
// that constructor, before `main`, and glibc discards an environment set earlier than that
// (in `.preinit_array`). But its thread pool asks for the value through the exported
// function below, called through the PLT, so the executable's definition is the one used
// (the linker exports it: see Package.swift). It returns the user's OPENBLAS_THREAD_TIMEOUT
// when set, else 20: 2^20 cycles, about 0.4 ms, long enough to keep the workers awake between
// the back-to-back level-1 calls of Arnoldi's Gram-Schmidt (2^4, OpenBLAS's minimum, made
// `deq spectrum` 5 % slower: every call woke a sleeping worker), short enough that they sleep
// through the engine's work. An OpenBLAS that resolves the call internally keeps its
// default: the setting only ever changes speed, never results.

#include <stdlib.h>

#include "DEQLaunch.h"

int openblas_thread_timeout(void) {
  const char *value = getenv("OPENBLAS_THREAD_TIMEOUT");
  if (value != NULL && *value != '\0') {
    int requested = atoi(value);
    return requested > 0 ? requested : 0;
  }
  return DEQ_LAUNCH_OPENBLAS_THREAD_TIMEOUT;
}
