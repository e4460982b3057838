/* gc_traversal.c -- pyperformance's gc_traversal: the cost of a live heap.
 *
 * What it measures: the collector's traversal speed when nothing is
 * garbage.  `levels` lists, list k holding k references to list k - 1
 * (499,500 references for 1000 levels), all live; each loop runs an
 * untimed full collection and times a second one, which copies every
 * count and walks every reference twice (to subtract the internal ones,
 * then to mark what is reachable) to free nothing.  Only the collector's passes
 * show: no allocation happens while the collections are timed.
 *
 * Twin: python/gc_traversal.py.
 */
#include "workload.h"
#include "rt/bench.h"

enum { P_LEVELS, P_LOOPS };

#define FULL 2          /* the oldest generation: a full collection */

/* Return the top of a chain of `levels` lists (list k holds k references to
 * list k - 1; the bottom one is empty). */
static RtObject *
create_recursive_containers(int64_t levels)
{
    RtObject *current = rt_list_new(0);
    for (int64_t k = 0; k < levels && current != NULL; k++) {
        RtObject *next = rt_list_new(k);   /* [None] * k */
        for (int64_t i = 0; i < k && next != NULL; i++)
            if (rt_list_set(next, i, current) < 0)
                rt_clearref(&next);
        rt_decref(current);     /* next holds it now (or it is freed) */
        current = next;
    }
    return current;
}

/* The sum of the lengths of the lists in the chain from top down. */
static int64_t
chain_length(RtObject *top)
{
    int64_t total = 0;
    for (RtObject *list = top; rt_list_size(list) > 0; list = rt_list_get(list, 0))
        total += rt_list_size(list);
    return total;
}

static int
run_gc_traversal(RtWorkloadCtx *ctx, const int64_t *params)
{
    RtObject *all_lists = create_recursive_containers(params[P_LEVELS]);
    if (all_lists == NULL)
        return -1;
    double collect_s = 0.0;
    int64_t collected = 0;  /* 0: everything is live */
    for (int64_t loop = 0; loop < params[P_LOOPS]; loop++) {
        rt_gc_collect(FULL);    /* untimed */
        double t0 = rt_monotonic_s();
        collected += rt_gc_collect(FULL);
        collect_s += rt_monotonic_s() - t0;
    }
    int64_t check = chain_length(all_lists);
    rt_decref(all_lists);
    rt_workload_result_int(ctx, "check", check);
    rt_workload_result_double(ctx, "collect_s", collect_s);
    rt_workload_result_int(ctx, "collected", collected);
    return 0;
}

const RtWorkload rt_workload_gc_traversal = {
    .name = "gc_traversal",
    .description = "pyperformance gc_traversal: time gc.collect() over levels nested live lists",
    .params = {
        {"levels", 1000, 0, 0, "lists in the chain (list k holds k references to list k - 1)"},
        {"loops", 100, 0, 0, "loops, each timing one full collection"},
    },
    .run = run_gc_traversal,
};
