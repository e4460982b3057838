/* pool.h -- the pooled small-object allocator: layout and fast paths.
 *
 * The model is CPython's obmalloc (see pool.c for the whole design).  This
 * header holds the data structures and the two hot paths, inlined into
 * rt_malloc and rt_free:
 *
 *   free        read the block's class from its arena's class map and
 *               append the block to the class's free queue (RtFreeQueue);
 *   allocation  take the oldest block of the class's free queue when it
 *               holds a few, else pop the allocation list of the first used
 *               pool of the class (mimalloc's split lists: see RtPool).
 *
 * A block goes straight back to its pool when the queue is full or has
 * stepped aside; everything else (a queue stepping aside, refilling the
 * allocation list, new pools, new arenas, full and empty pools) is in
 * pool.c's slow paths.
 */
#ifndef RT_POOL_H
#define RT_POOL_H

#include "rt/alloc.h"
#include <stdbool.h>
#include <stdint.h>

#if RT_ASAN
#include <sanitizer/asan_interface.h>
#define RTI_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define RTI_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define RTI_POISON(p, n) ((void)(p), (void)(n))
#define RTI_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* -- Main tunable settings section -- (CPython 3.12's values, 64-bit)
 *
 * ALIGNMENT: every block is 16-byte aligned, so size classes step by 16.
 * POOL_BITS: a pool is 16 KiB; one size class per pool.
 * ARENA_BITS: an arena is 1 MiB = 64 pool slots; arenas are the unit of
 *   mmap and munmap, so only a wholly free arena returns memory to the OS.
 *   Slot 0 holds the table of the arena's pool descriptors (RtPool, 64
 *   bytes each: its first 4 KiB page), slots 1..63 hold blocks.  Slot 0's
 *   own descriptor is never a pool's: its 64 bytes are the arena's class
 *   map, the size class of the pool in each slot.
 * The following invariants must hold:
 *   1) ALIGNMENT <= SMALL_REQUEST_THRESHOLD, both powers of two;
 *   2) a pool starts with a block, so blocks are pool-aligned;
 *   3) an arena is an exact multiple of the pool size.
 */
#define RTI_ALIGNMENT_SHIFT 4
#define RTI_POOL_BITS 14
#define RTI_ARENA_BITS 20
#define RTI_ARENA_MASK (RT_ARENA_SIZE - 1)
#define RTI_POOLS_PER_ARENA ((uint32_t)(RT_ARENA_SIZE / RT_POOL_SIZE))
#define RTI_FIRST_POOL 1u       /* slot 0: the descriptor table */
#define RTI_POOL_DESC_SIZE 64
/* Never-used blocks are carved RTI_CARVE_BYTES at a time, but at least
 * RTI_CARVE_MIN_BLOCKS: an alloc/free pair cycles through the carved batch,
 * and refills the allocation list (a slow-path call) once per batch. */
#define RTI_CARVE_BYTES 4096
#define RTI_CARVE_MIN_BLOCKS 32
/* The free queues (RtFreeQueue): each holds up to RTI_QUEUE_SIZE freed
 * blocks (a power of two); allocation takes from one only when it holds at
 * least RTI_QUEUE_LAG. */
#define RTI_QUEUE_SIZE 32u
#define RTI_QUEUE_LAG 4u
/* -- End of tunable settings section -- */

#if (1 << RTI_ALIGNMENT_SHIFT) != RT_ALIGNMENT || (1 << RTI_POOL_BITS) != RT_POOL_SIZE \
    || (1 << RTI_ARENA_BITS) != RT_ARENA_SIZE
#error "pool geometry constants disagree with rt/alloc.h"
#endif
#if RT_ARENA_SIZE % RT_POOL_SIZE != 0
#error "arena size not an exact multiple of pool size"
#endif
#if (RTI_QUEUE_SIZE & (RTI_QUEUE_SIZE - 1)) || RTI_QUEUE_LAG == 0 || RTI_QUEUE_LAG > RTI_QUEUE_SIZE
#error "free queue settings: the size is a power of two, the lag between 1 and the size"
#endif

/* A free block holds the link to the next free block of its pool. */
typedef struct RtBlock {
    struct RtBlock *next;
} RtBlock;

/* A pool's descriptor, in its arena's table (slot 0; see above): all the
 * descriptors of an arena share one page, so that a free in a large heap
 * touches the block and a dense table -- not a header on another page of
 * every pool, one TLB entry each (obmalloc's layout).
 * A pool is in one of three states:
 *   used   some blocks allocated, some free: on its class's usedpools list;
 *   full   every block allocated: on no list (freeblock == NULL);
 *   empty  no block allocated: on its arena's freepools list -- except the
 *          last used pool of a class, which stays on usedpools when it
 *          empties so that an alloc/free pair does not recycle the pool
 *          every time (a "retained" pool).
 *
 * Free blocks sit on two lists, as in mimalloc: allocation pops 'freeblock',
 * free pushes 'localfree', and when 'freeblock' runs dry the lists swap.
 * With one list, an allocation right after a free reads the link the free
 * has just written, and every alloc/free pair waits on that store; with two,
 * allocation reads links written long before.  Never-used blocks are carved
 * onto 'freeblock' a batch at a time (4 KiB, at least 32 blocks) when both
 * lists are empty, so a fresh pool touches little more memory than it
 * hands out.
 * Invariant: a used pool's 'freeblock' is never NULL between calls.
 *
 * Two counts instead of one that goes up and down, for the same reason:
 * blocks in use = nalloc - nfree (modulo 2^32). */
typedef struct RtPool {
    uint32_t nalloc;            /* blocks handed out */
    uint32_t nfree;             /* blocks given back */
    RtBlock *freeblock;         /* allocation list; NULL when full */
    RtBlock *localfree;         /* blocks freed since the last swap */
    struct RtPool *nextpool;    /* usedpools list, or the arena's freepools */
    struct RtPool *prevpool;    /* usedpools list only */
    uint32_t arenaindex;        /* index into the heap's arena vector */
    uint32_t szidx;             /* size class index; RTI_NO_CLASS if never used */
    uint32_t nextoffset;        /* offset of the next never-used block */
    uint32_t maxnextoffset;     /* largest valid nextoffset */
    uint64_t unused;            /* pad to RTI_POOL_DESC_SIZE */
} RtPool;
_Static_assert(sizeof(RtPool) == RTI_POOL_DESC_SIZE, "pool descriptor size");
_Static_assert(RTI_POOLS_PER_ARENA * RTI_POOL_DESC_SIZE <= RT_POOL_SIZE, "descriptor table fits slot 0");
#define RTI_NO_CLASS 0xffffffffu
#define RTI_POOL_COUNT(pool) ((uint32_t)((pool)->nalloc - (pool)->nfree))

/* An arena descriptor (the arena's memory holds its pools' table and pools).  Descriptors of
 * mapped arenas with a free pool form 'usable_arenas', a doubly linked list
 * in increasing order of nfreepools: allocation takes pools from the most
 * used arena first, which lets nearly empty arenas drain and be unmapped. */
typedef struct RtArena {
    uintptr_t address;          /* base of the mapping; 0 if the slot is unused */
    uint8_t *pool_address;      /* next never-used pool */
    uint32_t nfreepools;        /* free pools, never-used ones included */
    uint32_t ntotalpools;
    RtPool *freepools;          /* empty pools, singly linked by nextpool */
    struct RtArena *nextarena;  /* usable_arenas, or the unused slot list */
    struct RtArena *prevarena;
} RtArena;

/* Which addresses belong to an arena: one bit per 1 MiB of the 48-bit
 * address space, 2^28 bits = 32 MiB reserved with MAP_NORESERVE when the
 * heap starts.  Only the words for addresses where arenas live are ever
 * touched (one 4 KiB page covers 32 GiB of address space), so the map
 * costs a page or two of memory, and the lookup is one load.  Arenas are
 * mapped 1 MiB-aligned, so an address's bit is its arena's bit. */
#define RTI_MAP_BITS (48 - RTI_ARENA_BITS)
#define RTI_MAP_BYTES (((size_t)1 << RTI_MAP_BITS) / 8)
typedef struct RtArenaMap {
    uint64_t *bits;         /* NULL until the heap starts */
} RtArenaMap;

/* A class's free queue: the blocks freed last, oldest first, in a ring of
 * RTI_QUEUE_SIZE pointers (jemalloc's and glibc's thread caches are the
 * model).  A free appends the block after reading its class from the arena's
 * class map, a byte per pool and a line per MiB, and writes nothing into the
 * block or its pool; an allocation takes the oldest block back.  So a
 * program that frees and allocates in turn across a large heap touches one
 * dense line per operation instead of the pool's descriptor and the block.
 *
 * First in, first out, and allocation waits until the queue holds
 * RTI_QUEUE_LAG blocks: the block it takes was freed several frees ago, so
 * an alloc/free pair never reads a slot the preceding free has just
 * written (the store-to-load chain that also shapes RtPool's split lists).
 *
 * When the queue is full, a free gives its block straight back to the
 * pool.  When a block given back leaves its pool empty, the class is
 * shrinking: the queue gives back every block it holds and steps aside
 * ('limit' drops to 0), so that frees go straight to their pools and
 * arenas can drain and be unmapped; the class's next refill or new pool
 * (it is growing again) sets 'limit' back to RTI_QUEUE_SIZE.
 *
 * Invariants: tail - head <= RTI_QUEUE_SIZE (modulo 2^32); each queued block
 * belongs to the class, is free to the user (the heap's counts) and in use
 * to its pool (the pool's counts), and is poisoned under ASan.  Queued
 * blocks pin their pools until a trim, which empties every queue. */
typedef struct RtFreeQueue {
    uint32_t head;              /* the oldest block: queued[class][head % SIZE] */
    uint32_t tail;              /* where the next freed block goes */
    uint32_t limit;             /* blocks a free may leave queued */
    uint32_t unused;            /* pad to 16 bytes: indexing is a shift */
} RtFreeQueue;

typedef struct RtPoolHeap {
    RtPool *usedpools[RT_NB_SMALL_SIZE_CLASSES];  /* first used pool per class */
    /* Small-block counts.  Two monotonic counters rather than one that goes
     * up and down: an alloc/free pair then updates each once, so neither
     * joins the free list's chain of store-to-load forwards that bounds
     * the pair's latency; blocks in use = nalloc - nfree. */
    uint64_t nalloc;
    uint64_t nfree;
    uint64_t in_use_peak;
    RtArena *arenas;            /* vector of descriptors */
    uint32_t maxarenas;
    RtArena *unused_arena_objects;  /* free descriptor slots */
    RtArena *usable_arenas;
    /* nfp2lasta[n]: the last arena in usable_arenas with n free pools,
     * which makes keeping the list sorted O(1) (bpo-37029). */
    RtArena *nfp2lasta[RTI_POOLS_PER_ARENA + 1];
    RtStatCount pools;
    RtStatCount arenas_stat;
    RtStatCount large;          /* requests passed to malloc */
    RtArenaMap map;
    RtFreeQueue queue[RT_NB_SMALL_SIZE_CLASSES];
    void *queued[RT_NB_SMALL_SIZE_CLASSES][RTI_QUEUE_SIZE];    /* the queues' rings */
} RtPoolHeap;

/* The arena of an address, the descriptor of the pool holding a block, and
 * the memory of the pool a descriptor describes. */
#define RTI_ARENA_BASE(p) ((uintptr_t)(p) & ~(uintptr_t)RTI_ARENA_MASK)
#define RTI_POOL_SLOT(p) (((uintptr_t)(p) & RTI_ARENA_MASK) >> RTI_POOL_BITS)
#define RTI_POOL_OF(p) ((RtPool *)RTI_ARENA_BASE(p) + RTI_POOL_SLOT(p))
#define RTI_DESC_SLOT(pool) (((uintptr_t)(pool) & RTI_ARENA_MASK) / RTI_POOL_DESC_SIZE)
#define RTI_CLASS_MAP(p) ((uint8_t *)RTI_ARENA_BASE(p))    /* [slot] = class */
#define RTI_POOL_MEM(pool) \
    ((uint8_t *)(RTI_ARENA_BASE(pool) + ((((uintptr_t)(pool) & RTI_ARENA_MASK) / RTI_POOL_DESC_SIZE) << RTI_POOL_BITS)))
#define RTI_CLASS_SIZE(idx) (((uint32_t)(idx) + 1) << RTI_ALIGNMENT_SHIFT)
#define RTI_POOL_CAPACITY(idx) ((uint32_t)(RT_POOL_SIZE / RTI_CLASS_SIZE(idx)))

static inline bool
rti_arena_map_contains(const RtArenaMap *map, const void *p)
{
    uintptr_t bit = (uintptr_t)p >> RTI_ARENA_BITS;
    if (rt_unlikely(bit >> RTI_MAP_BITS))
        return false;
    return (map->bits[bit >> 6] >> (bit & 63)) & 1;
}

/* Slow paths (pool.c). */
void *rti_pool_alloc_new_pool(RtPoolHeap *ph, uint32_t idx);
void *rti_pool_refill(RtPoolHeap *ph, RtPool *pool, void *bp);
void *rti_pool_alloc_large(RtPoolHeap *ph, size_t size);
void rti_pool_free_slow(RtPoolHeap *ph, RtPool *pool);
void rti_pool_free_large(RtPoolHeap *ph, void *p);
void *rti_pool_realloc(RtPoolHeap *ph, void *p, size_t size);
size_t rti_pool_block_size(const RtPoolHeap *ph, const void *p); /* 0: not a pool block */
void rti_pool_trim(RtPoolHeap *ph, bool keep_one);
void rti_pool_free_past_queue(RtPoolHeap *ph, RtPool *pool);
int rti_pool_init(RtPoolHeap *ph);
void rti_pool_fini(RtPoolHeap *ph);
void rti_pool_stats(const RtPoolHeap *ph, RtAllocStats *st);
void rti_pool_counts(const RtPoolHeap *ph, RtAllocStats *st);
int rti_pool_validate(const RtPoolHeap *ph, char *err, size_t errlen);

/* One more block in use, for the heap's counts and peak. */
static inline void
rti_pool_count_alloc(RtPoolHeap *ph)
{
    uint64_t in_use = ++ph->nalloc - ph->nfree;
    if (rt_unlikely(in_use > ph->in_use_peak))
        ph->in_use_peak = in_use;
}

/* Take the first block of a used pool's allocation list (never empty
 * between calls), refilling the list when that empties it. */
static inline void *
rti_pool_pop(RtPoolHeap *ph, RtPool *pool)
{
    RtBlock *bp = pool->freeblock;
    RTI_UNPOISON(bp, RTI_CLASS_SIZE(pool->szidx));
    pool->freeblock = bp->next;
    pool->nalloc++;
    rti_pool_count_alloc(ph);
    if (rt_unlikely(pool->freeblock == NULL))
        return rti_pool_refill(ph, pool, bp);
    return bp;
}

/* Allocate a block; NULL when the OS refuses memory (the slow paths set
 * no runtime error: rt_malloc does).  Every slow path is a tail call, so the
 * fast path needs no stack frame. */
static inline void *
rti_pool_alloc(RtPoolHeap *ph, size_t size)
{
    if (rt_unlikely(size - 1 >= RT_SMALL_REQUEST_THRESHOLD))   /* 0 wraps too */
        return rti_pool_alloc_large(ph, size);
    size_t idx = (size - 1) >> RTI_ALIGNMENT_SHIFT;
    RtFreeQueue *q = &ph->queue[idx];
    uint32_t head = q->head;
    if (q->tail - head >= RTI_QUEUE_LAG) {
        void *kept = ph->queued[idx][head % RTI_QUEUE_SIZE];
        q->head = head + 1;
        RTI_UNPOISON(kept, RTI_CLASS_SIZE(idx));
        rti_pool_count_alloc(ph);
        return kept;
    }
    RtPool *pool = ph->usedpools[idx];
    if (rt_unlikely(pool == NULL))
        return rti_pool_alloc_new_pool(ph, (uint32_t)idx);
    return rti_pool_pop(ph, pool);
}

/* Push a block onto its pool's local free list (the heap's counts already
 * say it is free); true when the pool now needs rti_pool_free_slow: it was
 * full, or none of its blocks is in use. */
static inline bool
rti_pool_push(RtPool *pool, void *p)
{
    ((RtBlock *)p)->next = pool->localfree;
    RTI_POISON(p, RTI_CLASS_SIZE(pool->szidx));
    pool->localfree = (RtBlock *)p;
    uint32_t nfree = ++pool->nfree;
    return rt_unlikely(nfree == pool->nalloc || pool->freeblock == NULL);
}

static inline void
rti_pool_free(RtPoolHeap *ph, void *p)
{
    if (rt_unlikely(!rti_arena_map_contains(&ph->map, p))) {
        rti_pool_free_large(ph, p);
        return;
    }
    ph->nfree++;
    uint32_t idx = RTI_CLASS_MAP(p)[RTI_POOL_SLOT(p)];
    RtFreeQueue *q = &ph->queue[idx];
    uint32_t tail = q->tail;
    if (rt_unlikely(tail - q->head >= q->limit)) {
        /* Full, or stepped aside: straight to the pool (RtFreeQueue).  Only
         * tail calls here, so the fast path needs no stack frame. */
        RtPool *pool = RTI_POOL_OF(p);
        if (rti_pool_push(pool, p))
            rti_pool_free_past_queue(ph, pool);
        return;
    }
    RTI_POISON(p, RTI_CLASS_SIZE(idx));
    ph->queued[idx][tail % RTI_QUEUE_SIZE] = p;
    q->tail = tail + 1;
}

#endif /* RT_POOL_H */
