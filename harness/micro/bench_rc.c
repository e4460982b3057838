/* bench_rc.c -- the cost of an incref+decref pair, per refcount variant.
 *
 * Compiled twice, with RT_RC_ATOMIC=0 and =1, into one binary: each copy
 * uses only rt/object.h's inline functions on objects of its own, so the two
 * variants' fast paths sit side by side without linking both runtimes.
 * RT_MICRO_VARIANT names the copy.
 *
 * A compiler barrier between the incref and the decref stands for whatever
 * a program does while it holds the reference: without it, the pair of a
 * plain count folds to nothing and the loop measures an empty loop.
 */
#include "micro.h"
#include "rt/object.h"

#include <stdio.h>
#include <stdlib.h>

#define BATCH 1000
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

static void
never_dealloc(RtObject *op)
{
    (void)op;
    abort();    /* the benchmark always holds a reference */
}

static RtType bench_type = {.name = "bench", .basic_size = sizeof(RtObject), .dealloc = never_dealloc};

static void
bench_private(RtBenchState *st, void *arg)
{
    RtObject obj = {.ob_type = &bench_type};
    rt_incref(&obj);    /* the count starts at 0 here; hold one reference */
    while (rt_bench_keep_running(st, BATCH)) {
        for (int i = 0; i < BATCH; i++) {
            rt_incref(&obj);
            RT_BENCH_ESCAPE(&obj);
            rt_decref(&obj);
        }
    }
}

#if RT_RC_ATOMIC
/* One object for all threads: the cache line holding its count moves
 * between cores on every operation. */
static RtObject shared_obj = {.ob_refcnt = 1, .ob_type = &bench_type};

static void
bench_shared(RtBenchState *st, void *arg)
{
    while (rt_bench_keep_running(st, BATCH)) {
        for (int i = 0; i < BATCH; i++) {
            rt_incref(&shared_obj);
            RT_BENCH_ESCAPE(&shared_obj);
            rt_decref(&shared_obj);
        }
    }
}
#endif

void
CAT(rt_micro_register_rc_, RT_MICRO_VARIANT)(void)
{
    /* Each thread on its own object, then (atomic only: a plain count
     * shared between threads is a data race) all threads on one object. */
    static const int threads[] = {1, 2, 4, 8, 16};
    rt_bench_register("incref_decref/" RT_RC_VARIANT, bench_private, NULL);
    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++)
        rt_bench_register_threads("incref_decref_private/" RT_RC_VARIANT, bench_private, NULL, threads[i]);
#if RT_RC_ATOMIC
    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++)
        rt_bench_register_threads("incref_decref_shared/atomic", bench_shared, NULL, threads[i]);
#endif
}
