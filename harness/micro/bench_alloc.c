/* bench_alloc.c -- allocator microbenchmarks, every backend by one route.
 *
 * The pool backend runs through rt_malloc/rt_free, the route every object
 * of the runtime takes (dispatch flag, inlined pool fast path, statistics).
 * The other backends run through their own entry points
 * (rt_allocator_direct(): glibc's malloc/free, mimalloc's and jemalloc's
 * exported malloc/free), one indirect call per operation -- which is what a
 * call into a shared library through the PLT costs anyway, so they are timed
 * as ordinary calls would time them.
 */
#include "micro.h"
#include "procfs.h"
#include "rt/rt.h"
#include "rt/bench.h"
#include "prng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 1000
#define WORKING_SET (1u << 20)

static const int sizes[] = {16, 32, 64, 128, 256, 512};

typedef struct AllocCase {
    RtAllocKind kind;
    size_t size;
    bool empty_heap;    /* no other block of the size alive */
} AllocCase;

static AllocCase cases[RT_ALLOC_KIND_COUNT][sizeof sizes / sizeof sizes[0]];
static AllocCase empty_cases[RT_ALLOC_KIND_COUNT][sizeof sizes / sizeof sizes[0]];

typedef struct Route {
    void *(*malloc_fn)(size_t);
    void (*free_fn)(void *);
} Route;

static Route
route(RtAllocKind kind)
{
    if (kind == RT_ALLOC_POOL)
        return (Route){rt_malloc, rt_free};
    const RtAllocator *a = rt_allocator_direct(kind);
    return (Route){a->malloc, a->free};
}

/* One block of the size stays allocated while the pairs run, for every
 * backend alike: a running program's heap is never empty, and a pool
 * allocator whose last block of a class is freed takes its slow path (the
 * empty-class case is the 'empty' variant). */
static void
bench_alloc_free(RtBenchState *st, void *arg)
{
    const AllocCase *c = arg;
    Route r = route(c->kind);
    size_t size = c->size;
    void *resident = c->empty_heap ? NULL : r.malloc_fn(size);
    while (rt_bench_keep_running(st, BATCH)) {
        for (int i = 0; i < BATCH; i++) {
            void *p = r.malloc_fn(size);
            RT_BENCH_ESCAPE(p);
            r.free_fn(p);
        }
    }
    if (resident != NULL)
        r.free_fn(resident);
}

/* Each iteration frees the block at a random slot and allocates a new one
 * there, so the allocator sees frees in random order across a large heap
 * (the access pattern of a program whose objects die out of order).  The
 * RSS before the working set is built and after it is freed is reported,
 * to show whether the memory went back to the OS. */
static void
bench_alloc_free_random(RtBenchState *st, void *arg)
{
    const AllocCase *c = arg;
    Route r = route(c->kind);
    size_t size = c->size;
    long rss_start = (long)rtb_rss_bytes(0);
    void **blocks = malloc(WORKING_SET * sizeof *blocks);
    uint32_t *order = malloc(WORKING_SET * sizeof *order);
    if (blocks == NULL || order == NULL) {
        free(blocks);
        free(order);
        rt_bench_error(st, "out of memory for the working set");
        return;
    }
    RtPrng prng;
    rt_prng_seed(&prng, 12345);
    for (uint32_t i = 0; i < WORKING_SET; i++) {
        order[i] = (uint32_t)rt_prng_below(&prng, WORKING_SET);
        blocks[i] = r.malloc_fn(size);
    }
    long rss_peak = (long)rtb_rss_bytes(0);
    uint32_t k = 0;
    while (rt_bench_keep_running(st, BATCH)) {
        for (int i = 0; i < BATCH; i++) {
            uint32_t slot = order[k++ & (WORKING_SET - 1)];
            r.free_fn(blocks[slot]);
            blocks[slot] = r.malloc_fn(size);
        }
    }
    /* Free in random order too, as a dying heap does. */
    for (uint32_t i = 0; i < WORKING_SET; i++) {
        uint32_t slot = order[i];
        r.free_fn(blocks[slot]);
        blocks[slot] = NULL;
    }
    for (uint32_t i = 0; i < WORKING_SET; i++)
        r.free_fn(blocks[i]);
    free(blocks);
    free(order);
    long rss_end = (long)rtb_rss_bytes(0);
    rt_bench_counter(st, "rss_start_MiB", rss_start / 1048576.0, RT_BENCH_COUNTER_PLAIN);
    rt_bench_counter(st, "rss_peak_MiB", rss_peak / 1048576.0, RT_BENCH_COUNTER_PLAIN);
    rt_bench_counter(st, "rss_end_MiB", rss_end / 1048576.0, RT_BENCH_COUNTER_PLAIN);
    rt_bench_counter(st, "rss_end_over_start", rss_start > 0 ? (double)rss_end / (double)rss_start : 0,
                     RT_BENCH_COUNTER_PLAIN);
}

static AllocCase random_cases[RT_ALLOC_KIND_COUNT][sizeof sizes / sizeof sizes[0]];

/* Register family/<backend>/<size> for every available backend and size. */
static void
register_family(const char *family, RtBenchFn fn, AllocCase table[][sizeof sizes / sizeof sizes[0]], bool empty)
{
    char name[96];
    for (int k = 0; k < RT_ALLOC_KIND_COUNT; k++) {
        if (!rt_alloc_available((RtAllocKind)k))
            continue;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            AllocCase *c = &table[k][s];
            *c = (AllocCase){(RtAllocKind)k, (size_t)sizes[s], empty};
            snprintf(name, sizeof name, "%s/%s/%d", family, rt_alloc_name(c->kind), sizes[s]);
            rt_bench_register(name, fn, c);
        }
    }
}

void
rt_micro_register_alloc(void)
{
    for (int k = 0; k < RT_ALLOC_KIND_COUNT; k++)
        if (!rt_alloc_available((RtAllocKind)k))
            fprintf(stderr, "rtbench-micro: skipping backend %s: %s\n", rt_alloc_name((RtAllocKind)k),
                    rt_alloc_unavailable_reason((RtAllocKind)k));
    register_family("alloc_free", bench_alloc_free, cases, false);
    register_family("alloc_free_empty", bench_alloc_free, empty_cases, true);
    register_family("alloc_free_random", bench_alloc_free_random, random_cases, false);
}
