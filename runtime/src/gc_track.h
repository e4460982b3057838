/* gc_track.h -- the collector's side of internal.h: its entry points for
 * the other files, the allocation counts, and the track and untrack paths
 * the constructors and deallocs inline (alone; and once threads share the
 * runtime, the owner's own heap's lists).
 *
 * Part of internal.h, which includes it where what it reads is declared
 * (the runtime, the thread heap, the safepoint's mode word): include
 * internal.h, not this.  Apart so that internal.h stays a size one reads
 * through; the collector's passes have their own header, gc_internal.h.
 */
#ifndef RT_GC_TRACK_H
#define RT_GC_TRACK_H

#ifndef RT_INTERNAL_H
#error "include internal.h, not gc_track.h"
#endif

/* ---- the collector (gc.c) ---- */
void rti_gc_init(RtGcState *gc, const RtConfig *cfg);
void rti_gc_fini(RtGcState *gc);
/* Count a GC allocation toward generation 0 (heap lock held when threads
 * share the heap); true: the caller is to call rti_gc_collect_scheduled
 * (without the lock), and gc->collecting is set.  Inline: the object path
 * counts without a call. */
static inline bool
rti_gc_count_alloc(RtGcState *gc)
{
    gc->gen[0].count++;
    if (gc->gen[0].count > gc->gen[0].threshold && gc->enabled && gc->gen[0].threshold != 0
        && !gc->collecting && !rti_no_collect_here()) {
        gc->collecting = true;
        return true;
    }
    return false;
}
void rti_gc_collect_scheduled(RtGcState *gc);
/* The collection a constructor's count called for (rti_object_track_new),
 * then the object tracked; returns it. */
RT_NOINLINE RtObject *rti_gc_collect_then_track(RtObject *op);
void rti_gc_on_free(RtGcState *gc);
/* Free what other threads dropped and merge every thread's queue: with the
 * world stopped, or alone (object.c). */
size_t rti_drain_all(void);
#if RT_RC_THREADED
/* ---- the collector's per-heap lists and counts (gc_heap.c), once
 * threads share the runtime ---- */
void rti_gc_track_shared(RtGcHead *g);
void rti_gc_untrack_shared(RtGcHead *g);
/* Count an allocation (+1: may collect) or a deallocation (-1) of a GC
 * object on the calling thread: the heap's plain delta, added to the
 * shared count once it reaches the heap's limit, RTI_GC_DELTA_MIN to
 * RTI_GC_DELTA_MAX (gc_heap.c: rti_gc_count_flush, rti_gc_heaps_retune). */
#define RTI_GC_DELTA_MIN 32
#define RTI_GC_DELTA_MAX 512
void rti_gc_count_flush(RtGcState *gc, RtGcHeap *h);
static inline void
rti_gc_count_shared(RtGcState *gc, int delta)
{
    RtGcHeap *h = &rti_thread_heap()->gc;
    rti_assert(delta == 1 || delta == -1);
    h->delta += delta;
    /* One side per call (delta is a constant at each): |delta| < limit
     * between calls, so a step of one reaches the limit on its own side. */
    if (rt_unlikely(delta > 0 ? h->delta >= h->limit : h->delta <= -h->limit))
        rti_gc_count_flush(gc, h);
}
/* Set the flush limit for the threads attached and threshold0 (a thread
 * attached or detached, the threshold changed); each heap takes it up at
 * its next flush. */
void rti_gc_heaps_retune(RtGcState *gc);
/* The world stopped: every tracked object to its home's lists (the first
 * time threads share the runtime); every heap's generations 0..generation
 * onto the global list of 'generation' (a collection starts); the objects
 * of list to their homes' generation 'generation' (it ends); the heaps'
 * counts into generation 0's. */
void rti_gc_share(RtGcState *gc);
void rti_gc_gather(RtGcState *gc, int generation);
void rti_gc_distribute(RtGcState *gc, RtGcHead *list, int generation);
void rti_gc_fold_counts(RtGcState *gc);
/* Every heap's list 'from' onto its list 'to' (freeze, unfreeze); the
 * objects on every heap's list 'which'. */
void rti_gc_heaps_move(int from, int to);
intptr_t rti_gc_heaps_size(int which);
/* The lists' lock biased towards each heap's owner (gc_heap.c): at a
 * stop, a heap whose lock other threads left alone for its patience's
 * number of stops goes back to its owner.  World stopped. */
#define RTI_GC_PATIENCE_MAX 1024u
void rti_gc_heaps_rebias(void);
/* Whether heaps can be biased here (membarrier(2) registered), and
 * whether th's owner changes its lists without a lock (tests). */
bool rti_gc_heaps_can_bias(void);
bool rti_gc_heap_biased(const RtThreadHeap *th);
/* A detaching thread's count into the shared one; its lists shared. */
void rti_gc_heap_leave(RtThreadHeap *th);
#endif

#if RT_RC_THREADED
/* The heap whose lists hold g when tracked, or NULL: the global lists
 * (gc_heap.c: an object from the pools lives on its pool's heap's). */
static RT_ALWAYS_INLINE RtThreadHeap *
rti_gc_home(const RtGcHead *g)
{
    if (!rti_arena_map_contains(&rti_runtime.heap.arenas.map, g))
        return NULL;
    return (RtThreadHeap *)RTI_POOL_OF(g)->heap;
}

/* The owner's way into its own heap's lists, while their lock is biased
 * towards it (gc_heap.c, 'The lists' lock'): owner_busy, a compiler fence
 * (the others' membarrier makes it a full one), then the test of
 * `shared`.  False, owner_busy cleared again, when the lock is shared. */
static RT_ALWAYS_INLINE bool
rti_gc_own_lists_begin(RtGcHeap *h)
{
    atomic_store_explicit(&h->owner_busy, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    if (rt_likely(!atomic_load_explicit(&h->shared, memory_order_acquire)))
        return true;
    atomic_store_explicit(&h->owner_busy, 0, memory_order_release);
    return false;
}

static RT_ALWAYS_INLINE void
rti_gc_own_lists_end(RtGcHeap *h)
{
    rti_assert(atomic_load_explicit(&h->owner_busy, memory_order_relaxed));
    atomic_store_explicit(&h->owner_busy, 0, memory_order_release);
}

/* Once threads share the runtime, a track or untrack of an object of the
 * caller's own heap whose lock is biased towards it is inline (the
 * out-of-line calls were 34 and 30 instructions a Node of biased
 * binary_trees at two threads against about 5 each alone: callgrind);
 * anything else goes through gc_heap.c.  This is the inline case's test:
 * g's home's collector lists, entered (rti_gc_own_lists_end after), or
 * NULL. */
static RT_ALWAYS_INLINE RtGcHeap *
rti_gc_own_home_begin(const RtGcHead *g)
{
    RtThreadHeap *th = rti_gc_home(g);
    if (rt_likely(th == rti_thread_heap()) && rti_gc_own_lists_begin(&th->gc))
        return &th->gc;
    return NULL;
}

static RT_ALWAYS_INLINE void
rti_gc_track_new_shared(RtGcHead *g)
{
    RtGcHeap *h = rti_gc_own_home_begin(g);
    if (rt_likely(h != NULL)) {
        rti_assert(!rti_gc_tracked(g));
        rti_gc_list_append_new(g, &h->lists[0]);
        rti_gc_own_lists_end(h);
        return;
    }
    rti_gc_track_shared(g);
}

/* rti_gc_track_new_shared for a block the caller's own heap just gave out
 * (rti_object_alloc_shared_quick): a pool block, so no arena lookup -- but
 * not always of the caller's own pools: a free caches whatever block it
 * frees (pool.h), another heap's too, and the next allocation of the
 * class pops it.  Such an object lives on its block's heap's lists, where
 * every untrack looks for it (gc_heap.c), through the locked path.  Cost:
 * the pool's heap word, a compare.  Returns op, so that its slow path is a
 * tail call. */
RT_NOINLINE RtObject *rti_gc_track_shared_then(RtObject *op);
static RT_ALWAYS_INLINE RtObject *
rti_gc_track_new_own(RtObject *op)
{
    RtGcHead *g = RTI_AS_GC(op);
    RtThreadHeap *th = rti_thread_heap();
    RtGcHeap *h = &th->gc;
    rti_assert(rti_arena_map_contains(&rti_runtime.heap.arenas.map, g) && !rti_gc_tracked(g));
    if (rt_likely(RTI_POOL_OF(g)->heap == &th->pool) && rt_likely(rti_gc_own_lists_begin(h))) {
        rti_gc_list_append_new(g, &h->lists[0]);
        rti_gc_own_lists_end(h);
        return op;
    }
    return rti_gc_track_shared_then(op);
}

static RT_ALWAYS_INLINE void
rti_gc_track_shared_inline(RtGcHead *g)
{
    RtGcHeap *h = rti_gc_own_home_begin(g);
    if (rt_likely(h != NULL)) {
        if (!rti_gc_tracked(g))
            rti_gc_list_append(g, &h->lists[0]);
        rti_gc_own_lists_end(h);
        return;
    }
    rti_gc_track_shared(g);
}

static RT_ALWAYS_INLINE void
rti_gc_untrack_shared_inline(RtGcHead *g)
{
    RtGcHeap *h = rti_gc_own_home_begin(g);
    if (rt_likely(h != NULL)) {
        if (rti_gc_tracked(g))
            rti_gc_list_remove(g);
        rti_gc_own_lists_end(h);
        return;
    }
    rti_gc_untrack_shared(g);
}
#endif

/* rt_gc_track, inline for the constructors (lists, dicts, tuples) and the
 * public call alike: alone, a test of the mode word and the append to
 * generation 0; once threads share the runtime, the owner's own heap's
 * lists inline (out of line it cost dict_churn 47 instructions a step at
 * two threads: callgrind). */
static RT_ALWAYS_INLINE void
rti_gc_track(RtObject *op)
{
    rti_assert_msg(RT_TYPE(op)->flags & RT_TYPE_GC, "rt_gc_track on an object of a type without RT_TYPE_GC");
    RtGcHead *g = RTI_AS_GC(op);
#if RT_RC_THREADED
    if (rt_unlikely(rti_heap_shared())) {
        rti_gc_track_shared_inline(g);
        return;
    }
#endif
    if (!rti_gc_tracked(g))
        rti_gc_list_append(g, &rti_runtime.gc.gen[0].head);
}

/* rt_gc_untrack, inline for the deallocs and the public call alike: with
 * no other thread about, a test of the mode word and the unlink.  Out of
 * line in the threaded variants (the shared branch made it too large for
 * the compiler to inline) it cost biased binary_trees a call per Node;
 * so always inline. */
static RT_ALWAYS_INLINE void
rti_gc_untrack(RtObject *op)
{
    rti_assert_msg(RT_TYPE(op)->flags & RT_TYPE_GC, "rt_gc_untrack on an object of a type without RT_TYPE_GC");
    RtGcHead *g = RTI_AS_GC(op);
#if RT_RC_THREADED
    if (rt_unlikely(rti_heap_shared())) {
        rti_gc_untrack_shared_inline(g);
        return;
    }
#endif
    if (rti_gc_tracked(g))
        rti_gc_list_remove(g);
}

#endif /* RT_GC_TRACK_H */
