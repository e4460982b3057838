/* brc.c -- biased reference counting (PEP 703), the slow paths.
 *
 * The fast paths are inline in rt/brc.h.  Here: the owner's merge when its
 * local count reaches zero, the other threads' decrement of the shared
 * count, and the explicit merge; the merge queue that hands an object to
 * its owner is in brc_queue.c.  This file needs nothing of the runtime but
 * rt_dealloc and rti_brc_queue_object, so that the microbenchmarks compile
 * it beside their biased copy of the fast path.  The
 * orderings are CPython's (Objects/object.c, Python/brc.c), including the
 * fixes of gh-117657 (acquire on the zero-local load), gh-119999 (local and
 * tid stored before the merging CAS) and gh-121794 (tid only cleared when
 * the object survives).
 */

#include "rt/object.h"
#include "debug.h"
#include <stdio.h>
#include <stdlib.h>
#include "brc_internal.h"

#if RT_RC_BIASED

_Thread_local uint32_t rt_thread_tag = RT_THREAD_TAG_NONE;
_Thread_local RtThreadCounts rt_thread_counts;

static inline intptr_t shared_count(RtRefShared shared) { return shared >> RT_REF_SHARED_SHIFT; }

void
rt_brc_shared_overflow(const RtObject *op)
{
    fprintf(stderr,
            "rt: reference count overflow: a %s object at %p would hold more than %d references counted "
            "in its 32-bit shared count (threads other than its owner, or any once merged)\n",
            RT_TYPE(op)->name, (const void *)op, (int)RT_REF_SHARED_MAX);
    fflush(stderr);
    abort();
}


_Atomic bool rti_brc_merges_deferred;

/* rt_brc_merge_zero_local while merges are deferred: op stays owned, so
 * that no other thread frees it; its owner's queue merges it at the
 * stop's drain.  Already queued: the queue's pending decrement and the
 * local count of 0 are the count.  Else the owner's decrement becomes the
 * queue's: local back to 1, QUEUED set (by this thread, else it is the
 * first case), pushed. */
static void
defer_merge(RtObject *op, RtRefShared shared)
{
    for (;;) {
        if ((shared & RT_REF_SHARED_FLAGS) == RT_REF_QUEUED)
            return;
        rti_assert((shared & RT_REF_SHARED_FLAGS) == RT_REF_INIT);    /* LATER never gets here */
        if (atomic_compare_exchange_weak_explicit(&op->ob_ref_shared, &shared, shared | RT_REF_QUEUED,
                                                  memory_order_acq_rel, memory_order_acquire))
            break;
    }
    atomic_store_explicit(&op->ob_tid_local, rt_thread_tag | 1, memory_order_relaxed);
    rti_brc_queue_object(op);
}

/* The owner dropped its last local reference. */
void
rt_brc_merge_zero_local(RtObject *op)
{
    rti_assert(atomic_load_explicit(&op->ob_tid_local, memory_order_relaxed) == rt_thread_tag);
    /* Acquire: every other thread's release of its shared references
     * happens-before the deallocation (gh-117657). */
    RtRefShared shared = atomic_load_explicit(&op->ob_ref_shared, memory_order_acquire);
    if (shared == 0) {
        rt_dealloc(op);     /* no other thread ever held it: no RMW at all */
        return;
    }
    if ((shared & RT_REF_SHARED_FLAGS) == RT_REF_LATER)
        return;             /* waiting for per-thread counts: a fold frees it */
    if (rt_unlikely(atomic_load_explicit(&rti_brc_merges_deferred, memory_order_relaxed))) {
        defer_merge(op, shared);
        return;
    }
    /* Other threads hold references, or the object waits in our queue:
     * from now on the shared count is the count (gh-121794: tid cleared
     * only when the object survives this call). */
    atomic_store_explicit(&op->ob_tid_local, 0, memory_order_relaxed);
    RtRefShared merged;
    do {
        merged = (shared & ~(RtRefShared)RT_REF_SHARED_FLAGS) | RT_REF_MERGED;
    } while (!atomic_compare_exchange_weak_explicit(&op->ob_ref_shared, &shared, merged, memory_order_acq_rel,
                                                    memory_order_acquire));
    if (merged == RT_REF_MERGED)
        rt_dealloc(op);
}

/* Fold the local count and extra into the shared count, marked MERGED,
 * and set the word to `word` -- 0, a merged object's; or an id's, counted
 * per thread (brc_counts.c).  Returns the count.  Only the owner, or anyone
 * once the owner is gone or stopped, may call this (it writes the local
 * count). */
intptr_t
rti_brc_merge_into(RtObject *op, intptr_t extra, uint32_t word)
{
    intptr_t local = (intptr_t)rt_brc_local(atomic_load_explicit(&op->ob_tid_local, memory_order_relaxed));
    rti_assert(local <= RT_REF_LOCAL_MAX);      /* not immortal, pending or per thread */
    /* gh-119999: local and tid first (one word here), so that a thread
     * that sees MERGED sees them cleared.  A thread that still sees the old
     * word only adds to or subtracts from the shared count, which the CAS
     * carries over. */
    atomic_store_explicit(&op->ob_tid_local, word, memory_order_relaxed);
    RtRefShared shared = atomic_load_explicit(&op->ob_ref_shared, memory_order_relaxed), merged;
    intptr_t count;
    do {
        count = shared_count(shared) + local + extra;
        merged = rti_brc_make_shared(op, count, RT_REF_MERGED);
    } while (!atomic_compare_exchange_weak_explicit(&op->ob_ref_shared, &shared, merged, memory_order_acq_rel,
                                                    memory_order_relaxed));
    rti_assert_msg(count >= 0, "a biased count merged below zero: a missing incref");
    return count;
}

/* A decrement by a thread that does not own the object: a CAS loop.  An
 * object waiting for per-thread counts (LATER) takes a plain atomic
 * subtract, below zero if need be: only a fold frees it.  A merged count
 * that reaches zero frees the object, unless its word says it is counted
 * per thread by now: this thread read the word before the stop that gave
 * the object its id (rti_brc_counts_share), and the other threads'
 * entries may hold references the fold has yet to add. */
void
rt_brc_decref_shared(RtObject *op)
{
    RtRefShared shared = atomic_load_explicit(&op->ob_ref_shared, memory_order_relaxed), next;
    bool queue;
    do {
        if ((shared & RT_REF_SHARED_FLAGS) == RT_REF_LATER) {
            atomic_fetch_sub_explicit(&op->ob_ref_shared, RT_REF_SHARED_ONE, memory_order_release);
            return;
        }
        queue = shared == 0;
        next = queue ? RT_REF_QUEUED : shared - RT_REF_SHARED_ONE;
    } while (!atomic_compare_exchange_weak_explicit(&op->ob_ref_shared, &shared, next, memory_order_acq_rel,
                                                    memory_order_relaxed));
    if (queue)
        rti_brc_queue_object(op);
    else if (next == RT_REF_MERGED
             && rt_brc_local(atomic_load_explicit(&op->ob_tid_local, memory_order_relaxed)) != RT_REF_LOCAL_THREADS)
        rt_dealloc(op);
}

intptr_t
rt_brc_refcnt_special(const RtObject *op)
{
    RtObject *o = (RtObject *)op;
    uint32_t word = atomic_load_explicit(&o->ob_tid_local, memory_order_relaxed);
    if (rt_brc_local(word) == RT_REF_LOCAL_IMMORTAL)
        return RT_IMMORTAL_REFCNT;
    uintptr_t id = rt_brc_tid(word);
    RtRefShared shared = atomic_load_explicit(&o->ob_ref_shared, memory_order_relaxed);
    return (shared >> RT_REF_SHARED_SHIFT) + (id < rt_thread_counts.size ? rt_thread_counts.values[id] : 0);
}

void
rt_brc_thread_decref_slow(RtObject *op, uintptr_t id)
{
    if (rti_brc_counts_grow(id))
        rt_thread_counts.values[id]--;
    else
        atomic_fetch_sub_explicit(&op->ob_ref_shared, RT_REF_SHARED_ONE, memory_order_relaxed);
}

#endif /* RT_RC_BIASED */
