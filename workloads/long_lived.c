/* long_lived.c -- young garbage cycles while an old heap of Nodes grows.
 *
 * What it measures: the generational heuristics.  Every step makes a pair of
 * Nodes that refer to each other and drops it (garbage only the collector
 * frees), which keeps generation 0 collecting every 350 steps; every
 * max(1, n / m) steps a Node joins a chain of up to m old Nodes held from a
 * list.  The survivors flow to generation 2, and whether a full collection
 * runs is the rule that waits for the pending survivors to reach 25% of the
 * old heap: without it full collections would be quadratic in the heap's
 * size.  Generation-2 pauses and their spacing are the numbers to watch.
 *
 * Twin: python/long_lived.py.
 */
#include "workload.h"

enum { P_M, P_N };


/* a = Node(); b = Node(); a.next = b; b.next = a; del a, b */
static int
garbage_pair(RtType *node)
{
    RtObject *a = rt_instance_new(node), *b = NULL;
    int status = -1;
    if (a != NULL && (b = rt_instance_new(node)) != NULL)
        status = rt_instance_set(a, RT_NODE_NEXT, b) < 0 || rt_instance_set(b, RT_NODE_NEXT, a) < 0 ? -1 : 0;
    rt_xdecref(a);
    rt_xdecref(b);
    return status;
}

/* node = Node(); node.next = newest; old.append(node); newest = node */
static int
grow_old(RtType *node_class, RtObject *old, RtObject **newest)
{
    RtObject *node = rt_instance_new(node_class);
    if (node == NULL)
        return -1;
    if (rt_instance_set(node, RT_NODE_NEXT, *newest) < 0 || rt_list_append(old, node) < 0) {
        rt_decref(node);
        return -1;
    }
    rt_setref(newest, node);    /* our reference moves to newest */
    return 0;
}

static int
steps(RtType *node, RtObject *old, RtObject **newest, int64_t m, int64_t n, int64_t *created)
{
    const int64_t every = n / m > 1 ? n / m : 1;
    for (int64_t i = 0; i < n; i++) {
        if (garbage_pair(node) < 0)
            return -1;
        *created += 2;
        if (i % every == 0 && rt_list_size(old) < m) {
            if (grow_old(node, old, newest) < 0)
                return -1;
            *created += 1;
        }
    }
    return 0;
}

static int
run_long_lived(RtWorkloadCtx *ctx, const int64_t *params)
{
    RtType *node = rt_class_new("Node", RT_NODE_SLOTS, 0, NULL);
    if (node == NULL)
        return -1;
    RtObject *old = rt_list_new(0);
    RtObject *newest = NULL;    /* the last Node appended to old */
    int64_t created = 0;        /* the checksum: Nodes made */
    int status = old != NULL ? steps(node, old, &newest, params[P_M], params[P_N], &created) : -1;
    /* del old, newest: reference counting frees the old heap; the pairs
     * wait for the harness's full collection. */
    rt_xdecref(old);
    rt_xdecref(newest);
    rt_class_free(node);
    if (status == 0)
        rt_workload_result_int(ctx, "check", created);
    return status;
}

const RtWorkload rt_workload_long_lived = {
    .name = "long_lived",
    .description = "young garbage pairs while an old heap of up to m Nodes grows",
    .params = {
        {"m", 400000, 1, 0, "Nodes in the old heap at most"},
        {"n", 2000000, 0, 0, "steps, each making one garbage pair"},
    },
    .run = run_long_lived,
};
