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
 *
 * The shared word is 32 bits (rt/object.h): counts to RT_REF_SHARED_MAX,
 * 2^29 - 1, held by threads other than the owner, or by anyone once the
 * object is merged.  A count that wrapped would free a live object, so
 * the process stops first: a merge or a fold whose sum does not fit with a
 * message (rt_brc_shared_overflow), a non-owner's increment past it with a
 * trap in release builds (rt_brc_incref_shared says why) and the message
 * in debug ones.  The owner's local count is 32 bits, as CPython's.
 *
 * An object whose last reference a thread not attached dropped waits for
 * an attached thread's drain with an immortal local count; its ob_tid then
 * holds the pending list's link, the next object's address | 1 (odd: never
 * a thread id, never an object's id), object.c.
 *
 * Per-thread counts (CPython 3.14's Python/uniqueid.c), for objects every
 * thread takes references to -- where even biased counts contend, since
 * the non-owners' atomic adds all hit one shared count and the owner's
 * stores the same cache line.  rt_object_enable_thread_counts() gives the
 * object an id and sets ob_ref_local to RT_REF_LOCAL_THREADS; ob_tid holds
 * the id (small: never a thread pointer), and every thread, the old owner
 * included, counts in its own array, rt_thread_counts.values[id], with
 * plain adds on memory no other thread writes.  The true count is
 * (shared >> 2) plus every thread's entry: known only with the world
 * stopped, when a collection folds the arrays into the shared counts
 * (brc_counts.c) and frees the objects whose count is then zero.  So such
 * an object outlives its last reference until the next collection (as
 * CPython's deferred objects wait for the collector).  A thread that is
 * not attached, or whose array is too short and cannot grow, adds to the
 * shared count atomically instead.
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
#define RT_REF_LOCAL_THREADS (UINT32_MAX - 1)   /* counted per thread */
#define RT_REF_SHARED_ONE ((RtRefShared)1 << RT_REF_SHARED_SHIFT)  /* one reference */
#define RT_REF_SHARED_MAX (INT32_MAX >> RT_REF_SHARED_SHIFT)       /* the most it counts */

/* The calling thread's id: on x86-64 the thread pointer itself (%fs:0, as
 * CPython's _Py_ThreadId: one load), elsewhere the address of a
 * thread-local byte.  Never 0, never an object's address.  The builtin
 * rather than an asm load: the compiler knows it is constant in a thread,
 * keeps it in a register across a loop, and so saves a load per count
 * (list_append 133 -> 131 instructions per append, binary_trees 366 -> 362
 * per Node; callgrind). */
#ifdef __cplusplus
extern thread_local char rt_thread_anchor;
#else
extern _Thread_local char rt_thread_anchor;
#endif
static inline uintptr_t
rt_thread_id(void)
{
#if defined(__x86_64__) && defined(__has_builtin)
#if __has_builtin(__builtin_thread_pointer)
    return (uintptr_t)__builtin_thread_pointer();
#else
    uintptr_t tp;
    __asm__("movq %%fs:0, %0" : "=r"(tp));
    return tp;
#endif
#else
    return (uintptr_t)&rt_thread_anchor;
#endif
}

/* The slow paths (brc.c). */
void rt_brc_merge_zero_local(RtObject *op);     /* the owner's count hit 0 */
void rt_brc_decref_shared(RtObject *op);        /* a decref off the owner */
/* A shared count would pass RT_REF_SHARED_MAX: say so and abort. */
RT_COLD void rt_brc_shared_overflow(const RtObject *op) __attribute__((noreturn));

/* One reference more in the shared count (a thread other than the owner,
 * or any once merged).  Cost: one locked add that returns the old word
 * (xadd), and a compare against the ceiling, never taken.  Past it a
 * release build traps (SIGILL at the increment) rather than call the
 * message: a call there gave every function that increfs a stack frame,
 * 2 instructions on the owner's path too (rt_instance_set); debug builds
 * call it. */
static inline void
rt_brc_incref_shared(RtObject *op)
{
    RtRefShared old = atomic_fetch_add_explicit(&op->ob_ref_shared, RT_REF_SHARED_ONE, memory_order_relaxed);
    if (rt_unlikely(old > INT32_MAX - RT_REF_SHARED_ONE)) {
#if defined(RT_DEBUG) && RT_DEBUG >= 1
        rt_brc_shared_overflow(op);
#else
        __builtin_trap();
#endif
    }
}

/* The calling thread's per-thread counts, indexed by object id (0 unused);
 * size 0 on a thread that is not attached.  Written by this thread only,
 * read by a collection with the world stopped. */
typedef struct RtThreadCounts {
    intptr_t *values;
    size_t size;
} RtThreadCounts;
#ifdef __cplusplus
extern thread_local RtThreadCounts rt_thread_counts;
#else
extern _Thread_local RtThreadCounts rt_thread_counts;
#endif
/* rt_brc_thread_decref where the calling thread's array is too short for
 * id (brc.c): the array grows to hold it, else -- not attached, or no
 * memory -- the decrement goes into the shared count, which the folds add
 * to. */
void rt_brc_thread_decref_slow(RtObject *op, uintptr_t id);

/* rt_refcnt of an immortal (RT_IMMORTAL_REFCNT) or of an object counted
 * per thread: the shared count and this thread's entry -- the true count
 * while the other threads' entries are folded in (a collection).  Out of
 * line: the collector reads every object's count (brc.c). */
intptr_t rt_brc_refcnt_special(const RtObject *op);

/* rt_decref's branch for an object counted per thread: a TLS load, a
 * compare, an add to memory only this thread writes (inline: the call it
 * was cost shared_refs 16 instructions a decrement). */
static inline void
rt_brc_thread_decref(RtObject *op, uintptr_t id)
{
    if (rt_likely(id < rt_thread_counts.size))
        rt_thread_counts.values[id]--;
    else
        rt_brc_thread_decref_slow(op, id);
}

/* rt_incref's: the same without a call (so that a function that only
 * increfs needs no stack frame); an array too short counts in the shared
 * count until the thread's next rt_brc_thread_decref_slow grows it. */
static inline void
rt_brc_thread_incref(RtObject *op, uintptr_t id)
{
    if (rt_likely(id < rt_thread_counts.size))
        rt_thread_counts.values[id]++;
    else
        rt_brc_incref_shared(op);
}

static inline intptr_t
rt_refcnt(const RtObject *op)
{
    RtObject *o = (RtObject *)op;
    uint32_t local = atomic_load_explicit(&o->ob_ref_local, memory_order_relaxed);
    if (rt_unlikely(local >= RT_REF_LOCAL_THREADS))
        return rt_brc_refcnt_special(op);
    RtRefShared shared = atomic_load_explicit(&o->ob_ref_shared, memory_order_relaxed);
    return (intptr_t)local + ((intptr_t)shared >> RT_REF_SHARED_SHIFT);
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

/* The owner test comes first and alone: an immortal object (tid 0), a
 * merged one (tid 0) and one counted per thread (tid a small id) all fail
 * it, so the owner's path needs no test of the local count, and the
 * others' path tells them apart (local >= RT_REF_LOCAL_THREADS: immortal
 * or per thread).  Cost: owner -- a load and a compare with the thread
 * pointer, a load and a store of the local count (2 instructions fewer
 * than testing the local count first: list_append 135 -> 129 per append,
 * binary_trees 364 -> 358 per Node; callgrind); others -- the local
 * count's test, then one locked add on the shared count (rt_brc_incref_shared). */
static inline void
rt_incref(RtObject *op)
{
    uintptr_t tid = atomic_load_explicit(&op->ob_tid, memory_order_relaxed);
    if (rt_likely(tid == rt_thread_id())) {
        uint32_t local = atomic_load_explicit(&op->ob_ref_local, memory_order_relaxed);
        atomic_store_explicit(&op->ob_ref_local, local + 1, memory_order_relaxed);
        return;
    }
    uint32_t local = atomic_load_explicit(&op->ob_ref_local, memory_order_relaxed);
    if (rt_unlikely(local >= RT_REF_LOCAL_THREADS)) {
        if (local == RT_REF_LOCAL_THREADS)
            rt_brc_thread_incref(op, tid);      /* tid: the object's id */
        return;     /* immortal */
    }
    rt_brc_incref_shared(op);
}

/* The owner test first, as rt_incref's.  Cost: owner -- as rt_incref,
 * plus the zero test; at zero one acquire load of shared (a plain load on
 * x86), and the deallocation when it is 0 (no other thread ever held a
 * reference: the common case, inline); others -- the local count's test,
 * then a CAS loop on the shared count (brc.c). */
static inline void
rt_decref(RtObject *op)
{
    uintptr_t tid = atomic_load_explicit(&op->ob_tid, memory_order_relaxed);
    if (rt_likely(tid == rt_thread_id())) {
        uint32_t local = atomic_load_explicit(&op->ob_ref_local, memory_order_relaxed);
        rti_assert_count(local != 0 && local < RT_REF_LOCAL_THREADS);
        atomic_store_explicit(&op->ob_ref_local, --local, memory_order_relaxed);
        if (local == 0) {
            /* Acquire: other threads' releases happen-before the free. */
            if (atomic_load_explicit(&op->ob_ref_shared, memory_order_acquire) == 0)
                rt_dealloc(op);
            else
                rt_brc_merge_zero_local(op);
        }
        return;
    }
    uint32_t local = atomic_load_explicit(&op->ob_ref_local, memory_order_relaxed);
    if (rt_unlikely(local >= RT_REF_LOCAL_THREADS)) {
        if (local == RT_REF_LOCAL_THREADS)
            rt_brc_thread_decref(op, tid);      /* freed by a collection's fold */
        return;     /* immortal */
    }
    rt_brc_decref_shared(op);
}

#endif /* RT_BRC_H */
