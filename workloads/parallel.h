/* parallel.h -- running a workload's body on several threads (--threads).
 *
 * Each thread does its own share of the work (rt_workload_share) on objects
 * of its own, so the total is the same for any number of threads.  Where a
 * workload holds a structure for a round and drops it (list_append,
 * cycle_storm), each thread does every round with its share of the round's
 * items (rt_workload_span), not a share of the rounds: the live heap is then
 * one thread's at any thread count, and 16 threads have work where the
 * rounds are 10.  A share of the rounds held T rounds alive at once: T times
 * the memory to fault in and for each full collection to walk, which
 * measured the machine's caches more than the runtime (cycle_storm at two
 * threads on the 2-core development VM, 7 alternated runs: 0.87x one
 * thread's speed by rounds, 1.25x by items; list_append 1.08x and 1.29x).  The
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

/* Thread index's share of the items 0..total-1, as [*first, *first + n):
 * consecutive ranges in thread order, so that a thread can give item i
 * what one thread would (list_append's values, cycle_storm's shapes). */
typedef struct RtWorkloadSpan {
    int64_t first, n;
} RtWorkloadSpan;

static inline RtWorkloadSpan
rt_workload_span(int64_t total, int index, int threads)
{
    int64_t extra = total % threads;    /* the first `extra` threads take one more */
    RtWorkloadSpan span = {
        .first = index * (total / threads) + (index < extra ? index : extra),
        .n = rt_workload_share(total, index, threads),
    };
    return span;
}

/* The parameter every threaded workload has. */
#define RT_WORKLOAD_THREADS_PARAM \
    {"threads", 1, 1, RT_WORKLOAD_MAX_THREADS, "threads, each doing its share of the work"}

#endif /* RT_WORKLOAD_PARALLEL_H */
