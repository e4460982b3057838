/* rt/brc.h -- biased reference counting (PEP 703), the fast path.
 *
 * Included by rt/object.h in the biased variant (RT_RC_BIASED) only.
 *
 * Every object records its owner (ob_tid: the thread that made it).  The
 * owner counts in ob_ref_local with plain loads and stores (relaxed atomics:
 * the same instructions, but visible to ThreadSanitizer); every other thread
 * counts in ob_ref_shared with atomic read-modify-writes.  The true count is
 * local + (shared >> 2); the low two bits of shared are a state that only
 * grows:
 *   INIT    0  owned, never queued
 *   QUEUED  2  the shared count went below zero once: the object sits in
 *              its owner's merge queue, which holds one reference
 *   MERGED  3  ob_tid is 0 and local is 0: shared alone is the count, and
 *              every thread uses it
 * (CPython's MAYBE_WEAKREF, 1, is not used: rtbench's weakrefs do not race
 * with deallocation, since a dead object's weakrefs are cleared by its
 * dealloc on one thread.)
 *
 * Deallocation happens only from INIT or MERGED: when the owner's local
 * count reaches zero and shared is 0 (no other thread ever took a
 * reference: no atomic at all), or when a merged count reaches zero.
 * Immortal objects hold local == UINT32_MAX, tid 0, shared 0: both paths
 * test local first and skip the write.
 *
 * Invariant: ob_tid == 0 exactly when the state is MERGED (or the object is
 * immortal).  The slow paths live in brc.c.
 */
#ifndef RT_BRC_H
#define RT_BRC_H

#ifndef RT_OBJECT_H
#error "include rt/object.h, not rt/brc.h"
#endif

#define RT_REF_SHARED_SHIFT 2
#define RT_REF_SHARED_FLAGS 0x3
#define RT_REF_INIT 0
#define RT_REF_QUEUED 2
#define RT_REF_MERGED 3
#define RT_REF_LOCAL_IMMORTAL UINT32_MAX

/* The calling thread's id: on x86-64 the thread pointer itself (%fs:0, as
 * CPython's _Py_ThreadId: one load), elsewhere the address of a
 * thread-local byte.  Never 0, never an object's address. */
#ifdef __cplusplus
extern thread_local char rt_thread_anchor;
#else
extern _Thread_local char rt_thread_anchor;
#endif
static inline uintptr_t
rt_thread_id(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    uintptr_t tp;
    __asm__("movq %%fs:0, %0" : "=r"(tp));
    return tp;
#else
    return (uintptr_t)&rt_thread_anchor;
#endif
}

/* The slow paths (brc.c). */
void rt_brc_merge_zero_local(RtObject *op);     /* the owner's count hit 0 */
void rt_brc_decref_shared(RtObject *op);        /* a decref off the owner */

static inline intptr_t
rt_refcnt(const RtObject *op)
{
    RtObject *o = (RtObject *)op;
    uint32_t local = atomic_load_explicit(&o->ob_ref_local, memory_order_relaxed);
    if (local == RT_REF_LOCAL_IMMORTAL)
        return RT_IMMORTAL_REFCNT;
    intptr_t shared = atomic_load_explicit(&o->ob_ref_shared, memory_order_relaxed);
    return (intptr_t)local + (shared >> RT_REF_SHARED_SHIFT);
}

/* Set the count of an object nobody else sees yet, owned by the caller. */
static inline void
rt_refcnt_init(RtObject *op, intptr_t n)
{
    atomic_store_explicit(&op->ob_tid, rt_thread_id(), memory_order_relaxed);
    atomic_store_explicit(&op->ob_ref_local, (uint32_t)n, memory_order_relaxed);
    atomic_store_explicit(&op->ob_ref_shared, 0, memory_order_relaxed);
}

static inline bool
rt_is_immortal(const RtObject *op)
{
    return atomic_load_explicit(&((RtObject *)op)->ob_ref_local, memory_order_relaxed) ==
           RT_REF_LOCAL_IMMORTAL;
}

static inline bool
rt_is_owned_by_me(const RtObject *op)
{
    return atomic_load_explicit(&((RtObject *)op)->ob_tid, memory_order_relaxed) == rt_thread_id();
}

/* Cost: owner -- two loads, a compare with the thread pointer, a store (as
 * cheap as the plain variant but for the tid test); others -- one locked
 * add on the shared count. */
static inline void
rt_incref(RtObject *op)
{
    uint32_t local = atomic_load_explicit(&op->ob_ref_local, memory_order_relaxed);
    uint32_t next = local + 1;
    if (rt_unlikely(next == 0))
        return;     /* immortal */
    if (rt_likely(rt_is_owned_by_me(op)))
        atomic_store_explicit(&op->ob_ref_local, next, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&op->ob_ref_shared, (intptr_t)1 << RT_REF_SHARED_SHIFT,
                                  memory_order_relaxed);
}

/* Cost: owner -- as rt_incref, plus the zero test; at zero one acquire
 * load of shared (a plain load on x86), and the deallocation when it is 0
 * (no other thread ever held a reference: the common case, inline);
 * others -- a CAS loop on the shared count (brc.c). */
static inline void
rt_decref(RtObject *op)
{
    uint32_t local = atomic_load_explicit(&op->ob_ref_local, memory_order_relaxed);
    if (rt_unlikely(local == RT_REF_LOCAL_IMMORTAL))
        return;
    if (rt_likely(rt_is_owned_by_me(op))) {
        atomic_store_explicit(&op->ob_ref_local, --local, memory_order_relaxed);
        if (local == 0) {
            /* Acquire: other threads' releases happen-before the free. */
            if (atomic_load_explicit(&op->ob_ref_shared, memory_order_acquire) == 0)
                rt_dealloc(op);
            else
                rt_brc_merge_zero_local(op);
        }
    } else {
        rt_brc_decref_shared(op);
    }
}

#endif /* RT_BRC_H */
