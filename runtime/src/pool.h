/* pool.h -- the pooled small-object allocator: layout and fast paths.
 *
 * The model is CPython's obmalloc (see pool.c for the whole design).  This
 * header holds the data structures and the hot paths, inlined into
 * rt_malloc and rt_free and into the object layer's allocation of objects
 * of a known size (object.c):
 *
 *   allocation  pop the class's free cache (RtFreeCache) when it holds a
 *               block, else pop the allocation list of the first used pool
 *               of the class (mimalloc's split lists: see RtPool);
 *   free        read the block's class from its arena's class map (or take
 *               it from the caller, who knows the object's size) and push
 *               the block onto the class's free cache, or onto its pool's
 *               local list when the cache is full or has stepped aside.
 *
 * Everything else (refilling an allocation list, new pools, new arenas,
 * full and empty pools, a cache stepping aside, retained arenas) is in
 * pool.c's and pool_arena.c's slow paths, each reached by a tail call so
 * that the fast paths need no stack frame.
 *
 * Threads: the pools and caches are a heap's (RtPoolHeap), one per thread
 * in the threaded variants, over shared arenas (RtArenas); the fast paths
 * are the same on the calling thread's heap, and a block that goes back to
 * a pool another heap owns takes that heap's delayed list (pool_heap.c).
 */
#ifndef RT_POOL_H
#define RT_POOL_H

#include "rt/alloc.h"
#include "debug.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#if RT_RC_THREADED
#include <pthread.h>
#include <stdatomic.h>
#endif

#if RT_ASAN
#include <sanitizer/asan_interface.h>
#define RTI_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define RTI_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define RTI_POISON(p, n) ((void)(p), (void)(n))
#define RTI_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Make the compiler forget where a pointer into the heap came from, so that
 * it addresses a cache's fields from the cache's own address (one register)
 * instead of recomputing each from the heap's base and the class index --
 * two instructions more on every allocation and free.  Generates nothing.
 * RTI_OPAQUE_INDEXED: only where the index is not a constant (with a
 * constant one the fields of the nonatomic variant's one heap are at
 * addresses the compiler knows, and the register costs an instruction). */
#if defined(__GNUC__) || defined(__clang__)
#define RTI_OPAQUE(ptr) __asm__("" : "+r"(ptr))
#define RTI_OPAQUE_INDEXED(ptr, idx) \
    do {                                \
        if (!__builtin_constant_p(idx)) \
            RTI_OPAQUE(ptr);            \
    } while (0)
#else
#define RTI_OPAQUE(ptr) ((void)0)
#define RTI_OPAQUE_INDEXED(ptr, idx) ((void)0)
#endif

/* Tell the compiler what cannot happen (a block popped from a list is never
 * NULL), so that callers skip their test; checked under RT_DEBUG. */
#if RT_DEBUG >= 1
#define RTI_ASSUME(e) rti_assert(e)
#elif defined(__GNUC__) || defined(__clang__)
#define RTI_ASSUME(e) (rt_likely(e) ? (void)0 : __builtin_unreachable())
#else
#define RTI_ASSUME(e) ((void)0)
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
/* The free caches (RtFreeCache): each holds up to RTI_CACHE_SIZE freed
 * blocks, so that the whole cache is 256 bytes and a class's cache is
 * found by a shift. */
#define RTI_CACHE_SIZE 31u
/* Arena retention (pool_arena.c): a wholly free arena stays mapped for
 * reuse until it has been unused for the decay (RtConfig.arena_decay_ms,
 * RT_ARENA_DECAY_MS), and while the free arenas kept number at most
 * max(RTI_RETAIN_MIN, recent peak of arenas in use / RTI_RETAIN_PEAK_DIV):
 *   RTI_RETAIN_MIN 64: a program that drops and rebuilds a structure of up
 *     to 64 MiB (list_append's 32 MiB of ints a round) refaults nothing;
 *     64 MiB is what glibc's malloc keeps untrimmed at most (twice its
 *     largest mmap threshold);
 *   RTI_RETAIN_PEAK_DIV 8: a larger heap keeps an eighth of its recent peak
 *     (mimalloc's segment cache kept the same share of its peak). */
#define RTI_RETAIN_MIN 64u
#define RTI_RETAIN_PEAK_DIV 8u
/* Threaded variants: a heap keeps up to RTI_HEAP_EMPTY_POOLS of the pools
 * that empty on it (4 MiB), for its own next new pools, instead of giving
 * them back to the shared arenas at once (pool_heap.c, "Empty pools"). */
#define RTI_HEAP_EMPTY_POOLS 256u
/* Threaded variants: a heap that frees blocks of other heaps' pools past
 * its cache publishes its count of blocks in use every RTI_FOREIGN_SAMPLE
 * of them (pool_heap.c, "Statistics"): each such free is a CAS on another
 * heap's line already; the sample, an atomic add and a loop over the
 * types' rows, once in 64 of them. */
#define RTI_FOREIGN_SAMPLE 64u
/* Threaded variants: a heap publishes its count of blocks in use (and the
 * object layer a type row's live objects, or its bytes by 64 times as
 * many) only once it moved by RTI_PUBLISH_BATCH since the last time, as
 * Linux's percpu_counter folds a CPU's delta past its batch: each publish
 * is an atomic add on a line every thread's heap adds to, and a thread
 * allocating tens of millions of objects a second reaches a sample point
 * every hundred or so.  The total's peak trails by up to this much a heap
 * more (pool_heap.c, "Statistics"). */
#define RTI_PUBLISH_BATCH 256
/* -- End of tunable settings section -- */

#if (1 << RTI_ALIGNMENT_SHIFT) != RT_ALIGNMENT || (1 << RTI_POOL_BITS) != RT_POOL_SIZE \
    || (1 << RTI_ARENA_BITS) != RT_ARENA_SIZE
#error "pool geometry constants disagree with rt/alloc.h"
#endif
#if RT_ARENA_SIZE % RT_POOL_SIZE != 0
#error "arena size not an exact multiple of pool size"
#endif
#if RTI_CACHE_SIZE < 1 || RTI_RETAIN_PEAK_DIV < 1
#error "free cache and retention settings: at least 1 each"
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
 * hands out; an empty pool taken again is carved afresh (pool.c).
 * Invariant: a used pool's 'freeblock' is never NULL between calls.
 *
 * One count of blocks in use: a push decrements it and tests for zero
 * (two instructions), the one test of the push.  (An earlier design kept
 * two monotonic counts so that a LIFO alloc/free pair did not chain
 * through one; the free caches take those pairs now, and pools see the
 * bulk frees, where the shorter test pays.)  A full pool (both lists
 * empty, every block carved: on no list) holds RTI_POOL_FULL_COUNT
 * instead, so that the free that makes it used again reaches zero too and
 * takes the slow path, which tells the two apart (freeblock NULL) and
 * puts the real count back: the push needs no second test for a full
 * pool (2 instructions fewer per free past the cache).  rti_pool_count
 * reads the count either way. */
typedef struct RtPool {
    uint32_t count;             /* blocks handed out and not given back */
    uint32_t szidx;             /* size class index; RTI_NO_CLASS if never used */
    RtBlock *freeblock;         /* allocation list; NULL when full */
    RtBlock *localfree;         /* blocks freed since the last swap */
    struct RtPool *nextpool;    /* usedpools list, or the arena's freepools */
    struct RtPool *prevpool;    /* usedpools list only */
    uint32_t arenaindex;        /* index into the arenas' descriptor vector */
    uint32_t nextoffset;        /* offset of the next never-used block */
    struct RtPoolHeap *heap;    /* the owning heap (set when the pool is taken) */
    uint32_t maxnextoffset;     /* largest valid nextoffset */
    uint32_t unused;            /* pad to RTI_POOL_DESC_SIZE */
} RtPool;
_Static_assert(sizeof(RtPool) == RTI_POOL_DESC_SIZE, "pool descriptor size");
_Static_assert(RTI_POOLS_PER_ARENA * RTI_POOL_DESC_SIZE <= RT_POOL_SIZE, "descriptor table fits slot 0");
#define RTI_NO_CLASS 0xffffffffu

/* An arena descriptor (the arena's memory holds its pools' table and
 * pools).  Descriptors of mapped arenas with a free pool form
 * 'usable_arenas', a doubly linked list in increasing order of nfreepools:
 * allocation takes pools from the most used arena first, which lets nearly
 * empty arenas drain.  The wholly free arenas, kept for reuse (retained),
 * are the list's tail, the most recently freed first: allocation reuses the
 * warmest, and the oldest, at the very end, are the first released. */
typedef struct RtArena {
    uintptr_t address;          /* base of the mapping; 0 if the slot is unused */
    uint8_t *pool_address;      /* next never-used pool */
    uint32_t nfreepools;        /* free pools, never-used ones included */
    uint32_t ntotalpools;
    RtPool *freepools;          /* empty pools, singly linked by nextpool */
    struct RtArena *nextarena;  /* usable_arenas, or the unused slot list */
    struct RtArena *prevarena;
    double free_since;          /* retained: when it became wholly free (rt_monotonic_s); else 0 */
} RtArena;

/* Which addresses belong to an arena: one byte per 1 MiB of the 48-bit
 * address space, 2^28 bytes = 256 MiB reserved with MAP_NORESERVE when the
 * heap starts.  Only the pages for addresses where arenas live are ever
 * touched (one 4 KiB page covers 4 GiB of address space), so the map costs
 * a page or two of memory, and the lookup is a shift and a byte load -- a
 * bitmap would be eight times smaller, and three instructions longer on
 * every free.  Arenas are mapped 1 MiB-aligned, so an address's byte is its
 * arena's byte. */
#define RTI_MAP_ENTRIES ((size_t)1 << (48 - RTI_ARENA_BITS))
typedef struct RtArenaMap {
    uint8_t *used;          /* [address >> RTI_ARENA_BITS]: 1 for an arena; NULL until the heap starts */
} RtArenaMap;

/* A class's free cache: the blocks freed last, in a stack of RTI_CACHE_SIZE
 * pointers (jemalloc's and glibc's thread caches are the model).  A free
 * pushes the block after reading its class from the arena's class map, a
 * byte per pool and a line per MiB (or from its caller), and writes nothing
 * into the block or its pool; an allocation pops it back.  So a program
 * that frees and allocates in turn across a large heap touches one dense
 * line per operation instead of the pool's descriptor and the block, and a
 * LIFO alloc/free pair is a push and a pop of one stack.
 *
 * When the cache is full, a free gives its block straight back to the
 * pool.  When a block given back leaves its pool empty, the class is
 * shrinking: the cache gives back every block it holds and steps aside
 * ('limit' drops to 0), so that frees go straight to their pools and
 * arenas can drain; the class's next refill or new pool (it is growing
 * again) sets 'limit' back to RTI_CACHE_SIZE.
 *
 * Invariants: n <= limit <= RTI_CACHE_SIZE, limit is 0 or RTI_CACHE_SIZE;
 * each cached block belongs to the class, is free to the user (the heap's
 * counts) and in use to its pool (the pool's counts), and is poisoned under
 * ASan.  Cached blocks pin their pools until a trim, which empties every
 * cache. */
typedef struct RtFreeCache {
    uint32_t n;                 /* blocks cached: slots[0..n) */
    uint32_t limit;             /* blocks a free may leave cached */
    void *slots[RTI_CACHE_SIZE];
} RtFreeCache;
_Static_assert(sizeof(RtFreeCache) == 256, "a class's cache is found by a shift");

/* The arenas: shared by every heap (RtPoolHeap), which take pools from
 * them and give empty pools back (pool_arena.c).  In the threaded variants
 * every field is guarded by 'lock' but the map, which changes only while
 * its arena is mapped or unmapped and is read without a lock (an address
 * a thread holds is in an arena that stays mapped meanwhile). */
typedef struct RtArenas {
    RtArena *arenas;            /* vector of descriptors */
    uint32_t maxarenas;
    RtArena *unused_arena_objects;  /* free descriptor slots */
    RtArena *usable_arenas;
    /* nfp2lasta[n]: the last arena in usable_arenas with n free pools,
     * which makes keeping the list sorted O(1) (bpo-37029). */
    RtArena *nfp2lasta[RTI_POOLS_PER_ARENA + 1];
    /* Retention (pool_arena.c). */
    double decay_s;             /* keep a free arena this long; 0: release at once but one */
    uint32_t nretained;         /* wholly free arenas kept mapped */
    uint32_t recent_peak;       /* arenas in use at most since the last release by age */
    uint64_t arenas_reused;     /* retained arenas taken back into use */
    RtStatCount pools;
    RtStatCount arenas_stat;
    RtArenaMap map;
    /* Every heap, linked by next_heap (pool_heap.c): one in the nonatomic
     * variant. */
    struct RtPoolHeap *heaps;
    /* The peak of small blocks in use over all heaps, sampled when the
     * heaps are read together (the heap's own when there is one). */
    uint64_t in_use_peak;
#if RT_RC_THREADED
    /* The sum of the heaps' published counts (RtPoolHeap.published), and
     * its peak: the total's peak between reads (pool_heap.c). */
    _Atomic int64_t published_in_use;
    _Atomic int64_t published_peak;
#endif
    /* Called at every heap's sample points (RtPoolHeap), for the object
     * layer's peaks. */
    void (*on_sample)(void);
#if RT_RC_THREADED
    pthread_mutex_t lock;
    struct RtPoolHeap *abandoned;   /* heaps of detached threads, by next_abandoned */
    /* A thread's heap is the start of a larger block (RtThreadHeap): its
     * size, and what sets up the rest. */
    size_t heap_size;
    void (*on_heap_init)(struct RtPoolHeap *ph);
#endif
} RtArenas;

/* A heap: the size-class pools and free caches of one thread (pool_heap.c
 * says how threads own heaps; the nonatomic variant has one).  Only its
 * owner touches it, but for 'delayed': blocks of its pools that other
 * threads freed, pushed without a lock (mimalloc's thread_delayed_free),
 * which the owner gives back to their pools at its next slow path. */
typedef struct RtPoolHeap {
    RtPool *usedpools[RT_NB_SMALL_SIZE_CLASSES];  /* first used pool per class */
    /* Small-block counts: plain counters, each updated once per operation
     * (blocks in use = nalloc - nfree).  The peak of blocks in use is taken
     * at sample points (every slow path that refills an allocation list or
     * takes a pool, every statistics call), not on every allocation.  In
     * the threaded variants they count this heap's operations: a block
     * allocated here and freed by another thread's heap counts there. */
    uint64_t nalloc;
    uint64_t nfree;
    uint64_t in_use_peak;
    RtArenas *ar;
    RtStatCount large;          /* requests passed to malloc */
    struct RtPoolHeap *next_heap;   /* ar->heaps */
#if RT_RC_THREADED
    _Atomic(RtBlock *) delayed;     /* freed by other threads: linked by next */
    RtPool *empty;              /* emptied pools kept (by nextpool), at most RTI_HEAP_EMPTY_POOLS */
    uint32_t nempty;
    struct RtPoolHeap *next_abandoned;
    bool owned;                 /* a thread owns it (else: abandoned) */
    int64_t published;          /* nalloc - nfree, as last added to ar->published_in_use */
    uint32_t foreign_frees;     /* frees onto other heaps' delayed lists until the next sample */
#endif
    RtFreeCache cache[RT_NB_SMALL_SIZE_CLASSES];
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
/* The class of a request of 1..RT_SMALL_REQUEST_THRESHOLD bytes. */
#define RTI_SIZE_CLASS(size) ((size_t)(((size) - 1) >> RTI_ALIGNMENT_SHIFT))

/* A full pool's count field (RtPool). */
#define RTI_POOL_FULL_COUNT 1u
/* Whether a pool is full: every block carved and none on a list. */
static inline bool
rti_pool_full(const RtPool *pool)
{
    return pool->freeblock == NULL && pool->localfree == NULL && pool->nextoffset > pool->maxnextoffset;
}
/* The blocks of a pool handed out and not given back. */
static inline uint32_t
rti_pool_count(const RtPool *pool)
{
    return rti_pool_full(pool) ? RTI_POOL_CAPACITY(pool->szidx) : pool->count;
}
#define RTI_POOL_COUNT(pool) rti_pool_count(pool)

/* Whether p lies in an arena.  No bounds check: user-space addresses have
 * 47 bits on x86-64 and 48 on AArch64, and mmap and malloc hand out higher
 * ones (la57) only when asked with a hint above 2^47, which nothing in the
 * process does; the assert says so. */
static inline bool
rti_arena_map_contains(const RtArenaMap *map, const void *p)
{
    rti_assert(((uintptr_t)p >> RTI_ARENA_BITS) < RTI_MAP_ENTRIES);
    return map->used[(uintptr_t)p >> RTI_ARENA_BITS] != 0;
}

/* Slow paths (pool.c). */
void *rti_pool_alloc_new_pool(RtPoolHeap *ph, uint32_t idx);
void *rti_pool_refill(RtPoolHeap *ph, RtPool *pool, void *bp);
void *rti_pool_alloc_large(RtPoolHeap *ph, size_t size);
void rti_pool_free_slow(RtPoolHeap *ph, RtPool *pool);
void rti_pool_free_past_cache(RtPoolHeap *ph, RtPool *pool);
void rti_pool_free_large(RtPoolHeap *ph, void *p);
void *rti_pool_realloc(RtPoolHeap *ph, void *p, size_t size);
size_t rti_pool_block_size(const RtPoolHeap *ph, const void *p); /* 0: not a pool block */
void rti_pool_flush(RtPoolHeap *ph);
/* Give memory back: the cached blocks to their pools, the retained pools
 * to their arenas (pool.c), then -- rti_pools_trim, every heap at rest --
 * the retained arenas by the retention rule (by_rule: a full collection)
 * or all of them (rt_alloc_trim). */
void rti_pool_trim_heap(RtPoolHeap *ph);
#if RT_RC_THREADED
/* A block of a pool another heap owns goes onto that heap's delayed list,
 * or straight to its pool with the world stopped by the caller (pool.c). */
void rti_pool_free_foreign(RtPool *pool, void *p);
/* The caches' blocks of other heaps back to their pools (pool.c), the
 * world stopped by the caller. */
void rti_pool_cache_send_home(RtPoolHeap *ph);
#endif

/* The heaps (pool_heap.c). */
int rti_pools_init(RtArenas *ar, RtPoolHeap *first, double decay_s);
void rti_pools_fini(RtArenas *ar, RtPoolHeap *first);
void rti_pool_heap_init(RtPoolHeap *ph, RtArenas *ar);
void rti_pool_sample(RtPoolHeap *ph);
#if RT_RC_THREADED
/* Raise an atomic peak to at least value (pool_heap.c). */
void rti_peak_raise(_Atomic int64_t *peak, int64_t value);
/* Add delta to a running total shared by the heaps, and raise the total's
 * peak when it grew (the heaps' blocks in use, a type's objects or bytes). */
static inline void
rti_total_add(_Atomic int64_t *total, _Atomic int64_t *peak, int64_t delta)
{
    int64_t now = atomic_fetch_add_explicit(total, delta, memory_order_relaxed) + delta;
    if (delta > 0)
        rti_peak_raise(peak, now);
}
/* Whether a delta has come to a batch worth publishing (RTI_PUBLISH_BATCH). */
static inline bool
rti_publish_due(int64_t delta, int64_t batch)
{
    return delta >= batch || delta <= -batch;
}
/* Threads come to share the heaps (the world stopped): the total's peak
 * takes the one heap's own so far, exact (pool_heap.c). */
void rti_pools_share(RtArenas *ar);
#endif
void rti_pools_trim(RtArenas *ar, bool by_rule);
/* Statistics: the total of every heap (every heap at rest), or one heap's
 * own counts (its owner calls) beside the shared figures. */
void rti_pools_stats(RtArenas *ar, RtAllocStats *st);
void rti_pools_counts(RtArenas *ar, RtAllocStats *st);
void rti_pool_heap_counts(RtPoolHeap *ph, RtAllocStats *st);
/* Check every invariant of every heap and the arenas; 0, or -1 with a
 * message.  Expensive (walks every pool and free list), every heap at
 * rest: for tests. */
int rti_pools_validate(const RtArenas *ar, char *err, size_t errlen);
#if RT_RC_THREADED
/* Give the blocks other threads freed back to their pools (ph's owner, or
 * any thread while ph is abandoned and the world stopped, or at rest). */
void rti_pool_collect_delayed(RtPoolHeap *ph);
/* A thread attaches: adopt an abandoned heap, or make one (NULL: no
 * memory).  It detaches: its heap is abandoned, blocks still live. */
RtPoolHeap *rti_pool_heap_adopt(RtArenas *ar);
void rti_pool_heap_abandon(RtPoolHeap *ph);
#endif
/* Arenas and retention (pool_arena.c). */
int rti_arenas_init(RtArenas *ar, double decay_s);
void rti_arenas_fini(RtArenas *ar);
RtPool *rti_arena_take_pool(RtArenas *ar, bool *arena_changed);  /* NULL: no memory */
void rti_arena_give_pool(RtArenas *ar, RtPool *pool); /* an empty pool */
void rti_arenas_trim(RtArenas *ar, bool by_rule);
/* The retention rule as if the clock said now (tests pass a time to come). */
void rti_pool_decay(RtArenas *ar, double now);
/* The arenas' own invariants (the arena lock held, or alone); 0 or -1. */
int rti_arenas_validate(const RtArenas *ar, char *err, size_t errlen);
/* The validators' test: on failure, the message into err[errlen] and
 * return -1. */
#define RTI_POOL_CHECK(cond, ...)                       \
    do {                                                \
        if (!(cond)) {                                  \
            snprintf(err, errlen, __VA_ARGS__);         \
            return -1;                                  \
        }                                               \
    } while (0)
/* RT_DEBUG >= 2: check, aborting with the message; else nothing.
 * rti_pool_check: the heap's own lists and caches (its owner calls), and
 * in the nonatomic variant everything; rti_arenas_check: the arenas (lock
 * held), and in the nonatomic variant everything. */
#if RT_DEBUG >= 2
void rti_pool_check(const RtPoolHeap *ph);
void rti_arenas_check(const RtArenas *ar);
#else
static inline void rti_pool_check(const RtPoolHeap *ph) { (void)ph; }
static inline void rti_arenas_check(const RtArenas *ar) { (void)ar; }
#endif

/* Statistics counts of pools and arenas (slow paths only). */
static inline void
rti_stat_up(RtStatCount *c)
{
    c->allocated++;
    if (++c->current > c->peak)
        c->peak = c->current;
}

static inline void
rti_stat_down(RtStatCount *c)
{
    c->freed++;
    c->current--;
}

/* Take the first block of a used pool's allocation list (never empty
 * between calls), refilling the list when that empties it.  The heap's
 * count is the caller's. */
static inline void *
rti_pool_pop(RtPoolHeap *ph, RtPool *pool)
{
    RtBlock *bp = pool->freeblock;
    RTI_ASSUME(bp != NULL);
    RTI_UNPOISON(bp, RTI_CLASS_SIZE(pool->szidx));
    pool->freeblock = bp->next;
    pool->count++;
    if (rt_unlikely(pool->freeblock == NULL))
        return rti_pool_refill(ph, pool, bp);
    return bp;
}

/* The free cache of class idx, addressed from its own address. */
static inline RtFreeCache *
rti_pool_cache(RtPoolHeap *ph, size_t idx)
{
    rti_assert(idx < RT_NB_SMALL_SIZE_CLASSES);
    RtFreeCache *c = &ph->cache[idx];
    RTI_OPAQUE(c);
    rti_assert(c->n <= c->limit && c->limit <= RTI_CACHE_SIZE);
    return c;
}

/* Pop the last block a class's free cache holds (n of them, n > 0). */
static inline void *
rti_pool_cache_pop(RtFreeCache *c, size_t n, size_t idx)
{
    c->n = (uint32_t)(n - 1);
    void *p = c->slots[n - 1];
    RTI_ASSUME(p != NULL);
    RTI_UNPOISON(p, RTI_CLASS_SIZE(idx));
    (void)idx;
    return p;
}

/* Allocate a block of class idx; NULL when the OS refuses memory (the slow
 * path sets RT_ERR_NOMEM).  With idx a constant, as in the object layer's
 * allocation of a fixed-size object, this is a load and a test of the
 * cache's count, a decrement, and a load of the block: about 8
 * instructions. */
static inline void *
rti_pool_alloc_class(RtPoolHeap *ph, size_t idx)
{
    RtFreeCache *c = rti_pool_cache(ph, idx);
    size_t n = c->n;
    ph->nalloc++;       /* a failing slow path takes it back */
    if (rt_likely(n != 0))
        return rti_pool_cache_pop(c, n, idx);
    RtPool *pool = ph->usedpools[idx];
    if (rt_unlikely(pool == NULL))
        return rti_pool_alloc_new_pool(ph, (uint32_t)idx);
    return rti_pool_pop(ph, pool);
}

/* rti_pool_alloc_class with no call: NULL, nothing counted, when the
 * block needs a slow path (no used pool, or the pop would empty the pool's
 * list: a refill) -- for a caller that then takes rti_pool_alloc_class as
 * a tail call, so that its fast path needs no stack frame (the object
 * path's constructors, internal.h).  About 8 instructions from the cache,
 * 11 from a pool. */
static inline void *
rti_pool_alloc_quick(RtPoolHeap *ph, size_t idx)
{
    RtFreeCache *c = rti_pool_cache(ph, idx);
    size_t n = c->n;
    if (rt_likely(n != 0)) {
        ph->nalloc++;
        return rti_pool_cache_pop(c, n, idx);
    }
    RtPool *pool = ph->usedpools[idx];
    if (rt_unlikely(pool == NULL))
        return NULL;
    RtBlock *bp = pool->freeblock;
    RTI_ASSUME(bp != NULL);
    RTI_UNPOISON(bp, RTI_CLASS_SIZE(idx));  /* the slow path pops it if not here */
    RtBlock *next = bp->next;
    if (rt_unlikely(next == NULL))
        return NULL;
    ph->nalloc++;
    pool->freeblock = next;
    pool->count++;
    return bp;
}

static inline void *
rti_pool_alloc(RtPoolHeap *ph, size_t size)
{
    if (rt_unlikely(size - 1 >= RT_SMALL_REQUEST_THRESHOLD))   /* 0 wraps too */
        return rti_pool_alloc_large(ph, size);
    return rti_pool_alloc_class(ph, RTI_SIZE_CLASS(size));
}

/* Push a block onto its pool's local free list (the heap's counts already
 * say it is free); true when the pool now needs rti_pool_free_slow: it was
 * full (its count RTI_POOL_FULL_COUNT), or none of its blocks is in use. */
static inline bool
rti_pool_push(RtPool *pool, void *p)
{
    ((RtBlock *)p)->next = pool->localfree;
    RTI_POISON(p, RTI_CLASS_SIZE(pool->szidx));
    pool->localfree = (RtBlock *)p;
    return rt_unlikely(--pool->count == 0);
}

/* Free a block of class idx (the caller knows p is a pool block: it found
 * p in the arena map, or it allocated p of a small size from the pool
 * backend).  The cache push is about 7 instructions. */
static inline void
rti_pool_free_class(RtPoolHeap *ph, void *p, size_t idx)
{
    rti_assert(idx < RT_NB_SMALL_SIZE_CLASSES && RTI_CLASS_MAP(p)[RTI_POOL_SLOT(p)] == idx);
    ph->nfree++;
    RtFreeCache *c = &ph->cache[idx];
    RTI_OPAQUE_INDEXED(c, idx);
    size_t n = c->n;
    rti_assert(n <= c->limit && c->limit <= RTI_CACHE_SIZE);
    if (rt_unlikely(n >= c->limit)) {
        /* Full, or stepped aside: straight to the pool (RtFreeCache) -- in
         * the threaded variants if ph owns it, else onto its heap's delayed
         * list.  Only tail calls here, so the fast path needs no stack
         * frame. */
        RtPool *pool = RTI_POOL_OF(p);
#if RT_RC_THREADED
        if (rt_unlikely(pool->heap != ph)) {
            rti_pool_free_foreign(pool, p);
            return;
        }
#endif
        if (rti_pool_push(pool, p))
            rti_pool_free_past_cache(ph, pool);
        return;
    }
    RTI_POISON(p, RTI_CLASS_SIZE(idx));
    c->slots[n] = p;
    c->n = (uint32_t)(n + 1);
}

/* Free any block: a pool block's class comes from its arena's class map;
 * an address outside every arena (NULL too) is the large path's.  The map
 * is the arenas' (a separate argument, so that a caller that knows where
 * it is reads it in one load). */
static inline void
rti_pool_free(const RtArenaMap *map, RtPoolHeap *ph, void *p)
{
    if (rt_unlikely(!rti_arena_map_contains(map, p))) {
        rti_pool_free_large(ph, p);
        return;
    }
    uint8_t *class_map = RTI_CLASS_MAP(p);
    RTI_OPAQUE(class_map);      /* a base+index load, not an or and a load */
    rti_pool_free_class(ph, p, class_map[RTI_POOL_SLOT(p)]);
}

#endif /* RT_POOL_H */
