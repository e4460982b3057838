/* pool.c -- the pooled small-object allocator, after CPython's obmalloc.
 *
 * Layers, from the OS up:
 *
 *   arena   1 MiB, mapped with mmap at a 1 MiB-aligned address and unmapped
 *           as soon as it is wholly free (but see "keep one" below);
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
 *   - usedpools[idx] lists the pools of class idx that have a free block;
 *     allocation pops the allocation list of its first pool (pool.h).  When
 *     that list runs dry it is refilled: with the blocks freed since the last
 *     refill, else with never-used blocks carved from the pool (4 KiB, at
 *     least 32 blocks, at a time); when there are neither, the pool is full
 *     and leaves the list.
 *   - A class with no used pool takes an empty pool from the first arena of
 *     usable_arenas, which is kept in increasing order of free pools: the
 *     most used arenas serve first, so lightly used arenas tend to empty and
 *     can be returned to the OS.  No usable arena: map a new one.
 *   - Free appends the block to its class's free queue (pool.h,
 *     RtFreeQueue; the arena map says whether the address is ours, the
 *     arena's class map gives the class), and allocation takes the queue's
 *     oldest block once it holds a few.  When the queue is full, or has
 *     stepped aside because its class shrinks, the block goes back to its
 *     pool: onto the pool's local free list (the pool's descriptor is found
 *     by masking the address).
 *     A full pool goes back to the front of usedpools; an empty pool goes to
 *     its arena's freepools, and the arena moves right in usable_arenas to
 *     keep the order (O(1) with nfp2lasta, as bpo-37029 did).
 *   - A wholly free arena is unmapped, unless it is the last in
 *     usable_arenas: one free arena is kept so that a program hovering at an
 *     arena boundary does not map and unmap on every step (bpo-37257).
 *
 * Departures from obmalloc.
 *   - For the alloc/free pair's latency: split free lists (pool.h, RtPool),
 *     and when the last used pool of a class empties, it stays on usedpools
 *     (a "retained" pool).  obmalloc sends a pool that empties to the
 *     arena's freepools and takes it back on the next allocation, so an
 *     alloc/free pair in a class with nothing else alive pays both slow
 *     paths every time.
 *   - For frees and allocations in turn across a large heap: the free
 *     queues, a thread cache after jemalloc's and glibc's tcache, which
 *     touches neither the block nor its pool; a queue steps aside while its
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
 * Retained pools and queued blocks pin their arenas; rti_pool_trim() gives
 * queued blocks back and releases retained pools and free arenas: all of
 * them when the user asks (rt_alloc_trim, rt_fini), all but the one
 * bpo-37257 keeps after a full collection, so that a program that collects
 * in a loop does not unmap and fault in the same arena on every round.
 */

#include "internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define INITIAL_ARENA_OBJECTS 16

/* ==== the arena map ==================================================== */

static int
map_set(RtArenaMap *map, uintptr_t arena, bool used)
{
    uintptr_t bit = arena >> RTI_ARENA_BITS;
    if (bit >> RTI_MAP_BITS)
        return -1;      /* beyond 48 bits: never from mmap without a hint */
    if (used)
        map->bits[bit >> 6] |= (uint64_t)1 << (bit & 63);
    else
        map->bits[bit >> 6] &= ~((uint64_t)1 << (bit & 63));
    return 0;
}

int
rti_pool_init(RtPoolHeap *ph)
{
    void *bits = mmap(NULL, RTI_MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (bits == MAP_FAILED)
        return -1;
    ph->map.bits = bits;
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++)
        ph->queue[idx].limit = RTI_QUEUE_SIZE;
    return 0;
}

/* ==== statistics helpers ================================================ */

static inline void
stat_up(RtStatCount *c)
{
    c->allocated++;
    if (++c->current > c->peak)
        c->peak = c->current;
}

static inline void
stat_down(RtStatCount *c)
{
    c->freed++;
    c->current--;
}

/* ==== arenas ============================================================ */

/* Map ARENA_SIZE bytes at an ARENA_SIZE-aligned address.  Linux usually
 * places a new mapping right below the previous one, so the first try is
 * aligned whenever the previous arena was; otherwise over-map and trim. */
static void *
map_aligned_arena(void)
{
    int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS;
    uint8_t *p = mmap(NULL, RT_ARENA_SIZE, prot, flags, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (((uintptr_t)p & (RT_ARENA_SIZE - 1)) == 0)
        return p;
    munmap(p, RT_ARENA_SIZE);
    p = mmap(NULL, 2 * RT_ARENA_SIZE, prot, flags, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uint8_t *aligned = (uint8_t *)(((uintptr_t)p + RT_ARENA_SIZE - 1) & ~(uintptr_t)(RT_ARENA_SIZE - 1));
    size_t head = (size_t)(aligned - p), tail = RT_ARENA_SIZE - head;
    if (head)
        munmap(p, head);
    if (tail)
        munmap(aligned + RT_ARENA_SIZE, tail);
    return aligned;
}

/* Grow the descriptor vector; the new slots go to the unused list.  This
 * runs only when every mapped arena is full (usable_arenas is empty) and no
 * slot is unused, so no list points into the vector that realloc may move;
 * pools name their arena by index, which survives the move. */
static int
grow_arena_vector(RtPoolHeap *ph)
{
    rti_assert(ph->usable_arenas == NULL && ph->unused_arena_objects == NULL);
    uint32_t n = ph->maxarenas ? ph->maxarenas * 2 : INITIAL_ARENA_OBJECTS;
    if (n <= ph->maxarenas)     /* 2^32 descriptors: 4 PiB of arenas */
        return -1;
    RtArena *v = realloc(ph->arenas, (size_t)n * sizeof(RtArena));
    if (v == NULL)
        return -1;
    for (uint32_t i = ph->maxarenas; i < n; i++) {
        v[i].address = 0;
        v[i].nextarena = i + 1 < n ? &v[i + 1] : NULL;
    }
    ph->unused_arena_objects = &v[ph->maxarenas];
    ph->arenas = v;
    ph->maxarenas = n;
    return 0;
}

/* Map a new arena and return its descriptor, with every pool free. */
static RtArena *
new_arena(RtPoolHeap *ph)
{
    if (ph->unused_arena_objects == NULL && grow_arena_vector(ph) < 0)
        return NULL;
    void *base = map_aligned_arena();
    if (base == NULL)
        return NULL;
    if (map_set(&ph->map, (uintptr_t)base, true) < 0) {
        munmap(base, RT_ARENA_SIZE);
        return NULL;
    }
    RTI_POISON(base, RT_ARENA_SIZE);
    RTI_UNPOISON(base, RTI_POOL_DESC_SIZE);     /* the class map */
    RtArena *ao = ph->unused_arena_objects;
    ph->unused_arena_objects = ao->nextarena;
    ao->address = (uintptr_t)base;
    ao->pool_address = (uint8_t *)base + RTI_FIRST_POOL * RT_POOL_SIZE;
    ao->nfreepools = ao->ntotalpools = RTI_POOLS_PER_ARENA - RTI_FIRST_POOL;
    ao->freepools = NULL;
    ao->nextarena = ao->prevarena = NULL;
    stat_up(&ph->arenas_stat);
    return ao;
}

/* Unmap a wholly free arena that is on no list; its slot becomes unused. */
static void
release_arena(RtPoolHeap *ph, RtArena *ao)
{
    map_set(&ph->map, ao->address, false);
    RTI_UNPOISON((void *)ao->address, RT_ARENA_SIZE);
    munmap((void *)ao->address, RT_ARENA_SIZE);
    ao->address = 0;
    ao->nextarena = ph->unused_arena_objects;
    ph->unused_arena_objects = ao;
    stat_down(&ph->arenas_stat);
}

static void
unlink_usable(RtPoolHeap *ph, RtArena *ao)
{
    if (ao->prevarena != NULL)
        ao->prevarena->nextarena = ao->nextarena;
    else
        ph->usable_arenas = ao->nextarena;
    if (ao->nextarena != NULL)
        ao->nextarena->prevarena = ao->prevarena;
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

/* Take one free pool out of the first usable arena (mapping an arena when
 * there is none) and keep usable_arenas sorted. */
static RtPool *
take_free_pool(RtPoolHeap *ph)
{
    if (ph->usable_arenas == NULL) {
        RtArena *ao = new_arena(ph);
        if (ao == NULL)
            return NULL;
        ph->usable_arenas = ao;
        rti_assert(ph->nfp2lasta[ao->nfreepools] == NULL);
        ph->nfp2lasta[ao->nfreepools] = ao;
    }
    RtArena *ao = ph->usable_arenas;
    rti_assert(ao->nfreepools > 0);
    /* The head has the fewest free pools; after taking one it is the only
     * arena with nfreepools - 1, so it becomes that count's last. */
    if (ph->nfp2lasta[ao->nfreepools] == ao)
        ph->nfp2lasta[ao->nfreepools] = NULL;
    if (ao->nfreepools > 1)
        ph->nfp2lasta[ao->nfreepools - 1] = ao;
    RtPool *pool = ao->freepools;
    if (pool != NULL) {
        ao->freepools = pool->nextpool;
    } else {
        pool = RTI_POOL_OF(ao->pool_address);
        RTI_UNPOISON(pool, sizeof *pool);
        pool->arenaindex = (uint32_t)(ao - ph->arenas);
        pool->szidx = RTI_NO_CLASS;
        ao->pool_address += RT_POOL_SIZE;
    }
    if (--ao->nfreepools == 0) {
        /* Now full: no longer usable. */
        ph->usable_arenas = ao->nextarena;
        if (ph->usable_arenas != NULL)
            ph->usable_arenas->prevarena = NULL;
        ao->nextarena = ao->prevarena = NULL;
    }
    stat_up(&ph->pools);
    return pool;
}

/* Carve a batch of never-used blocks (pool.h) onto the (empty) allocation
 * list, linked in address order.  False when none are left. */
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
    uint8_t *base = RTI_POOL_MEM(pool) + pool->nextoffset;
    for (uint32_t i = 0; i < n; i++) {
        RtBlock *b = (RtBlock *)(base + (size_t)i * size);
        RTI_UNPOISON(b, sizeof *b);
        b->next = i + 1 < n ? (RtBlock *)(base + (size_t)(i + 1) * size) : NULL;
        RTI_POISON(b, size);
    }
    pool->freeblock = (RtBlock *)base;
    pool->nextoffset += n * size;
    return true;
}

/* First block of a pool taken for class idx (usedpools[idx] was empty). */
void *
rti_pool_alloc_new_pool(RtPoolHeap *ph, uint32_t idx)
{
    RtPool *pool = take_free_pool(ph);
    if (pool == NULL)
        return rti_nomem();
    RTI_CLASS_MAP(pool)[RTI_DESC_SLOT(pool)] = (uint8_t)idx;
    ph->queue[idx].limit = RTI_QUEUE_SIZE;      /* growing: see RtFreeQueue */
    if (pool->szidx == idx) {
        /* It last held this class: its free lists are still good. */
        if (pool->freeblock == NULL) {
            pool->freeblock = pool->localfree;
            pool->localfree = NULL;
        }
    } else {
        pool->szidx = idx;
        pool->nalloc = pool->nfree = 0;
        pool->freeblock = pool->localfree = NULL;
        pool->nextoffset = 0;
        pool->maxnextoffset = (uint32_t)(RT_POOL_SIZE - RTI_CLASS_SIZE(idx));
        carve(pool);
    }
    link_used_front(ph, pool);
    return rti_pool_pop(ph, pool);
}

/* The allocation list of a used pool ran dry as bp was taken from it:
 * swap in the local free list, or carve never-used blocks, or retire the
 * pool as full.  Returns bp. */
void *
rti_pool_refill(RtPoolHeap *ph, RtPool *pool, void *bp)
{
    ph->queue[pool->szidx].limit = RTI_QUEUE_SIZE;      /* growing: see RtFreeQueue */
    if (pool->localfree != NULL) {
        pool->freeblock = pool->localfree;
        pool->localfree = NULL;
    } else if (!carve(pool)) {
        unlink_used(ph, pool);
        pool->nextpool = pool->prevpool = NULL;
    }
    return bp;
}

/* An empty pool goes back to its arena; the arena moves right in
 * usable_arenas, or is unmapped when wholly free and not the last. */
static void
insert_to_freepool(RtPoolHeap *ph, RtPool *pool)
{
    RtArena *ao = &ph->arenas[pool->arenaindex];
    pool->nextpool = ao->freepools;
    ao->freepools = pool;
    stat_down(&ph->pools);
    uint32_t nf = ao->nfreepools;
    RtArena *lastnf = ph->nfp2lasta[nf];
    /* ao leaves the group of arenas with nf free pools. */
    if (lastnf == ao) {
        RtArena *p = ao->prevarena;
        ph->nfp2lasta[nf] = (p != NULL && p->nfreepools == nf) ? p : NULL;
    }
    ao->nfreepools = ++nf;

    /* Case 1: wholly free, and another arena follows it: unmap. */
    if (nf == ao->ntotalpools && ao->nextarena != NULL) {
        unlink_usable(ph, ao);
        if (ph->nfp2lasta[nf] == ao)
            ph->nfp2lasta[nf] = NULL;
        release_arena(ph, ao);
        return;
    }
    /* Case 2: it was full, so it was on no list: it has the fewest free
     * pools of all, so it goes to the front. */
    if (nf == 1) {
        ao->nextarena = ph->usable_arenas;
        ao->prevarena = NULL;
        if (ph->usable_arenas != NULL)
            ph->usable_arenas->prevarena = ao;
        ph->usable_arenas = ao;
        if (ph->nfp2lasta[1] == NULL)
            ph->nfp2lasta[1] = ao;
        return;
    }
    /* Case 3: move it right past the last arena with nf - 1 free pools
     * (lastnf), unless it was that arena. */
    if (ph->nfp2lasta[nf] == NULL)
        ph->nfp2lasta[nf] = ao;
    if (ao == lastnf)
        return;
    unlink_usable(ph, ao);
    ao->prevarena = lastnf;
    ao->nextarena = lastnf->nextarena;
    if (ao->nextarena != NULL)
        ao->nextarena->prevarena = ao;
    lastnf->nextarena = ao;
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
    insert_to_freepool(ph, pool);
}

/* ==== free queues ====================================================== */

/* Give every block of a queue back to its pool, oldest first. */
static void
queue_give_back(RtPoolHeap *ph, uint32_t idx)
{
    RtFreeQueue *q = &ph->queue[idx];
    while (q->head != q->tail) {
        void *p = ph->queued[idx][q->head++ % RTI_QUEUE_SIZE];
        RTI_UNPOISON(p, sizeof(RtBlock));
        RtPool *pool = RTI_POOL_OF(p);
        if (rti_pool_push(pool, p))
            rti_pool_free_slow(ph, pool);
    }
}

/* A free that found its class's queue full, or stepped aside, pushed the
 * block onto its pool, which was full or is now empty.  Empty: the class is
 * shrinking, so the queue steps aside (RtFreeQueue). */
void
rti_pool_free_past_queue(RtPoolHeap *ph, RtPool *pool)
{
    uint32_t idx = pool->szidx;
    bool emptied = RTI_POOL_COUNT(pool) == 0;
    rti_pool_free_slow(ph, pool);       /* may unmap the pool's arena */
    if (emptied && ph->queue[idx].limit != 0) {
        queue_give_back(ph, idx);
        ph->queue[idx].limit = 0;
    }
}

static void
flush_queues(RtPoolHeap *ph)
{
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++)
        queue_give_back(ph, idx);
}

/* ==== large blocks and realloc ========================================== */

void *
rti_pool_alloc_large(RtPoolHeap *ph, size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        return rti_nomem();
    stat_up(&ph->large);
    return p;
}

void
rti_pool_free_large(RtPoolHeap *ph, void *p)
{
    stat_down(&ph->large);
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

/* ==== trim, statistics, teardown ======================================== */

/* Give memory back, as malloc_trim does: the free queues' blocks return
 * to their pools, retained empty pools return to
 * their arenas, and every wholly free arena is unmapped; with keep_one, the
 * last of usable_arenas stays, as insert_to_freepool would keep it.
 * (Wholly free arenas sit at the tail of usable_arenas, the list being
 * sorted by free pools.) */
void
rti_pool_trim(RtPoolHeap *ph, bool keep_one)
{
    flush_queues(ph);
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++) {
        RtPool *pool = ph->usedpools[idx];
        if (pool != NULL && RTI_POOL_COUNT(pool) == 0) {
            unlink_used(ph, pool);
            insert_to_freepool(ph, pool);
        }
    }
    RtArena *ao = ph->usable_arenas;
    while (ao != NULL) {
        RtArena *next = ao->nextarena;
        if (keep_one && next == NULL)
            break;
        if (ao->nfreepools == ao->ntotalpools) {
            if (ph->nfp2lasta[ao->nfreepools] == ao) {
                RtArena *p = ao->prevarena;
                ph->nfp2lasta[ao->nfreepools] = (p != NULL && p->nfreepools == ao->nfreepools) ? p : NULL;
            }
            unlink_usable(ph, ao);
            release_arena(ph, ao);
        }
        ao = next;
    }
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

/* The counters: cheap, no walk. */
void
rti_pool_counts(const RtPoolHeap *ph, RtAllocStats *st)
{
    st->small.allocated = ph->nalloc;
    st->small.freed = ph->nfree;
    st->small.current = (int64_t)(ph->nalloc - ph->nfree);
    st->small.peak = (int64_t)ph->in_use_peak;
    st->large = ph->large;
    st->pools = ph->pools;
    st->arenas = ph->arenas_stat;
    st->arena_bytes = (uint64_t)ph->arenas_stat.current * RT_ARENA_SIZE;
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
rti_pool_stats(const RtPoolHeap *ph, RtAllocStats *st)
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
        uint32_t queued = ph->queue[idx].tail - ph->queue[idx].head;    /* free to the user, in use to its pool */
        st->classes[idx].blocks -= queued;
        st->classes[idx].free_blocks += queued;
        st->small_bytes -= (uint64_t)queued * RTI_CLASS_SIZE(idx);
    }
}

void
rti_pool_fini(RtPoolHeap *ph)
{
    for (uint32_t a = 0; a < ph->maxarenas; a++) {
        RtArena *ao = &ph->arenas[a];
        if (ao->address != 0) {
            RTI_UNPOISON((void *)ao->address, RT_ARENA_SIZE);
            munmap((void *)ao->address, RT_ARENA_SIZE);
        }
    }
    free(ph->arenas);
    if (ph->map.bits != NULL)
        munmap(ph->map.bits, RTI_MAP_BYTES);
    memset(ph, 0, sizeof *ph);
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
    int64_t queued = 0;
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++) {
        const RtFreeQueue *q = &ph->queue[idx];
        CHECK(q->tail - q->head <= RTI_QUEUE_SIZE, "free queue %u holds %u blocks", idx, q->tail - q->head);
        CHECK(q->limit == 0 || q->limit == RTI_QUEUE_SIZE, "free queue %u has limit %u", idx, q->limit);
        for (uint32_t i = q->head; i != q->tail; i++, queued++) {
            const void *p = ph->queued[idx][i % RTI_QUEUE_SIZE];
            CHECK(rti_arena_map_contains(&ph->map, p) && RTI_POOL_OF(p)->szidx == idx,
                  "free queue %u holds %p, not a block of its class", idx, p);
        }
    }
    CHECK(in_use == (int64_t)(ph->nalloc - ph->nfree) + queued, "%lld blocks in pools, %lld recorded + %lld queued",
          (long long)in_use, (long long)(ph->nalloc - ph->nfree), (long long)queued);
    return 0;
}
