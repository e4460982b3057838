/* pool_heap.c -- the pool allocator's heaps: one per thread, over shared
 * arenas; their statistics and validation.
 *
 * A heap (RtPoolHeap, pool.h) is a thread's size-class pools (usedpools)
 * and free caches.  In the nonatomic variant there is one, embedded in the
 * runtime.  In the threaded variants (atomic, biased) every attached thread
 * owns one (rt_thread_attach adopts it, thread.c), found through a
 * thread-local pointer (rti_theap, internal.h), so that the fast paths are
 * the single-threaded ones on another base address, with no lock and no
 * atomic:
 *
 *   allocation  pops the own heap's cache or the first used pool of the
 *               class -- every pool on a heap's lists is the heap's own;
 *   free        pushes onto the own heap's cache, whoever's block it is: a
 *               cached block stays "in use" to its pool, so no pool is
 *               touched.  The owner test comes when a block goes back to
 *               a pool (the cache is full or stepped aside, a flush): each
 *               pool records its heap (RtPool.heap); a block of another
 *               heap's pool goes onto that heap's delayed list, a lock-free
 *               stack (mimalloc's thread_delayed_free), which the owner
 *               gives back to the pools at its next slow path (a refill, a
 *               new pool), at trims, and when it detaches.  Only the thread
 *               that stopped the world (a collection freeing every thread's
 *               garbage) gives such a block straight back to its pool: the
 *               owner is parked or blocked.
 *
 * A pool's heap is set when the heap takes the pool from the arenas, and
 * does not change while any block of it is in use: it goes back to the
 * arenas only empty.  So another thread reads it without a lock -- it holds
 * a block of the pool, handed to it after the pool was taken.
 *
 * A thread that detaches gives its delayed blocks and cached blocks back
 * and its empty pools to the arenas, and abandons the heap, blocks still
 * live, onto the arenas' abandoned list; frees of those blocks keep going
 * onto its delayed list.  The next thread that attaches adopts it -- the
 * whole heap, not pool by pool as mimalloc's segments are: a heap's pools
 * keep their heap pointer, so adopting is a pop.  Until then, every full
 * collection (the world stopped) trims it with the others, so its pools go
 * back to the arenas as they empty.  Heaps are freed only at rt_fini; their
 * number is the most threads attached at once.  A thread's heap is the
 * start of its RtThreadHeap (internal.h: the collector's lists and the type
 * statistics follow), which the arenas allocate (heap_size, on_heap_init).
 *
 * The arenas stay shared (pool_arena.c), under a lock in the threaded
 * variants: a heap takes the lock once per pool taken or given back.
 *
 * Empty pools.  A pool that empties on a threaded heap stays with the heap
 * (RtPoolHeap.empty, up to RTI_HEAP_EMPTY_POOLS), and the heap's next new
 * pool is the last one kept; only beyond that, and at trims (explicit, a
 * full collection's, a detach), do emptied pools go back to the arenas.
 * Given back at once, as obmalloc does, the pools of two threads that
 * drop and rebuild their structures pass through the arenas' LIFO lists to
 * each other: each round, every block's line then comes from the other
 * core's cache.  list_append (n=2000, 12800 rounds, biased) took 2.1x the
 * one-thread time at 2 threads that way, with the arenas' lock taken 8
 * times a round.  mimalloc's pages stay in their thread's segment
 * likewise.  The pools kept count as in use to the arenas (pools, the
 * classes' statistics); the blocks in use do not change.
 *
 * Statistics.  Each heap counts its own operations (nalloc, nfree, large);
 * the totals sum them.  A block allocated on one thread and freed on another
 * counts in both heaps, so a heap's own "in use" can go negative; the total
 * cannot -- and neither the heaps' own peaks nor their sum says what the
 * total's was: a thread that frees what another makes has its count fall
 * without end while the maker's climbs.  So in the threaded variants each
 * heap publishes its count at its sample points -- the allocation's slow
 * paths (a refill, a new pool) and the free's (a pool that was full or
 * emptied, every RTI_FOREIGN_SAMPLE blocks sent to other heaps) -- by adding
 * what it moved since its last to an atomic sum (ar->published_in_use),
 * whose peak it raises when it grew -- once the count moved by
 * RTI_PUBLISH_BATCH since the last time (Linux's percpu_counter batch): the
 * sum is one line every heap adds to.  A heap's published count trails its
 * own by less than the batch plus what it did since its last sample: at most
 * a pool's worth of allocations from one pool's list, a class's cache of
 * frees, RTI_FOREIGN_SAMPLE blocks sent away -- or frees onto its own pools
 * that neither fill nor empty them, which a thread freeing a fragmented heap
 * makes without bound.  The total's peak is the largest of that sum's, the
 * exact sums taken when the heaps are read together (rt_alloc_stats, the
 * world stopped) and the one heap's own when a second thread came
 * (rti_pools_share); with one heap it is the heap's own, as in the nonatomic
 * variant (there: within a refill's worth below the truth).  Before, the
 * threaded total's peak was sampled only when the heaps were read together:
 * the harness reads them at the end of a run, when little is in use, and a
 * two-thread list_append reported a peak of 0 blocks.
 *
 * Validation (rti_pools_validate, every heap at rest): each heap's lists
 * and caches, the arenas, every carved pool, and the count that ties them:
 * the blocks in use to the pools = those in use to the user (the heaps'
 * nalloc - nfree, summed) + the cached ones + the delayed ones; and in the
 * threaded variants the heaps' published counts = the arenas' sum of them.
 */

#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ==== heaps ============================================================= */

void
rti_pool_heap_init(RtPoolHeap *ph, RtArenas *ar)
{
    memset(ph, 0, sizeof *ph);
    ph->ar = ar;
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++)
        ph->cache[idx].limit = RTI_CACHE_SIZE;
}

/* Link a heap into the list of every heap (the arenas' lock held). */
static void
link_heap(RtArenas *ar, RtPoolHeap *ph)
{
    ph->next_heap = ar->heaps;
    ar->heaps = ph;
}

int
rti_pools_init(RtArenas *ar, RtPoolHeap *first, double decay_s)
{
    if (rti_arenas_init(ar, decay_s) < 0)
        return -1;
    if (first != NULL) {
        rti_pool_heap_init(first, ar);
        link_heap(ar, first);
    }
    return 0;
}

void
rti_pools_fini(RtArenas *ar, RtPoolHeap *first)
{
    RtPoolHeap *ph = ar->heaps;
    while (ph != NULL) {
        RtPoolHeap *next = ph->next_heap;
        if (ph != first)
            free(ph);
        ph = next;
    }
    rti_arenas_fini(ar);
    memset(ar, 0, sizeof *ar);
    if (first != NULL)
        memset(first, 0, sizeof *first);
}

#if RT_RC_THREADED
/* Raise *peak to at least value. */
void
rti_peak_raise(_Atomic int64_t *peak, int64_t value)
{
    int64_t seen = atomic_load_explicit(peak, memory_order_relaxed);
    while (value > seen && !atomic_compare_exchange_weak_explicit(peak, &seen, value, memory_order_relaxed,
                                                                  memory_order_relaxed))
        ;
}

/* Add what ph's count of blocks in use moved since it last published to
 * the heaps' sum, and raise the sum's peak when it grew (see the top). */
static void
publish(RtPoolHeap *ph, int64_t in_use)
{
    int64_t delta = in_use - ph->published;
    if (!rti_publish_due(delta, RTI_PUBLISH_BATCH))
        return;
    ph->published = in_use;
    rti_total_add(&ph->ar->published_in_use, &ph->ar->published_peak, delta);
}

void
rti_pools_share(RtArenas *ar)
{
    for (RtPoolHeap *ph = ar->heaps; ph != NULL; ph = ph->next_heap)
        if (ph->in_use_peak > ar->in_use_peak)
            ar->in_use_peak = ph->in_use_peak;
}
#endif

/* A sample point: the peak of blocks in use, and the object layer's. */
void
rti_pool_sample(RtPoolHeap *ph)
{
    uint64_t in_use = ph->nalloc - ph->nfree;
    if ((int64_t)in_use > (int64_t)ph->in_use_peak)
        ph->in_use_peak = in_use;
#if RT_RC_THREADED
    publish(ph, (int64_t)in_use);
#endif
    if (ph->ar->on_sample != NULL)
        ph->ar->on_sample();
}

#if RT_RC_THREADED
void
rti_pool_collect_delayed(RtPoolHeap *ph)
{
    if (atomic_load_explicit(&ph->delayed, memory_order_relaxed) == NULL)
        return;
    RtBlock *b = atomic_exchange_explicit(&ph->delayed, NULL, memory_order_acquire);
    while (b != NULL) {
        RTI_UNPOISON(b, sizeof *b);
        RtBlock *next = b->next;
        RtPool *pool = RTI_POOL_OF(b);
        rti_assert(pool->heap == ph);
        if (rti_pool_push(pool, b))
            rti_pool_free_slow(ph, pool);
        b = next;
    }
}

RtPoolHeap *
rti_pool_heap_adopt(RtArenas *ar)
{
    pthread_mutex_lock(&ar->lock);
    RtPoolHeap *ph = ar->abandoned;
    if (ph != NULL)
        ar->abandoned = ph->next_abandoned;
    pthread_mutex_unlock(&ar->lock);
    if (ph == NULL) {
        /* A heap of its own lines: no false sharing with its neighbours. */
        size_t size = ((ar->heap_size > sizeof *ph ? ar->heap_size : sizeof *ph) + 63) & ~(size_t)63;
        ph = aligned_alloc(64, size);
        if (ph == NULL)
            return NULL;
        rti_pool_heap_init(ph, ar);
        if (ar->on_heap_init != NULL)
            ar->on_heap_init(ph);
        pthread_mutex_lock(&ar->lock);
        link_heap(ar, ph);
        pthread_mutex_unlock(&ar->lock);
    }
    ph->next_abandoned = NULL;
    rti_pool_collect_delayed(ph);
    rti_pool_check(ph);
    return ph;
}

void
rti_pool_heap_abandon(RtPoolHeap *ph)
{
    rti_pool_trim_heap(ph);
    rti_pool_check(ph);
    RtArenas *ar = ph->ar;
    pthread_mutex_lock(&ar->lock);
    ph->next_abandoned = ar->abandoned;
    ar->abandoned = ph;
    pthread_mutex_unlock(&ar->lock);
}
#endif

/* Every heap at rest: their caches flushed, delayed blocks given back and
 * retained pools released -- twice, since a flush hands other heaps' blocks
 * to their delayed lists -- then the arenas by the rule or all. */
void
rti_pools_trim(RtArenas *ar, bool by_rule)
{
    for (int pass = 0; pass < (RT_RC_THREADED ? 2 : 1); pass++)
        for (RtPoolHeap *ph = ar->heaps; ph != NULL; ph = ph->next_heap)
            rti_pool_trim_heap(ph);
    rti_arenas_trim(ar, by_rule);
}

/* ==== statistics ======================================================== */

/* The shared figures: pools, arenas (the arenas' lock held). */
static void
shared_counts(RtArenas *ar, RtAllocStats *st)
{
    st->pools = ar->pools;
    st->arenas = ar->arenas_stat;
    st->arena_bytes = (uint64_t)ar->arenas_stat.current * RT_ARENA_SIZE;
    st->arenas_retained = ar->nretained;
    st->arenas_reused = ar->arenas_reused;
}

static void
add_count(RtStatCount *sum, const RtStatCount *c)
{
    sum->allocated += c->allocated;
    sum->freed += c->freed;
    sum->current += c->current;
    sum->peak += c->peak;       /* an upper bound */
}

void
rti_pool_heap_counts(RtPoolHeap *ph, RtAllocStats *st)
{
    rti_pool_sample(ph);
    st->small.allocated = ph->nalloc;
    st->small.freed = ph->nfree;
    st->small.current = (int64_t)(ph->nalloc - ph->nfree);
    st->small.peak = (int64_t)ph->in_use_peak;
    st->large = ph->large;
#if RT_RC_THREADED
    pthread_mutex_lock(&ph->ar->lock);
    shared_counts(ph->ar, st);
    pthread_mutex_unlock(&ph->ar->lock);
#else
    shared_counts(ph->ar, st);
#endif
}

/* The counters of every heap: cheap, no walk.  A sample point. */
void
rti_pools_counts(RtArenas *ar, RtAllocStats *st)
{
    RtStatCount large = {0};
    uint64_t nalloc = 0, nfree = 0;
    RtPoolHeap *only = ar->heaps != NULL && ar->heaps->next_heap == NULL ? ar->heaps : NULL;
    if (only != NULL) {
        rti_pool_sample(only);      /* its peak is the total's */
        if (only->in_use_peak > ar->in_use_peak)
            ar->in_use_peak = only->in_use_peak;
    } else if (ar->on_sample != NULL) {
        ar->on_sample();
    }
    for (RtPoolHeap *ph = ar->heaps; ph != NULL; ph = ph->next_heap) {
        nalloc += ph->nalloc;
        nfree += ph->nfree;
        add_count(&large, &ph->large);
    }
    if (nalloc - nfree > ar->in_use_peak)
        ar->in_use_peak = nalloc - nfree;
#if RT_RC_THREADED
    int64_t published = atomic_load_explicit(&ar->published_peak, memory_order_relaxed);
    if (published > (int64_t)ar->in_use_peak)
        ar->in_use_peak = (uint64_t)published;
#endif
    st->small.allocated = nalloc;
    st->small.freed = nfree;
    st->small.current = (int64_t)(nalloc - nfree);
    st->small.peak = (int64_t)ar->in_use_peak;
    st->large = large;
    shared_counts(ar, st);
}

/* The descriptors of an arena's carved pools: [first_pool, end_pool). */
static const RtPool *
first_pool(const RtArena *ao)
{
    return (const RtPool *)ao->address + RTI_FIRST_POOL;
}

static const RtPool *
end_pool(const RtArena *ao)
{
    return (const RtPool *)ao->address + ((uintptr_t)ao->pool_address - ao->address) / RT_POOL_SIZE;
}

static bool
pool_is_free(const RtArena *ao, const RtPool *pool)
{
    for (const RtPool *f = ao->freepools; f != NULL; f = f->nextpool)
        if (f == pool)
            return true;
    return false;
}

static uint32_t
list_length(const RtBlock *b)
{
    uint32_t n = 0;
    while (b != NULL) {
        RTI_UNPOISON(b, sizeof *b);
        const RtBlock *next = b->next;
        RTI_POISON(b, sizeof *b);
        b = next;
        n++;
    }
    return n;
}

/* Blocks free to the user and in use to their pools, by class: cached, or
 * on a delayed list. */
static void
count_parked(const RtArenas *ar, uint32_t parked[RT_NB_SMALL_SIZE_CLASSES])
{
    memset(parked, 0, RT_NB_SMALL_SIZE_CLASSES * sizeof parked[0]);
    for (const RtPoolHeap *ph = ar->heaps; ph != NULL; ph = ph->next_heap) {
        for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++)
            parked[idx] += ph->cache[idx].n;
#if RT_RC_THREADED
        for (const RtBlock *b = atomic_load_explicit(&((RtPoolHeap *)ph)->delayed, memory_order_acquire); b != NULL;) {
            RTI_UNPOISON(b, sizeof *b);
            const RtBlock *next = b->next;
            RTI_POISON(b, sizeof *b);
            parked[RTI_POOL_OF(b)->szidx]++;
            b = next;
        }
#endif
    }
}

/* Per-class figures: walk every carved pool of every mapped arena; a pool
 * is in use when it is not on its arena's freepools list. */
void
rti_pools_stats(RtArenas *ar, RtAllocStats *st)
{
    rti_pools_counts(ar, st);
    for (uint32_t i = 0; i < RT_NB_SMALL_SIZE_CLASSES; i++)
        st->classes[i].size = RTI_CLASS_SIZE(i);
    for (uint32_t a = 0; a < ar->maxarenas; a++) {
        const RtArena *ao = &ar->arenas[a];
        if (ao->address == 0)
            continue;
        for (const RtPool *pool = first_pool(ao); pool < end_pool(ao); pool++) {
            if (pool_is_free(ao, pool) || pool->szidx == RTI_NO_CLASS)
                continue;
            RtSizeClassStats *c = &st->classes[pool->szidx];
            uint32_t count = RTI_POOL_COUNT(pool);
            c->pools++;
            c->blocks += count;
            c->free_blocks += RTI_POOL_CAPACITY(pool->szidx) - count;
            st->small_bytes += (uint64_t)count * RTI_CLASS_SIZE(pool->szidx);
        }
    }
    uint32_t parked[RT_NB_SMALL_SIZE_CLASSES];
    count_parked(ar, parked);
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++) {
        st->classes[idx].blocks -= parked[idx];
        st->classes[idx].free_blocks += parked[idx];
        st->small_bytes -= (uint64_t)parked[idx] * RTI_CLASS_SIZE(idx);
    }
}

/* ==== validation (tests) ================================================ */

#define CHECK RTI_POOL_CHECK

/* Check one used or full pool: blocks in use + both free lists + the
 * never-used blocks must equal its capacity. */
static int
validate_pool(const RtPool *pool, char *err, size_t errlen)
{
    uint32_t size = RTI_CLASS_SIZE(pool->szidx);
    uint32_t capacity = RTI_POOL_CAPACITY(pool->szidx);
    uint32_t virgin = pool->nextoffset <= pool->maxnextoffset
                          ? (pool->maxnextoffset - pool->nextoffset) / size + 1 : 0;
    uint32_t nfree = list_length(pool->freeblock) + list_length(pool->localfree);
    CHECK(RTI_POOL_COUNT(pool) + nfree + virgin == capacity, "pool %p (class %u): %u used + %u free + %u virgin != %u",
          (const void *)pool, pool->szidx, RTI_POOL_COUNT(pool), nfree, virgin, capacity);
    CHECK(pool->freeblock != NULL || (pool->localfree == NULL && virgin == 0),
          "pool %p has free blocks but an empty allocation list", (const void *)pool);
    return 0;
}

/* A heap's kept empty pools (threaded variants): its own, empty, valid,
 * as many as nempty says. */
static int
validate_empty_pools(const RtPoolHeap *ph, char *err, size_t errlen)
{
#if RT_RC_THREADED
    uint32_t n = 0;
    for (const RtPool *p = ph->empty; p != NULL; p = p->nextpool, n++) {
        CHECK(n < RTI_HEAP_EMPTY_POOLS, "heap %p keeps more than %u empty pools", (const void *)ph,
              RTI_HEAP_EMPTY_POOLS);
        CHECK(p->heap == ph && RTI_POOL_COUNT(p) == 0, "kept pool %p of heap %p: heap %p, %u blocks in use",
              (const void *)p, (const void *)ph, (const void *)p->heap, RTI_POOL_COUNT(p));
        if (validate_pool(p, err, errlen) < 0)
            return -1;
    }
    CHECK(n == ph->nempty, "heap %p keeps %u empty pools, counts %u", (const void *)ph, n, ph->nempty);
#else
    (void)ph, (void)err, (void)errlen;
#endif
    return 0;
}

/* One heap's own lists: its used pools (its own, of their class, each
 * valid when pools), its kept empty pools and its caches (blocks of their
 * class, n <= limit). */
static int
validate_heap(const RtPoolHeap *ph, bool pools, char *err, size_t errlen)
{
    if (validate_empty_pools(ph, err, errlen) < 0)
        return -1;
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++) {
        const RtPool *prev = NULL;
        for (const RtPool *p = ph->usedpools[idx]; p != NULL; prev = p, p = p->nextpool) {
            CHECK(p->szidx == idx, "used pool %p of class %u claims class %u", (const void *)p, idx, p->szidx);
            CHECK(p->heap == ph, "used pool %p of heap %p names heap %p", (const void *)p, (const void *)ph,
                  (const void *)p->heap);
            CHECK(p->prevpool == prev, "used pool %p has a broken prev link", (const void *)p);
            CHECK(p->freeblock != NULL, "used pool %p of class %u has no free block", (const void *)p, idx);
            if (pools && validate_pool(p, err, errlen) < 0)
                return -1;
        }
        const RtFreeCache *c = &ph->cache[idx];
        CHECK(c->limit == 0 || c->limit == RTI_CACHE_SIZE, "free cache %u has limit %u", idx, c->limit);
        CHECK(c->n <= c->limit, "free cache %u holds %u blocks, limit %u", idx, c->n, c->limit);
        for (uint32_t i = 0; i < c->n; i++) {
            const void *p = c->slots[i];
            CHECK(rti_arena_map_contains(&ph->ar->map, p) && RTI_POOL_OF(p)->szidx == idx,
                  "free cache %u holds %p, not a block of its class", idx, p);
        }
    }
    return 0;
}

static bool
is_heap(const RtArenas *ar, const RtPoolHeap *h)
{
    for (const RtPoolHeap *ph = ar->heaps; ph != NULL; ph = ph->next_heap)
        if (ph == h)
            return true;
    return false;
}

int
rti_pools_validate(const RtArenas *ar, char *err, size_t errlen)
{
    if (rti_arenas_validate(ar, err, errlen) < 0)
        return -1;
    int64_t recorded = 0, published = 0;
    for (const RtPoolHeap *ph = ar->heaps; ph != NULL; ph = ph->next_heap) {
        if (validate_heap(ph, false, err, errlen) < 0)
            return -1;
        recorded += (int64_t)(ph->nalloc - ph->nfree);
#if RT_RC_THREADED
        published += ph->published;
#endif
    }
#if RT_RC_THREADED
    CHECK(published == atomic_load_explicit(&ar->published_in_use, memory_order_relaxed),
          "the heaps published %jd blocks in use, their sum says %jd", (intmax_t)published,
          (intmax_t)atomic_load_explicit(&ar->published_in_use, memory_order_relaxed));
#else
    (void)published;
#endif
    int64_t in_use = 0;
    for (uint32_t a = 0; a < ar->maxarenas; a++) {
        const RtArena *ao = &ar->arenas[a];
        if (ao->address == 0)
            continue;
        for (const RtPool *pool = first_pool(ao); pool < end_pool(ao); pool++) {
            if (pool_is_free(ao, pool))
                continue;
            CHECK(pool->arenaindex == a, "pool %p names arena %u, not %u", (const void *)pool, pool->arenaindex, a);
            CHECK(RTI_CLASS_MAP(pool)[RTI_DESC_SLOT(pool)] == pool->szidx, "pool %p: the class map says %u, the pool %u",
                  (const void *)pool, RTI_CLASS_MAP(pool)[RTI_DESC_SLOT(pool)], pool->szidx);
            CHECK(is_heap(ar, pool->heap), "pool %p names no heap", (const void *)pool);
            if (validate_pool(pool, err, errlen) < 0)
                return -1;
            in_use += RTI_POOL_COUNT(pool);
        }
    }
    uint32_t parked[RT_NB_SMALL_SIZE_CLASSES];
    count_parked(ar, parked);
    int64_t nparked = 0;
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++)
        nparked += parked[idx];
    CHECK(in_use == recorded + nparked, "%lld blocks in pools, %lld recorded + %lld cached or delayed",
          (long long)in_use, (long long)recorded, (long long)nparked);
    return 0;
}

#if RT_DEBUG >= 2
static void
check_failed(int rc, const char *err)
{
    if (rc < 0)
        rti_assert_fail("the pool allocator validates", err, __FILE__, __LINE__, __func__);
}

void
rti_pool_check(const RtPoolHeap *ph)
{
    char err[256];
#if RT_RC_THREADED
    check_failed(validate_heap(ph, true, err, sizeof err), err);
#else
    check_failed(rti_pools_validate(ph->ar, err, sizeof err), err);
#endif
}

void
rti_arenas_check(const RtArenas *ar)
{
    char err[256];
#if RT_RC_THREADED
    check_failed(rti_arenas_validate(ar, err, sizeof err), err);
#else
    check_failed(rti_pools_validate(ar, err, sizeof err), err);
#endif
}
#endif
