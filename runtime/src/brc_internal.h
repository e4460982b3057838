/* brc_internal.h -- what brc.c and brc_queue.c share (biased variant). */
#ifndef RT_BRC_INTERNAL_H
#define RT_BRC_INTERNAL_H

#include "rt/object.h"

#if RT_RC_BIASED
/* Fold the local count and extra into the shared count and mark the object
 * merged, its word set to `word` (0, or an id's counted per thread);
 * returns the count.  Only the owner may call it, or anyone once the owner
 * is gone or stopped (it writes the local count). */
intptr_t rti_brc_merge_into(RtObject *op, intptr_t extra, uint32_t word);
static inline intptr_t rti_brc_explicit_merge(RtObject *op, intptr_t extra) { return rti_brc_merge_into(op, extra, 0); }
/* The shared word of count in state; a count past RT_REF_SHARED_MAX stops
 * the process (rt/brc.h). */
static inline RtRefShared
rti_brc_make_shared(const RtObject *op, intptr_t count, RtRefShared state)
{
    if (rt_unlikely(count > RT_REF_SHARED_MAX))
        rt_brc_shared_overflow(op);
    return (RtRefShared)((uint32_t)count << RT_REF_SHARED_SHIFT) | state;
}
/* Hand an object whose shared count would go below zero to its owner. */
void rti_brc_queue_object(RtObject *op);
/* Set while the stopped threads clear their own garbage at once
 * (gc_parallel.c): an owner whose local count reaches zero while other
 * threads hold shared references then queues the object to itself rather
 * than merge it, so that no other thread can free it from its owner's
 * lists meanwhile; the stop's drain merges it (brc.c, defer_merge). */
extern _Atomic bool rti_brc_merges_deferred;
/* Grow the calling thread's per-thread counts to hold id (brc_counts.c);
 * false when the thread is not attached or there is no memory. */
bool rti_brc_counts_grow(uintptr_t id);
/* Whether only a fold frees op: counted per thread, or waiting to be
 * (LATER).  Its count may read 0 while it is still listed and linked --
 * in a collection's unreachable set, say, once a clear dropped the last
 * reference: the fold after the collection frees it. */
static inline bool
rti_brc_fold_frees(const RtObject *op)
{
    RtObject *o = (RtObject *)op;
    return rt_brc_local(atomic_load_explicit(&o->ob_tid_local, memory_order_relaxed)) == RT_REF_LOCAL_THREADS
           || (atomic_load_explicit(&o->ob_ref_shared, memory_order_relaxed) & RT_REF_SHARED_FLAGS) == RT_REF_LATER;
}
#else
static inline bool rti_brc_fold_frees(const RtObject *op) { (void)op; return false; }
#endif

#endif /* RT_BRC_INTERNAL_H */
