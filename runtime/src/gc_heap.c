/* gc_heap.c -- the collector's lists and count per thread heap, once
 * threads share the runtime (the threaded variants).
 *
 * While one thread is attached, the collector keeps CPython's global
 * generation lists and count (gc.c), used without a lock.  When a second
 * thread attaches (the world stopped, thread.c), every tracked object goes
 * to its home, and from then on:
 *
 *   Lists.  An object from the pools lives on the lists of its home: the
 *   heap of its pool (RtPool.heap, pool_heap.c) -- the heap of the thread
 *   that allocated it, which is almost always the one that tracks it; but
 *   a thread's free cache may hand out another heap's block (pool.h), and
 *   the object is then that heap's (rti_gc_track_new_own; checked with
 *   the lists at RT_DEBUG=2: rti_gc_validate_heap_list).  Any
 *   thread finds that heap from the object's address alone, so a track or
 *   an untrack deals with the home only, and no lock is shared by all: the
 *   home's owner changes its lists without a lock, other threads under the
 *   home's spin lock (the lock biased towards the owner, below).  An
 *   object outside the pools (larger than 512 bytes, or another backend)
 *   stays on the global lists under the heap lock (thread.h).
 *   A young collection (the world stopped) gathers every heap's generation
 *   0 onto the global list, runs the passes over it as before, and sends
 *   each survivor to its home's generation 1; an older one runs its first
 *   passes on every stopped thread, heap by heap, and its survivors never
 *   leave their heap (gc_parallel.c).  Old generations stay in the heaps
 *   between collections; a young collection touches only the young
 *   objects.
 *
 *   Count.  Each heap counts its GC allocations minus deallocations in a
 *   plain 'delta' and adds it to the shared count (an atomic) once it
 *   reaches the heap's limit, testing the threshold then: CPython's free-
 *   threaded build does the same (record_allocation, with 512 against a
 *   threshold of 2000).  Testing the sum keeps CPython's collection rate per
 *   object whatever the number of threads (a per-thread share would
 *   collect T times less often at T threads, or need the thread count
 *   on the fast path); the batch keeps the shared line out of the fast
 *   path.  The limit is threshold0 / (2 * threads), within 32..512
 *   (rti_gc_heaps_retune; each heap copies it at its flushes, so that the
 *   fast path reads a plain field of its own): the sum lags at most half of
 *   threshold0 behind (past 10 threads at 700, 32 per thread), and the
 *   flushes are as few as that allows -- each is an atomic add on a line
 *   every thread writes: at a fixed 32, binary_trees --depth 14 at 2
 *   threads took 0.149 s against 0.124 s at 175 (medians of 9).  When
 *   the world stops, the deltas are folded into generation 0's count.  As
 *   in CPython's free-threaded build the sum may dip below zero (old
 *   objects dying); the count is clamped at zero when folded, and folded
 *   again as a collection ends, so that the objects it freed take count0
 *   down to zero and no further, as in a single thread (without that fold
 *   a collection that freed N objects deferred the next one by N
 *   allocations: binary_trees ran a tenth of its collections at 2 threads).
 *
 *   Type statistics are per heap too (RtThreadHeap.types, object.c).
 *
 * The lists' lock, biased towards the owner.  Every list change by the
 * home's own thread took the home's spin lock, uncontended, and its atomic
 * exchange was 15% of dict_churn's time at 2 threads (dict_churn --keys
 * 2000 --n 8000000, biased: 1.67x one thread's speed with it, 1.80x
 * without; binary_trees makes 6.3 M such changes at --depth 14).  Other
 * threads' changes are rare -- an object freed on another thread than its
 * maker's, once counts were merged -- so the lock is biased as objects'
 * counts are (an asymmetric Dekker handshake, as in userspace RCU):
 *
 *   owner   owner_busy = 1; compiler fence; if shared == 0: change the
 *           lists, owner_busy = 0 (release).  Else owner_busy = 0 and take
 *           the lock like any thread.
 *   others  take the lock; if shared == 0: shared = 1, then membarrier(2)
 *           (every thread of the process runs a full barrier), then wait
 *           while owner_busy.  Change the lists, release the lock.
 *
 * The membarrier makes the owner's plain fence a full one, after the fact:
 * either the owner's owner_busy = 1 is seen by the other thread, which
 * waits, or the owner's read of shared comes after the barrier and sees 1.
 * It costs ~25 us on this VM, so the lock stays shared until `patience`
 * stops in a row (collections, with the world stopped) saw no other
 * thread's change (rti_gc_heaps_rebias); patience doubles at each
 * revocation (up to RTI_GC_PATIENCE_MAX), so a heap that other threads
 * keep changing stays shared, as every heap was before.  A new heap starts
 * biased (no other thread holds an object of it yet); a heap its thread
 * leaves is shared until a stop after its adoption.  Where membarrier is
 * missing (not Linux, or the kernel refuses it) every heap stays shared.
 * With the world stopped, the stopping thread changes any home's lists
 * without a lock: every other thread is parked or blocked.
 *
 * Locking order: the heap lock, then a home's spin lock; a home's lock is
 * never held while taking another.
 */

#include "internal.h"

#include <sched.h>
#include <string.h>
#if defined(__linux__)
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if RT_RC_THREADED

/* ==== homes ============================================================= */

static inline void
spin_lock(atomic_int *l)
{
    while (atomic_exchange_explicit(l, 1, memory_order_acquire)) {
        for (int i = 0; atomic_load_explicit(l, memory_order_relaxed); i++)
            if (i > 64)
                sched_yield();      /* the holder may have lost its core */
    }
}

static inline void spin_unlock(atomic_int *l) { atomic_store_explicit(l, 0, memory_order_release); }

/* ---- the lists' lock, biased towards the owner ---- */

#if defined(__linux__) && defined(SYS_membarrier)
static bool fence_works;
static pthread_once_t fence_once = PTHREAD_ONCE_INIT;

static void
register_fence(void)
{
    fence_works = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

static bool
asymmetric_fence_works(void)
{
    pthread_once(&fence_once, register_fence);
    return fence_works;
}

/* A full barrier on every running thread of the process. */
static void
asymmetric_fence(void)
{
    long rc = syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    RTI_CHECK_(rc == 0, "membarrier failed after it was registered");
}
#else
static bool asymmetric_fence_works(void) { return false; }
static void asymmetric_fence(void) { RTI_CHECK_(false, "no membarrier: no heap is biased"); }
#endif

/* Lock h's lists as a thread other than its owner (or the owner of a
 * shared heap): take the lock, and take the bias away if it is there. */
static void
lock_remote(RtGcHeap *h, bool owner)
{
    spin_lock(&h->lock);
    if (owner)
        return;
    h->remote++;
    RtThreadCounters *counters = &rti_runtime.threads.counters;
    rti_count_event(&counters->remote_list_changes, 1);
    if (atomic_load_explicit(&h->shared, memory_order_relaxed))
        return;
    atomic_store_explicit(&h->shared, 1, memory_order_relaxed);
    h->patience = h->patience < RTI_GC_PATIENCE_MAX ? 2 * h->patience : RTI_GC_PATIENCE_MAX;
    h->quiet = 0;
    rti_count_event(&counters->bias_revocations, 1);
    asymmetric_fence();
    while (atomic_load_explicit(&h->owner_busy, memory_order_acquire))
        rti_cpu_relax();
}

/* How a change of a home's lists is made: by its owner without the lock,
 * under the lock, or by the thread that stopped the world. */
typedef enum { LISTS_OWNER, LISTS_LOCKED, LISTS_STOPPED } ListsAccess;

static RT_ALWAYS_INLINE ListsAccess
lists_begin(RtThreadHeap *th)
{
    RtGcHeap *h = &th->gc;
    bool owner = &th->pool == rti_theap;
    if (rt_likely(owner)) {
        if (rti_gc_own_lists_begin(h))
            return LISTS_OWNER;
    } else if (rti_world_stopped_here()) {
        return LISTS_STOPPED;
    }
    lock_remote(h, owner);
    return LISTS_LOCKED;
}

static RT_ALWAYS_INLINE void
lists_end(RtThreadHeap *th, ListsAccess access)
{
    RtGcHeap *h = &th->gc;
    if (access == LISTS_OWNER) {
        rti_gc_own_lists_end(h);
    } else if (access == LISTS_LOCKED) {
        spin_unlock(&h->lock);
    }
}

void
rti_gc_heaps_rebias(void)
{
    if (!asymmetric_fence_works())
        return;
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap) {
        RtGcHeap *h = &((RtThreadHeap *)ph)->gc;
        rti_assert(!atomic_load_explicit(&h->owner_busy, memory_order_relaxed));
        if (h->remote != 0) {
            h->remote = 0;
            h->quiet = 0;
        } else if (atomic_load_explicit(&h->shared, memory_order_relaxed) && ++h->quiet >= h->patience) {
            atomic_store_explicit(&h->shared, 0, memory_order_relaxed);
            h->quiet = 0;
        }
    }
}

bool rti_gc_heaps_can_bias(void) { return asymmetric_fence_works(); }

bool
rti_gc_heap_biased(const RtThreadHeap *th)
{
    return !atomic_load_explicit(&th->gc.shared, memory_order_relaxed);
}

void
rti_thread_heap_init(RtPoolHeap *ph)
{
    RtThreadHeap *th = (RtThreadHeap *)ph;
    memset(&th->gc, 0, sizeof th->gc);
    th->gc.limit = RTI_GC_DELTA_MIN;   /* the tuned one from its first flush */
    atomic_init(&th->gc.shared, !asymmetric_fence_works());
    th->gc.patience = 1;
    memset(th->types, 0, sizeof th->types);
    memset(th->published, 0, sizeof th->published);
    for (int i = 0; i <= RTI_GC_PERMANENT; i++)
        rti_gc_list_init(&th->gc.lists[i]);
}

/* ---- track and untrack ---- */

void
rti_gc_track_shared(RtGcHead *g)
{
    RtThreadHeap *th = rti_gc_home(g);
    if (th == NULL) {
        bool held = rti_heap_lock();
        if (!rti_gc_tracked(g))
            rti_gc_list_append(g, &rti_runtime.gc.gen[0].head);
        rti_heap_unlock(held);
        return;
    }
    ListsAccess access = lists_begin(th);
    if (!rti_gc_tracked(g))
        rti_gc_list_append(g, &th->gc.lists[0]);
    lists_end(th, access);
}

#if RT_DEBUG >= 2
void
rti_gc_validate_heap_list(RtThreadHeap *th, int which)
{
    RtGcHead *list = &th->gc.lists[which];
    RTI_GC_VALIDATE(list, false, false);
    for (RtGcHead *g = rti_gc_next(list); g != list; g = rti_gc_next(g))
        rti_assert_msg(rti_gc_home(g) == th, "an object on one heap's collector list whose block is "
                                             "another heap's, or outside the pools");
}
#endif

RtObject *
rti_gc_track_shared_then(RtObject *op)
{
    rti_gc_track_shared(RTI_AS_GC(op));
    return op;
}

void
rti_gc_untrack_shared(RtGcHead *g)
{
    RtThreadHeap *th = rti_gc_home(g);
    if (th == NULL) {
        bool held = rti_heap_lock();
        if (rti_gc_tracked(g))
            rti_gc_list_remove(g);
        rti_heap_unlock(held);
        return;
    }
    ListsAccess access = lists_begin(th);
    if (rti_gc_tracked(g))
        rti_gc_list_remove(g);
    lists_end(th, access);
}

/* ==== the count ========================================================= */

void
rti_gc_count_flush(RtGcState *gc, RtGcHeap *h)
{
    intptr_t sum = atomic_fetch_add_explicit(&gc->pending0, h->delta, memory_order_relaxed) + h->delta;
    bool grew = h->delta > 0;
    h->delta = 0;
    h->limit = atomic_load_explicit(&gc->delta_limit, memory_order_relaxed);
    /* gen[0].count changes only with the world stopped, which this thread
     * is not: reading it is safe. */
    if (!grew || !gc->enabled || gc->gen[0].threshold == 0 || rti_no_collect_here()
        || gc->gen[0].count + sum <= gc->gen[0].threshold)
        return;
    bool held = rti_heap_lock();
    bool start = !gc->collecting;
    gc->collecting = true;
    rti_heap_unlock(held);
    if (start)
        rti_gc_collect_scheduled(gc);
}

void
rti_gc_heaps_retune(RtGcState *gc)
{
    size_t threads = rt_thread_count();
    intptr_t limit = threads == 0 ? RTI_GC_DELTA_MAX : gc->gen[0].threshold / (2 * (intptr_t)threads);
    limit = limit < RTI_GC_DELTA_MIN ? RTI_GC_DELTA_MIN : limit > RTI_GC_DELTA_MAX ? RTI_GC_DELTA_MAX : limit;
    atomic_store_explicit(&gc->delta_limit, limit, memory_order_relaxed);
}

void
rti_gc_fold_counts(RtGcState *gc)
{
    intptr_t n = gc->gen[0].count + atomic_exchange_explicit(&gc->pending0, 0, memory_order_relaxed);
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap) {
        RtGcHeap *h = &((RtThreadHeap *)ph)->gc;
        n += h->delta;
        h->delta = 0;
    }
    gc->gen[0].count = n > 0 ? n : 0;
}

void
rti_gc_heap_leave(RtThreadHeap *th)
{
    /* No owner from now on: others' changes must take the lock, and the
     * adopter's too until a stop biases it again.  Set under the lock, so
     * that the next thread to take it sees the changes made without it. */
    spin_lock(&th->gc.lock);
    atomic_store_explicit(&th->gc.shared, 1, memory_order_relaxed);
    spin_unlock(&th->gc.lock);
    atomic_fetch_add_explicit(&rti_runtime.gc.pending0, th->gc.delta, memory_order_relaxed);
    th->gc.delta = 0;
}

/* ==== the lists, with the world stopped ================================ */

/* The lists of generation (or the permanent one) of the runtime: index
 * RTI_GC_PERMANENT is the permanent list. */
static RtGcHead *
global_list(RtGcState *gc, int which)
{
    return which == RTI_GC_PERMANENT ? &gc->permanent : &gc->gen[which].head;
}

/* Each survivor to its home, a run at a time: the gathered list is the
 * heaps' lists end to end, and the passes keep most of their order, so the
 * survivors come in long runs of one home -- each moved whole (four links)
 * rather than object by object, and an object in the same pool as the one
 * before it needs no lookup.  (Moving them one by one was an eighth of
 * binary_trees' time at 2 threads.) */
void
rti_gc_distribute(RtGcState *gc, RtGcHead *list, int which)
{
    RtGcHead from;
    rti_gc_list_init(&from);
    rti_gc_list_merge(list, &from);     /* list may be a target */
    while (!rti_gc_list_is_empty(&from)) {
        RtGcHead *first = rti_gc_next(&from), *last = first;
        RtThreadHeap *h = rti_gc_home(first);
        uintptr_t pool = (uintptr_t)first >> RTI_POOL_BITS;
        for (RtGcHead *g = rti_gc_next(first); g != &from; g = rti_gc_next(g)) {
            if ((uintptr_t)g >> RTI_POOL_BITS != pool) {
                if (rti_gc_home(g) != h)
                    break;
                pool = (uintptr_t)g >> RTI_POOL_BITS;
            }
            last = g;
        }
        rti_gc_list_move_run(first, last, h != NULL ? &h->gc.lists[which] : global_list(gc, which));
    }
}

void
rti_gc_share(RtGcState *gc)
{
    for (int i = 0; i <= RTI_GC_PERMANENT; i++)
        rti_gc_distribute(gc, global_list(gc, i), i);
}

void
rti_gc_gather(RtGcState *gc, int generation)
{
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap) {
        RtGcHeap *h = &((RtThreadHeap *)ph)->gc;
        for (int i = 0; i <= generation; i++)
            rti_gc_list_merge(&h->lists[i], &gc->gen[generation].head);
    }
}

void
rti_gc_heaps_move(int from, int to)
{
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap) {
        RtGcHeap *h = &((RtThreadHeap *)ph)->gc;
        rti_gc_list_merge(&h->lists[from], &h->lists[to]);
    }
}

intptr_t
rti_gc_heaps_size(int which)
{
    intptr_t n = 0;
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap)
        n += rti_gc_list_size(&((RtThreadHeap *)ph)->gc.lists[which]);
    return n;
}

#endif
