/* test_threads_gc_heap.c -- the collector's side of the per-thread heaps
 * (gc_heap.c) in the threaded variants: each heap's lists, their lock
 * biased towards the owner, the counts' batches, and a collection's frees
 * of other threads' garbage (run under ThreadSanitizer by scripts/test).
 * The allocator's side is test_threads_heap.c's.
 *
 *   collector_lists_follow_the_heaps: once threads share the runtime, GC
 *     objects made on a thread live on its heap's lists and count in its
 *     heap; after it leaves, the counts, the type statistics, freeze and
 *     unfreeze see them (summed over the heaps), and another thread
 *     untracks and frees them (its home's lock), exactly once.
 *   a_collection_leaves_count0_at_zero: with threads sharing the runtime,
 *     a young collection that frees a thousand cycles leaves count0 at
 *     zero, not below it: the next allocations count from zero (they went
 *     into the collecting thread's delta and held the next collection
 *     back by as many allocations as the collection freed).
 *   lists_lock_is_biased_towards_the_owner: a thread tracks and untracks
 *     its own objects without the lock while another thread untracks
 *     objects of its heap: the first untrack takes the bias away (one
 *     revocation, however many follow), the lock stays shared until twice
 *     as many quiet stops as before, then goes back to the owner; a heap
 *     whose thread left is shared.  Every object is freed exactly once and
 *     the heaps validate.
 *   count_batches_follow_threads_and_threshold: each heap adds its count
 *     to the shared one in batches of threshold0 / (2 * threads), within
 *     RTI_GC_DELTA_MIN..RTI_GC_DELTA_MAX, retuned as threads attach and
 *     leave and as the threshold changes.
 *   a_stopped_world_frees_to_the_pools: a collection that frees another
 *     thread's garbage (that thread attached, parked) gives the blocks
 *     past its cache straight back to their pools, with the world stopped
 *     -- none waits on the other heap's delayed list (an atomic push each,
 *     and a walk by the owner later), and none stays in the collecting
 *     thread's cache (an object made on such a block has its home on the
 *     other heap: its lists changed under that heap's lock); the biased
 *     collecting thread clears them as their owner would, handing none to
 *     the owner's queue.
 *
 * No test sleeps: threads wait on flags they spin on at a safepoint, or on
 * joins.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define COUNTED_NODE_MAX 1000
#include "counted_node.h"
#include "heap_valid.h"

#if !RT_RC_THREADED
#error "this test runs a threaded variant"
#endif

static RtPoolHeap *_Atomic heap_seen;     /* the heap of the thread that ran last */

/* ==== the collector's lists follow the heaps ============================= */

#define NODES 1000
static RtObject *nodes[NODES];

/* nodes[0..n) made on the calling thread; false if one was not. */
static bool
make_tracked_nodes(int n)
{
    atomic_store(&heap_seen, rti_theap);
    for (int i = 0; i < n; i++)
        if ((nodes[i] = node_tracked(i)) == NULL)
            return false;
    return true;
}

static void *
make_nodes(void *arg)
{
    (void)arg;
    if (rt_thread_attach() != 0)
        return NULL;
    make_tracked_nodes(NODES);
    rt_thread_detach();
    return NULL;
}

static uint64_t
objects_allocated(void)
{
    RtTypeStats st[RT_MAX_TYPES];
    size_t n = rt_type_stats(st, RT_MAX_TYPES);
    uint64_t sum = 0;
    for (size_t i = 0; i < n && i < RT_MAX_TYPES; i++)
        sum += st[i].allocated;
    return sum;
}

TEST(collector_lists_follow_the_heaps)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rt_gc_disable();                    /* the counts below are exact */
    rt_gc_collect(2);
    nodes_forget_frees(0, NODES);
    uint64_t before = objects_allocated();
    intptr_t count[RT_GC_GENERATIONS];
    run_thread(make_nodes, NULL);
    RtThreadHeap *theirs = (RtThreadHeap *)atomic_load(&heap_seen);
    for (int i = 0; i < NODES; i++)
        REQUIRE(nodes[i] != NULL && rt_gc_is_tracked(nodes[i]));
    CHECK(rti_heap_shared());
    CHECK_EQ(rti_gc_list_size(&theirs->gc.lists[0]), NODES);       /* its home's young list */
    CHECK_EQ(rti_gc_list_size(&rti_runtime.gc.gen[0].head), 0);
    rt_gc_get_count(count);
    CHECK_EQ(count[0], NODES);          /* its batches and the rest, at detach */
    CHECK_EQ(objects_allocated() - before, NODES);
    rt_gc_freeze();
    CHECK_EQ(rt_gc_get_freeze_count(), NODES);
    rt_gc_unfreeze();
    CHECK_EQ(rti_gc_list_size(&theirs->gc.lists[RT_GC_GENERATIONS - 1]), NODES);
    rt_gc_enable();
    CHECK(rt_gc_collect(0) == 0);       /* all alive: nothing collected, they stay home */
    CHECK_EQ(rti_gc_list_size(&theirs->gc.lists[RT_GC_GENERATIONS - 1]), NODES);
    for (int i = 0; i < NODES; i++)     /* untracked and freed here: their home's lock */
        rt_decref(nodes[i]);
    CHECK_EQ(rti_gc_list_size(&theirs->gc.lists[RT_GC_GENERATIONS - 1]), 0);
    CHECK_EQ(nodes_freed_once(0, NODES), NODES);
    CHECK(heap_valid());
    CHECK_EQ(blocks_in_use(), 0);
    rt_fini();
}

/* ==== the lists' lock is biased towards the owner ======================= */

enum { OWNED = NODES / 2, CHURN_ID = COUNTED_NODE_MAX - 1 };
static atomic_int owner_ready, owner_stop;
static atomic_long churned;

/* Start fn on a thread that attaches, makes its nodes 0..OWNED-1 and says
 * it is ready (the main thread waits at safepoints: the attach stops the
 * world); returns its heap. */
static RtThreadHeap *
start_owner(pthread_t *t, void *(*fn)(void *))
{
    nodes_forget_frees(0, OWNED);
    atomic_store(&owner_ready, 0);
    atomic_store(&owner_stop, 0);
    if (pthread_create(t, NULL, fn, NULL) != 0)
        return NULL;
    while (!atomic_load(&owner_ready))
        rt_thread_safepoint();
    return (RtThreadHeap *)atomic_load(&heap_seen);
}

/* Tell the thread to leave, and wait for it blocked. */
static void
stop_owner(pthread_t t)
{
    atomic_store(&owner_stop, 1);
    join_blocked(t);
}

/* Make OWNED tracked nodes, then track and free nodes of its own until
 * told to stop: list changes by the owner, racing the main thread's. */
static void *
own_and_churn(void *arg)
{
    (void)arg;
    if (rt_thread_attach() != 0)
        return NULL;
    bool made = make_tracked_nodes(OWNED);
    atomic_store(&owner_ready, 1);
    while (made && !atomic_load(&owner_stop)) {
        RtObject *n = node_tracked(CHURN_ID);          /* a safepoint */
        if (n == NULL)
            break;
        rt_decref(n);
        atomic_fetch_add(&churned, 1);
    }
    rt_thread_detach();
    return NULL;
}

TEST(lists_lock_is_biased_towards_the_owner)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rt_gc_disable();                    /* only the collections below */
    pthread_t t;
    RtThreadHeap *theirs = start_owner(&t, own_and_churn);
    REQUIRE(theirs != NULL);
    REQUIRE(rti_heap_shared());
    for (int i = 0; i < OWNED; i++)
        REQUIRE(nodes[i] != NULL);
    /* A new heap is biased (no other thread holds its objects) where the
     * kernel gives membarrier(2); else every heap stays shared. */
    bool biased = rti_gc_heaps_can_bias();
    CHECK_EQ(rti_gc_heap_biased(theirs), biased);
    if (!biased)
        printf("     membarrier(2) refused here: every heap's lock stays shared\n");
    uint64_t revoked = thread_stats().bias_revocations;
    /* Untracked here while the owner churns, from the young list's tail,
     * where the owner's nodes come and go.  (Not dropped: in the biased
     * variant the owner would free them, its decrefs queued to it.) */
    for (int i = OWNED - 1; i >= OWNED / 2; i--)
        rt_gc_untrack(nodes[i]);
    CHECK_EQ(thread_stats().bias_revocations - revoked, biased ? 1 : 0);
    CHECK(!rti_gc_heap_biased(theirs));
    if (biased) {
        /* Revoked once: patience 2.  This stop saw the changes above; the
         * next two are quiet, and the second gives the lock back. */
        CHECK_EQ(rt_gc_collect(0), 0);
        CHECK(!rti_gc_heap_biased(theirs));
        CHECK_EQ(rt_gc_collect(0), 0);
        CHECK(!rti_gc_heap_biased(theirs));
        CHECK_EQ(rt_gc_collect(0), 0);
        CHECK(rti_gc_heap_biased(theirs));
    }
    long before = atomic_load(&churned);
    while (atomic_load(&churned) < before + 1000)
        rt_thread_safepoint();          /* the owner goes on without the lock */
    stop_owner(t);
    CHECK(!rti_gc_heap_biased(theirs));  /* its thread left */
    revoked = thread_stats().bias_revocations;
    int tracked = 0;
    for (int i = 0; i < OWNED; i++)
        tracked += rt_gc_is_tracked(nodes[i]) == (i < OWNED / 2);
    CHECK_EQ(tracked, OWNED);
    for (int i = 0; i < OWNED; i++)     /* freed here, the lock taken (no bias to revoke) */
        rt_decref(nodes[i]);
    CHECK_EQ(thread_stats().bias_revocations, revoked);
    CHECK_EQ(nodes_freed_once(0, OWNED), OWNED);
    rt_gc_enable();
    CHECK_EQ(rt_gc_collect(2), 0);      /* RT_DEBUG=2: every list validated */
    CHECK(heap_valid());
    CHECK_EQ(blocks_in_use(), 0);
    printf("     %ld nodes tracked and freed by their owner meanwhile\n", atomic_load(&churned));
    rt_fini();
}

/* ==== a stopped world frees straight to the pools ======================= */

/* OWNED self-cycles made here, garbage at once; then wait, attached, until
 * told to leave. */
static void *
make_garbage_and_wait(void *arg)
{
    (void)arg;
    if (rt_thread_attach() != 0)
        return NULL;
    atomic_store(&heap_seen, rti_theap);
    for (int i = 0; i < OWNED; i++) {
        Node *n = (Node *)node_tracked(i);
        if (n == NULL)
            break;
        n->slot[0] = rt_newref((RtObject *)n);
        rt_decref((RtObject *)n);
    }
    atomic_store(&owner_ready, 1);
    while (!atomic_load(&owner_stop))
        rt_thread_safepoint();          /* parked here by the collection */
    rt_thread_detach();
    return NULL;
}

/* Blocks of heap ph's caches that belong to another heap's pools. */
static int
foreign_cached(const RtPoolHeap *ph)
{
    int n = 0;
    for (uint32_t idx = 0; idx < RT_NB_SMALL_SIZE_CLASSES; idx++)
        for (uint32_t i = 0; i < ph->cache[idx].n; i++)
            n += RTI_POOL_OF(ph->cache[idx].slots[i])->heap != ph;
    return n;
}

TEST(a_stopped_world_frees_to_the_pools)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rt_gc_disable();
    RtThreadHeap *here = rti_thread_heap();
    /* This thread's cache of the Nodes' class in use, with one block. */
    rt_decref(node_tracked(CHURN_ID));
    const RtFreeCache *c = &here->pool.cache[RTI_SIZE_CLASS(sizeof(RtGcHead) + sizeof(Node))];
    REQUIRE(c->limit > 0 && c->n == 1);
    pthread_t t;
    RtThreadHeap *theirs = start_owner(&t, make_garbage_and_wait);
    REQUIRE(theirs != NULL);
    /* Theirs, freed here: OWNED > a cache.  A young collection: a full one
     * also trims every heap, which empties the delayed lists anyway.  The
     * collecting thread clears each as its owner would (biased): none is
     * handed to the owner's queue. */
    uint64_t queued = thread_stats().queued_to_owner;
    CHECK_EQ(rt_gc_collect(0), OWNED);
    CHECK_EQ(thread_stats().queued_to_owner, queued);
    CHECK(atomic_load(&theirs->pool.delayed) == NULL);
    CHECK_EQ(nodes_freed_once(0, OWNED), OWNED);
    /* Nor does any stay in this thread's cache, where it made an object at
     * home on their heap, its lists changed under their lock, their
     * owner's bias revoked (rti_pool_cache_send_home). */
    CHECK_EQ(foreign_cached(&here->pool), 0);
    CHECK_EQ(c->n, 1);
    RtObject *mine = node_tracked(CHURN_ID);
    CHECK(mine != NULL && rti_gc_home(RTI_AS_GC(mine)) == here);
    rt_xdecref(mine);
    stop_owner(t);
    rt_gc_enable();
    CHECK(heap_valid());
    CHECK_EQ(blocks_in_use(), 0);
    rt_fini();
}

/* ==== a collection leaves count0 at zero ================================ */

static void *
attach_and_leave(void *arg)
{
    (void)arg;
    if (rt_thread_attach() == 0)
        rt_thread_detach();
    return NULL;
}

TEST(a_collection_leaves_count0_at_zero)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    run_thread(attach_and_leave, NULL);     /* from now on the heaps count apart */
    REQUIRE(rti_heap_shared());
    rt_gc_disable();                        /* no collection but the one below */
    rt_gc_collect(2);
    for (int i = 0; i < NODES; i++) {       /* NODES self-cycles, garbage at once */
        atomic_store(&node_freed[i], 0);
        Node *n = (Node *)node_tracked(i);
        REQUIRE(n != NULL);
        n->slot[0] = rt_newref((RtObject *)n);
        rt_decref((RtObject *)n);
    }
    CHECK_EQ(rt_gc_collect(0), NODES);
    enum { AFTER = 10 };
    RtObject *after[AFTER];
    for (int i = 0; i < AFTER; i++) {
        after[i] = rt_object_new(&node_type);
        REQUIRE(after[i] != NULL);
        ((Node *)after[i])->id = i;
    }
    intptr_t count[RT_GC_GENERATIONS];
    rt_gc_get_count(count);
    CHECK_EQ(count[0], AFTER);              /* was 0: -NODES + AFTER, clamped */
    for (int i = 0; i < AFTER; i++)
        rt_decref(after[i]);
    rt_gc_enable();
    CHECK(heap_valid());
    CHECK_EQ(blocks_in_use(), 0);
    rt_fini();
}

/* ==== the count's batches ================================================= */

static intptr_t limit_seen;
static intptr_t tuned_limit(void) { return atomic_load(&rti_runtime.gc.delta_limit); }

static void *
attach_and_read_limit(void *arg)
{
    (void)arg;
    if (rt_thread_attach() == 0) {
        limit_seen = tuned_limit();
        rt_thread_detach();
    }
    return NULL;
}

/* The calling heap's copy, after a flush: the allocations that take its
 * delta to its limit (then as many frees). */
static intptr_t
my_limit(void)
{
    static RtObject *held[2 * RTI_GC_DELTA_MAX];
    RtGcHeap *h = &rti_thread_heap()->gc;
    intptr_t n = h->limit - h->delta;
    for (intptr_t i = 0; i < n; i++)
        held[i] = rt_object_new(&node_type);
    intptr_t limit = h->limit;
    for (intptr_t i = 0; i < n; i++)
        rt_decref(held[i]);
    return limit;
}

/* A heap adds its delta to the shared count at threshold0 / (2 * threads),
 * within RTI_GC_DELTA_MIN..RTI_GC_DELTA_MAX: the sum lags at most half a
 * threshold behind, whatever the threads; retuned as threads come and go
 * and as the threshold changes. */
TEST(count_batches_follow_threads_and_threshold)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    run_thread(attach_and_leave, NULL);
    REQUIRE(rti_heap_shared());
    rt_gc_disable();                        /* the flushes below collect nothing */
    CHECK_EQ(my_limit(), 700 / 2);
    run_thread(attach_and_read_limit, NULL);
    CHECK_EQ(limit_seen, 700 / 4);          /* two threads attached */
    CHECK_EQ(tuned_limit(), 700 / 2);       /* one again */
    CHECK_EQ(rt_gc_set_threshold(100, RT_GC_KEEP, RT_GC_KEEP), 0);
    CHECK_EQ(my_limit(), 100 / 2);
    CHECK_EQ(rt_gc_set_threshold(40, RT_GC_KEEP, RT_GC_KEEP), 0);
    CHECK_EQ(tuned_limit(), RTI_GC_DELTA_MIN);
    CHECK_EQ(rt_gc_set_threshold(5000, RT_GC_KEEP, RT_GC_KEEP), 0);
    CHECK_EQ(my_limit(), RTI_GC_DELTA_MAX);
    rt_gc_enable();
    CHECK_EQ(blocks_in_use(), 0);
    rt_fini();
}


int
main(void)
{
    RUN(count_batches_follow_threads_and_threshold);
    RUN(collector_lists_follow_the_heaps);
    RUN(lists_lock_is_biased_towards_the_owner);
    RUN(a_stopped_world_frees_to_the_pools);
    RUN(a_collection_leaves_count0_at_zero);
    return rt_test_summary();
}
