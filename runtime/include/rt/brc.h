/* rt/brc.h -- biased reference counting (PEP 703), the fast path.
 *
 * Included by rt/object.h in the biased variant (RT_RC_BIASED) only.
 *
 * Every object records its owner, the thread that made it, as a 16-bit
 * thread index (thread.c gives each attached thread one, 1..RT_TID_MAX);
 * the owner's own count sits beside it in the same 32-bit word:
 *     ob_tid_local = tid << 16 | local
 * The owner counts in `local` with plain loads and stores (relaxed
 * atomics: the same instructions, but visible to ThreadSanitizer); every
 * other thread counts in ob_ref_shared with atomic read-modify-writes.
 * The true count is local + (shared >> 2); the low two bits of shared are
 * a state that only grows:
 *   INIT    0  owned, never queued
 *   LATER   1  owned, and to be counted per thread once a second thread
 *              attaches (below): the shared count may go below zero, and
 *              only a fold frees the object
 *   QUEUED  2  the shared count went below zero once: the object sits in
 *              its owner's merge queue, which holds one reference
 *   MERGED  3  tid and local are 0: shared alone is the count, and every
 *              thread uses it (and objects counted per thread)
 * (CPython's state 1 is MAYBE_WEAKREF, which rtbench does not need: its
 * weakrefs do not race with deallocation, since a dead object's weakrefs
 * are cleared by its dealloc on one thread.)
 *
 * Deallocation happens only from INIT or MERGED: when the owner's local
 * count reaches zero and shared is 0 (no other thread ever took a
 * reference: no atomic at all), or when a merged count reaches zero -- or
 * by a fold, with the world stopped (objects counted per thread, and those
 * LATER).
 *
 * The local field's top values are markers, never counts:
 *   RT_REF_LOCAL_IMMORTAL  0xffff  immortal (tid 0, shared 0); or, with
 *                                  tid RT_TID_PENDING_BIT set, an object
 *                                  waiting on the pending stack (object.c)
 *   RT_REF_LOCAL_THREADS   0xfffe  counted per thread; tid holds its id
 * so one unsigned compare tests owner and count at once: the word minus
 * the caller's tag (its index << 16, rt_thread_tag) is below
 * RT_REF_LOCAL_MAX exactly when the caller owns the object and its local
 * count is a count with room for one more.  An immortal, merged (tid 0),
 * per-thread or foreign object fails it, and the others' path tells them
 * apart.  A thread with no index has the tag of RT_TID_NONE, which no
 * object's word matches.
 *
 * Departure: CPython 3.13t's header is 32 bytes -- a 64-bit thread id, a
 * 32-bit local count, flags, a mutex, GC bits and a 64-bit shared count.
 * rtbench's is 16, as the nonatomic variant's (rt/object.h), so that an
 * object's block is the same size in every variant: a two-slot instance's
 * 48 bytes, not 64.  What that costs:
 *   - A local count holds RT_REF_LOCAL_MAX (65,533) references; the
 *     owner's next increment moves RT_REF_LOCAL_SPILL of them to the
 *     shared count (one atomic add), and the object merges when its local
 *     count next reaches zero -- an object one thread holds 65,534 times
 *     is counted atomically from then on.
 *   - At most RT_TID_MAX (65,534) threads attached at once, and as many
 *     objects counted per thread.
 *   - The shared word is 32 bits: it counts to RT_REF_SHARED_MAX, 2^29 - 1,
 *     references held by threads other than the owner, or by anyone once
 *     the object is merged.  A count that wrapped would free a live
 *     object, so the process stops first: a merge, a fold or a spill whose
 *     sum does not fit with a message (rt_brc_shared_overflow), a
 *     non-owner's increment past it with a trap in release builds
 *     (rt_brc_add_shared says why) and the message in debug ones.
 *   - The owner's index is a thread-local load where CPython compares with
 *     the thread pointer itself.
 * The indices are reused: a thread that detaches gives its index up and
 * counts as a non-owner from then on, and the thread that next gets the
 * index owns the objects still marked with it (it is then the only thread
 * that writes their local counts, which is all ownership means).
 *
 * Per-thread counts (CPython 3.14's Python/uniqueid.c), for objects every
 * thread takes references to -- where even biased counts contend, since
 * the non-owners' atomic adds all hit one shared count and the owner's
 * stores the same cache line.  rt_object_enable_thread_counts() gives the
 * object an id, kept in the tid field, with RT_REF_LOCAL_THREADS in the
 * local one; every thread, the old owner included, counts in its own
 * array, rt_thread_counts.values[id], with plain adds on memory no other
 * thread writes.  The true count is (shared >> 2) plus every thread's
 * entry: known only with the world stopped, when a collection folds the
 * arrays into the shared counts (brc_counts.c) and frees the objects whose
 * count is then zero.  So such an object outlives its last reference
 * until the next collection (as CPython's deferred objects wait for the
 * collector).  A thread that is not attached, or whose array is too short
 * and cannot grow, adds to the shared count atomically instead.
 *
 * Departure: while one thread has the runtime (no second thread ever
 * attached), an object enabled keeps its owner's biased count -- the
 * cheapest there is -- marked LATER in its shared word and listed;
 * the stop that lets a second thread in gives every listed object its id
 * (brc_counts.c).  CPython 3.14 gives ids at once.  With one thread the
 * per-thread path only costs: shared_refs took 1.2-1.3x nonatomic's time
 * with it, and 1.08x with the owner's count.  The LATER mark sends the
 * owner's decrement to zero to the slow path, which leaves the object to
 * the next fold, as one counted per thread.
 *
 * The slow paths live in brc.c.
 */
#ifndef RT_BRC_H
#define RT_BRC_H

#ifndef RT_OBJECT_H
#error "include rt/object.h, not rt/brc.h"
#endif

#define RT_REF_SHARED_SHIFT 2
#define RT_REF_SHARED_FLAGS 0x3
#define RT_REF_INIT 0
#define RT_REF_LATER 1
#define RT_REF_QUEUED 2
#define RT_REF_MERGED 3
#define RT_REF_SHARED_ONE ((RtRefShared)1 << RT_REF_SHARED_SHIFT)  /* one reference */
#define RT_REF_SHARED_MAX (INT32_MAX >> RT_REF_SHARED_SHIFT)       /* the most it counts */

/* The word ob_tid_local: tid << RT_TID_SHIFT | local. */
#define RT_TID_SHIFT 16
#define RT_REF_LOCAL_MASK 0xffffu
#define RT_REF_LOCAL_IMMORTAL 0xffffu   /* immortal, or pending (object.c) */
#define RT_REF_LOCAL_THREADS 0xfffeu    /* counted per thread */
#define RT_REF_LOCAL_MAX 0xfffdu        /* the most a local count holds */
#define RT_REF_LOCAL_SPILL 0x8000u      /* moved to shared when it is full */
#define RT_TID_MAX 0xfffeu              /* the last thread index and object id */
#define RT_TID_NONE 0xffffu             /* a thread without an index */
#define RT_TID_PENDING_BIT 0x8000u      /* with an immortal local: pending (object.c) */
#define RT_TID_LOCAL(tid, local) ((uint32_t)(tid) << RT_TID_SHIFT | (uint32_t)(local))
/* The word of an immortal object. */
#define RT_TID_LOCAL_IMMORTAL RT_TID_LOCAL(0, RT_REF_LOCAL_IMMORTAL)
/* The tag of a thread without an index (rt_thread_tag). */
#define RT_THREAD_TAG_NONE RT_TID_LOCAL(RT_TID_NONE, 0)

static inline uint32_t rt_brc_tid(uint32_t word) { return word >> RT_TID_SHIFT; }
static inline uint32_t rt_brc_local(uint32_t word) { return word & RT_REF_LOCAL_MASK; }
/* Whether the local field holds RT_REF_LOCAL_IMMORTAL (immortal, or
 * pending): a compare of the low half as signed.  Written as the local
 * field against the marker, in rt_decref, GCC 12 kept a zero-extended copy
 * of the field for it ahead of the test for RT_REF_LOCAL_THREADS: one
 * instruction more on the per-thread path (shared_refs 116.4 -> 115.4 a
 * step, callgrind).  rt_brc_incref_other keeps the plain compare: there
 * the same change cost rt_instance_set a register copy (binary_trees +1
 * a Node). */
static inline bool
rt_brc_word_immortal(uint32_t word)
{
    return (int16_t)word == (int16_t)RT_REF_LOCAL_IMMORTAL;
}
/* The index of the thread that owns the object of this word; 0 when none
 * does (merged, immortal, pending, counted per thread: its tid field is an
 * id then, not a thread's). */
static inline uint32_t
rt_brc_owner(uint32_t word)
{
    return rt_brc_local(word) <= RT_REF_LOCAL_MAX ? rt_brc_tid(word) : 0;
}

/* The calling thread's tag: its index << RT_TID_SHIFT while it is attached
 * (thread.c), else RT_TID_NONE's.  Initial-exec: one load from the thread
 * block, in the executable and in a library loaded with it. */
#ifdef __cplusplus
extern thread_local uint32_t rt_thread_tag __attribute__((tls_model("initial-exec")));
#else
extern _Thread_local uint32_t rt_thread_tag __attribute__((tls_model("initial-exec")));
#endif

/* The slow paths (brc.c). */
void rt_brc_merge_zero_local(RtObject *op);     /* the owner's count hit 0 */
void rt_brc_decref_shared(RtObject *op);        /* a decref off the owner */
/* A shared count would pass RT_REF_SHARED_MAX: say so and abort. */
RT_COLD void rt_brc_shared_overflow(const RtObject *op) __attribute__((noreturn));

/* n references more in the shared count (a thread other than the owner,
 * or any once merged; the owner when its local count is full).  Cost: one
 * locked add that returns the old word (xadd), and a compare against the
 * ceiling, never taken.  Past it a release build traps (SIGILL at the
 * increment) rather than call the message: a call there gave every
 * function that increfs a stack frame, 2 instructions on the owner's path
 * too (rt_instance_set); debug builds call it. */
static inline void
rt_brc_add_shared(RtObject *op, uint32_t n)
{
    RtRefShared add = (RtRefShared)(n << RT_REF_SHARED_SHIFT);
    RtRefShared old = atomic_fetch_add_explicit(&op->ob_ref_shared, add, memory_order_relaxed);
    if (rt_unlikely(old > INT32_MAX - add)) {
#if defined(RT_DEBUG) && RT_DEBUG >= 1
        rt_brc_shared_overflow(op);
#else
        __builtin_trap();
#endif
    }
}

static inline void rt_brc_incref_shared(RtObject *op) { rt_brc_add_shared(op, 1); }

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
    uint32_t local = rt_brc_local(atomic_load_explicit(&o->ob_tid_local, memory_order_relaxed));
    if (rt_unlikely(local >= RT_REF_LOCAL_THREADS))
        return rt_brc_refcnt_special(op);
    RtRefShared shared = atomic_load_explicit(&o->ob_ref_shared, memory_order_relaxed);
    return (intptr_t)local + ((intptr_t)shared >> RT_REF_SHARED_SHIFT);
}

/* Set the count of an object nobody else sees yet, owned by the caller,
 * an attached thread (n at most RT_REF_LOCAL_MAX). */
static inline void
rt_refcnt_init(RtObject *op, intptr_t n)
{
    rti_assert_count(rt_thread_tag != RT_THREAD_TAG_NONE && n >= 0 && n <= RT_REF_LOCAL_MAX);
    atomic_store_explicit(&op->ob_tid_local, rt_thread_tag | (uint32_t)n, memory_order_relaxed);
    atomic_store_explicit(&op->ob_ref_shared, 0, memory_order_relaxed);
}

static inline bool
rt_is_immortal(const RtObject *op)
{
    return rt_brc_word_immortal(atomic_load_explicit(&((RtObject *)op)->ob_tid_local, memory_order_relaxed));
}

static inline bool
rt_is_owned_by_me(const RtObject *op)
{
    uint32_t word = atomic_load_explicit(&((RtObject *)op)->ob_tid_local, memory_order_relaxed);
    return word - rt_thread_tag <= RT_REF_LOCAL_MAX;
}

/* The others' increment, and the owner's when its local count is full
 * (tid matches, local == RT_REF_LOCAL_MAX): RT_REF_LOCAL_SPILL of its
 * references go to the shared count first (so the total never dips), one
 * more with them.  An object counted per thread is tested first, and
 * alone: every thread's path to it, the owner's too, runs here (tested
 * after a compare for both markers, it cost shared_refs 7 instructions a
 * step more, 123 against 116, and a single-thread run 4% more time; with
 * 100 keys, all in the cache, 8-13%).  rt_decref's branch the same. */
static inline void
rt_brc_incref_other(RtObject *op, uint32_t word)
{
    uint32_t local = rt_brc_local(word);
    if (rt_likely(local == RT_REF_LOCAL_THREADS)) {
        rt_brc_thread_incref(op, rt_brc_tid(word));         /* tid: the object's id */
        return;
    }
    if (rt_unlikely(local == RT_REF_LOCAL_IMMORTAL))
        return;     /* immortal, or pending */
    if (rt_unlikely(word - rt_thread_tag == RT_REF_LOCAL_MAX)) {
        rt_brc_add_shared(op, RT_REF_LOCAL_SPILL + 1);
        atomic_store_explicit(&op->ob_tid_local, word - RT_REF_LOCAL_SPILL, memory_order_relaxed);
        return;
    }
    rt_brc_incref_shared(op);
}

/* One compare tests owner and count (see above).  Cost: owner -- a load,
 * a copy, a subtract of the tag (a %fs operand), a compare, a store;
 * counted per thread -- that, a compare of the local field, the array's
 * size and an add to memory; others -- two compares more, then one locked
 * add on the shared count (rt_brc_incref_shared). */
static inline void
rt_incref(RtObject *op)
{
    uint32_t word = atomic_load_explicit(&op->ob_tid_local, memory_order_relaxed);
    if (rt_likely(word - rt_thread_tag < RT_REF_LOCAL_MAX)) {
        atomic_store_explicit(&op->ob_tid_local, word + 1, memory_order_relaxed);
        return;
    }
    rt_brc_incref_other(op, word);
}

/* The same compare, one lower: owner and a local count of at least 1.
 * Cost: owner -- as rt_incref, plus the zero test; at zero one acquire
 * load of shared (a plain load on x86), and the type's dealloc when it is
 * 0 (no other thread ever held a reference: the common case, inline);
 * counted per thread -- as rt_incref; others -- the markers' tests, then
 * a CAS loop on the shared count (brc.c).  Always inline: GCC left it out
 * of line in a dozen places, the container deallocs' loops among them
 * (biased dict_churn 1,306 instructions a step, 1,279 inline;
 * binary_trees and list_append the same; callgrind). */
static RT_ALWAYS_INLINE void
rt_decref(RtObject *op)
{
    uint32_t word = atomic_load_explicit(&op->ob_tid_local, memory_order_relaxed);
    uint32_t next = word - 1;
    uint32_t below = next - rt_thread_tag;      /* the local count left, when owned */
    if (rt_likely(below < RT_REF_LOCAL_MAX)) {
        atomic_store_explicit(&op->ob_tid_local, next, memory_order_relaxed);
        if (below == 0) {
            /* Acquire: other threads' releases happen-before the free.
             * The type's dealloc at once, not rt_dealloc: a thread has a
             * tag only while it is attached (thread.c), so the owner never
             * hands the object to the pending stack (4 instructions an
             * object freed, list_append's ints and binary_trees' Nodes). */
            if (atomic_load_explicit(&op->ob_ref_shared, memory_order_acquire) == 0)
                op->ob_type->dealloc(op);
            else
                rt_brc_merge_zero_local(op);
        }
        return;
    }
    if (rt_likely(rt_brc_local(word) == RT_REF_LOCAL_THREADS)) {
        rt_brc_thread_decref(op, rt_brc_tid(word));         /* freed by a collection's fold */
        return;
    }
    if (rt_unlikely(rt_brc_word_immortal(word)))
        return;     /* immortal, or pending */
    rti_assert_count(word != rt_thread_tag);    /* owned with a local count of 0 */
    rt_brc_decref_shared(op);
}

#endif /* RT_BRC_H */
