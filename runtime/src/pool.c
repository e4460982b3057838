/* pool.c -- the pooled small-object allocator, after CPython's obmalloc.
 *
 * Layers, from the OS up:
 *
 *   arena   1 MiB, mapped with mmap at a 1 MiB-aligned address; kept mapped
 *           for reuse a while after it is wholly free (pool_arena.c);
 *   pool    16 KiB slice of an arena holding blocks of one size class;
 *           its 64-byte descriptor sits in a table in the arena's first
 *           slot (pool.h), not at the pool's start as in obmalloc;
 *   block   16..512 bytes in steps of 16: class idx = (size - 1) >> 4.
 *
 *     Request in bytes     Size of allocated block      Size class idx
 *     ----------------------------------------------------------------
 *            1-16                     16                       0
 *           17-32                     32                       1
 *            ...                     ...                     ...
 *          497-512                   512                      31
 *     0, or more than 512: passed to malloc (the "large" path)
 *
 * Allocation strategy abstract:
 *   - Free pushes the block onto its class's free cache (pool.h,
 *     RtFreeCache; the arena map says whether the address is ours, the
 *     arena's class map gives the class), and allocation pops the cache
 *     first.  When the cache is full, or has stepped aside because its
 *     class shrinks, the block goes back to its pool: onto the pool's local
 *     free list (the pool's descriptor is found by masking the address).
 *   - usedpools[idx] lists the pools of class idx that have a free block;
 *     allocation with an empty cache pops the allocation list of its first
 *     pool (pool.h).  When that list runs dry it is refilled: with the
 *     blocks freed since the last refill, else with never-used blocks
 *     carved from the pool (4 KiB, at least 32 blocks, at a time); when
 *     there are neither, the pool is full and leaves the list.
 *   - A class with no used pool takes an empty pool from the first arena of
 *     usable_arenas, which is kept in increasing order of free pools: the
 *     most used arenas serve first, so lightly used arenas tend to empty
 *     (pool_arena.c).  No usable arena: map a new one.
 *   - A full pool goes back to the front of usedpools; an empty pool goes
 *     to its arena's freepools, and the arena moves right in usable_arenas
 *     to keep the order; a wholly free arena is retained, then released by
 *     the retention rule (pool_arena.c).
 *
 * Departures from obmalloc.
 *   - For the alloc/free pair's latency: split free lists (pool.h, RtPool),
 *     and when the last used pool of a class empties, it stays on usedpools
 *     (a "retained" pool).  obmalloc sends a pool that empties to the
 *     arena's freepools and takes it back on the next allocation, so an
 *     alloc/free pair in a class with nothing else alive pays both slow
 *     paths every time.
 *   - For frees and allocations in turn, and for the shortest pair: the
 *     free caches, a thread cache after jemalloc's and glibc's tcache, which
 *     touches neither the block nor its pool; a cache steps aside while its
 *     class shrinks, so that arenas still drain.
 *   - For frees across a large heap: pool descriptors live in a table in
 *     the arena's first 16 KiB slot instead of at each pool's start, so
 *     giving a block back touches it and a dense table rather than a second
 *     page per pool (a TLB miss each, costly under a hypervisor's nested
 *     paging); a pool then holds a whole number of blocks from its first
 *     byte (32 of 512 bytes, not 31), and an arena 63 pools, not 64 (the
 *     table's slot is mapped, but only its first page is touched).  The
 *     table's first entry, which would describe the table itself, is the
 *     arena's class map.
 *   - For programs that drop and rebuild large structures: wholly free
 *     arenas are retained for a while instead of unmapped at once
 *     (pool_arena.c).
 *   - For the walks over what was rebuilt: an empty pool taken again is
 *     carved afresh, its blocks handed out in address order, as a new
 *     mimalloc page's free list is built.  obmalloc reuses the free list
 *     when the pool last held the same class; that list holds the blocks
 *     in the reverse order of their frees, and when a collection or a
 *     teardown frees them out of address order, the objects made next --
 *     and the collector's lists, which keep allocation order -- jump back
 *     and forth within pools, where the hardware prefetcher loses the
 *     stream.  cycle_storm's first full collection of its second round
 *     took 13x longer per object than those of the first (64-byte
 *     objects); carving afresh costs 2.75 instructions a block.
 *   - For the fast paths' length: plain counters, the peak of blocks in use
 *     taken at sample points (RtPoolHeap).
 *   - For threads (the threaded variants): a heap of pools and caches per
 *     thread over shared arenas (pool_heap.c), as mimalloc's; a block
 *     that goes back to another heap's pool takes that heap's delayed list
 *     (rti_pool_free_foreign below), collected by the owner at its refills
 *     -- or, with the world stopped by the freeing thread, its pool.
 * Retained pools and cached blocks pin their arenas; rti_pools_trim() gives
 * cached blocks back and releases retained pools, then retained arenas:
 * all of them when the user asks (rt_alloc_trim, rt_fini), by the
 * retention rule after a full collection.
 */

#include "internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ==== pools ============================================================= */

static inline void
link_used_front(RtPoolHeap *ph, RtPool *pool)
{
    RtPool *head = ph->usedpools[pool->szidx];
    pool->nextpool = head;
    pool->prevpool = NULL;
    if (head != NULL)
        head->prevpool = pool;
    ph->usedpools[pool->szidx] = pool;
}

static inline void
unlink_used(RtPoolHeap *ph, RtPool *pool)
{
    if (pool->prevpool != NULL)
        pool->prevpool->nextpool = pool->nextpool;
    else
        ph->usedpools[pool->szidx] = pool->nextpool;
    if (pool->nextpool != NULL)
        pool->nextpool->prevpool = pool->prevpool;
}

/* An emptied pool leaves the heap: kept for the heap's next new pool in the
 * threaded variants while there is room (pool_heap.c, "Empty pools"), else
 * given back to its arena. */
static void
give_pool(RtPoolHeap *ph, RtPool *pool)
{
    rti_assert(RTI_POOL_COUNT(pool) == 0 && pool->heap == ph);
#if RT_RC_THREADED
    if (ph->nempty < RTI_HEAP_EMPTY_POOLS) {
        pool->nextpool = ph->empty;
        pool->prevpool = NULL;
        ph->empty = pool;
        ph->nempty++;
        return;
    }
#endif
    rti_arena_give_pool(ph->ar, pool);
}

#if RT_RC_THREADED
/* The heap's last kept empty pool, off its list; NULL when it keeps none. */
static RtPool *
pop_kept(RtPoolHeap *ph)
{
    RtPool *pool = ph->empty;
    if (pool != NULL) {
        ph->empty = pool->nextpool;
        ph->nempty--;
    }
    return pool;
}
#endif

/* A pool for a new class: the heap's last emptied one, else the arenas'. */
static RtPool *
take_pool(RtPoolHeap *ph, bool *arena_changed)
{
#if RT_RC_THREADED
    RtPool *pool = pop_kept(ph);
    if (pool != NULL) {
        *arena_changed = false;
        return pool;
    }
#endif
    return rti_arena_take_pool(ph->ar, arena_changed);
}

/* Link block b to next, leaving b poisoned. */
static inline void
link_block(uint8_t *b, uint8_t *next, uint32_t size)
{
    RTI_UNPOISON(b, sizeof(RtBlock));
    ((RtBlock *)b)->next = (RtBlock *)next;
    RTI_POISON(b, size);
}

/* Carve a batch of never-used blocks (pool.h) onto the (empty) allocation
 * list, linked in address order.  False when none are left.  Four links a
 * step: about 2.75 instructions a block where one a step took 5 (a loop
 * that reuses pools re-carves every block: see rti_pool_alloc_new_pool). */
static bool
carve(RtPool *pool)
{
    if (pool->nextoffset > pool->maxnextoffset)
        return false;
    uint32_t size = RTI_CLASS_SIZE(pool->szidx);
    uint32_t n = RTI_CARVE_BYTES / size, left = (pool->maxnextoffset - pool->nextoffset) / size + 1;
    if (n < RTI_CARVE_MIN_BLOCKS)
        n = RTI_CARVE_MIN_BLOCKS;
    if (n > left)
        n = left;
    size_t step = size;
    uint8_t *base = RTI_POOL_MEM(pool) + pool->nextoffset, *last = base + (n - 1) * step, *b = base;
    for (; b + 4 * step <= last; b += 4 * step) {
        link_block(b, b + step, size);
        link_block(b + step, b + 2 * step, size);
        link_block(b + 2 * step, b + 3 * step, size);
        link_block(b + 3 * step, b + 4 * step, size);
    }
    for (; b < last; b += step)
        link_block(b, b + step, size);
    link_block(last, NULL, size);
    pool->freeblock = (RtBlock *)base;
    pool->nextoffset += n * size;
    return true;
}

/* First block of a pool taken for class idx (usedpools[idx] was empty).
 * The caller counted the block in the heap's nalloc: taken back while the
 * arenas change, so that the heap validates in between. */
void *
rti_pool_alloc_new_pool(RtPoolHeap *ph, uint32_t idx)
{
    ph->nalloc--;
    ph->cache[idx].limit = RTI_CACHE_SIZE;      /* growing: see RtFreeCache */
#if RT_RC_THREADED
    /* Blocks other threads gave back may make a pool of the class used
     * again. */
    rti_pool_collect_delayed(ph);
    if (ph->usedpools[idx] != NULL) {
        ph->nalloc++;
        return rti_pool_pop(ph, ph->usedpools[idx]);
    }
#endif
    bool arena_changed;
    RtPool *pool = take_pool(ph, &arena_changed);
    if (pool == NULL)
        return rti_nomem();
    RTI_CLASS_MAP(pool)[RTI_DESC_SLOT(pool)] = (uint8_t)idx;
    pool->heap = ph;
    /* Carved afresh, also when it last held this class and its free lists
     * would do: those hold its blocks in the reverse order of their frees
     * (see the departures above). */
    pool->szidx = idx;
    pool->count = 0;
    pool->freeblock = pool->localfree = NULL;
    pool->nextoffset = 0;
    pool->maxnextoffset = (uint32_t)(RT_POOL_SIZE - RTI_CLASS_SIZE(idx));
    carve(pool);
    link_used_front(ph, pool);
    if (arena_changed)
        rti_pool_check(ph);
    rti_pool_sample(ph);
    ph->nalloc++;
    return rti_pool_pop(ph, pool);
}

/* The allocation list of a used pool ran dry as bp was taken from it:
 * swap in the local free list, or carve never-used blocks, or retire the
 * pool as full.  Returns bp.  A sample point (RtPoolHeap). */
void *
rti_pool_refill(RtPoolHeap *ph, RtPool *pool, void *bp)
{
    ph->cache[pool->szidx].limit = RTI_CACHE_SIZE;      /* growing: see RtFreeCache */
    if (pool->localfree != NULL) {
        pool->freeblock = pool->localfree;
        pool->localfree = NULL;
    } else if (!carve(pool)) {
        unlink_used(ph, pool);
        pool->nextpool = pool->prevpool = NULL;
        rti_assert(rti_pool_full(pool) && pool->count == RTI_POOL_CAPACITY(pool->szidx));
        pool->count = RTI_POOL_FULL_COUNT;
    }
#if RT_RC_THREADED
    /* Only now: a block given back to the pool while it was half way
     * through the refill (on usedpools with an empty list) would link it
     * twice. */
    rti_pool_collect_delayed(ph);
#endif
    rti_pool_sample(ph);
    return bp;
}

/* A full pool got a free block back (it becomes used again), or a pool
 * emptied: it goes back to its arena, unless it is the class's only used
 * pool, which stays (a retained pool, see top). */
void
rti_pool_free_slow(RtPoolHeap *ph, RtPool *pool)
{
    if (pool->freeblock == NULL) {
        /* It was full: its count was RTI_POOL_FULL_COUNT (RtPool). */
        pool->freeblock = pool->localfree;
        pool->localfree = NULL;
        pool->count = RTI_POOL_CAPACITY(pool->szidx) - 1;
        link_used_front(ph, pool);
        return;
    }
    rti_assert(pool->count == 0);
    if (ph->usedpools[pool->szidx] == pool && pool->nextpool == NULL)
        return;     /* retained */
    unlink_used(ph, pool);
    give_pool(ph, pool);
}

/* ==== free caches ====================================================== */

#if RT_RC_THREADED
/* A block of another heap's pool goes onto that heap's delayed list, a
 * lock-free stack (pool_heap.c collects it).  The block is poisoned before
 * it is published: its owner may take it at once.  With the world stopped
 * by this thread, the owner is parked or blocked: the block goes straight
 * back to its pool. */
void
rti_pool_free_foreign(RtPool *pool, void *p)
{
    RtPoolHeap *owner = pool->heap;
    if (rti_world_stopped_here()) {
        if (rti_pool_push(pool, p))
            rti_pool_free_slow(owner, pool);
        return;
    }
    RtBlock *b = p, *head = atomic_load_explicit(&owner->delayed, memory_order_relaxed);
    do {
        RTI_UNPOISON(b, sizeof *b);
        b->next = head;
        RTI_POISON(b, RTI_CLASS_SIZE(pool->szidx));
    } while (!atomic_compare_exchange_weak_explicit(&owner->delayed, &head, b, memory_order_release,
                                                    memory_order_relaxed));
    /* The freeing thread's heap counted the free: a sample now and then,
     * so that its published count does not trail (pool_heap.c). */
    RtPoolHeap *mine = rti_theap;      /* NULL: a thread not attached */
    if (mine != NULL && ++mine->foreign_frees >= RTI_FOREIGN_SAMPLE) {
        mine->foreign_frees = 0;
        rti_pool_sample(mine);
    }
}
#endif

/* Give a cached block back to its pool (the caller unpoisoned its link) --
 * or, in the threaded variants, to the pool's heap when that is another. */
static void
give_back(RtPoolHeap *ph, void *p)
{
    RtPool *pool = RTI_POOL_OF(p);
#if RT_RC_THREADED
    if (pool->heap != ph) {
        rti_pool_free_foreign(pool, p);
        return;
    }
#endif
    if (rti_pool_push(pool, p))
        rti_pool_free_slow(ph, pool);
}

/* Give every block of a class's cache back to its pool, the last freed
 * first. */
static void
cache_give_back(RtPoolHeap *ph, uint32_t idx)
{
    RtFreeCache *c = &ph->cache[idx];
    while (c->n != 0) {
        void *p = c->slots[--c->n];
        RTI_UNPOISON(p, sizeof(RtBlock));
        give_back(ph, p);
    }
}

#if RT_RC_THREADED
/* With the world stopped by the caller: every block of another heap in
 * ph's caches straight back to its pool (rti_pool_free_foreign), ph's own
 * kept in their order.  A collection's serial deletion frees every
 * thread's garbage into the stopping thread's caches; left there, each
 * such block, handed out again, made an object whose home is the other
 * heap (rti_gc_track_new_own), so its track and untrack took that heap's
 * lock and revoked its owner's bias (gc_heap.c) -- cycle_storm at 2
 * threads took the locked paths for a third of its list changes.  At most
 * RTI_CACHE_SIZE blocks a class, read from the dense descriptor table. */
void
rti_pool_cache_send_home(RtPoolHeap *ph)
{
    rti_assert(rti_world_stopped_here());
    uint64_t sent = 0;
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++) {
        RtFreeCache *c = &ph->cache[idx];
        uint32_t kept = 0;
        for (uint32_t i = 0; i < c->n; i++) {
            void *p = c->slots[i];
            RtPool *pool = RTI_POOL_OF(p);
            if (pool->heap == ph) {
                c->slots[kept++] = p;
                continue;
            }
            RTI_UNPOISON(p, sizeof(RtBlock));
            rti_pool_free_foreign(pool, p);
        }
        sent += c->n - kept;
        c->n = kept;
    }
    if (sent != 0)
        rti_count_event(&rti_runtime.threads.counters.blocks_sent_home, sent);
}
#endif

/* A free that found its class's cache full, or stepped aside, pushed the
 * block onto its pool, which was full or is now empty.  Empty: the class is
 * shrinking, so the cache steps aside (RtFreeCache). */
void
rti_pool_free_past_cache(RtPoolHeap *ph, RtPool *pool)
{
    uint32_t idx = pool->szidx;
    bool emptied = pool->freeblock != NULL;     /* else it was full (rti_pool_free_slow) */
    rti_pool_free_slow(ph, pool);       /* may retain the pool's arena */
    if (emptied && ph->cache[idx].limit != 0) {
        /* Emptied first, then closed: n <= limit holds at every step, also
         * for the heap checks the pools' slow paths run meanwhile. */
        cache_give_back(ph, idx);
        ph->cache[idx].limit = 0;
    }
#if RT_RC_THREADED
    /* The free's sample point (pool_heap.c, "Statistics"), where other
     * heaps' counts add to this one's: alone, an allocation's sample finds
     * the peak (list_append 1 instruction an append). */
    if (rti_heap_shared())
        rti_pool_sample(ph);
#endif
}

/* Every cached block back to its pool. */
void
rti_pool_flush(RtPoolHeap *ph)
{
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++)
        cache_give_back(ph, idx);
}

/* ==== large blocks and realloc ========================================== */

void *
rti_pool_alloc_large(RtPoolHeap *ph, size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        return rti_nomem();
    rti_stat_up(&ph->large);
    return p;
}

void
rti_pool_free_large(RtPoolHeap *ph, void *p)
{
    if (p == NULL)
        return;
    rti_stat_down(&ph->large);
    free(p);
}

size_t
rti_pool_block_size(const RtPoolHeap *ph, const void *p)
{
    if (p == NULL || !rti_arena_map_contains(&ph->ar->map, p))
        return 0;
    return RTI_CLASS_SIZE(RTI_POOL_OF(p)->szidx);
}

/* Keep a pool block when the new size still fits and wastes at most a
 * quarter of it (obmalloc's rule); otherwise move.  Large blocks stay with
 * malloc's realloc. */
void *
rti_pool_realloc(RtPoolHeap *ph, void *p, size_t size)
{
    if (p == NULL)
        return rti_pool_alloc(ph, size);
    size_t have = rti_pool_block_size(ph, p);
    if (have == 0)
        return realloc(p, size ? size : 1);
    if (size <= have && 4 * size > 3 * have)
        return p;
    void *q = rti_pool_alloc(ph, size);
    if (q == NULL)
        return NULL;
    memcpy(q, p, size < have ? size : have);
    rti_pool_free(&ph->ar->map, ph, p);
    return q;
}

/* ==== trim ============================================================= */

/* Give a heap's memory back to the arenas (pool.h): the blocks other
 * threads freed and the free caches' blocks return to their pools, the
 * retained and kept empty pools to their arenas. */
void
rti_pool_trim_heap(RtPoolHeap *ph)
{
#if RT_RC_THREADED
    rti_pool_collect_delayed(ph);
#endif
    rti_pool_flush(ph);
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++) {
        RtPool *pool = ph->usedpools[idx];
        if (pool != NULL && RTI_POOL_COUNT(pool) == 0) {
            unlink_used(ph, pool);
            rti_arena_give_pool(ph->ar, pool);
        }
    }
#if RT_RC_THREADED
    for (RtPool *pool; (pool = pop_kept(ph)) != NULL;)
        rti_arena_give_pool(ph->ar, pool);
#endif
}
