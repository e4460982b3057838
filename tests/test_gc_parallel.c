/* test_gc_parallel.c -- a collection's passes shared by the stopped
 * threads (gc_parallel.c; stw.c's rti_world_help), in the threaded
 * variants (run under ThreadSanitizer by scripts/test).
 *
 *   parked_threads_run_the_tasks: with WORKERS threads parked at
 *     safepoints, a task that waits until each of them has joined it (a
 *     rendezvous: nobody waits on a clock) returns, twice in a row -- they
 *     answer a task that follows another; rt_thread_stats counts them.
 *   parallel_and_serial_find_the_same_garbage: WORKERS threads each make
 *     one node of every ring (so every ring crosses every heap, and each
 *     node is referenced from two other heaps); half the
 *     rings are then held by the main thread through their node in the
 *     first heap alone (the rest of each is reachable only across heaps),
 *     half are garbage.  With the passes on the collecting thread alone
 *     (RT_GC_PARALLEL off), shared from generation 1 (the default) and
 *     from generation 0: a full collection finds exactly the garbage
 *     rings, then, once the main thread drops them, exactly the held ones;
 *     a young collection of the same rings, made again, finds the same;
 *     every node is freed exactly once, and the heaps validate.  In a
 *     second round some garbage rings also hold an instance with a
 *     finalizer, in a third a weakref to it too (with a callback, held by
 *     the main thread): each finalizer and each callback runs once, in
 *     CPython's order (every weakref cleared before the finalizers, every
 *     finalizer before the clears), and the weakrefs are dead after.  With
 *     no weakref alive a parallel collection skips the weakref walk and
 *     takes its counts from the sweep: the first two rounds check those.
 *   threads_clear_their_own_garbage: rings whose nodes are owned by their
 *     heap's thread (each refers to itself) and linked across heaps by
 *     their own makers: in the biased variant both full collections run
 *     their clears on every worker for its own heap (parallel_deletes of
 *     rt_thread_stats; the atomic variant keeps the serial clears), the cross-
 *     heap decrements meeting each target before or after its owner
 *     cleared it; the same garbage and held rings are freed, each node
 *     once.  Under ThreadSanitizer, owners merging during the clears (the
 *     deferral off) showed as a data race on the lists in 2 runs of 3.
 *   one_heap_collected_in_chunks: 72,003 Nodes in 3-rings, all made by the
 *     main thread (one heap's part, as a long-lived structure built before
 *     the workers start), each ring spread over three distant chunks; half
 *     held from a list.  Serially and in parallel (the workers parked,
 *     claiming the part's chunks), a full collection frees exactly the
 *     other half, each node once; the part was cut into at least
 *     RTI_GC_CHUNKS / 2 chunks (the cuts thinned as it grew) and, in
 *     parallel, the survivors keep their allocation order on the heap's
 *     oldest list (the chunks joined in order); then the rest is freed.
 *   clears_pass_the_deallocs_safepoints: the main thread and each worker
 *     leave a garbage cycle whose clear frees an untracked list of 3,079
 *     ints; with the passes and clears on the collecting thread, shared
 *     from generation 1, and from generation 0, the full collection frees
 *     each (biased: its clears on every thread), the deallocs' safepoints
 *     parking neither the collecting thread, as a peer of the clears, nor
 *     a parked worker.
 *
 * No test sleeps: threads wait on flags they spin on at a safepoint, or on
 * joins.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"

#include <pthread.h>
#include <stdatomic.h>

#define WORKERS 4
#define RINGS 600                       /* of WORKERS nodes each */
#define HELD (RINGS / 2)                /* rings[0..HELD) are held */
#define WATCHED 50                      /* rings[HELD..HELD+WATCHED) hold a Watched */
#define BIG_RINGS 24001                 /* of 3 nodes, all in the main thread's heap */
#define BIG_NODES (3 * BIG_RINGS)       /* past RTI_GC_CHUNKS * RTI_GC_CHUNK_MIN twice */
#define COUNTED_NODE_MAX (BIG_NODES > RINGS * WORKERS ? BIG_NODES : RINGS * WORKERS)
#include "counted_node.h"
#include "heap_valid.h"

#if !RT_RC_THREADED
#error "test_gc_parallel runs a threaded variant"
#endif

static int
freed_any(int from, int to)
{
    int any = 0;
    for (int i = from; i < to; i++)
        any += atomic_load(&node_freed[i]) != 0;
    return any;
}

/* ==== the workers ======================================================= */

/* Each worker: attach, do what `order` says, then wait at a safepoint (where
 * the collections park it) for the next order. */
enum { ORDER_WAIT, ORDER_MAKE, ORDER_MAKE_OWNED, ORDER_LINK, ORDER_DROP, ORDER_MAKE_BIG_GARBAGE, ORDER_LEAVE };
static atomic_int order, done;
static RtObject *ring[RINGS][WORKERS];      /* ring[r][k]: made by worker k */

/* Worker k's node of every ring; owned: referring to itself, so that its
 * maker's local count stays above zero once the maker drops its own
 * reference (the node is never merged). */
static void
make_nodes(int k, bool owned)
{
    for (int r = 0; r < RINGS; r++) {
        Node *n = (Node *)node_tracked(r * WORKERS + k);
        if (n == NULL)
            break;
        if (owned)
            n->slot[1] = rt_newref((RtObject *)n);
        ring[r][k] = (RtObject *)n;
    }
}

/* Worker k's node refers to the next worker's: a reference one thread
 * takes to an object another owns (its shared count). */
static void
link_next(int k)
{
    for (int r = 0; r < RINGS; r++)
        ((Node *)ring[r][k])->slot[0] = rt_newref(ring[r][(k + 1) % WORKERS]);
}

/* A garbage cycle [self, big] where big, untracked, holds BIG_ITEMS ints
 * that only it holds: the clear of the cycle deallocates big, passing the
 * dealloc's safepoints (internal.h) with the world stopped.  False when
 * out of memory. */
#define BIG_ITEMS (3 * RTI_DEALLOC_SAFEPOINT + 7)
static bool
make_big_garbage(void)
{
    RtObject *cycle = rt_list_new(0), *big = rt_list_new(0);
    bool ok = cycle != NULL && big != NULL;
    for (int i = 0; ok && i < BIG_ITEMS; i++) {
        RtObject *v = rt_int_from(1000 + i);
        ok = v != NULL && rt_list_append(big, v) == 0;
        rt_xdecref(v);
    }
    if (ok) {
        rt_gc_untrack(big);
        ok = rt_list_append(cycle, cycle) == 0 && rt_list_append(cycle, big) == 0;
    }
    rt_xdecref(big);
    rt_xdecref(cycle);
    return ok;
}

static void *
worker(void *arg)
{
    int k = (int)(intptr_t)arg;
    if (rt_thread_attach() != 0)
        return NULL;
    int seen = ORDER_WAIT;
    for (;;) {
        int now = atomic_load(&order);
        if (now == ORDER_LEAVE)
            break;
        if (now != seen) {
            seen = now;
            if (now == ORDER_MAKE || now == ORDER_MAKE_OWNED)
                make_nodes(k, now == ORDER_MAKE_OWNED);
            else if (now == ORDER_LINK)
                link_next(k);
            else if (now == ORDER_DROP)
                for (int r = 0; r < RINGS; r++)
                    rt_decref(ring[r][k]);      /* the maker's reference */
            else if (now == ORDER_MAKE_BIG_GARBAGE)
                make_big_garbage();
            atomic_fetch_add(&done, 1);
        }
        rt_thread_safepoint();
    }
    rt_thread_detach();
    return NULL;
}

/* Give the workers an order and wait at safepoints until each did it. */
static void
command(int what)
{
    atomic_store(&done, 0);
    atomic_store(&order, what);
    while (atomic_load(&done) < WORKERS)
        rt_thread_safepoint();
}

static bool
start_workers(pthread_t t[WORKERS])
{
    atomic_store(&order, ORDER_WAIT);
    for (int k = 0; k < WORKERS; k++)
        if (pthread_create(&t[k], NULL, worker, (void *)(intptr_t)k) != 0)
            return false;
    while (rt_thread_count() < WORKERS + 1)
        rt_thread_safepoint();
    return true;
}

static void
stop_workers(pthread_t t[WORKERS])
{
    atomic_store(&order, ORDER_LEAVE);
    rt_thread_block_begin();
    for (int k = 0; k < WORKERS; k++)
        pthread_join(t[k], NULL);
    rt_thread_block_end();
}

/* ==== parked threads run the tasks ====================================== */

static atomic_int joined;

static void
rendezvous(void *arg)
{
    (void)arg;
    atomic_fetch_add(&joined, 1);
    if (!rti_world_stopped_here())
        return;     /* a helper: joined */
    while (atomic_load(&joined) < WORKERS + 1)
        rti_cpu_relax();    /* the stopper: until every parked thread has */
}

TEST(parked_threads_run_the_tasks)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    pthread_t t[WORKERS];
    REQUIRE(start_workers(t));
    uint64_t before = thread_stats().tasks_helped;
    rti_world_stop();
    for (int round = 0; round < 2; round++) {
        atomic_store(&joined, 0);
        rti_world_help(rendezvous, NULL);
        CHECK_EQ(atomic_load(&joined), WORKERS + 1);
    }
    rti_world_start();
    CHECK_EQ(thread_stats().tasks_helped - before, 2 * WORKERS);
    stop_workers(t);
    rt_fini();
}

/* ==== parallel and serial passes find the same garbage ================== */

/* ---- watched instances: a finalizer, and a weakref with a callback ---- */

static atomic_int finalized, called, finalized_early;
static RtType *watched_class;
static RtObject *watch[WATCHED];

/* CPython's order: a collection clears the weakrefs to its garbage (and
 * calls their callbacks) before any finalizer, and runs every finalizer
 * before it clears anything.  So here no weakref to self is alive, and
 * the ring self points into is whole (every node's two references). */
static void
watched_finalize(RtObject *self)
{
    atomic_fetch_add(&finalized, 1);
    bool early = false;
    for (int i = 0; i < WATCHED; i++)
        early |= watch[i] != NULL && rt_weakref_get(watch[i]) == self;
    Node *n = (Node *)rt_instance_get(self, 0);
    for (int k = 0; k < WORKERS && !early; k++) {
        early = n == NULL || n->slot[0] == NULL || n->slot[1] == NULL;
        n = early ? NULL : (Node *)n->slot[0];
    }
    atomic_fetch_add(&finalized_early, early);
}

static void watched_callback(RtObject *wr, RtObject *arg) { (void)wr, (void)arg; atomic_fetch_add(&called, 1); }

/* What the garbage rings HELD..HELD+WATCHED hold besides their nodes. */
typedef enum { WATCH_NONE, WATCH_FINALIZER, WATCH_FINALIZER_AND_WEAKREF } Watch;

/* Put a Watched into garbage rings HELD..HELD+WATCHED: node 0's second
 * slot points at it, and it at node 2; with weakrefs, the main thread
 * holds one to each.  Returns false when something could not be made. */
static bool
watch_rings(bool weakrefs)
{
    watched_class = rt_class_new("Watched", 1, RT_CLASS_WEAKREF, watched_finalize);
    if (watched_class == NULL)
        return false;
    for (int i = 0; i < WATCHED; i++) {
        Node *n = (Node *)ring[HELD + i][0];
        RtObject *x = rt_instance_new(watched_class);
        if (x == NULL || rt_instance_set(x, 0, n->slot[1]) != 0)
            return false;
        rt_decref(n->slot[1]);
        n->slot[1] = x;
        watch[i] = weakrefs ? rt_weakref_new(x, watched_callback, NULL) : NULL;
        if (weakrefs && watch[i] == NULL)
            return false;
    }
    return true;
}

static void
check_watched(bool weakrefs)
{
    CHECK_EQ(atomic_load(&finalized), WATCHED);
    CHECK_EQ(atomic_load(&finalized_early), 0);
    CHECK_EQ(atomic_load(&called), weakrefs ? WATCHED : 0);
    for (int i = 0; i < WATCHED && weakrefs; i++) {
        CHECK(rt_weakref_get(watch[i]) == NULL);
        rt_decref(watch[i]);
    }
    rt_class_free(watched_class);
}

/* Link every ring (node k -> nodes k+1 and k+2, across the heaps: each
 * node is referenced from two other heaps, whose threads may take its
 * gc_refs down at once), hold the first HELD through their node of
 * worker 0, and have the workers drop their references. */
static void
make_rings(void)
{
    command(ORDER_MAKE);
    for (int r = 0; r < RINGS; r++)
        for (int k = 0; k < WORKERS; k++) {
            Node *n = (Node *)ring[r][k];
            n->slot[0] = rt_newref(ring[r][(k + 1) % WORKERS]);
            n->slot[1] = rt_newref(ring[r][(k + 2) % WORKERS]);
        }
    for (int r = 0; r < HELD; r++)
        rt_incref(ring[r][0]);
    command(ORDER_DROP);
}

static void
drop_held(void)
{
    for (int r = 0; r < HELD; r++)
        rt_decref(ring[r][0]);
}

/* After a collection of the garbage rings: exactly their nodes were
 * freed, each once; then, the held rings dropped (promoted by then), a
 * full collection finds exactly them. */
static void
check_garbage_freed_then_held(void)
{
    const int held = HELD * WORKERS, all = RINGS * WORKERS;
    CHECK_EQ(nodes_freed_once(held, all), all - held);
    CHECK_EQ(freed_any(0, held), 0);
    CHECK(heap_valid());
    drop_held();
    CHECK_EQ(rt_gc_collect(RT_GC_GENERATIONS - 1), held);
    CHECK_EQ(nodes_freed_once(0, all), all);
    CHECK(heap_valid());
}

static void
collect_rings(int parallel_min, int generation, Watch watched)
{
    const int held = HELD * WORKERS, all = RINGS * WORKERS, extra = watched != WATCH_NONE ? WATCHED : 0;
    const bool weakrefs = watched == WATCH_FINALIZER_AND_WEAKREF;
    nodes_forget_frees(0, all);
    atomic_store(&finalized, 0);
    atomic_store(&finalized_early, 0);
    atomic_store(&called, 0);
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rt_gc_disable();
    rti_runtime.gc.parallel_min = parallel_min;
    pthread_t t[WORKERS];
    REQUIRE(start_workers(t));
    make_rings();
    if (watched != WATCH_NONE)
        REQUIRE(watch_rings(weakrefs));
    CHECK_EQ(rt_gc_collect(generation), all - held + extra);
    if (watched != WATCH_NONE)
        check_watched(weakrefs);
    check_garbage_freed_then_held();
    stop_workers(t);
    rt_fini();
}

/* ---- each thread clears its own garbage ---- */

/* Rings of owned nodes, each linked to the next worker's by its own
 * maker: every node is owned by its heap's thread and never merged, so a
 * collection's clears run on each worker for its own heap (biased), and
 * each decrement across heaps meets its target either before or after the
 * target's owner has cleared it -- in which case the owner queues the
 * object to itself (rti_brc_merges_deferred).  Exactly the garbage rings
 * are freed, each node once, and then the held ones. */
TEST(threads_clear_their_own_garbage)
{
    const int held = HELD * WORKERS, all = RINGS * WORKERS;
    nodes_forget_frees(0, all);
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rt_gc_disable();
    pthread_t t[WORKERS];
    REQUIRE(start_workers(t));
    command(ORDER_MAKE_OWNED);
    command(ORDER_LINK);
    for (int r = 0; r < HELD; r++)
        rt_incref(ring[r][0]);
    command(ORDER_DROP);
    uint64_t before = thread_stats().parallel_deletes;
    CHECK_EQ(rt_gc_collect(RT_GC_GENERATIONS - 1), all - held);
    check_garbage_freed_then_held();
    CHECK_EQ(thread_stats().parallel_deletes - before, RT_RC_BIASED ? 2 : 0);
    stop_workers(t);
    rt_fini();
}

TEST(parallel_and_serial_find_the_same_garbage)
{
    static const int parallel_min[] = {RT_GC_GENERATIONS, 1, 0};
    for (size_t i = 0; i < sizeof parallel_min / sizeof parallel_min[0]; i++) {
        for (Watch watched = WATCH_NONE; watched <= WATCH_FINALIZER_AND_WEAKREF; watched++) {
            collect_rings(parallel_min[i], RT_GC_GENERATIONS - 1, watched);
            collect_rings(parallel_min[i], 0, watched);
        }
    }
}

/* ---- one heap's part, in chunks ---- */

/* The ids of the Nodes on list, in its order, into ids; returns how many. */
static int
node_ids_in_order(RtGcHead *list, int *ids, int max)
{
    int n = 0;
    for (RtGcHead *g = rti_gc_next(list); g != list && n < max; g = rti_gc_next(g))
        if (rt_is_type(RTI_FROM_GC(g), &node_type))
            ids[n++] = ((Node *)RTI_FROM_GC(g))->id;
    return n;
}

/* After a parallel full collection of the main thread's heap: its part
 * was cut into at least RTI_GC_CHUNKS / 2 chunks (the cuts thinned as it
 * grew), and the chunks' survivors, joined in order, keep the heap's
 * order -- their allocation order here (the serial passes keep CPython's,
 * where an object found reachable late goes to the end). */
static void
check_chunked(RtThreadHeap *own, int held)
{
    CHECK(own->gc.part.chunks >= RTI_GC_CHUNKS / 2);
    int *ids = calloc((size_t)held, sizeof *ids);
    REQUIRE(ids != NULL);
    CHECK_EQ(node_ids_in_order(&own->gc.lists[RT_GC_GENERATIONS - 1], ids, held), held);
    int unordered = 0;
    for (int i = 1; i < held; i++)
        unordered += ids[i] <= ids[i - 1];
    CHECK_EQ(unordered, 0);
    free(ids);
}

/* BIG_RINGS rings of 3 Nodes made by the main thread, allocated round
 * robin (node i is member i / BIG_RINGS of ring i % BIG_RINGS), so that
 * every ring spans three distant chunks of the heap's part; the even
 * rings held from a list through their last member.  A full collection
 * frees exactly the odd rings, each node once; the list dropped, the
 * next frees the rest. */
static void
collect_one_big_heap(int parallel_min)
{
    nodes_forget_frees(0, BIG_NODES);
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rt_gc_disable();
    rti_runtime.gc.parallel_min = parallel_min;
    pthread_t t[WORKERS];
    REQUIRE(start_workers(t));
    RtObject **nodes = calloc(BIG_NODES, sizeof *nodes);
    RtObject *holder = rt_list_new(0);
    REQUIRE(nodes != NULL && holder != NULL);
    for (int i = 0; i < BIG_NODES; i++) {
        nodes[i] = node_tracked(i);
        REQUIRE(nodes[i] != NULL);
    }
    for (int i = 0; i < BIG_NODES; i++)
        ((Node *)nodes[i])->slot[0] = rt_newref(nodes[(i + BIG_RINGS) % BIG_NODES]);
    const int held_rings = (BIG_RINGS + 1) / 2, held = 3 * held_rings;
    for (int r = 0; r < BIG_RINGS; r += 2)
        REQUIRE(rt_list_append(holder, nodes[2 * BIG_RINGS + r]) == 0);
    for (int i = 0; i < BIG_NODES; i++)
        rt_decref(nodes[i]);

    CHECK_EQ(rt_gc_collect(RT_GC_GENERATIONS - 1), BIG_NODES - held);
    int wrong = 0;
    for (int i = 0; i < BIG_NODES; i++)
        wrong += atomic_load(&node_freed[i]) != ((i % BIG_RINGS) % 2 == 1);
    CHECK_EQ(wrong, 0);
    if (parallel_min < RT_GC_GENERATIONS)
        check_chunked((RtThreadHeap *)rti_theap, held);
    CHECK(heap_valid());

    rt_decref(holder);
    CHECK_EQ(rt_gc_collect(RT_GC_GENERATIONS - 1), held);
    CHECK_EQ(nodes_freed_once(0, BIG_NODES), BIG_NODES);
    CHECK(heap_valid());
    free(nodes);
    stop_workers(t);
    rt_fini();
}

TEST(one_heap_collected_in_chunks)
{
    collect_one_big_heap(RT_GC_GENERATIONS);    /* serial: the reference */
    collect_one_big_heap(0);
}

/* ==== a large container freed by the clears ============================ */

/* Every thread leaves a garbage cycle whose clear frees a large untracked
 * list: the clears pass its dealloc's safepoints with the world stopped --
 * on the stopper (serially, or as a peer of the parallel clears: biased)
 * and on the parked workers (their own parts) -- and none parks, which
 * would wait for its own stop.  Each cycle is collected, every int freed. */
TEST(clears_pass_the_deallocs_safepoints)
{
    static const int modes[] = {RT_GC_GENERATIONS, 1, 0};     /* off, the default, all */
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
        rt_gc_disable();
        rti_runtime.gc.parallel_min = modes[m];
        pthread_t t[WORKERS];
        REQUIRE(start_workers(t));
        command(ORDER_MAKE_BIG_GARBAGE);
        REQUIRE(make_big_garbage());
        uint64_t before = thread_stats().parallel_deletes;
        CHECK_EQ(rt_gc_collect(RT_GC_GENERATIONS - 1), WORKERS + 1);    /* the cycles; the big lists go by their counts */
        if (RT_RC_BIASED && modes[m] < RT_GC_GENERATIONS)
            CHECK_EQ(thread_stats().parallel_deletes, before + 1);     /* the clears on every thread */
        stop_workers(t);
        CHECK(heap_valid());
        CHECK_EQ(blocks_in_use(), 0);
        rt_fini();
    }
}

int
main(void)
{
    RUN(parked_threads_run_the_tasks);
    RUN(parallel_and_serial_find_the_same_garbage);
    RUN(threads_clear_their_own_garbage);
    RUN(one_heap_collected_in_chunks);
    RUN(clears_pass_the_deallocs_safepoints);
    return rt_test_summary();
}
