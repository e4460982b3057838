/* test_gc.c -- the cycle collector.
 *
 * Strategy: first every cycle shape, through every container type; then a
 * randomized test against an independent reachability oracle (many seeds):
 * the test records every reference it creates, computes what is reachable
 * from its roots by breadth-first search, collects, and checks that exactly
 * the unreachable objects died -- per object for a test type that records
 * its deallocation, per type for the built-in ones -- and that every
 * survivor's reference count is exactly its references from survivors and
 * roots.  Then finalizers and resurrection, and weakref callbacks.  The
 * collection schedule and the gc module API: test_gc_api.c.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"
#include "prng.h"

/* ==== a test type that records its deallocation ========================= */

#define MAX_NODES 4096
#define COUNTED_NODE_MAX MAX_NODES
#include "counted_node.h"

/* A new tracked Node with that id, its count of deallocations reset (the
 * oracle's graphs reuse ids). */
static RtObject *
tnode_new(int id)
{
    atomic_store(&node_freed[id], 0);
    return node_tracked(id);
}

static void
tnode_set(RtObject *op, int slot, RtObject *target)
{
    rt_incref(target);
    rt_setref(&((Node *)op)->slot[slot], target);
}

/* ==== setup ============================================================ */

static RtTestMark mark;

static void
setup(long t0, long t1, long t2)
{
    rt_test_start(t0, t1, t2, true);
    rti_type_register(&node_type);
    mark = rt_test_mark();
}

static void teardown(void) { rt_test_collect_and_finish(mark); }

static int64_t
live_of(const char *type)
{
    RtTypeStats row;
    return rt_test_type_stats(type, &row) ? row.live : 0;
}

/* ==== cycle shapes ====================================================== */

TEST(self_references_of_every_container)
{
    setup(700, 10, 10);
    RtType *cls = rt_class_new("C", 1, 0, NULL);
    RtObject *l = rt_list_new(0), *d = rt_dict_new(), *i = rt_instance_new(cls), *t = tnode_new(0);
    RtObject *tu = rt_tuple_new(1);
    rt_list_append(l, l);
    rt_dict_set(d, d, d);
    rt_instance_set(i, 0, i);
    tnode_set(t, 0, t);
    rt_tuple_init_item(tu, 0, tu);
    RtObject *objs[] = {l, d, i, t, tu};
    for (int k = 0; k < 5; k++)
        rt_decref(objs[k]);
    CHECK_EQ(live_of("list") + live_of("dict") + live_of("C") + live_of("Node") + live_of("tuple"), 5);
    CHECK_EQ(rt_gc_collect(0), 5);
    CHECK_EQ(atomic_load(&node_freed[0]), 1);
    CHECK_EQ(live_of("list") + live_of("dict") + live_of("C") + live_of("Node") + live_of("tuple"), 0);
    teardown();
}

/* A ring of n objects cycling through list -> dict -> tuple -> instance. */
static RtObject *
make_ring(int n, RtType *cls)
{
    RtObject *first = NULL, *prev = NULL;
    for (int k = 0; k < n; k++) {
        RtObject *o;
        switch (k % 4) {
        case 0: o = rt_list_new(0); break;
        case 1: o = rt_dict_new(); break;
        case 2: o = rt_instance_new(cls); break;
        default: o = tnode_new(k); break;
        }
        if (prev == NULL) {
            first = o;
        } else {
            if (rt_is_type(prev, &rt_list_type))
                rt_list_append(prev, o);
            else if (rt_is_type(prev, &rt_dict_type))
                rt_dict_set(prev, rt_int_from(k), o);
            else if (RT_TYPE(prev) == cls)
                rt_instance_set(prev, 0, o);
            else
                tnode_set(prev, 0, o);
            rt_decref(o);   /* prev holds it */
        }
        prev = o;
    }
    /* Close the ring through a tuple. */
    RtObject *tu = rt_tuple_pack(1, first);
    if (rt_is_type(prev, &rt_list_type))
        rt_list_append(prev, tu);
    else if (rt_is_type(prev, &rt_dict_type))
        rt_dict_set(prev, rt_int_from(-1), tu);
    else if (RT_TYPE(prev) == cls)
        rt_instance_set(prev, 0, tu);
    else
        tnode_set(prev, 0, tu);
    rt_decref(tu);
    return first;   /* the caller's reference */
}

TEST(pairs_and_rings_of_length_2_to_100)
{
    setup(700, 10, 10);
    RtType *cls = rt_class_new("R", 1, 0, NULL);
    for (int n = 2; n <= 100; n++) {
        RtObject *r = make_ring(n, cls);
        rt_decref(r);
        /* n ring members + the closing tuple */
        CHECK_EQ(rt_gc_collect(2), n + 1);
    }
    teardown();
}

TEST(cycles_hanging_from_reachable_objects_survive)
{
    setup(700, 10, 10);
    RtType *cls = rt_class_new("H", 2, 0, NULL);
    RtObject *root = rt_list_new(0);
    RtObject *ring = make_ring(7, cls);
    rt_list_append(root, ring);     /* reachable: must survive */
    rt_decref(ring);
    RtObject *garbage = make_ring(5, cls);
    /* A garbage cycle that points at a reachable object: the cycle goes,
     * the object stays. */
    RtObject *keep = rt_list_new(0);
    rt_list_append(root, keep);
    RtObject *a = rt_instance_new(cls), *b = rt_instance_new(cls);
    rt_instance_set(a, 0, b);
    rt_instance_set(b, 0, a);
    rt_instance_set(a, 1, keep);
    rt_decref(a);
    rt_decref(b);
    rt_decref(garbage);
    intptr_t keep_refs = rt_getrefcount(keep);
    CHECK_EQ(rt_gc_collect(2), 6 + 2);
    CHECK_EQ(rt_getrefcount(keep), keep_refs - 1);
    CHECK_EQ(rt_list_size(root), 2);
    CHECK(rt_gc_is_tracked(ring));
    CHECK_EQ(rt_gc_collect(2), 0);
    rt_decref(keep);
    rt_decref(root);
    CHECK_EQ(rt_gc_collect(2), 8);
    teardown();
}

/* ==== the randomized reachability oracle ================================ */

enum { K_TNODE, K_LIST, K_DICT, K_TUPLE, K_INST, K_COUNT };
static const char *kind_type[K_COUNT] = {"Node", "list", "dict", "tuple", "Rnd"};

typedef struct Graph {
    int n;
    RtObject *obj[MAX_NODES];
    int kind[MAX_NODES];
    bool root[MAX_NODES];
    int nedges;
    int from[MAX_NODES * 4], to[MAX_NODES * 4];
} Graph;

static void
add_edge(Graph *g, RtType *cls, int from, int to, int e)
{
    RtObject *src = g->obj[from], *dst = g->obj[to];
    switch (g->kind[from]) {
    case K_TNODE: tnode_set(src, e, dst); break;
    case K_LIST: rt_list_append(src, dst); break;
    case K_DICT: rt_dict_set(src, rt_int_from(e), dst); break;
    case K_INST: rt_instance_set(src, (uint32_t)e, dst); break;
    default: return;
    }
    (void)cls;
    g->from[g->nedges] = from;
    g->to[g->nedges] = to;
    g->nedges++;
}

static void
reachable_set(const Graph *g, bool *reach)
{
    int queue[MAX_NODES], head = 0, tail = 0;
    for (int i = 0; i < g->n; i++) {
        reach[i] = g->root[i];
        if (reach[i])
            queue[tail++] = i;
    }
    while (head < tail) {
        int v = queue[head++];
        for (int e = 0; e < g->nedges; e++) {
            if (g->from[e] == v && !reach[g->to[e]]) {
                reach[g->to[e]] = true;
                queue[tail++] = g->to[e];
            }
        }
    }
}

static int
check_random_graph(uint64_t seed, int n)
{
    static Graph g;
    int before = rt_test_failed_checks;
    RtPrng r;
    rt_prng_seed(&r, seed);
    RtType *cls = rt_class_new("Rnd", 3, RT_CLASS_WEAKREF, NULL);
    rt_gc_disable();    /* collections only where the test says */
    g.n = n;
    g.nedges = 0;
    for (int i = 0; i < n; i++) {
        int k = (int)rt_prng_below(&r, K_COUNT);
        g.kind[i] = k;
        g.root[i] = rt_prng_below(&r, 100) < 10;
        if (k == K_TUPLE) {
            /* Items are fixed at creation: earlier objects only. */
            int m = i == 0 ? 0 : (int)rt_prng_below(&r, 4);
            g.obj[i] = rt_tuple_new(m);
            for (int e = 0; e < m; e++) {
                int to = (int)rt_prng_below(&r, (uint64_t)i);
                rt_tuple_init_item(g.obj[i], e, g.obj[to]);
                g.from[g.nedges] = i;
                g.to[g.nedges] = to;
                g.nedges++;
            }
        } else {
            g.obj[i] = k == K_TNODE ? tnode_new(i) : k == K_LIST ? rt_list_new(0)
                     : k == K_DICT ? rt_dict_new() : rt_instance_new(cls);
        }
    }
    for (int i = 0; i < n; i++) {
        int m = (int)rt_prng_below(&r, 4);
        for (int e = 0; e < m && g.kind[i] != K_TUPLE; e++)
            add_edge(&g, cls, i, (int)rt_prng_below(&r, (uint64_t)n), e);
    }
    static bool reach[MAX_NODES];
    reachable_set(&g, reach);
    /* Drop the creation references of non-roots: acyclic garbage dies now. */
    int64_t expect_live[K_COUNT] = {0}, live_before[K_COUNT];
    for (int i = 0; i < n; i++)
        if (reach[i])
            expect_live[g.kind[i]]++;
    for (int i = 0; i < n; i++)
        if (!g.root[i])
            rt_decref(g.obj[i]);
    int64_t garbage = 0;
    for (int k = 0; k < K_COUNT; k++) {
        live_before[k] = live_of(kind_type[k]);
        garbage += live_before[k] - expect_live[k];
    }
    intptr_t found = rt_gc_collect(2);
    CHECK_EQ(found, garbage);
    for (int k = 0; k < K_COUNT; k++)
        CHECK_EQ(live_of(kind_type[k]), expect_live[k]);
    for (int i = 0; i < n; i++) {
        if (g.kind[i] == K_TNODE)
            CHECK_EQ(atomic_load(&node_freed[i]), reach[i] ? 0 : 1);
    }
    /* Survivors' counts: roots' own reference + edges from survivors. */
    static int indeg[MAX_NODES];
    memset(indeg, 0, sizeof indeg);
    for (int e = 0; e < g.nedges; e++)
        if (reach[g.from[e]])
            indeg[g.to[e]]++;
    for (int i = 0; i < n; i++)
        if (reach[i])
            CHECK_EQ(rt_refcnt(g.obj[i]), indeg[i] + (g.root[i] ? 1 : 0));
    for (int i = 0; i < n; i++)
        if (g.root[i])
            rt_decref(g.obj[i]);
    rt_gc_collect(2);
    for (int k = 0; k < K_COUNT; k++)
        CHECK_EQ(live_of(kind_type[k]), 0);
    rt_gc_enable();
    rt_class_free(cls);
    if (rt_test_failed_checks != before)
        fprintf(stderr, "  (seed %llu, n %d)\n", (unsigned long long)seed, n);
    return rt_test_failed_checks != before;
}

TEST(random_graphs_free_exactly_the_unreachable)
{
    setup(700, 10, 10);
    int failures = 0;
    for (uint64_t seed = 1; seed <= 300 && failures < 3; seed++)
        failures += check_random_graph(seed, 20 + (int)(seed % 200));
    for (uint64_t seed = 1000; seed < 1004 && failures < 3; seed++)
        failures += check_random_graph(seed, 3000);
    /* The passes as they run on a generation too large for the cache
     * (prefetching, no PENDING pre-pass), on the same graphs. */
    rti_runtime.gc.prefetch_min = 0;
    for (uint64_t seed = 1; seed <= 100 && failures < 3; seed++)
        failures += check_random_graph(seed, 20 + (int)(seed % 200));
    for (uint64_t seed = 1000; seed < 1002 && failures < 3; seed++)
        failures += check_random_graph(seed, 3000);
    teardown();
}

/* Collections of the young generations only: what is reachable from older
 * generations must survive (their references count as external). */
TEST(young_collections_respect_older_generations)
{
    setup(700, 10, 10);
    RtType *cls = rt_class_new("Y", 1, 0, NULL);
    RtObject *old = rt_list_new(0);
    rt_gc_collect(2);   /* old is now in generation 2 */
    RtObject *young = rt_instance_new(cls);
    rt_list_append(old, young);
    rt_decref(young);
    CHECK_EQ(rt_gc_collect(0), 0);
    CHECK(rt_gc_is_tracked(young));
    CHECK_EQ(rt_refcnt(young), 1);
    rt_list_clear(old);     /* young dies by refcount */
    rt_decref(old);
    teardown();
}

/* ==== finalizers and resurrection ====================================== */

static int fin_calls;
static RtObject *lazarus;

static void
resurrect(RtObject *self)
{
    fin_calls++;
    if (lazarus == NULL)
        lazarus = rt_newref(self);
}

TEST(finalizers_run_once_and_resurrection_keeps_what_it_reaches)
{
    setup(700, 10, 10);
    RtType *cls = rt_class_new("Phoenix", 2, 0, resurrect);
    RtObject *a = rt_instance_new(cls), *b = rt_instance_new(cls);
    RtObject *payload = rt_list_new(0);
    rt_instance_set(a, 0, b);
    rt_instance_set(b, 0, a);
    rt_instance_set(a, 1, payload);
    rt_list_append(payload, a);     /* the payload is in the cycle too */
    rt_decref(payload);
    rt_decref(a);
    rt_decref(b);
    fin_calls = 0;
    lazarus = NULL;
    rt_gc_collect(2);
    CHECK_EQ(fin_calls, 2);         /* both finalized, once each */
    CHECK(lazarus != NULL);
    /* The resurrected object and everything it reaches are alive. */
    CHECK_EQ(live_of("Phoenix"), 2);
    CHECK_EQ(live_of("list"), 1);
    CHECK(rt_gc_is_finalized(a) && rt_gc_is_finalized(b));
    CHECK(rt_instance_get(lazarus, 0) != NULL);
    /* Drop the resurrected root: the next collection frees the cycle
     * without calling the finalizers again. */
    rt_decref(lazarus);
    lazarus = (RtObject *)1;    /* resurrect() would not store again anyway */
    CHECK_EQ(rt_gc_collect(2), 3);
    CHECK_EQ(fin_calls, 2);
    CHECK_EQ(live_of("Phoenix"), 0);
    CHECK_EQ(live_of("list"), 0);
    lazarus = NULL;
    teardown();
}

static int plain_fin;
static void count_fin(RtObject *self) { plain_fin++; }

TEST(finalizers_of_plain_garbage_cycles)
{
    setup(700, 10, 10);
    RtType *cls = rt_class_new("F", 1, 0, count_fin);
    plain_fin = 0;
    for (int i = 0; i < 50; i++) {
        RtObject *a = rt_instance_new(cls);
        rt_instance_set(a, 0, a);
        rt_decref(a);
    }
    CHECK_EQ(rt_gc_collect(2), 50);
    CHECK_EQ(plain_fin, 50);
    CHECK_EQ(live_of("F"), 0);
    teardown();
}

/* ==== weak references under the collector ============================== */

static int wr_calls;
static bool wr_saw_cleared;

static void
wr_callback(RtObject *wr, RtObject *arg)
{
    wr_calls++;
    wr_saw_cleared = rt_weakref_get(wr) == NULL;
    RtObject *tmp = rt_dict_new();  /* callbacks may allocate */
    rt_dict_set(tmp, tmp, tmp);     /* ... even cycles */
    rt_decref(tmp);
}

TEST(weakref_callbacks_run_once_for_live_weakrefs)
{
    setup(700, 10, 10);
    RtType *cls = rt_class_new("W", 2, RT_CLASS_WEAKREF, NULL);
    RtObject *a = rt_instance_new(cls), *b = rt_instance_new(cls);
    rt_instance_set(a, 0, b);
    rt_instance_set(b, 0, a);
    RtObject *live_wr = rt_weakref_new(a, wr_callback, NULL);
    /* A weakref inside the garbage: its callback must not run. */
    RtObject *dead_wr = rt_weakref_new(b, wr_callback, NULL);
    rt_instance_set(a, 1, dead_wr);
    rt_decref(dead_wr);
    rt_decref(a);
    rt_decref(b);
    wr_calls = 0;
    intptr_t found = rt_gc_collect(2);
    CHECK_EQ(wr_calls, 1);
    CHECK(wr_saw_cleared);
    CHECK(rt_weakref_get(live_wr) == NULL);
    CHECK_EQ(found, 3);     /* a, b, and the weakref inside the cycle */
    CHECK_EQ(live_of("W"), 0);
    rt_gc_collect(2);       /* the callback's own garbage dict */
    CHECK_EQ(wr_calls, 1);
    rt_decref(live_wr);
    teardown();
}

/* A weakref whose only reference is its callback's argument cycle: the
 * callback drops the last reference, and the collector counts it freed. */
static void
drop_self(RtObject *wr, RtObject *arg)
{
    wr_calls++;
    rt_list_clear(arg);
}

TEST(weakrefs_freed_by_their_callback_count_as_collected)
{
    setup(700, 10, 10);
    RtType *cls = rt_class_new("V", 1, RT_CLASS_WEAKREF, NULL);
    RtObject *target = rt_instance_new(cls);
    rt_instance_set(target, 0, target);
    RtObject *holder = rt_list_new(0);   /* reachable, holds the weakref */
    RtObject *wr = rt_weakref_new(target, drop_self, holder);
    rt_list_append(holder, wr);
    rt_decref(wr);
    rt_decref(target);
    wr_calls = 0;
    /* target (1) + the weakref freed by the callback (1) */
    CHECK_EQ(rt_gc_collect(2), 2);
    CHECK_EQ(wr_calls, 1);
    CHECK_EQ(live_of("weakref"), 0);
    rt_decref(holder);
    teardown();
}

int
main(void)
{
    RUN(self_references_of_every_container);
    RUN(pairs_and_rings_of_length_2_to_100);
    RUN(cycles_hanging_from_reachable_objects_survive);
    RUN(random_graphs_free_exactly_the_unreachable);
    RUN(young_collections_respect_older_generations);
    RUN(finalizers_run_once_and_resurrection_keeps_what_it_reaches);
    RUN(finalizers_of_plain_garbage_cycles);
    RUN(weakref_callbacks_run_once_for_live_weakrefs);
    RUN(weakrefs_freed_by_their_callback_count_as_collected);
    return rt_test_summary();
}
