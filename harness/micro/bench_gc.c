/* bench_gc.c -- collector microbenchmarks.
 *
 * gc_collect_live/<n>: the heap shape of the collector's headline figure:
 *   n objects, alternately a two-element list and a two-slot instance, each
 *   referring to two earlier objects chosen uniformly at random (SplitMix64,
 *   seed 1), all held by one root list.  Each iteration is one full
 *   collection, which finds nothing to free.  gc_live_heap.py builds the
 *   same graph in CPython for the comparison (scripts/gc-vs-cpython).
 * gc_collect_cycles/<n>: n objects in unreachable two-object cycles are
 *   built (not timed) and collected (timed).
 * gc_young/<threshold0>: the cost per allocation of a tracked object that
 *   dies in a cycle, young collections included, at a given threshold0.
 */
#include "micro.h"
#include "rt/rt.h"
#include "prng.h"

#include <stdio.h>
#include <stdlib.h>

static RtType *
node_class(void)
{
    return rt_class_new("Node2", 2, 0, NULL);
}

/* Link o to two earlier objects (slots or list items 0 and 1). */
static int
link_two(RtObject *o, RtObject *a, RtObject *b)
{
    if (rt_is_instance(o))
        return rt_instance_set(o, 0, a) | rt_instance_set(o, 1, b);
    return rt_list_set(o, 0, a) | rt_list_set(o, 1, b);
}

RtObject *rt_micro_live_heap(intptr_t n, RtType *cls);

/* The live heap: returns the root list (NULL when out of memory). */
RtObject *
rt_micro_live_heap(intptr_t n, RtType *cls)
{
    RtObject *root = rt_list_new(0);
    RtObject **objs = malloc((size_t)n * sizeof *objs);
    if (root == NULL || objs == NULL) {
        free(objs);
        rt_xdecref(root);
        return NULL;
    }
    RtPrng prng;
    rt_prng_seed(&prng, 1);
    for (intptr_t i = 0; i < n; i++) {
        RtObject *o = (i % 2 == 0) ? rt_list_new(2) : rt_instance_new(cls);
        if (o == NULL || rt_list_append(root, o) < 0) {
            rt_xdecref(o);
            break;
        }
        rt_decref(o);
        objs[i] = o;
        if (i > 0) {
            RtObject *a = objs[rt_prng_below(&prng, (uint64_t)i)];
            RtObject *b = objs[rt_prng_below(&prng, (uint64_t)i)];
            link_two(o, a, b);
        }
    }
    free(objs);
    return root;
}

static void
bench_collect_live(RtBenchState *st, void *arg)
{
    intptr_t n = (intptr_t)arg;
    RtType *cls = node_class();
    rt_gc_disable();
    RtObject *root = rt_micro_live_heap(n, cls);
    if (root == NULL) {
        rt_bench_error(st, "out of memory building the heap");
        return;
    }
    rt_gc_collect(2);   /* settle: everything in the oldest generation */
    int64_t iterations = 0;
    while (rt_bench_keep_running(st, 1)) {
        rt_gc_collect(2);
        iterations++;
    }
    rt_bench_items_processed(st, iterations * n);
    rt_bench_counter(st, "objects", (double)n, RT_BENCH_COUNTER_PLAIN);
    rt_decref(root);
    rt_gc_collect(2);
    rt_class_free(cls);
    rt_gc_enable();
}

static void
bench_collect_cycles(RtBenchState *st, void *arg)
{
    intptr_t n = (intptr_t)arg;
    RtType *cls = node_class();
    rt_gc_disable();
    int64_t iterations = 0;
    intptr_t found = 0;
    while (rt_bench_keep_running(st, 1)) {
        rt_bench_pause(st);
        for (intptr_t i = 0; i < n / 2; i++) {
            RtObject *a = rt_instance_new(cls), *b = rt_instance_new(cls);
            rt_instance_set(a, 0, b);
            rt_instance_set(b, 0, a);
            rt_decref(a);
            rt_decref(b);
        }
        rt_bench_resume(st);
        found = rt_gc_collect(2);
        iterations++;
    }
    if (found != n / 2 * 2)
        rt_bench_error(st, "the collection did not find every cycle");
    rt_bench_items_processed(st, iterations * n);
    rt_class_free(cls);
    rt_gc_enable();
}

#define BATCH 1000

static void
bench_young(RtBenchState *st, void *arg)
{
    long t0 = (long)(intptr_t)arg;
    long saved[3];
    rt_gc_get_threshold(saved);
    rt_gc_set_threshold(t0, RT_GC_KEEP, RT_GC_KEEP);
    rt_gc_collect(2);
    while (rt_bench_keep_running(st, BATCH)) {
        for (int i = 0; i < BATCH; i++) {
            RtObject *l = rt_list_new(0);
            rt_list_append(l, l);   /* a self-cycle: only the collector frees it */
            rt_decref(l);
        }
    }
    RtGcGenStats stats[3];
    rt_gc_get_stats(stats);
    rt_gc_collect(2);
    rt_gc_set_threshold(saved[0], saved[1], saved[2]);
    rt_bench_counter(st, "gen0_collections", (double)stats[0].collections, RT_BENCH_COUNTER_PLAIN);
}

void
rt_micro_register_gc(void)
{
    static const intptr_t live[] = {100000, 1000000}, cycles[] = {100000, 1000000};
    static const long young[] = {100, 700, 2000, 10000, 100000};
    char name[64];
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
        snprintf(name, sizeof name, "gc_collect_live/%jd", (intmax_t)live[i]);
        rt_bench_register(name, bench_collect_live, (void *)live[i]);
    }
    for (size_t i = 0; i < sizeof cycles / sizeof cycles[0]; i++) {
        snprintf(name, sizeof name, "gc_collect_cycles/%jd", (intmax_t)cycles[i]);
        rt_bench_register(name, bench_collect_cycles, (void *)cycles[i]);
    }
    for (size_t i = 0; i < sizeof young / sizeof young[0]; i++) {
        snprintf(name, sizeof name, "gc_young/%ld", young[i]);
        rt_bench_register(name, bench_young, (void *)(intptr_t)young[i]);
    }
}
