/* rt/thread.h -- threads that use the runtime.
 *
 * In the threaded variants (atomic, biased) a thread other than the one
 * that called rt_init() attaches before it uses the runtime and detaches
 * before it exits; rt_init() and rt_fini() do this for their thread.  An
 * attached thread may allocate, take and drop references, and collect.
 * In the biased variant it owns the objects it makes (their counts are
 * biased towards it) and merges the objects other threads hand back to it
 * at its safepoints.
 *
 * Collections stop the world: the collecting thread waits until every
 * other attached thread is parked at a safepoint -- each allocation of an
 * object, every 1,024 items a list, tuple or dict drops in its dealloc,
 * and rt_thread_safepoint() -- or blocked.  So an attached thread
 * that runs a long time without allocating calls rt_thread_safepoint() now
 * and then, and one that waits for something (a join, a lock, a barrier)
 * brackets the wait with rt_thread_block_begin()/_end() and touches no
 * object in between (CPython's Py_BEGIN_ALLOW_THREADS).
 *
 * Shared containers are not locked: threads may share objects and read
 * containers that nobody changes, but a container changed by one thread
 * is that thread's alone.
 *
 * In the nonatomic variant there is one thread, and these calls do nothing.
 */
#ifndef RT_THREAD_H
#define RT_THREAD_H

#include "rt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Attach the calling thread.  0, or -1 with RT_ERR_STATE (no runtime, or
 * the thread is attached already) or RT_ERR_NOMEM. */
int rt_thread_attach(void);
/* Detach it: merge what was handed back to it, and leave the registry.
 * Objects it still owns stay valid; their owner is gone, so other threads
 * merge them when they drop references.  A no-op if not attached. */
void rt_thread_detach(void);
bool rt_thread_is_attached(void);
/* The number of attached threads. */
size_t rt_thread_count(void);
/* A safepoint: park if a collection waits for this thread, and merge the
 * objects handed back to it. */
void rt_thread_safepoint(void);
/* Around a wait: the thread counts as stopped, and touches no object. */
void rt_thread_block_begin(void);
void rt_thread_block_end(void);
/* How many times the world was stopped since rt_init. */
uint64_t rt_thread_stops(void);

/* What the threaded paths did off their fast paths since rt_init: where a
 * run that scales badly at T threads shows why (RT_SHOW_STATS prints it).
 * All 0 in the nonatomic variant. */
typedef struct RtThreadStats {
    uint64_t stops;                 /* the world stopped (collections, a second thread's attach) */
    uint64_t tasks_helped;          /* a collection's tasks run by parked threads */
    uint64_t parallel_deletes;      /* collections whose clears ran on every stopped thread (biased) */
    uint64_t remote_list_changes;   /* GC objects tracked or untracked by a thread other than their
                                     * home heap's, the world running: under that heap's lock */
    uint64_t bias_revocations;      /* of those, the ones that took a heap's lock away from its owner
                                     * (a membarrier(2) each) */
    uint64_t blocks_sent_home;      /* other heaps' blocks a collection took back out of the
                                     * collecting thread's free caches */
    uint64_t queued_to_owner;       /* biased: objects whose shared count a non-owner's decrement
                                     * would have taken below zero, handed to their owner */
    uint64_t queue_oom;             /* biased: hand-overs that found no memory (those objects leak) */
    double parked_s;                /* the time attached threads spent waiting out other threads'
                                     * stops, summed over the threads: from reaching a safepoint
                                     * (or the end of a blocked stretch, wanting to stop the world
                                     * themselves, or detaching) until they ran again */
} RtThreadStats;
void rt_thread_stats(RtThreadStats *out);

#ifdef __cplusplus
}
#endif

#endif /* RT_THREAD_H */
