/* rt/gc.h -- the cycle collector, with the API of Python's gc module.
 *
 * Reference counting frees everything but cycles; this collector finds
 * groups of objects that only reference each other and breaks them, as
 * CPython 3.11/3.12's gcmodule.c does:
 *
 *   - Every object of an RT_TYPE_GC type carries a 16-byte header in front
 *     of it (two words, as PyGC_Head) that links it into one of three
 *     generations while it is tracked.
 *   - The young count is allocations minus deallocations of GC objects.
 *     When it passes threshold0, the oldest generation whose count passes
 *     its threshold is collected; generation 2 only when, in addition, the
 *     objects that survived young collections since the last full one
 *     exceed 25% of those that survived the last full one.
 *   - A collection copies refcounts, subtracts internal references found by
 *     traverse, moves objects unreachable from outside aside, runs their
 *     finalizers once (a finalizer may resurrect), clears weakrefs to them
 *     (calling callbacks of live weakrefs), and breaks the cycles with
 *     clear; reference counting then frees the objects.
 *
 * In the threaded variants a collection stops every attached thread at a
 * safepoint first (rt/thread.h).
 */
#ifndef RT_GC_H
#define RT_GC_H

#include "rt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RT_GC_GENERATIONS 3
#define RT_GC_KEEP (-1L)    /* rt_gc_set_threshold: keep this threshold */

void rt_gc_enable(void);
void rt_gc_disable(void);
bool rt_gc_isenabled(void);

/* Collect generations 0..generation; returns collected + uncollectable, as
 * gc.collect() does: the objects still unreachable once the finalizers ran
 * (those a finalizer resurrected, or that died by reference count while
 * the finalizers ran, are not counted), plus the weakrefs that their
 * callbacks freed.  0 when a collection is already running, -1 with
 * RT_ERR_VALUE for a generation outside 0..2. */
intptr_t rt_gc_collect(int generation);

void rt_gc_get_count(intptr_t count[RT_GC_GENERATIONS]);
void rt_gc_get_threshold(long threshold[RT_GC_GENERATIONS]);
/* Set thresholds (RT_GC_KEEP keeps one); threshold0 == 0 disables automatic
 * collection.  -1 with RT_ERR_VALUE for a negative value. */
int rt_gc_set_threshold(long t0, long t1, long t2);

typedef struct RtGcGenStats {
    uint64_t collections;
    uint64_t collected;
    uint64_t uncollectable;
} RtGcGenStats;
void rt_gc_get_stats(RtGcGenStats stats[RT_GC_GENERATIONS]);

/* Callbacks, called with phase "start" before and "stop" after each
 * collection (gc.callbacks).  At "start", collected and uncollectable are 0. */
typedef struct RtGcInfo {
    int generation;
    intptr_t collected;
    intptr_t uncollectable;
    double duration_s;      /* at "stop": the collection's pause (RtGcPauses) */
} RtGcInfo;
typedef void (*RtGcCallback)(const char *phase, const RtGcInfo *info, void *arg);
int rt_gc_callback_add(RtGcCallback cb, void *arg);     /* -1 when out of room */
int rt_gc_callback_remove(RtGcCallback cb, void *arg);  /* -1 when not found */

/* Move every tracked object to the permanent generation, which is never
 * collected, and zero every generation's count (as CPython 3.11's
 * gc.freeze()); unfreeze moves them back into the oldest generation. */
void rt_gc_freeze(void);
void rt_gc_unfreeze(void);
intptr_t rt_gc_get_freeze_count(void);

bool rt_gc_is_tracked(const RtObject *op);
bool rt_gc_is_finalized(const RtObject *op);
/* Start and stop tracking an object of a GC type (idempotent). */
void rt_gc_track(RtObject *op);
void rt_gc_untrack(RtObject *op);

/* Pauses: every collection is timed with the monotonic clock (unless
 * RT_GC_TIMING=0): from the moment every other thread is parked (at once
 * with one thread) to the end of the work done before they restart -- the
 * merge queues and counts settled on both sides, the passes, a full
 * collection's trim of the pools -- less the callbacks' own time.  The log
 * keeps each pause and its generation; when it cannot grow, count, total
 * and max stay exact and 'dropped' counts the pauses not kept. */
typedef struct RtGcPauses {
    uint64_t count;
    double total_s;
    double max_s;
    size_t nsamples;
    const double *seconds;  /* nsamples pauses, in order */
    const double *start_s;  /* when each began, on CLOCK_MONOTONIC (rt/bench.h: rt_monotonic_s) */
    const uint8_t *generation;
    uint64_t dropped;
    /* Threaded variants: the time the other threads took to reach a
     * safepoint before each collection (0 with one thread); not part of
     * seconds, which start once they are parked. */
    const double *safepoint_s;
    double safepoint_total_s;
    double safepoint_max_s;
} RtGcPauses;
void rt_gc_pauses(RtGcPauses *out);
void rt_gc_pauses_reset(void);

#ifdef __cplusplus
}
#endif

#endif /* RT_GC_H */
