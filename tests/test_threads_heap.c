/* test_threads_heap.c -- per-thread heaps (pool_heap.c) in the threaded
 * variants: blocks that change threads, threads that leave with blocks
 * still live (run under ThreadSanitizer by scripts/test).  The collector's
 * side of the heaps -- their lists, their lock, their counts -- is
 * test_threads_gc_heap.c's.
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
 *   emptied_pools_stay_with_their_heap: pools that empty on a heap stay
 *     with it (up to RTI_HEAP_EMPTY_POOLS), are its next new pools of any
 *     class -- taken from no arena -- and go back to the arenas at a trim;
 *     the heap validates at each step.
 *   peaks_count_every_thread: two threads each hold PEAK_N ints at once,
 *     then free them; read after the joins, the ints' peak (rt_type_stats)
 *     and the blocks' (rt_alloc_stats) are 2 PEAK_N, within what each
 *     heap's published count may trail by (PEAK_SLACK).
 *   peaks_see_frees_on_other_threads: one thread makes PEAK_N ints and
 *     PEAK_N blocks at a time, another drops them, PEAK_ROUNDS times: the
 *     peaks are PEAK_N ints and 2 PEAK_N blocks within PEAK_SLACK -- not
 *     the maker's own count of blocks, which climbs by PEAK_N a round
 *     (the blocks are freed on the other thread; the ints too in the
 *     atomic variant, while the biased one's owner frees them, at its
 *     merge of the counts the other thread dropped), nor 0.
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

#include "heap_valid.h"

#if !RT_RC_THREADED
#error "this test runs a threaded variant"
#endif

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

/* Start body on a thread of its own, step at 0, and wait (blocked, for its
 * attach) until it sets step 1. */
static void
start_peer(pthread_t *t, void *(*body)(void *))
{
    atomic_store(&step, 0);
    rt_thread_block_begin();
    pthread_create(t, NULL, body, NULL);
    while (atomic_load(&step) < 1)
        ;
    rt_thread_block_end();
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
    atomic_store(&collected, false);
    pthread_t t;
    start_peer(&t, owner);
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
    join_blocked(t);
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

/* ==== the peaks, with threads ============================================ */

#define PEAK_N 20000
#define PEAK_ROUNDS 5
/* What the heaps' published counts may trail by, both heaps together: a
 * pool's worth of the smallest class taken from one pool's list, a
 * class's cache, the frees sent to other heaps between samples, a batch
 * not yet published. */
#define PEAK_SLACK (2 * (RT_POOL_SIZE / 16 + RTI_CACHE_SIZE + RTI_FOREIGN_SAMPLE + RTI_PUBLISH_BATCH))

static RtObject *peak_mine[PEAK_N], *peak_theirs[PEAK_N];
static void *peak_blocks[PEAK_N];
static atomic_bool peer_held;      /* the other thread made its ints */

/* Make PEAK_N boxed ints (none of them small) into held; false if out of
 * memory. */
static bool
make_ints(RtObject **held)
{
    for (int i = 0; i < PEAK_N; i++)
        if ((held[i] = rt_int_from(1000 + i)) == NULL)
            return false;
    return true;
}

static void
drop_ints(RtObject **held)
{
    for (int i = 0; i < PEAK_N; i++)
        rt_clearref(&held[i]);
}

/* The ints' peak of live objects, and of blocks in use. */
static void
peaks(int64_t *ints, int64_t *blocks)
{
    RtTypeStats row;
    *ints = rt_test_type_stats("int", &row) ? row.live_peak : -1;
    RtAllocStats st;
    rt_alloc_stats(&st);
    *blocks = st.small.peak;
}

static void *
hold_with_the_other(void *arg)
{
    (void)arg;
    if (rt_thread_attach() != 0)
        return NULL;
    atomic_store(&step, 1);
    atomic_store(&peer_held, make_ints(peak_theirs));
    atomic_store(&step, 2);         /* held (or out of memory): the main thread's turn */
    wait_for_step(3);
    drop_ints(peak_theirs);
    rt_thread_detach();
    return NULL;
}

TEST(peaks_count_every_thread)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    RtAllocStats before;
    rt_alloc_stats(&before);
    pthread_t t;
    start_peer(&t, hold_with_the_other);
    CHECK(make_ints(peak_mine));
    wait_for_step(2);
    CHECK(atomic_load(&peer_held));
    atomic_store(&step, 3);        /* both hold theirs: now drop them */
    drop_ints(peak_mine);
    join_blocked(t);
    int64_t ints, blocks;
    peaks(&ints, &blocks);
    CHECK(ints >= 2 * PEAK_N - PEAK_SLACK && ints <= 2 * PEAK_N + PEAK_SLACK);
    CHECK(blocks >= 2 * PEAK_N - PEAK_SLACK && blocks <= before.small.current + 2 * PEAK_N + PEAK_SLACK);
    CHECK(heap_valid());
    CHECK_EQ(blocks_in_use(), before.small.current);
    rt_fini();
}

static void *
free_what_the_other_makes(void *arg)
{
    (void)arg;
    if (rt_thread_attach() != 0)
        return NULL;
    atomic_store(&step, 1);
    for (int round = 0; round < PEAK_ROUNDS; round++) {
        wait_for_step(2 + 2 * round);   /* a batch made */
        drop_ints(peak_mine);
        for (int i = 0; i < PEAK_N; i++)
            rt_free(peak_blocks[i]);
        atomic_store(&step, 3 + 2 * round);
    }
    rt_thread_detach();
    return NULL;
}

TEST(peaks_see_frees_on_other_threads)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    RtAllocStats before;
    rt_alloc_stats(&before);
    pthread_t t;
    start_peer(&t, free_what_the_other_makes);
    for (int round = 0; round < PEAK_ROUNDS; round++) {
        REQUIRE(make_ints(peak_mine));
        for (int i = 0; i < PEAK_N; i++)
            REQUIRE((peak_blocks[i] = rt_malloc(24)) != NULL);
        atomic_store(&step, 2 + 2 * round);
        wait_for_step(3 + 2 * round);   /* dropped on the other thread */
        /* The biased variant's owner frees the ints at the merge of what
         * the other thread dropped: the loop above may have seen the step
         * after its last merge. */
        rt_thread_safepoint();
    }
    join_blocked(t);
    RtAllocStats mine;
    rt_alloc_stats_thread(&mine);
    CHECK(mine.small.current >= PEAK_ROUNDS * PEAK_N);     /* the maker's own count */
    int64_t ints, blocks;
    peaks(&ints, &blocks);
    CHECK(ints >= PEAK_N - PEAK_SLACK && ints <= PEAK_N + PEAK_SLACK);
    CHECK(blocks >= 2 * PEAK_N - PEAK_SLACK && blocks <= before.small.current + 2 * PEAK_N + PEAK_SLACK);
    CHECK(heap_valid());
    rt_fini();
}

int
main(void)
{
    RUN(abandoned_heap_is_adopted);
    RUN(cross_thread_frees_take_the_delayed_list);
    RUN(blocks_change_threads_in_two_waves);
    RUN(emptied_pools_stay_with_their_heap);
    RUN(peaks_count_every_thread);
    RUN(peaks_see_frees_on_other_threads);
    return rt_test_summary();
}
