/* parallel.h -- running a workload's body on several threads (--threads).
 *
 * Each thread does its own share of the work (rt_workload_share) on objects
 * of its own, so the total is the same for any number of threads.  The
 * calling thread is thread 0; the others attach to the runtime, run the
 * body, and detach.  The bodies start together, once every thread has
 * attached (parallel.c, the start line).  More than one thread needs a threaded refcount variant
 * (atomic or biased): the nonatomic build refuses with RT_ERR_VALUE.
 */
#ifndef RT_WORKLOAD_PARALLEL_H
#define RT_WORKLOAD_PARALLEL_H

#include "workload.h"

/* A thread's part: 0, or -1 with rt_error() set (on that thread) having
 * released what it held; adds its checksum to *check. */
typedef int (*RtWorkloadBody)(void *arg, int index, int threads, int64_t *check);

/* Run body on `threads` threads; the checksums add up into *check.  -1 with
 * the first failing thread's error set on the caller.  ctx's thread
 * callback (if any) runs on each thread it starts, around its part. */
int rt_workload_parallel(RtWorkloadCtx *ctx, int64_t threads, RtWorkloadBody body, void *arg, int64_t *check);

/* Thread index's share of total, the first total % threads one more. */
static inline int64_t
rt_workload_share(int64_t total, int index, int threads)
{
    return total / threads + (index < total % threads ? 1 : 0);
}

/* The parameter every threaded workload has. */
#define RT_WORKLOAD_THREADS_PARAM \
    {"threads", 1, 1, RT_WORKLOAD_MAX_THREADS, "threads, each doing its share of the work"}

#endif /* RT_WORKLOAD_PARALLEL_H */
