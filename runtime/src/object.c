/* object.c -- allocating and freeing objects; deallocation; type statistics.
 *
 * An object's memory is one block: for GC types the 16-byte collector
 * header comes first and the object follows it.  Allocation counts the
 * object toward generation 0 (which may start a collection, as in CPython
 * 3.11 -- the new object is not tracked yet, so the collection cannot see
 * it) and into its type's statistics; the free undoes both.  The fast half
 * of both is inline (internal.h, "the object path"): the built-in types'
 * constructors and deallocs reach the pool in one step each way; this file
 * holds the generic entry points (any type, variable sizes) and the
 * statistics.
 *
 * Type statistics are plain counters (allocated, freed, bytes); the peaks
 * of live objects and bytes are taken at sample points -- each time the
 * pool refills an allocation list or takes a pool (rti_pool_sample), and
 * each rt_type_stats call -- so a peak is a lower bound, at most one pool
 * refill's worth short for objects from the pools.  Once threads share the
 * runtime (the threaded variants), each thread heap has its own rows
 * (RtThreadHeap.types), updated without a lock; rt_type_stats stops the
 * world and sums them with the runtime's, exactly.
 *
 * Peaks with threads.  A row of one heap says nothing of the type's peak:
 * a thread that frees what another made counts the frees in its own row.
 * So each thread, at its heap's sample points (pool_heap.c, "Statistics":
 * the allocation's and the free's slow paths), adds what each of its rows
 * moved since it last did to the type's running totals (RtTypeTotals, one
 * atomic add per row that moved by a batch, RTI_PUBLISH_BATCH objects or
 * 64 times as many bytes) and raises their peaks; rt_type_stats
 * takes the larger of those peaks and its own exact ones.  The totals are
 * the runtime's rows (left as they were when the second thread came: the
 * stop that let it in makes them exact, rti_types_share) plus every
 * heap's rows as last published -- an invariant rt_type_stats checks in
 * debug builds.  Before, rt_type_stats alone sampled the peaks once
 * threads shared the runtime, and a run read at its end reported a peak of
 * 0 for every type its threads made.
 *
 * Deallocation in the atomic variant: the thread that drops the last
 * reference may not be the runtime's owner, and the allocator and collector
 * belong to the owner.  Such an object is pushed onto a lock-free stack
 * (linked through its reference count field, see pending_link) and the owner
 * deallocates it in rt_drain_pending().
 */

#include "internal.h"

#include <string.h>

/* ==== type statistics =================================================== */

/* The block of an object: its size, and its collector header's. */
static size_t
block_size(const RtType *type, intptr_t nitems)
{
    return type->basic_size + (size_t)nitems * type->item_size + ((type->flags & RT_TYPE_GC) ? sizeof(RtGcHead) : 0);
}

#if RT_RC_THREADED
/* Every thread heap's row of type id added to the counts (the world
 * stopped).  Out of line: a sample point with one thread takes row_sum
 * inline without it (biased binary_trees 1.5 instructions a Node). */
static RT_NOINLINE void
row_add_heaps(uint32_t id, uint64_t *allocated, uint64_t *freed, int64_t *bytes)
{
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap) {
        const RtTypeCounters *t = &((RtThreadHeap *)ph)->types[id];
        *allocated += t->allocated;
        *freed += t->freed;
        *bytes += t->bytes;
    }
}
#endif

/* A type's counts: the runtime's row, and where threads share the runtime
 * (shared: rti_heap_shared(), read once by a caller that loops over the
 * types) every thread heap's row added (the world stopped, or alone). */
static inline void
row_sum_in(bool shared, uint32_t id, uint64_t *allocated, uint64_t *freed, int64_t *bytes)
{
    const RtTypeCounters *c = &rti_runtime.types[id];
    *allocated = c->allocated;
    *freed = c->freed;
    *bytes = c->bytes;
#if RT_RC_THREADED
    if (rt_unlikely(shared))
        row_add_heaps(id, allocated, freed, bytes);
#else
    (void)shared;
#endif
}

static inline void
row_sum(uint32_t id, uint64_t *allocated, uint64_t *freed, int64_t *bytes)
{
    row_sum_in(rti_heap_shared(), id, allocated, freed, bytes);
}

int64_t
rti_type_live(uint32_t id)
{
    uint64_t allocated, freed;
    int64_t bytes;
    row_sum(id, &allocated, &freed, &bytes);
    return (int64_t)(allocated - freed);
}

#if RT_RC_THREADED
/* A row of type id -- the runtime's, or a thread heap's -- as live objects
 * and bytes (each object's unit, and what they own). */
static inline RtTypePublished
counters_values(const RtTypeCounters *row, uint32_t id)
{
    int64_t live = (int64_t)(row->allocated - row->freed);
    return (RtTypePublished){live, live * rti_runtime.types[id].unit + row->bytes};
}

static inline RtTypePublished
row_values(const RtThreadHeap *th, uint32_t id)
{
    return counters_values(&th->types[id], id);
}

/* Add to type id's totals what th's row moved since th last published it,
 * raising their peaks where they grew. */
static void
publish_row(RtThreadHeap *th, uint32_t id)
{
    RtTypePublished now = row_values(th, id), *last = &th->published[id];
    int64_t dlive = now.live - last->live, dbytes = now.bytes - last->bytes;
    if (!rti_publish_due(dlive, RTI_PUBLISH_BATCH) && !rti_publish_due(dbytes, 64 * RTI_PUBLISH_BATCH))
        return;
    *last = now;
    RtTypeTotals *t = &rti_runtime.type_totals[id];
    rti_total_add(&t->live, &t->live_peak, dlive);
    rti_total_add(&t->bytes, &t->bytes_peak, dbytes);
}

/* Type id's totals set to live and bytes, each heap's published row its
 * own, the peaks raised to them and to at least peak_floor's (the world
 * stopped, or one thread alone). */
static void
totals_set(uint32_t id, int64_t live, int64_t bytes, const RtTypeCounters *peak_floor)
{
    RtTypeTotals *t = &rti_runtime.type_totals[id];
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap)
        ((RtThreadHeap *)ph)->published[id] = row_values((RtThreadHeap *)ph, id);
    atomic_store_explicit(&t->live, live, memory_order_relaxed);
    atomic_store_explicit(&t->bytes, bytes, memory_order_relaxed);
    rti_peak_raise(&t->live_peak, live > peak_floor->live_peak ? live : peak_floor->live_peak);
    rti_peak_raise(&t->bytes_peak, bytes > peak_floor->bytes_peak ? bytes : peak_floor->bytes_peak);
}

/* totals_set with the exact figures, the world stopped: in debug builds,
 * first, the invariant -- the totals are the runtime's row plus the heaps'
 * published ones. */
static void
totals_exact(uint32_t id, int64_t live, int64_t bytes)
{
    const RtTypeCounters *c = &rti_runtime.types[id];
#if RT_DEBUG >= 1
    const RtTypeTotals *t = &rti_runtime.type_totals[id];
    RtTypePublished want = counters_values(c, id);
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap) {
        want.live += ((RtThreadHeap *)ph)->published[id].live;
        want.bytes += ((RtThreadHeap *)ph)->published[id].bytes;
    }
    rti_assert_msg(atomic_load_explicit(&t->live, memory_order_relaxed) == want.live &&
                       atomic_load_explicit(&t->bytes, memory_order_relaxed) == want.bytes,
                   "a type's running totals are not its rows as published");
#endif
    totals_set(id, live, bytes, c);
}

void
rti_types_share(void)
{
    for (uint32_t id = 0; id < rti_runtime.ntypes; id++) {
        const RtTypeCounters *c = &rti_runtime.types[id];
        RtTypePublished own = counters_values(c, id);
        for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap)
            rti_assert(row_values((RtThreadHeap *)ph, id).live == 0);     /* alone: the runtime's rows */
        totals_set(id, own.live, own.bytes, c);
    }
}
#endif

/* Every row's peaks (the world stopped once threads share the runtime). */
static void
sample_peaks(void)
{
    const bool shared = rti_heap_shared();
    for (uint32_t id = 0; id < rti_runtime.ntypes; id++) {
        RtTypeCounters *c = &rti_runtime.types[id];
        uint64_t allocated, freed;
        int64_t owned;
        row_sum_in(shared, id, &allocated, &freed, &owned);
        int64_t live = (int64_t)(allocated - freed), bytes = live * c->unit + owned;
#if RT_RC_THREADED
        if (shared) {
            RtTypeTotals *t = &rti_runtime.type_totals[id];
            totals_exact(id, live, bytes);
            live = atomic_load_explicit(&t->live_peak, memory_order_relaxed);
            bytes = atomic_load_explicit(&t->bytes_peak, memory_order_relaxed);
        }
#endif
        if (live > c->live_peak)
            c->live_peak = live;
        if (bytes > c->bytes_peak)
            c->bytes_peak = bytes;
    }
}

/* A sample point of the pools (RtTypeCounters): the peaks -- once threads
 * share the runtime, the caller's rows added to the running totals (the
 * other threads' rows change meanwhile). */
static void
sample_point(void)
{
#if RT_RC_THREADED
    if (rti_heap_shared()) {
        if (rti_theap != NULL)
            for (uint32_t id = 0; id < rti_runtime.ntypes; id++)
                publish_row((RtThreadHeap *)rti_theap, id);
        return;
    }
#endif
    sample_peaks();
}

/* A slot for a new type's row; its rows start at zero (the world stopped
 * once threads share the runtime, for theirs). */
int
rti_type_register(RtType *type)
{
    bool stopped = rti_world_stop_shared();
    /* Out of slots: the type shares the 'other' row. */
    type->id = RTI_TYPE_ID_OTHER;
    for (uint32_t id = RTI_TYPE_ID_FIRST_CLASS; id < RT_MAX_TYPES; id++) {
        if (rti_runtime.types[id].type == NULL) {
            memset(&rti_runtime.types[id], 0, sizeof rti_runtime.types[id]);
#if RT_RC_THREADED
            for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap)
                memset(&((RtThreadHeap *)ph)->types[id], 0, sizeof(RtTypeCounters));
            RtTypeTotals *t = &rti_runtime.type_totals[id];
            atomic_store_explicit(&t->live_peak, 0, memory_order_relaxed);
            atomic_store_explicit(&t->bytes_peak, 0, memory_order_relaxed);
            totals_set(id, 0, 0, &rti_runtime.types[id]);   /* every row 0 */
#endif
            rti_runtime.types[id].type = type;
            type->id = id;
            if (id >= rti_runtime.ntypes)
                rti_runtime.ntypes = id + 1;
            break;
        }
    }
    rti_world_start_shared(stopped);
    return 0;
}

void
rti_type_unregister(RtType *type)
{
    bool stopped = rti_world_stop_shared();
    if (type->id >= RTI_TYPE_ID_FIRST_CLASS)
        rti_runtime.types[type->id].type = NULL;
    rti_world_start_shared(stopped);
}

void
rti_types_init(RtRuntime *rt)
{
    static RtType *const builtins[] = {
        &rt_int_type, &rt_str_type, &rt_tuple_type, &rt_list_type, &rt_dict_type, &rt_weakref_type,
    };
    memset(rt->types, 0, sizeof rt->types);
#if RT_RC_THREADED
    memset(rt->type_totals, 0, sizeof rt->type_totals);     /* set when threads share it */
#endif
    rt->ntypes = RTI_TYPE_ID_FIRST_CLASS;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        RtTypeCounters *c = &rt->types[builtins[i]->id];
        c->type = builtins[i];
        if (builtins[i]->item_size == 0)
            c->unit = (int64_t)block_size(builtins[i], 0);
    }
    rt->heap.arenas.on_sample = sample_point;
    rti_small_ints_init();
}

size_t
rt_type_stats(RtTypeStats *out, size_t max)
{
    bool stopped = rti_world_stop_shared();
    sample_peaks();
    size_t n = 0;
    for (uint32_t id = 0; id < RT_MAX_TYPES; id++) {
        const RtTypeCounters *c = &rti_runtime.types[id];
        uint64_t allocated, freed;
        int64_t owned;
        row_sum(id, &allocated, &freed, &owned);
        if (allocated == 0)
            continue;
        int64_t live = (int64_t)(allocated - freed);
        if (n < max)
            out[n] = (RtTypeStats){c->type ? c->type->name : "other", allocated, freed, live,
                                   c->live_peak, live * c->unit + owned, c->bytes_peak};
        n++;
    }
    rti_world_start_shared(stopped);
    return n;
}

/* ==== allocation ======================================================== */

size_t
rt_object_sizeof(const RtObject *op)
{
    const RtType *t = RT_TYPE(op);
    return block_size(t, t->item_size ? RT_SIZE(op) : 0);
}

/* The generic path, for any type and any size; the built-in types'
 * constructors take rti_object_alloc directly. */
RtObject *
rt_object_new_var(RtType *type, intptr_t nitems)
{
    if (nitems < 0 || (type->item_size && (size_t)nitems > (SIZE_MAX / 2) / type->item_size)) {
        rt_error_set(RT_ERR_VALUE, "cannot allocate %s of %jd items", type->name, (intmax_t)nitems);
        return NULL;
    }
    bool gc = (type->flags & RT_TYPE_GC) != 0;
    size_t block = block_size(type, nitems), head = gc ? sizeof(RtGcHead) : 0;
    RtTypeCounters *c = rti_type_counters(type);
    RtObject *op = rti_object_alloc(type, c, block, c->unit ? 0 : (int64_t)block, gc);
    if (op == NULL)
        return NULL;
    size_t rest = block - head - sizeof(RtObject);     /* every field after the header */
    if (block <= 128 && rest % sizeof(uintptr_t) == 0)
        rti_zero_words(op + 1, rest / sizeof(uintptr_t));
    else
        memset(op + 1, 0, rest);
    if (type->item_size)
        RT_SIZE(op) = nitems;
    return op;
}

RtObject *
rt_object_new(RtType *type)
{
    return rt_object_new_var(type, 0);
}

void
rt_object_free(RtObject *op)
{
    RtType *type = RT_TYPE(op);
    bool gc = (type->flags & RT_TYPE_GC) != 0;
    if (gc)
        rti_gc_untrack(op);     /* under its home's lock once threads share the runtime */
    RtTypeCounters *c = rti_type_counters(type);
    size_t block = rt_object_sizeof(op);
    rti_object_release(op, c, block, c->unit ? 0 : (int64_t)block, gc);
}

#if RT_RC_THREADED
intptr_t
rti_decref_items_chunked(RtObject **items, intptr_t n)
{
    for (; n > RTI_DEALLOC_SAFEPOINT; rti_safepoint()) {
        n -= RTI_DEALLOC_SAFEPOINT;
        RtObject **chunk = items + n;
        /* The chunk's size hidden from the optimizer: known, it made the
         * loop a pointer compared with its end, an instruction an item
         * more than the index counted down below 0 (list_dealloc's). */
        intptr_t i = RTI_DEALLOC_SAFEPOINT;
        __asm__("" : "+r"(i));
        while (--i >= 0)
            rt_xdecref(chunk[i]);
    }
    return n;
}

/* rti_object_alloc when a stop is asked (internal.h): park at the
 * safepoint, then allocate as the mode then says. */
RT_NOINLINE RtObject *
rti_object_alloc_threaded(RtType *type, RtTypeCounters *c, size_t block, int64_t bytes, bool gc)
{
    if (rti_mode() & RTI_MODE_STOP)
        rti_safepoint_slow();
    if (rti_mode() & RTI_MODE_SHARED)
        return rti_object_alloc_shared(type, c, block, bytes, gc);
    return rti_object_alloc_alone(type, c, block, bytes, gc);
}
#endif

/* ==== reference counts ================================================== */

intptr_t
rt_getrefcount(RtObject *op)
{
    intptr_t n = rt_refcnt(op);
    return n < 0 ? RT_IMMORTAL_REPORTED : n;
}

/* Set the count of an object no other thread can see (a dead one, or one
 * being made). */
static inline void set_refcnt(RtObject *op, intptr_t n) { rt_refcnt_init(op, n); }

void
rt_set_immortal(RtObject *op)
{
#if RT_RC_BIASED
    atomic_store_explicit(&op->ob_tid_local, RT_TID_LOCAL_IMMORTAL, memory_order_relaxed);
    atomic_store_explicit(&op->ob_ref_shared, 0, memory_order_relaxed);
#else
    set_refcnt(op, RT_IMMORTAL_REFCNT);
#endif
}

/* PEP 442 from dealloc: the object is at count 0.  Give it a temporary
 * reference, mark it finalized, run the finalizer, and take the reference
 * back; a count above zero then means the finalizer stored a new reference
 * somewhere (resurrection), and dealloc must stop.  Only GC types have the
 * FINALIZED bit, so only they may have finalizers. */
int
rt_object_finalize_from_dealloc(RtObject *op)
{
    RtType *type = RT_TYPE(op);
    if (type->finalize == NULL || !(type->flags & RT_TYPE_GC))
        return 0;
    RtGcHead *g = RTI_AS_GC(op);
    if (rti_gc_finalized(g))
        return 0;
    rti_assert(rt_refcnt(op) == 0);
    rti_gc_set_finalized(g);
    set_refcnt(op, 1);
    type->finalize(op);
    intptr_t left = rt_refcnt(op) - 1;
    set_refcnt(op, left);
    return left == 0 ? 0 : -1;
}

/* ==== hashing and equality ============================================== */

uint64_t
rt_object_hash(RtObject *op)
{
    if (RT_TYPE(op)->hash != NULL)
        return RT_TYPE(op)->hash(op);
    /* Identity, like object.__hash__: drop the alignment bits, then mix. */
    uint64_t x = (uint64_t)(uintptr_t)op >> 4;
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    return x ^ (x >> 33);
}

int
rt_object_eq(RtObject *a, RtObject *b)
{
    if (a == b)
        return 1;
    if (RT_TYPE(a) != RT_TYPE(b) || RT_TYPE(a)->eq == NULL)
        return 0;
    return RT_TYPE(a)->eq(a, b);
}

/* ==== deallocation ====================================================== */

#if RT_RC_THREADED
/* While an object waits on the pending stack it looks immortal, so that
 * any stray incref or decref leaves it alone, and its count field holds the
 * link to the next one, so that rti_is_pending tells it from a real
 * immortal (and rt_weakref_get sees it dead).
 *   atomic: the count, encoded below RT_IMMORTAL_REFCNT;
 *   biased: local = immortal, the tid field RT_TID_PENDING_BIT (an
 *           immortal's is 0) and the link's top bits, the shared word its
 *           low 32. */
#if RT_RC_ATOMIC
#define PENDING_BASE INTPTR_MIN
static inline intptr_t pending_link(RtObject *next) { return PENDING_BASE + (intptr_t)((uintptr_t)next >> 4); }
static inline RtObject *pending_next(intptr_t link) { return (RtObject *)((uintptr_t)(link - PENDING_BASE) << 4); }
static inline void set_link(RtObject *op, RtObject *next)
{
    atomic_store_explicit(&op->ob_refcnt, pending_link(next), memory_order_relaxed);
}
static inline RtObject *get_link(RtObject *op) { return pending_next(rt_refcnt(op)); }

bool
rti_is_pending(const RtObject *op)
{
    return rt_refcnt(op) < RT_IMMORTAL_REFCNT;
}
#else
/* The link is the address >> 4 (blocks are 16-byte aligned), 43 bits
 * below 2^47: its top 11 in the tid field beside RT_TID_PENDING_BIT, the
 * rest in the shared word. */
#define LINK_BITS 43
static inline void
set_link(RtObject *op, RtObject *next)
{
    uintptr_t v = (uintptr_t)next >> 4;
    rti_assert_msg(((uintptr_t)next & 15) == 0, "an object not 16-byte aligned");
    RTI_CHECK_((v >> LINK_BITS) == 0, "an object's address is past 2^47: the biased pending stack cannot link it");
    uint32_t tid = RT_TID_PENDING_BIT | (uint32_t)(v >> 32);
    atomic_store_explicit(&op->ob_ref_shared, (RtRefShared)(uint32_t)v, memory_order_relaxed);
    atomic_store_explicit(&op->ob_tid_local, RT_TID_LOCAL(tid, RT_REF_LOCAL_IMMORTAL), memory_order_relaxed);
}
static inline RtObject *
get_link(RtObject *op)
{
    uint32_t tid = rt_brc_tid(atomic_load_explicit(&op->ob_tid_local, memory_order_relaxed));
    uint32_t low = (uint32_t)atomic_load_explicit(&op->ob_ref_shared, memory_order_relaxed);
    return (RtObject *)((((uintptr_t)(tid & ~RT_TID_PENDING_BIT) << 32) | low) << 4);
}

bool
rti_is_pending(const RtObject *op)
{
    uint32_t word = atomic_load_explicit(&((RtObject *)op)->ob_tid_local, memory_order_relaxed);
    return rt_brc_local(word) == RT_REF_LOCAL_IMMORTAL && (rt_brc_tid(word) & RT_TID_PENDING_BIT);
}
#endif

static void
push_pending(RtObject *op)
{
    RtRuntime *rt = &rti_runtime;
    RtObject *head = atomic_load_explicit(&rt->pending, memory_order_relaxed);
    do {
        set_link(op, head);
    } while (!atomic_compare_exchange_weak_explicit(&rt->pending, &head, op, memory_order_release,
                                                    memory_order_relaxed));
}

static size_t
drain_pending_stack(RtRuntime *rt)
{
    size_t n = 0;
    RtObject *op;
    while ((op = atomic_exchange_explicit(&rt->pending, NULL, memory_order_acquire)) != NULL) {
        while (op != NULL) {
            RtObject *next = get_link(op);
            set_refcnt(op, 0);
            RT_TYPE(op)->dealloc(op);
            op = next;
            n++;
        }
    }
    return n;
}

/* Merge the queues of the calling thread (all: of every thread -- with the
 * world stopped their owners are parked, so writing their local counts is
 * safe -- and fold the per-thread counts, brc_counts.c).  A snapshot of
 * the registry, since a merge may push onto queues, which takes the
 * registry lock. */
static size_t
merge_queues(RtRuntime *rt, bool all)
{
#if RT_RC_BIASED
    if (!all)
        return rti_tstate != NULL ? rti_brc_merge_queue(rti_tstate) : 0;
    RtThreadState *snapshot[256];
    size_t k = 0, n = 0;
    pthread_mutex_lock(&rt->threads.lock);
    for (RtThreadState *ts = rt->threads.head; ts != NULL && k < 256; ts = ts->next)
        snapshot[k++] = ts;
    pthread_mutex_unlock(&rt->threads.lock);
    for (size_t i = 0; i < k; i++)
        n += rti_brc_merge_queue(snapshot[i]);
    return n + rti_brc_fold_counts(&rt->threads);
#else
    (void)rt;
    (void)all;
    return 0;
#endif
}

/* Free what other threads dropped and merge what they handed back, until
 * neither has anything left. */
static size_t
drain(bool all)
{
    RtRuntime *rt = &rti_runtime;
    size_t n = 0, step;
    do {
        step = drain_pending_stack(rt) + merge_queues(rt, all);
        n += step;
    } while (step != 0);
    return n;
}

size_t rt_drain_pending(void) { return drain(false); }
size_t rti_drain_all(void) { return drain(true); }

/* An attached thread frees what it drops; any other thread hands it to
 * the runtime's owner. */
void
rt_dealloc(RtObject *op)
{
    if (rt_unlikely(rti_tstate == NULL)) {
        push_pending(op);
        return;
    }
    RT_TYPE(op)->dealloc(op);
}
#else
bool rti_is_pending(const RtObject *op) { (void)op; return false; }
size_t rt_drain_pending(void) { return 0; }
size_t rti_drain_all(void) { return 0; }
void rt_dealloc(RtObject *op) { RT_TYPE(op)->dealloc(op); }
#endif

/* ==== the trashcan ====================================================== */

/* Deallocating a long chain of containers recurses once per link and can
 * overflow the C stack.  As CPython's trashcan does, a container dealloc
 * past RTI_TRASH_LIMIT nested levels deposits the object instead, linked
 * through the gc_prev word of its (now untracked) GC header, and the
 * outermost dealloc destroys the deposited objects once the stack unwound.
 * gc_next stays 0, so the object still reads as untracked.
 *
 * A deposited object is dead (count 0) and untracked: no reference and no
 * collection reaches it.  Only weakrefs may still point at it, and that is
 * safe: they read a count of 0 as dead, and one that dies meanwhile unlinks
 * itself from the object's weakref list, which is still there.  A weakref
 * is never deposited while on its referent's list (weakref.c): the
 * collector and the referent's dealloc walk that list. */
typedef struct Trash {
    int depth;              /* nested container deallocs */
    RtGcHead *list;         /* deposited objects */
} Trash;
static _Thread_local Trash trash;   /* deallocs nest per thread */

bool
rti_trash_begin(RtObject *op)
{
    Trash *t = &trash;
    rti_assert_msg(!rti_gc_tracked(RTI_AS_GC(op)) && rt_refcnt(op) == 0,
                   "the trashcan takes dead, untracked objects: untrack in dealloc before rti_trash_begin");
    if (t->depth < RTI_TRASH_LIMIT) {
        t->depth++;
        return false;
    }
    RtGcHead *g = RTI_AS_GC(op);
    g->gc_prev = (g->gc_prev & RTI_GC_FLAGS) | (uintptr_t)t->list;
    t->list = g;
    return true;
}

/* The outermost dealloc ended with objects deposited: destroy them.  Out
 * of line, so that rti_trash_end inlines into the deallocs. */
static RT_NOINLINE void
trash_destroy(Trash *t)
{
    t->depth++;      /* destroy at depth 1: nested ends do not recurse here */
    while (t->list != NULL) {
        RtGcHead *g = t->list;
        t->list = rti_gc_prev(g);
        g->gc_prev &= RTI_GC_FLAGS;
        RtObject *op = RTI_FROM_GC(g);
        RT_TYPE(op)->dealloc(op);
    }
    t->depth--;
}

void
rti_trash_end(void)
{
    Trash *t = &trash;
    rti_assert(t->depth > 0);
    if (--t->depth == 0 && rt_unlikely(t->list != NULL))
        trash_destroy(t);
}

