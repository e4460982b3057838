/* binary_trees.c -- the benchmarks-game binary trees, with Nodes as tree nodes.
 *
 * What it measures: allocation-heavy code without cycles.  A long-lived
 * tree of `depth` stays alive while 2^(depth - d + 4) short-lived trees of
 * each even depth d from 4 are built, counted and dropped.  Reference
 * counting frees each short-lived tree as soon as it is dropped, so the
 * collector never finds garbage -- yet it runs once per 700 Nodes built
 * (the young count is allocations minus deallocations, and a tree being
 * built only allocates), traversing the young part of the tree each time
 * and the long-lived tree at each full collection: pure overhead, as in
 * CPython.  The pools see bursts of same-size blocks freed and reused.
 *
 * Twin: python/binary_trees.py.  (`next` is the left child, `other` the
 * right one; a leaf has neither.)
 */
#include "parallel.h"

enum { P_DEPTH, P_THREADS };

/* The shallowest short-lived trees, and the step between depths. */
#define MIN_DEPTH 4
#define DEPTH_STEP 2
/* Deeper trees (2^42 Nodes and more) fit in no memory; refusing them keeps
 * the shift that counts the short-lived trees defined and the recursion
 * shallow. */
#define MAX_DEPTH 40


/* Return a complete binary tree of the given depth (2^(depth+1) - 1 Nodes):
 * the node first, then its left subtree, then its right one. */
static RtObject *
make_tree(RtType *node_class, int64_t depth)
{
    RtObject *node = rt_instance_new(node_class);
    if (node == NULL || depth == 0)
        return node;
    for (uint32_t slot = RT_NODE_NEXT; slot <= RT_NODE_OTHER; slot++) {
        RtObject *child = make_tree(node_class, depth - 1);
        int status = child != NULL ? rt_instance_set(node, slot, child) : -1;
        rt_xdecref(child);
        if (status < 0) {
            rt_decref(node);    /* frees the half-built tree: no cycles */
            return NULL;
        }
    }
    return node;
}

/* The number of Nodes in the tree. */
static int64_t
check_tree(RtObject *node)
{
    RtObject *left = rt_instance_get(node, RT_NODE_NEXT);
    if (left == NULL)
        return 1;
    return 1 + check_tree(left) + check_tree(rt_instance_get(node, RT_NODE_OTHER));
}

/* Build, count and drop this thread's share of the short-lived trees; add
 * their Nodes to *check. */
static int
short_lived_trees(RtType *node_class, int64_t depth, int index, int threads, int64_t *check)
{
    for (int64_t d = MIN_DEPTH; d <= depth; d += DEPTH_STEP) {
        int64_t trees = rt_workload_share((int64_t)1 << (depth - d + MIN_DEPTH), index, threads);
        for (int64_t t = 0; t < trees; t++) {
            RtObject *tree = make_tree(node_class, d);
            if (tree == NULL)
                return -1;
            *check += check_tree(tree);
            rt_decref(tree);
        }
    }
    return 0;
}

/* One thread's part, with a Node class of its own: thread 0 also keeps the
 * long-lived tree. */
static int
trees_share(void *arg, int index, int threads, int64_t *check)
{
    const int64_t depth = *(const int64_t *)arg;
    RtType *node_class = rt_class_new("Node", RT_NODE_SLOTS, 0, NULL);
    if (node_class == NULL)
        return -1;
    int status = -1;
    RtObject *long_lived = index == 0 ? make_tree(node_class, depth) : NULL;
    if ((index != 0 || long_lived != NULL) && short_lived_trees(node_class, depth, index, threads, check) == 0) {
        if (long_lived != NULL)
            *check += check_tree(long_lived);
        status = 0;
    }
    rt_xdecref(long_lived);
    rt_class_free(node_class);  /* no cycles: every Node is gone */
    return status;
}

static int
run_binary_trees(RtWorkloadCtx *ctx, const int64_t *params)
{
    int64_t depth = params[P_DEPTH], check = 0;
    if (depth > MAX_DEPTH) {
        rt_error_set(RT_ERR_VALUE, "binary_trees: depth %lld is more than %d", (long long)depth, MAX_DEPTH);
        return -1;
    }
    if (rt_workload_parallel(ctx, params[P_THREADS], trees_share, &depth, &check) < 0)
        return -1;
    rt_workload_result_int(ctx, "check", check);
    return 0;
}

const RtWorkload rt_workload_binary_trees = {
    .name = "binary_trees",
    .description = "benchmarks-game binary trees: many short-lived trees beside a long-lived one",
    .params = {
        {"depth", 16, 0, MAX_DEPTH, "depth of the long-lived tree and of the deepest short-lived ones"},
        RT_WORKLOAD_THREADS_PARAM,
    },
    .run = run_binary_trees,
};
