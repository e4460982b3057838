/* gc_collect.c -- pyperformance's gc_collect: the cost of freeing cycles.
 *
 * What it measures: one full collection's cost per unreachable object.
 * Each loop runs an untimed full collection (a clean start), builds
 * `cycles` rings of links + 1 Nodes (each Node's `next` is the following
 * one and its `other` the previous one, as pyperformance's prev), drops
 * them, and times the full collection that finds and frees them: the
 * deduce-unreachable passes, clearing, and the deallocations that follow.
 * Between the two, automatic young collections may run while the rings are
 * built (2,100 Nodes per loop by default), as in CPython.
 *
 * Twin: python/gc_collect.py.
 */
#include "workload.h"
#include "rt/bench.h"

enum { P_CYCLES, P_LINKS, P_LOOPS };

#define FULL 2          /* the oldest generation: a full collection */


/* Close a ring of `links` new Nodes after node (nothing when 0). */
static int
create_cycle(RtType *node_class, RtObject *node, int64_t links)
{
    if (links == 0)
        return 0;
    RtObject *current = node;   /* borrowed: the chain from node holds it */
    for (int64_t k = 0; k < links; k++) {
        RtObject *next = rt_instance_new(node_class);
        if (next == NULL)
            return -1;
        bool failed = rt_instance_set(current, RT_NODE_NEXT, next) < 0 || rt_instance_set(next, RT_NODE_OTHER, current) < 0;
        rt_decref(next);        /* current.next holds it now (or it is freed) */
        if (failed)
            return -1;
        current = next;
    }
    if (rt_instance_set(current, RT_NODE_NEXT, node) < 0 || rt_instance_set(node, RT_NODE_OTHER, current) < 0)
        return -1;
    return 0;
}

/* Return a list holding `cycles` rings of links + 1 Nodes each.  A ring
 * left half-built by a failure is already cyclic (next and other point both
 * ways): once the list is dropped it is garbage for the collector. */
static RtObject *
create_gc_cycles(RtType *node_class, int64_t cycles, int64_t links)
{
    RtObject *list = rt_list_new(0);
    for (int64_t c = 0; c < cycles && list != NULL; c++) {
        RtObject *node = rt_instance_new(node_class);
        if (node == NULL || rt_list_append(list, node) < 0 || create_cycle(node_class, node, links) < 0)
            rt_clearref(&list);
        rt_xdecref(node);
    }
    return list;
}

static int
collect_loops(RtType *node, const int64_t *params, int64_t *check, double *collect_s)
{
    for (int64_t loop = 0; loop < params[P_LOOPS]; loop++) {
        rt_gc_collect(FULL);    /* untimed */
        RtObject *all_cycles = create_gc_cycles(node, params[P_CYCLES], params[P_LINKS]);
        if (all_cycles == NULL)
            return -1;
        rt_decref(all_cycles);
        double t0 = rt_monotonic_s();
        intptr_t collected = rt_gc_collect(FULL);
        *collect_s += rt_monotonic_s() - t0;
        *check += collected;
    }
    return 0;
}

static int
run_gc_collect(RtWorkloadCtx *ctx, const int64_t *params)
{
    RtType *node = rt_class_new("Node", RT_NODE_SLOTS, 0, NULL);
    if (node == NULL)
        return -1;
    int64_t check = 0;      /* unreachable objects the timed collections found */
    double collect_s = 0.0;
    int status = collect_loops(node, params, &check, &collect_s);
    /* On success the last collection freed every Node; after a failure, the
     * half-built rings wait for the harness's full collection. */
    rt_class_free(node);
    if (status == 0) {
        rt_workload_result_int(ctx, "check", check);
        rt_workload_result_double(ctx, "collect_s", collect_s);
    }
    return status;
}

const RtWorkload rt_workload_gc_collect = {
    .name = "gc_collect",
    .description = "pyperformance gc_collect: time gc.collect() freeing cycles rings of links+1 Nodes",
    .params = {
        {"cycles", 100, 0, 0, "rings built per loop"},
        {"links", 20, 0, 0, "Nodes after each ring's first one (0: lone Nodes, no ring)"},
        {"loops", 2000, 0, 0, "loops, each timing one full collection"},
    },
    .run = run_gc_collect,
};
