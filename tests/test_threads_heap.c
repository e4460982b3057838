/* test_threads_heap.c -- per-thread heaps (pool_heap.c) in the threaded
 * variants: blocks that change threads, threads that leave with blocks
 * still live (run under ThreadSanitizer by scripts/test).
 *
 *   abandoned_heap_is_adopted: a thread allocates and detaches with its
 *     blocks live; its heap goes onto the abandoned list; another thread
 *     frees half of them (through the abandoned heap's delayed list); the
 *     next thread to attach adopts that very heap, collects the delayed
 *     blocks and frees the rest; the heap validates, nothing is left.
 *   cross_thread_frees_take_the_delayed_list: blocks freed by a thread
 *     that does not own their pools wait on the owner's delayed list (past
 *     the freeing thread's cache) until the owner's next slow path gives
 *     them back; each heap counts its own operations, the totals all.
 *   blocks_change_threads_in_two_waves: 8 threads allocate blocks of every
 *     size (small and large), each with its id and a pattern, and pass them
 *     to each other; the receiver checks the pattern (a block handed out
 *     twice would show) and frees it.  The first wave leaves with blocks
 *     still in the mailboxes; the second adopts their heaps and drains
 *     them.  Every block is freed exactly once; the heap validates between
 *     the waves and after (at RT_DEBUG=2 also on every slow path).
 *   collector_lists_follow_the_heaps: once threads share the runtime, GC
 *     objects made on a thread live on its heap's lists and count in its
 *     heap; after it leaves, the counts, the type statistics, freeze and
 *     unfreeze see them (summed over the heaps), and another thread
 *     untracks and frees them (its home's lock), exactly once.
 *   emptied_pools_stay_with_their_heap: pools that empty on a heap stay
 *     with it (up to RTI_HEAP_EMPTY_POOLS), are its next new pools of any
 *     class -- taken from no arena -- and go back to the arenas at a trim;
 *     the heap validates at each step.
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
#include "prng.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define COUNTED_NODE_MAX 1000
#include "counted_node.h"
#include "heap_valid.h"

#if !RT_RC_THREADED
#error "test_threads_heap runs a threaded variant"
#endif

/* Run fn on a new attached thread and wait for it (blocked meanwhile, so
 * that its attach and its collections need not wait for us). */
static void
run_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    rt_thread_block_begin();
    pthread_create(&t, NULL, fn, arg);
    pthread_join(t, NULL);
    rt_thread_block_end();
}

/* ==== an abandoned heap is adopted ======================================= */

#define KEPT 1000
static void *kept[KEPT];
static RtPoolHeap *_Atomic heap_seen;

static void *
allocate_and_leave(void *arg)
{
    (void)arg;
    if (rt_thread_attach() != 0)
        return NULL;
    atomic_store(&heap_seen, rti_theap);
    for (int i = 0; i < KEPT; i++)
        kept[i] = rt_malloc(48);
    rt_thread_detach();
    return NULL;
}

static void *
adopt_and_free(void *arg)
{
    (void)arg;
    if (rt_thread_attach() != 0)
        return NULL;
    atomic_store(&heap_seen, rti_theap);
    for (int i = KEPT / 2; i < KEPT; i++)
        rt_free(kept[i]);
    rt_thread_detach();
    return NULL;
}

TEST(abandoned_heap_is_adopted)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    RtArenas *ar = &rti_runtime.heap.arenas;
    rt_alloc_trim();
    RtAllocStats st;
    rt_alloc_stats(&st);
    uint32_t pools_before = st.classes[RTI_SIZE_CLASS(48)].pools;
    int64_t before = blocks_in_use();
    run_thread(allocate_and_leave, NULL);
    RtPoolHeap *left = atomic_load(&heap_seen);
    REQUIRE(left != NULL && left != rti_theap);
    for (int i = 0; i < KEPT; i++)
        REQUIRE(kept[i] != NULL);
    CHECK(ar->abandoned == left);
    CHECK_EQ(blocks_in_use(), before + KEPT);
    /* Freed here: past this thread's cache, onto the abandoned heap's
     * delayed list. */
    for (int i = 0; i < KEPT / 2; i++)
        rt_free(kept[i]);
    CHECK(atomic_load(&left->delayed) != NULL);
    CHECK(heap_valid());
    run_thread(adopt_and_free, NULL);
    CHECK(atomic_load(&heap_seen) == left);             /* the same heap, adopted */
    CHECK(atomic_load(&left->delayed) == NULL);         /* collected at adoption */
    CHECK(ar->abandoned == left);                       /* and left again */
    CHECK_EQ(blocks_in_use(), before);
    CHECK(heap_valid());
    rt_alloc_trim();
    CHECK(heap_valid());
    rt_alloc_stats(&st);
    CHECK_EQ(st.classes[RTI_SIZE_CLASS(48)].pools, pools_before);  /* its pools back to the arenas */
    rt_fini();
}

/* ==== frees from another thread wait on the delayed list ================= */

#define HANDED 2000
static void *handed[HANDED];
static atomic_int step;
static atomic_bool collected;
static RtAllocStats owner_stats;

static void
wait_for_step(int n)
{
    while (atomic_load(&step) < n)
        rt_thread_safepoint();
}

static void *
owner(void *arg)
{
    (void)arg;
    if (rt_thread_attach() != 0)
        return NULL;
    atomic_store(&heap_seen, rti_theap);
    for (int i = 0; i < HANDED; i++)
        handed[i] = rt_malloc(64);
    atomic_store(&step, 1);
    wait_for_step(2);       /* the main thread freed them */
    /* The next slow path -- a refill, at most a carve batch away -- gives
     * the delayed blocks back. */
    void *more[RT_POOL_SIZE / 64];
    int n = 0;
    while (n < (int)(sizeof more / sizeof more[0]) && atomic_load(&rti_theap->delayed) != NULL)
        more[n++] = rt_malloc(64);
    atomic_store(&collected, atomic_load(&rti_theap->delayed) == NULL);
    while (n > 0)
        rt_free(more[--n]);
    rt_alloc_stats_thread(&owner_stats);
    rt_thread_detach();
    return NULL;
}

TEST(cross_thread_frees_take_the_delayed_list)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    atomic_store(&step, 0);
    atomic_store(&collected, false);
    pthread_t t;
    rt_thread_block_begin();
    pthread_create(&t, NULL, owner, NULL);
    while (atomic_load(&step) < 1)
        ;
    rt_thread_block_end();
    RtPoolHeap *theirs = atomic_load(&heap_seen);
    RtAllocStats mine;
    rt_alloc_stats_thread(&mine);
    uint64_t freed_before = mine.small.freed;
    for (int i = 0; i < HANDED; i++)
        rt_free(handed[i]);
    /* All but a cache's worth went onto the owner's delayed list. */
    size_t delayed = 0;
    for (RtBlock *b = atomic_load(&theirs->delayed); b != NULL; delayed++) {
        RTI_UNPOISON(b, sizeof *b);
        RtBlock *next = b->next;
        RTI_POISON(b, sizeof *b);
        b = next;
    }
    CHECK(delayed >= HANDED - RTI_CACHE_SIZE && delayed <= HANDED);
    rt_alloc_stats_thread(&mine);
    CHECK_EQ(mine.small.freed - freed_before, HANDED);  /* counted by the freeing heap */
    atomic_store(&step, 2);
    rt_thread_block_begin();
    pthread_join(t, NULL);
    rt_thread_block_end();
    CHECK(atomic_load(&collected));
    CHECK(owner_stats.small.allocated >= HANDED);
    CHECK(owner_stats.small.current >= HANDED);         /* its own count: freed elsewhere */
    RtAllocStats total;
    rt_alloc_stats(&total);
    CHECK_EQ(total.small.current, total.small.allocated - total.small.freed);
    rt_alloc_trim();
    CHECK(heap_valid());
    CHECK_EQ(blocks_in_use(), 0);
    rt_fini();
}

/* ==== blocks change threads, in two waves ================================ */

#define WAVE 8
#define PER_THREAD 4000
#define BLOCKS (2 * WAVE * PER_THREAD)
#define MAILBOX 512
#define MAILBOXES WAVE
#include "mailbox.h"

static atomic_int block_freed[BLOCKS];
static atomic_int next_block, failures;

/* A block of size bytes: its id, then a pattern made from it. */
static void *
block_new(RtPrng *r)
{
    size_t size = sizeof(int) + 1 + (size_t)rt_prng_below(r, rt_prng_below(r, 8) ? 200 : 700);
    int id = atomic_fetch_add(&next_block, 1);
    uint8_t *p = rt_malloc(size);
    if (p == NULL)
        return NULL;
    memcpy(p, &id, sizeof id);
    p[sizeof id] = (uint8_t)size;
    memset(p + sizeof id + 1, (uint8_t)id, size - sizeof id - 1);
    return p;
}

/* Check the pattern and free; false if another live block shared memory
 * with this one. */
static bool
block_free(uint8_t *p)
{
    int id;
    memcpy(&id, p, sizeof id);
    bool ok = id >= 0 && id < BLOCKS;
    if (ok) {
        atomic_fetch_add(&block_freed[id], 1);
        for (size_t i = sizeof id + 1; i < (size_t)(uint8_t)p[sizeof id] && ok; i++)
            ok = p[i] == (uint8_t)id;
    }
    rt_free(p);
    return ok;
}

typedef struct Worker {
    int me;
    bool drain;         /* the second wave: empty the box at the end */
} Worker;

static void *
wave_worker(void *arg)
{
    Worker *w = arg;
    if (rt_thread_attach() != 0) {
        atomic_fetch_add(&failures, 1);
        return NULL;
    }
    RtPrng r;
    rt_prng_seed(&r, (uint64_t)w->me * 104729 + (w->drain ? 2 : 1));
    for (int i = 0; i < PER_THREAD; i++) {
        void *p = block_new(&r);
        if (p == NULL) {
            atomic_fetch_add(&failures, 1);
            break;
        }
        int to = (w->me + 1 + (int)rt_prng_below(&r, WAVE - 1)) % WAVE;
        if (!post(to, p) && !block_free(p))
            atomic_fetch_add(&failures, 1);
        void *got = rt_prng_below(&r, 3) ? take(w->me) : NULL;
        if (got != NULL && !block_free(got))
            atomic_fetch_add(&failures, 1);
        if (rt_prng_below(&r, 1000) == 0)
            rt_gc_collect(2);           /* trims every heap, the world stopped */
        if (rt_prng_below(&r, 2000) == 0) {
            RtAllocStats st;
            rt_alloc_stats(&st);        /* reads every heap, the world stopped */
        }
        rt_thread_safepoint();
    }
    void *got;
    while (w->drain && (got = take(w->me)) != NULL)
        if (!block_free(got))
            atomic_fetch_add(&failures, 1);
    rt_thread_detach();
    return NULL;
}

static void
run_wave(bool drain)
{
    pthread_t t[WAVE];
    Worker w[WAVE];
    rt_thread_block_begin();
    for (int k = 0; k < WAVE; k++) {
        w[k] = (Worker){k, drain};
        pthread_create(&t[k], NULL, wave_worker, &w[k]);
    }
    for (int k = 0; k < WAVE; k++)
        pthread_join(t[k], NULL);
    rt_thread_block_end();
}

TEST(blocks_change_threads_in_two_waves)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rt_alloc_trim();
    RtAllocStats st;
    rt_alloc_stats(&st);
    int64_t pools_before = st.pools.current;
    atomic_store(&next_block, 0);
    atomic_store(&failures, 0);
    for (int i = 0; i < BLOCKS; i++)
        atomic_store(&block_freed[i], 0);
    boxes_init();
    run_wave(false);
    int left = 0;
    for (int k = 0; k < WAVE; k++)
        left += boxes[k].n;
    CHECK(left > 0);                    /* the first wave left blocks live */
    CHECK(rti_runtime.heap.arenas.abandoned != NULL);
    CHECK(heap_valid());
    run_wave(true);
    for (int k = 0; k < WAVE; k++) {     /* posted to threads that had left */
        void *got;
        while ((got = take(k)) != NULL)
            CHECK(block_free(got));
    }
    CHECK_EQ(atomic_load(&failures), 0);
    int made = atomic_load(&next_block), once = 0;
    for (int i = 0; i < made; i++)
        once += atomic_load(&block_freed[i]) == 1;
    CHECK_EQ(once, made);
    CHECK(heap_valid());
    CHECK_EQ(blocks_in_use(), 0);
    rt_alloc_trim();
    CHECK(heap_valid());
    rt_alloc_stats(&st);
    CHECK_EQ(st.pools.current, pools_before);
    printf("     %d blocks over %d threads in two waves\n", made, 2 * WAVE);
    boxes_fini();
    rt_fini();
}

/* ==== the collector's lists follow the heaps ============================= */

#define NODES 1000
static RtObject *nodes[NODES];

/* A new tracked Node with that id, or NULL. */
static RtObject *
tracked_node(int id)
{
    Node *n = (Node *)rt_object_new(&node_type);
    if (n == NULL)
        return NULL;
    n->id = id;
    rt_gc_track((RtObject *)n);
    return (RtObject *)n;
}

/* nodes[0..n) made on the calling thread; false if one was not. */
static bool
make_tracked_nodes(int n)
{
    atomic_store(&heap_seen, rti_theap);
    for (int i = 0; i < n; i++)
        if ((nodes[i] = tracked_node(i)) == NULL)
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
    rt_thread_block_begin();
    pthread_join(t, NULL);
    rt_thread_block_end();
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
        RtObject *n = tracked_node(CHURN_ID);          /* a safepoint */
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
        Node *n = (Node *)tracked_node(i);
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
    rt_decref(tracked_node(CHURN_ID));
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
    RtObject *mine = tracked_node(CHURN_ID);
    CHECK(mine != NULL && rti_gc_home(RTI_AS_GC(mine)) == here);
    rt_xdecref(mine);
    stop_owner(t);
    rt_gc_enable();
    CHECK(heap_valid());
    CHECK_EQ(blocks_in_use(), 0);
    rt_fini();
}

/* ==== emptied pools stay with their heap ================================ */

static RtStatCount
pools_taken(void)
{
    RtAllocStats st;
    rt_alloc_stats(&st);
    return st.pools;
}

/* n blocks of size bytes into blocks[], or false. */
static bool
fill(void **blocks, int n, size_t size)
{
    for (int i = 0; i < n; i++)
        if ((blocks[i] = rt_malloc(size)) == NULL)
            return false;
    return true;
}

static void
drain(void **blocks, int n)
{
    for (int i = 0; i < n; i++)
        rt_free(blocks[i]);
}

#define POOL_BLOCKS(size) ((int)(RT_POOL_SIZE / (size)))
static void *many[(RTI_HEAP_EMPTY_POOLS + 8) * POOL_BLOCKS(512)];

TEST(emptied_pools_stay_with_their_heap)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rt_gc_disable();
    rt_alloc_trim();
    RtPoolHeap *ph = rti_theap;
    REQUIRE(ph != NULL && ph->nempty == 0);
    /* Four pools of 64-byte blocks, emptied: the class's last one stays on
     * usedpools (retained), the three others with the heap. */
    REQUIRE(fill(many, 4 * POOL_BLOCKS(64), 64));
    RtStatCount before = pools_taken();
    drain(many, 4 * POOL_BLOCKS(64));
    CHECK_EQ(ph->nempty, 3);
    CHECK_EQ(pools_taken().current, before.current);    /* none back to the arenas */
    CHECK(heap_valid());
    /* Five pools of another class: three are the kept ones. */
    REQUIRE(fill(many, 5 * POOL_BLOCKS(128), 128));
    CHECK_EQ(ph->nempty, 0);
    CHECK_EQ(pools_taken().allocated - before.allocated, 2);
    CHECK(heap_valid());
    drain(many, 5 * POOL_BLOCKS(128));
    /* More pools than the heap keeps: the rest go back at once. */
    int n = (RTI_HEAP_EMPTY_POOLS + 8) * POOL_BLOCKS(512);
    REQUIRE(fill(many, n, 512));
    drain(many, n);
    CHECK_EQ(ph->nempty, RTI_HEAP_EMPTY_POOLS);
    CHECK(heap_valid());
    rt_alloc_trim();                    /* every kept pool to its arena */
    CHECK_EQ(ph->nempty, 0);
    CHECK_EQ(pools_taken().current, 0);
    CHECK(heap_valid());
    CHECK_EQ(blocks_in_use(), 0);
    rt_gc_enable();
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
        Node *n = (Node *)rt_object_new(&node_type);
        REQUIRE(n != NULL);
        n->id = i;
        n->slot[0] = rt_newref((RtObject *)n);
        rt_gc_track((RtObject *)n);
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
    RUN(abandoned_heap_is_adopted);
    RUN(count_batches_follow_threads_and_threshold);
    RUN(cross_thread_frees_take_the_delayed_list);
    RUN(blocks_change_threads_in_two_waves);
    RUN(collector_lists_follow_the_heaps);
    RUN(lists_lock_is_biased_towards_the_owner);
    RUN(a_stopped_world_frees_to_the_pools);
    RUN(emptied_pools_stay_with_their_heap);
    RUN(a_collection_leaves_count0_at_zero);
    return rt_test_summary();
}
