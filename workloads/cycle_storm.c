/* cycle_storm.c -- rounds of many small cycles that only the collector frees.
 *
 * What it measures: the cycle collector when nearly everything allocated
 * ends as cyclic garbage.  Each round makes n cycles (a pair, a
 * self-reference, a ring of `ring` Nodes, in turn), holds them from one
 * list, and drops the list.  Reference counting frees nothing, so the young
 * count climbs with every Node and generation 0 is collected every 700
 * allocations -- finding nothing while the holder keeps the cycles alive,
 * only moving them on to generations 1 and 2.  When the holder goes, most
 * of the garbage is old: the full collections (the harness's final one
 * included) free it.  Pauses, what each generation collects, and how fast
 * the freed pools are reused show here.  With --threads T each thread does
 * every round with its span of the n cycles and a holder of its own
 * (parallel.h).
 *
 * Twin: python/cycle_storm.py.
 */
#include "parallel.h"

enum { P_N, P_RING, P_ROUNDS, P_THREADS };

/* The cycles' sizes, by i % 3: a pair, a self-reference, a ring.  Each is
 * built as the twin builds it: a pair is a ring of two Nodes, a
 * self-reference a ring of one. */
enum { PAIR = 2, SELF = 1, SHAPES = 3 };


/* Close a ring of `size` Nodes starting at first: first -> ... -> first. */
static int
close_ring(RtType *node, RtObject *first, int64_t size)
{
    RtObject *last = first;     /* borrowed: the chain from first holds it */
    for (int64_t k = 1; k < size; k++) {
        RtObject *next = rt_instance_new(node);
        if (next == NULL)
            return -1;
        int status = rt_instance_set(last, RT_NODE_NEXT, next);
        rt_decref(next);        /* last.next holds it now (or it is freed) */
        if (status < 0)
            return -1;
        last = next;
    }
    return rt_instance_set(last, RT_NODE_NEXT, first);
}

/* Return a new reference to the first Node of a new cycle of `size` Nodes. */
static RtObject *
make_cycle(RtType *node, int64_t size)
{
    RtObject *first = rt_instance_new(node);
    if (first != NULL && close_ring(node, first, size) < 0)
        rt_clearref(&first);    /* an unclosed chain: reference counting frees it */
    return first;
}

/* Append the first Node of each of the cycles span.first .. span.first +
 * span.n - 1 of a round to holder, cycle i of the shape i % SHAPES. */
static int
fill(RtType *node, RtObject *holder, RtWorkloadSpan span, int64_t ring, int64_t *created)
{
    const int64_t sizes[SHAPES] = {PAIR, SELF, ring};
    for (int64_t i = span.first, end = span.first + span.n; i < end; i++) {
        int64_t size = sizes[i % SHAPES];
        RtObject *first = make_cycle(node, size);
        if (first == NULL)
            return -1;
        *created += size;
        int status = rt_list_append(holder, first);
        rt_decref(first);
        if (status < 0)
            return -1;
    }
    return 0;
}

/* Every round with one thread's share of its cycles (parallel.h: the live
 * heap stays one thread's), with a Node class of its own. */
static int
storm_share(void *arg, int index, int threads, int64_t *check)
{
    const int64_t *params = arg;
    const int64_t ring = params[P_RING], rounds = params[P_ROUNDS];
    const RtWorkloadSpan span = rt_workload_span(params[P_N], index, threads);
    RtType *node = rt_class_new("Node", RT_NODE_SLOTS, 0, NULL);
    if (node == NULL)
        return -1;
    int64_t created = 0;    /* the checksum: Nodes made */
    int status = 0;
    for (int64_t r = 0; r < rounds && status == 0; r++) {
        RtObject *holder = rt_list_new(0);
        if (holder == NULL) {
            status = -1;
            break;
        }
        status = fill(node, holder, span, ring, &created);
        rt_decref(holder);  /* only the collector frees the cycles now */
    }
    /* The last round's cycles wait for the harness's full collection. */
    rt_class_free(node);
    *check += created;
    return status;
}

static int
run_cycle_storm(RtWorkloadCtx *ctx, const int64_t *params)
{
    int64_t created = 0;
    if (rt_workload_parallel(ctx, params[P_THREADS], storm_share, (void *)params, &created) < 0)
        return -1;
    rt_workload_result_int(ctx, "check", created);
    return 0;
}

const RtWorkload rt_workload_cycle_storm = {
    .name = "cycle_storm",
    .description = "rounds of n small cycles (pairs, self-references, rings), then dropped",
    .params = {
        {"n", 100000, 0, 0, "cycles per round (split among the threads)"},
        {"ring", 8, 1, 0, "Nodes in each ring (every third cycle)"},
        {"rounds", 10, 0, 0, "rounds, each with a fresh holder list"},
        RT_WORKLOAD_THREADS_PARAM,
    },
    .run = run_cycle_storm,
};
