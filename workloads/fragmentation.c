/* fragmentation.c -- many strings of random sizes, most then freed at random.
 *
 * What it measures: how much memory the allocator gives back when most,
 * but not all, of it is free.  n strings of 1..400 bytes spread over the
 * pools' size classes; freeing all but about keep% of them at random leaves
 * nearly every pool, and so every arena, partly used: a pool returns to its
 * arena only when empty, an arena to the OS only when all its pools are.
 * The marks record the RSS after each stage beside the bytes still held in
 * strings; the collector has nothing to do here (one list is the only GC
 * object), so its collection is only a stage of the measurement.  Once the
 * list is dropped every arena is free, and the pool keeps some mapped for
 * reuse until they have been free for the arena decay (RT_ARENA_DECAY_MS);
 * the last stage, an explicit trim (rt_alloc_trim), gives them back at
 * once, so the RSS at "trimmed" is where it started.
 *
 * Twin: python/fragmentation.py.
 */
#include "prng.h"
#include "workload.h"

#include <string.h>

enum { P_N, P_KEEP, P_SEED };

#define MAX_SIZE 400        /* strings of 1..MAX_SIZE bytes */
#define PERCENT 100

/* objs[i] = "x" * (1 + below(MAX_SIZE)) for every i; return the bytes made,
 * or -1. */
static int64_t
fill(RtObject *objs, RtPrng *rng)
{
    char xs[MAX_SIZE];
    memset(xs, 'x', sizeof xs);
    int64_t allocated = 0;
    for (intptr_t i = 0; i < rt_list_size(objs); i++) {
        size_t size = 1 + (size_t)rt_prng_below(rng, MAX_SIZE);
        RtObject *s = rt_str_from(xs, size);
        if (s == NULL)
            return -1;
        int status = rt_list_set(objs, i, s);
        rt_decref(s);
        if (status < 0)
            return -1;
        allocated += (int64_t)size;
    }
    return allocated;
}

/* Drop each string unless below(100) < keep; count the strings held and
 * their bytes. */
static int
thin_out(RtObject *objs, RtPrng *rng, int64_t keep, int64_t *held, int64_t *kept)
{
    for (intptr_t i = 0; i < rt_list_size(objs); i++) {
        if (rt_prng_below(rng, PERCENT) >= (uint64_t)keep) {
            if (rt_list_set(objs, i, NULL) < 0)
                return -1;
        } else {
            *held += 1;
            *kept += (int64_t)rt_str_len(rt_list_get(objs, i));
        }
    }
    return 0;
}

static int
run_fragmentation(RtWorkloadCtx *ctx, const int64_t *params)
{
    RtPrng rng;
    rt_prng_seed(&rng, (uint64_t)params[P_SEED]);
    RtObject *objs = rt_list_new(params[P_N]);  /* [None] * n */
    if (objs == NULL)
        return -1;
    int64_t allocated = fill(objs, &rng), held = 0, kept = 0;
    if (allocated < 0)
        goto fail;
    rt_workload_mark(ctx, "allocated", allocated);
    if (thin_out(objs, &rng, params[P_KEEP], &held, &kept) < 0)
        goto fail;
    rt_workload_mark(ctx, "freed", kept);
    rt_gc_collect(2);
    rt_workload_mark(ctx, "collected", kept);
    rt_decref(objs);
    rt_workload_mark(ctx, "dropped", 0);
    rt_alloc_trim();
    rt_workload_mark(ctx, "trimmed", 0);
    rt_workload_result_int(ctx, "check", held);
    rt_workload_result_int(ctx, "allocated_bytes", allocated);
    rt_workload_result_int(ctx, "kept_bytes", kept);
    return 0;
fail:
    rt_decref(objs);        /* holds only strings: freed at once */
    return -1;
}

const RtWorkload rt_workload_fragmentation = {
    .name = "fragmentation",
    .description = "n random-size strings, all but keep% freed at random: memory given back",
    .params = {
        {"n", 1000000, 0, 0, "strings made"},
        {"keep", 10, 0, 100, "percentage of the strings kept, at random"},
        {"seed", 1, 0, 0, "seed of the SplitMix64 random numbers"},
    },
    .run = run_fragmentation,
};
