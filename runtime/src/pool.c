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
 *   - For the fast paths' length: plain counters, the peak of blocks in use
 *     taken at sample points (RtPoolHeap).
 * Retained pools and cached blocks pin their arenas; rti_pool_trim() gives
 * cached blocks back and releases retained pools, then retained arenas:
 * all of them when the user asks (rt_alloc_trim, rt_fini), by the
 * retention rule after a full collection.
 */

#include "internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int
rti_pool_init(RtPoolHeap *ph, double decay_s)
{
    if (rti_arenas_init(ph, decay_s) < 0)
        return -1;
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++)
        ph->cache[idx].limit = RTI_CACHE_SIZE;
    return 0;
}

void
rti_pool_fini(RtPoolHeap *ph)
{
    rti_arenas_fini(ph);
    memset(ph, 0, sizeof *ph);
}

/* A sample point: the peak of blocks in use, and the object layer's. */
void
rti_pool_sample(RtPoolHeap *ph)
{
    uint64_t in_use = ph->nalloc - ph->nfree;
    if (in_use > ph->in_use_peak)
        ph->in_use_peak = in_use;
    if (ph->on_sample != NULL)
        ph->on_sample();
}

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

/* Carve a batch of never-used blocks (pool.h) onto the (empty) allocation
 * list, linked in address order.  False when none are left.  (Each block
 * costs a store and an add: about 3 instructions a block.) */
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
    uint8_t *base = RTI_POOL_MEM(pool) + pool->nextoffset, *last = base + (size_t)(n - 1) * size;
    for (uint8_t *b = base; b < last; b += size) {
        RTI_UNPOISON(b, sizeof(RtBlock));
        ((RtBlock *)b)->next = (RtBlock *)(b + size);
        RTI_POISON(b, size);
    }
    RTI_UNPOISON(last, sizeof(RtBlock));
    ((RtBlock *)last)->next = NULL;
    RTI_POISON(last, size);
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
    bool arena_changed;
    RtPool *pool = rti_arena_take_pool(ph, &arena_changed);
    if (pool == NULL)
        return rti_nomem();
    RTI_CLASS_MAP(pool)[RTI_DESC_SLOT(pool)] = (uint8_t)idx;
    ph->cache[idx].limit = RTI_CACHE_SIZE;      /* growing: see RtFreeCache */
    if (pool->szidx == idx) {
        /* It last held this class: its free lists are still good. */
        if (pool->freeblock == NULL) {
            pool->freeblock = pool->localfree;
            pool->localfree = NULL;
        }
    } else {
        pool->szidx = idx;
        pool->count = 0;
        pool->freeblock = pool->localfree = NULL;
        pool->nextoffset = 0;
        pool->maxnextoffset = (uint32_t)(RT_POOL_SIZE - RTI_CLASS_SIZE(idx));
        carve(pool);
    }
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
    }
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
        pool->freeblock = pool->localfree;
        pool->localfree = NULL;
        link_used_front(ph, pool);
    }
    if (RTI_POOL_COUNT(pool) != 0)
        return;
    if (ph->usedpools[pool->szidx] == pool && pool->nextpool == NULL)
        return;     /* retained */
    unlink_used(ph, pool);
    rti_arena_give_pool(ph, pool);
}

/* ==== free caches ====================================================== */

/* Give every block of a class's cache back to its pool, the last freed
 * first. */
static void
cache_give_back(RtPoolHeap *ph, uint32_t idx)
{
    RtFreeCache *c = &ph->cache[idx];
    while (c->n != 0) {
        void *p = c->slots[--c->n];
        RTI_UNPOISON(p, sizeof(RtBlock));
        RtPool *pool = RTI_POOL_OF(p);
        if (rti_pool_push(pool, p))
            rti_pool_free_slow(ph, pool);
    }
}

/* A free that found its class's cache full, or stepped aside, pushed the
 * block onto its pool, which was full or is now empty.  Empty: the class is
 * shrinking, so the cache steps aside (RtFreeCache). */
void
rti_pool_free_past_cache(RtPoolHeap *ph, RtPool *pool)
{
    uint32_t idx = pool->szidx;
    bool emptied = RTI_POOL_COUNT(pool) == 0;
    rti_pool_free_slow(ph, pool);       /* may retain the pool's arena */
    if (emptied && ph->cache[idx].limit != 0) {
        /* Emptied first, then closed: n <= limit holds at every step, also
         * for the heap checks the pools' slow paths run meanwhile. */
        cache_give_back(ph, idx);
        ph->cache[idx].limit = 0;
    }
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
    if (p == NULL || !rti_arena_map_contains(&ph->map, p))
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
    rti_pool_free(ph, p);
    return q;
}

/* ==== trim and statistics =============================================== */

/* Give memory back, as malloc_trim does (pool.h): the free caches' blocks
 * return to their pools, retained empty pools to their arenas, then the
 * arenas go by the retention rule or all of them (pool_arena.c). */
void
rti_pool_trim(RtPoolHeap *ph, bool by_rule)
{
    rti_pool_flush(ph);
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++) {
        RtPool *pool = ph->usedpools[idx];
        if (pool != NULL && RTI_POOL_COUNT(pool) == 0) {
            unlink_used(ph, pool);
            rti_arena_give_pool(ph, pool);
        }
    }
    rti_arenas_trim(ph, by_rule);
}

static void
add_pool_stats(const RtPool *pool, RtAllocStats *st)
{
    RtSizeClassStats *c = &st->classes[pool->szidx];
    uint32_t size = RTI_CLASS_SIZE(pool->szidx);
    uint32_t capacity = RTI_POOL_CAPACITY(pool->szidx);
    uint32_t count = RTI_POOL_COUNT(pool);
    c->pools++;
    c->blocks += count;
    c->free_blocks += capacity - count;
    st->small_bytes += (uint64_t)count * size;
}

/* The counters: cheap, no walk.  A sample point. */
void
rti_pool_counts(RtPoolHeap *ph, RtAllocStats *st)
{
    rti_pool_sample(ph);
    st->small.allocated = ph->nalloc;
    st->small.freed = ph->nfree;
    st->small.current = (int64_t)(ph->nalloc - ph->nfree);
    st->small.peak = (int64_t)ph->in_use_peak;
    st->large = ph->large;
    st->pools = ph->pools;
    st->arenas = ph->arenas_stat;
    st->arena_bytes = (uint64_t)ph->arenas_stat.current * RT_ARENA_SIZE;
    st->arenas_retained = ph->nretained;
    st->arenas_reused = ph->arenas_reused;
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

/* Per-class figures: walk every carved pool of every mapped arena; a pool
 * is in use when it is on usedpools (or full), i.e. not on its arena's
 * freepools list. */
void
rti_pool_stats(RtPoolHeap *ph, RtAllocStats *st)
{
    rti_pool_counts(ph, st);
    for (uint32_t i = 0; i < RT_NB_SMALL_SIZE_CLASSES; i++)
        st->classes[i].size = RTI_CLASS_SIZE(i);
    for (uint32_t a = 0; a < ph->maxarenas; a++) {
        const RtArena *ao = &ph->arenas[a];
        if (ao->address == 0)
            continue;
        for (const RtPool *pool = first_pool(ao); pool < end_pool(ao); pool++) {
            bool is_free = false;
            for (const RtPool *f = ao->freepools; f != NULL && !is_free; f = f->nextpool)
                is_free = (f == pool);
            if (!is_free && pool->szidx != RTI_NO_CLASS)
                add_pool_stats(pool, st);
        }
    }
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++) {
        uint32_t cached = ph->cache[idx].n;     /* free to the user, in use to its pool */
        st->classes[idx].blocks -= cached;
        st->classes[idx].free_blocks += cached;
        st->small_bytes -= (uint64_t)cached * RTI_CLASS_SIZE(idx);
    }
}

/* ==== validation (tests) ================================================ */

#define CHECK(cond, ...)                                \
    do {                                                \
        if (!(cond)) {                                  \
            snprintf(err, errlen, __VA_ARGS__);         \
            return -1;                                  \
        }                                               \
    } while (0)

static uint32_t
list_length(RtBlock *b)
{
    uint32_t n = 0;
    while (b != NULL) {
        RTI_UNPOISON(b, sizeof *b);
        RtBlock *next = b->next;
        RTI_POISON(b, sizeof *b);
        b = next;
        n++;
    }
    return n;
}

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

/* Retention (pool_arena.c): the retained arenas are exactly the wholly
 * free ones, at the tail of usable_arenas, the most recently freed first;
 * nretained counts them. */
static int
validate_retained(const RtPoolHeap *ph, char *err, size_t errlen)
{
    uint32_t n = 0;
    double newer = 0;
    for (const RtArena *a = ph->usable_arenas; a != NULL; a = a->nextarena) {
        bool wholly_free = a->nfreepools == a->ntotalpools;
        CHECK(wholly_free == (a->free_since != 0), "arena %p: %u of %u pools free, free since %g", (const void *)a,
              a->nfreepools, a->ntotalpools, a->free_since);
        if (wholly_free) {
            CHECK(n == 0 || a->free_since <= newer, "retained arena %p is newer than the one before it",
                  (const void *)a);
            newer = a->free_since;
            n++;
        }
    }
    CHECK(n == ph->nretained, "%u retained arenas found, %u recorded", n, ph->nretained);
    CHECK((int64_t)n <= ph->arenas_stat.current, "%u arenas retained of %lld mapped", n,
          (long long)ph->arenas_stat.current);
    return 0;
}

/* Check every invariant the allocator relies on; 0, or -1 with a message.
 * Expensive (walks every pool and free list): for tests only. */
int
rti_pool_validate(const RtPoolHeap *ph, char *err, size_t errlen)
{
    int64_t in_use = 0;
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++) {
        const RtPool *prev = NULL;
        for (const RtPool *p = ph->usedpools[idx]; p != NULL; prev = p, p = p->nextpool) {
            CHECK(p->szidx == idx, "used pool %p of class %u claims class %u", (const void *)p, idx, p->szidx);
            CHECK(p->prevpool == prev, "used pool %p has a broken prev link", (const void *)p);
            CHECK(p->freeblock != NULL, "used pool %p of class %u has no free block", (const void *)p, idx);
        }
    }
    /* usable_arenas: sorted by nfreepools, nfp2lasta consistent. */
    const RtArena *prev = NULL;
    for (const RtArena *a = ph->usable_arenas; a != NULL; prev = a, a = a->nextarena) {
        CHECK(a->prevarena == prev, "arena %p has a broken prev link", (const void *)a);
        CHECK(a->nfreepools > 0, "usable arena %p has no free pool", (const void *)a);
        CHECK(prev == NULL || prev->nfreepools <= a->nfreepools, "usable_arenas not sorted at %p", (const void *)a);
        bool last = a->nextarena == NULL || a->nextarena->nfreepools != a->nfreepools;
        CHECK((ph->nfp2lasta[a->nfreepools] == a) == last, "nfp2lasta[%u] is wrong", a->nfreepools);
    }
    for (uint32_t a = 0; a < ph->maxarenas; a++) {
        const RtArena *ao = &ph->arenas[a];
        if (ao->address == 0)
            continue;
        CHECK(rti_arena_map_contains(&ph->map, (void *)ao->address), "arena %u is not in the map", a);
        uint32_t nfree = (uint32_t)((ao->address + RT_ARENA_SIZE - (uintptr_t)ao->pool_address) / RT_POOL_SIZE);
        for (const RtPool *f = ao->freepools; f != NULL; f = f->nextpool)
            nfree++;
        CHECK(nfree == ao->nfreepools, "arena %u: %u free pools found, %u recorded", a, nfree, ao->nfreepools);
        for (const RtPool *pool = first_pool(ao); pool < end_pool(ao); pool++) {
            bool is_free = false;
            for (const RtPool *f = ao->freepools; f != NULL && !is_free; f = f->nextpool)
                is_free = (f == pool);
            if (is_free)
                continue;
            CHECK(pool->arenaindex == a, "pool %p names arena %u, not %u", (const void *)pool, pool->arenaindex, a);
            CHECK(RTI_CLASS_MAP(pool)[RTI_DESC_SLOT(pool)] == pool->szidx, "pool %p: the class map says %u, the pool %u",
                  (const void *)pool, RTI_CLASS_MAP(pool)[RTI_DESC_SLOT(pool)], pool->szidx);
            if (validate_pool(pool, err, errlen) < 0)
                return -1;
            in_use += RTI_POOL_COUNT(pool);
        }
    }
    int64_t cached = 0;
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++) {
        const RtFreeCache *c = &ph->cache[idx];
        CHECK(c->limit == 0 || c->limit == RTI_CACHE_SIZE, "free cache %u has limit %u", idx, c->limit);
        CHECK(c->n <= c->limit, "free cache %u holds %u blocks, limit %u", idx, c->n, c->limit);
        for (uint32_t i = 0; i < c->n; i++, cached++) {
            const void *p = c->slots[i];
            CHECK(rti_arena_map_contains(&ph->map, p) && RTI_POOL_OF(p)->szidx == idx,
                  "free cache %u holds %p, not a block of its class", idx, p);
        }
    }
    CHECK(in_use == (int64_t)(ph->nalloc - ph->nfree) + cached, "%lld blocks in pools, %lld recorded + %lld cached",
          (long long)in_use, (long long)(ph->nalloc - ph->nfree), (long long)cached);
    return validate_retained(ph, err, errlen);
}

#if RT_DEBUG >= 2
void
rti_pool_check(const RtPoolHeap *ph)
{
    char err[256];
    if (rti_pool_validate(ph, err, sizeof err) < 0)
        rti_assert_fail("rti_pool_validate(ph) == 0", err, __FILE__, __LINE__, __func__);
}
#endif
