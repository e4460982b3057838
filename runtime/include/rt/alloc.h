/* rt/alloc.h -- the runtime's memory allocator and its backends.
 *
 * All memory of the runtime (objects, list item arrays, dict tables) comes
 * from rt_malloc / rt_realloc / rt_free, which route to one backend chosen
 * when the runtime starts, as CPython's PYTHONMALLOC does:
 *
 *   pool      the pooled small-object allocator (CPython's obmalloc model):
 *             16-byte size classes up to 512 bytes in 16 KiB pools carved from
 *             1 MiB arenas; larger requests go to the system allocator.
 *   malloc    glibc's malloc for everything.
 *   debug     the pool allocator under guard bytes and poisoning: reports a
 *             double free, a free of a foreign pointer, or an overrun, with
 *             the block's address and size, then aborts.
 *   mimalloc  Debian's libmimalloc, loaded with dlopen(RTLD_LOCAL) so that it
 *   jemalloc  does not replace glibc's malloc in the process (both libraries
 *             export malloc); available when the build found the library.
 *
 * Every allocating call may fail: it returns NULL and sets RT_ERR_NOMEM.
 * A fault-injection switch fails the Nth allocation from now (once, or that
 * one and every later one), to test every allocation site.
 */
#ifndef RT_ALLOC_H
#define RT_ALLOC_H

#include "rt/config.h"
#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum RtAllocKind {
    RT_ALLOC_POOL,
    RT_ALLOC_MALLOC,
    RT_ALLOC_DEBUG,
    RT_ALLOC_MIMALLOC,
    RT_ALLOC_JEMALLOC,
    RT_ALLOC_KIND_COUNT
} RtAllocKind;

/* Geometry of the pool allocator (CPython 3.12, 64-bit). */
#define RT_ALIGNMENT 16
#define RT_SMALL_REQUEST_THRESHOLD 512
#define RT_NB_SMALL_SIZE_CLASSES (RT_SMALL_REQUEST_THRESHOLD / RT_ALIGNMENT)
#define RT_POOL_SIZE 16384   /* 16 KiB */
#define RT_ARENA_SIZE 1048576 /* 1 MiB */

void *rt_malloc(size_t size);
void *rt_calloc(size_t count, size_t size);
void *rt_realloc(void *ptr, size_t size);
void rt_free(void *ptr);

/* Backends: names ("pool", "malloc", ...), parsing, availability. */
const char *rt_alloc_name(RtAllocKind kind);
int rt_alloc_parse(const char *name, RtAllocKind *kind); /* 0 ok, -1 unknown */
bool rt_alloc_available(RtAllocKind kind);
/* Why a backend is not available (NULL when it is), to show to users. */
const char *rt_alloc_unavailable_reason(RtAllocKind kind);
RtAllocKind rt_alloc_current(void);

/* A backend's raw entry points, for benchmarks and tests that exercise a
 * backend without the runtime's dispatch (NULL when it is not available).
 * Pool and debug need an initialized runtime. */
typedef struct RtAllocator {
    const char *name;
    void *(*malloc)(size_t size);
    void *(*realloc)(void *ptr, size_t size);
    void (*free)(void *ptr);
} RtAllocator;
const RtAllocator *rt_allocator(RtAllocKind kind);

/* Statistics.  A count tracks a quantity that goes up and down. */
typedef struct RtStatCount {
    uint64_t allocated;     /* total ever allocated */
    uint64_t freed;         /* total ever freed */
    int64_t current;        /* allocated - freed */
    int64_t peak;           /* highest value of current */
} RtStatCount;

typedef struct RtSizeClassStats {
    uint32_t size;          /* block size in bytes */
    uint32_t pools;         /* pools of this class in use */
    uint64_t blocks;        /* blocks in use */
    uint64_t free_blocks;   /* free blocks in those pools (carved or not) */
} RtSizeClassStats;

typedef struct RtAllocStats {
    RtAllocKind backend;
    RtStatCount blocks;     /* every rt_malloc'd block, any size (for the pool
                             * backend, peak is small.peak + large.peak: an
                             * upper bound of the true peak) */
    RtStatCount small;      /* blocks served by pools (pool, debug); the
                             * peak is taken at sample points (each pool
                             * refill or new pool, each statistics call;
                             * with threads also each heap's free slow
                             * paths, every thread's blocks summed) */
    RtStatCount large;      /* blocks passed to the system allocator */
    RtStatCount pools;      /* pools carved out of arenas */
    RtStatCount arenas;     /* arenas mapped (allocated: ever mapped; freed:
                             * released to the OS; current: mapped now) */
    uint64_t arenas_retained; /* wholly free arenas kept mapped for reuse now */
    uint64_t arenas_reused;   /* times a retained arena was taken back into use */
    uint64_t arena_bytes;   /* bytes mapped for arenas now */
    uint64_t small_bytes;   /* bytes in use in small blocks (block sizes) */
    RtSizeClassStats classes[RT_NB_SMALL_SIZE_CLASSES];
    uint64_t faults_injected; /* allocations failed on purpose */
} RtAllocStats;

/* The totals of every thread's heap (in the threaded variants, read with
 * the world stopped once a second thread has attached). */
void rt_alloc_stats(RtAllocStats *stats);
/* The same without the per-class figures ('classes', 'small_bytes' are
 * zero), which need a walk over every pool: cheap enough to call often. */
void rt_alloc_stats_counts(RtAllocStats *stats);
/* The calling thread's heap alone: its own small and large counts (a block
 * freed by another thread counts in that thread's heap), beside the shared
 * pools and arenas; like rt_alloc_stats_counts.  Zero on a thread not
 * attached. */
void rt_alloc_stats_thread(RtAllocStats *stats);
/* Print like sys._debugmallocstats(); rows end in "ok" or "not all freed". */
void rt_alloc_print_stats(FILE *out);

/* Fault injection.  After rt_fault_inject(n, persistent), the n-th
 * allocation from now fails (n >= 1); with persistent, every later one too.
 * rt_fault_inject(0, false) turns it off.  rt_fault_countdown() tells how
 * many allocations remain before the failure (0 once it fired or when off);
 * rt_fault_fired() how many allocations have failed since it was armed.
 * To count the allocations of an operation, arm with UINT64_MAX and read
 * UINT64_MAX - rt_fault_countdown() afterwards: a fault walk then fails
 * each of them in turn. */
void rt_fault_inject(uint64_t nth, bool persistent);
uint64_t rt_fault_countdown(void);
uint64_t rt_fault_fired(void);

/* Return free memory to the OS now, as malloc_trim does: cached free
 * blocks back to their pools, retained pools to their arenas, every wholly
 * free arena unmapped.  Without it, the pool keeps a wholly free arena
 * mapped for reuse until it has been unused for RtConfig.arena_decay_ms
 * (RT_ARENA_DECAY_MS), or beyond a cap tied to the recent peak; a full
 * collection gives the cached blocks and retained pools back and applies
 * that rule. */
void rt_alloc_trim(void);

#ifdef __cplusplus
}
#endif

#endif /* RT_ALLOC_H */
