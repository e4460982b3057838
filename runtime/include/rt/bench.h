/* rt/bench.h -- hooks for the programs that measure the runtime (the
 * harness, the microbenchmarks, the workloads), not part of the runtime's
 * API: rt/rt.h does not include this header.
 *
 * RT_DL_TLS_TUNABLE is defined here and only here: CMake (tests'
 * environments) and the scripts read it from this line.
 */
#ifndef RT_BENCH_HOOKS_H
#define RT_BENCH_HOOKS_H

#include "rt/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What GLIBC_TUNABLES must hold at process start for the jemalloc backend
 * (see alloc_dl.c). */
#define RT_DL_TLS_TUNABLE "glibc.rtld.optional_static_tls=16384"

/* For main(), first thing: when the environment lacks RT_DL_TLS_TUNABLE,
 * add it and exec the program again (once; the children inherit it).
 * Returns only when nothing had to be done or the exec failed, in which case
 * the jemalloc backend will say it is unavailable. */
void rt_dl_reexec_with_static_tls(char **argv);

/* For benchmarks: mimalloc's and jemalloc's own malloc/realloc/free, called
 * as a program linked with the library calls them (rt_allocator's entries
 * round requests to 16 bytes first, to keep RT_ALIGNMENT).  The same as
 * rt_allocator for the other backends. */
const RtAllocator *rt_allocator_direct(RtAllocKind kind);

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): the clock of the
 * collector's pause start times (rt_gc_pauses), so that a program timing
 * its own phases can place them. */
double rt_monotonic_s(void);

#ifdef __cplusplus
}
#endif

#endif /* RT_BENCH_HOOKS_H */
