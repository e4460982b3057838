/* counted_node.h -- a GC type with three slots that counts its
 * deallocations per id: the collector's tests (test_gc.c, the reachability
 * oracle) and the threaded ones (test_threads.c, fuzz/fuzz_sched.c, ...).
 *
 * The including file defines COUNTED_NODE_MAX (how many ids) before
 * including this; node_freed[id] counts the deallocations of the Node with
 * that id, on whichever thread they happen; nodes_forget_frees and
 * nodes_freed_once reset and read a range of them.  A Node's slots are
 * references it owns, visited and cleared in order.
 */
#ifndef RT_TESTS_COUNTED_NODE_H
#define RT_TESTS_COUNTED_NODE_H

#include "rt/rt.h"

#include <stdatomic.h>

#ifndef COUNTED_NODE_MAX
#error "define COUNTED_NODE_MAX before including counted_node.h"
#endif

static atomic_int node_freed[COUNTED_NODE_MAX];

/* Forget the deallocations of the ids from..to-1. */
static inline void
nodes_forget_frees(int from, int to)
{
    for (int i = from; i < to; i++)
        atomic_store(&node_freed[i], 0);
}

/* How many of the ids from..to-1 were freed exactly once. */
static inline int
nodes_freed_once(int from, int to)
{
    int once = 0;
    for (int i = from; i < to; i++)
        once += atomic_load(&node_freed[i]) == 1;
    return once;
}

#define COUNTED_NODE_SLOTS 3

typedef struct Node {
    RtObject ob_base;
    int id;
    RtObject *slot[COUNTED_NODE_SLOTS];
} Node;

static void
node_dealloc(RtObject *op)
{
    Node *n = (Node *)op;
    rt_gc_untrack(op);
    atomic_fetch_add(&node_freed[n->id], 1);
    for (int i = 0; i < COUNTED_NODE_SLOTS; i++)
        rt_clearref(&n->slot[i]);
    rt_object_free(op);
}

static int
node_traverse(RtObject *op, RtVisitProc visit, void *arg)
{
    Node *n = (Node *)op;
    for (int i = 0; i < COUNTED_NODE_SLOTS; i++)
        if (n->slot[i] != NULL) {
            int r = visit(n->slot[i], arg);
            if (r)
                return r;
        }
    return 0;
}

static int
node_clear(RtObject *op)
{
    for (int i = 0; i < COUNTED_NODE_SLOTS; i++)
        rt_clearref(&((Node *)op)->slot[i]);
    return 0;
}

static RtType node_type = {
    .name = "Node", .basic_size = sizeof(Node), .flags = RT_TYPE_GC,
    .dealloc = node_dealloc, .traverse = node_traverse, .clear = node_clear,
};

/* A new tracked Node with that id, its slots empty; NULL when out of memory. */
static inline RtObject *
node_tracked(int id)
{
    Node *n = (Node *)rt_object_new(&node_type);
    if (n == NULL)
        return NULL;
    n->id = id;
    rt_gc_track((RtObject *)n);
    return (RtObject *)n;
}

#endif /* RT_TESTS_COUNTED_NODE_H */
