/* test_threads.c -- attached threads that allocate, share, free and collect
 * (the threaded variants; run under ThreadSanitizer by scripts/test).
 *
 *   stress_eight_threads: 8 attached threads make GC nodes, pass them to
 *     each other through mailboxes (a mutex-guarded array: C references),
 *     drop them on the thread that received them, tie nodes made on two
 *     threads into cycles that only the collector frees, and collect (by
 *     thresholds and explicitly) with the world stopped.  Every node is
 *     deallocated exactly once, the heap validates, nothing is left; the
 *     threads' statistics (rt_thread_stats) are what rt_print_stats says.
 *   world_stop_waits_for_safepoints: a collection waits for a thread that
 *     is running until it reaches a safepoint, counts the thread's time
 *     parked (at least the pause), and logs the wait apart from
 *     the collection.
 *   a_large_container_parks_in_its_dealloc: a thread that frees a list, a
 *     tuple or a dict of 10,000 items parks at the dealloc's next
 *     safepoint when another thread stops the world, not after its last
 *     item; then finishes, every item freed once.
 *   blocked_threads_do_not_hold_a_collection: a thread blocked in a wait
 *     (rt_thread_block_begin) counts as stopped.
 *   one_str_hashed_on_two_threads: two threads hash one new str at once
 *     (a dict key made on another thread, looked up first by two): each
 *     gets its hash, cached once (run under ThreadSanitizer: the cache was
 *     a plain word both threads read and wrote).
 *   one_class_on_two_threads: two threads make and free instances of one
 *     class at once; the live count is exact, and the class, freed while
 *     the other thread's instances live, goes at the first collection after
 *     the last of them (run under ThreadSanitizer: the count in the class
 *     was a plain word both threads wrote).
 *   an_instance_on_another_heaps_block_lives_on_that_heap: a thread frees
 *     an instance whose block is another heap's (its maker left) into its
 *     own free cache, then makes an instance on that very block through
 *     the shared quick path: the new instance is tracked on the lists of
 *     its block's heap, where every untrack looks for it (it went onto the
 *     maker's own lists, unlocked, and failed the track's invariant in
 *     debug builds: cycle_storm --threads 2 --n 3000 stopped there).
 *   fault_walk_on_threads: the threaded workloads at --threads 2 (and the
 *     collecting ones at 3), failing each allocation in turn (whichever
 *     thread makes it): each run ends in success or RT_ERR_NOMEM, and the
 *     heap is clean after it.
 *   workloads_at_three_and_eight_threads: each threaded workload at a
 *     small size on 1, 3 and 8 threads -- collections that stop several
 *     threads, blocks freed into other threads' caches and made again
 *     there: each run succeeds, takes no heap's bias away (a collection's
 *     frees of other threads' blocks stay in no cache), and leaves the
 *     heap valid and empty, and where the work does not depend on the
 *     split (not dict_churn's and shared_refs' per-thread random streams),
 *     reports one thread's check.
 *
 * No test sleeps: threads wait for each other on flags they spin on at a
 * safepoint, or on joins.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"
#include "prng.h"
#include "workload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#if !RT_RC_THREADED
#error "test_threads runs a threaded variant"
#endif

#define THREADS 8
#define ROUNDS 3000
#define MAX_NODES (THREADS * ROUNDS * 2)

#define COUNTED_NODE_MAX MAX_NODES
#include "counted_node.h"
#include "heap_valid.h"

static atomic_int next_id;

static RtObject *
node_new(void)
{
    return node_tracked(atomic_fetch_add(&next_id, 1));
}

/* ==== mailboxes ========================================================== */

#define MAILBOX 256
#define MAILBOXES THREADS
#include "mailbox.h"

/* ==== the stress ========================================================= */

static atomic_int failures;

static void
round_of(int me, RtPrng *r)
{
    RtObject *mine = node_new();
    if (mine == NULL) {
        atomic_fetch_add(&failures, 1);
        return;
    }
    int to = (me + 1 + (int)rt_prng_below(r, THREADS - 1)) % THREADS;
    if (!post(to, mine))
        rt_decref(mine);            /* full: dies here, on its owner */
    RtObject *got = take(me);
    if (got == NULL)
        return;
    switch (rt_prng_below(r, 3)) {
    case 0:                         /* freed on another thread than its maker */
        rt_decref(got);
        break;
    case 1: {                       /* a cycle of nodes made on two threads */
        RtObject *other = node_new();
        if (other != NULL) {
            ((Node *)got)->slot[0] = rt_newref(other);
            ((Node *)other)->slot[0] = rt_newref(got);
            rt_decref(other);
        }
        rt_decref(got);
        break;
    }
    default:                        /* a self-cycle, made elsewhere */
        ((Node *)got)->slot[1] = rt_newref(got);
        rt_decref(got);
        break;
    }
    if (rt_prng_below(r, 500) == 0)
        rt_gc_collect(rt_prng_below(r, 2) ? 0 : 2);
    rt_thread_safepoint();
}

static void *
stress_worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    if (rt_thread_attach() != 0) {
        atomic_fetch_add(&failures, 1);
        return NULL;
    }
    RtPrng r;
    rt_prng_seed(&r, (uint64_t)me * 7919 + 1);
    for (int i = 0; i < ROUNDS; i++)
        round_of(me, &r);
    rt_thread_detach();
    return NULL;
}

/* rt_print_stats says what rt_thread_stats counts (but the stops: reading
 * the heaps' statistics stops the world again). */
static bool
stats_printed(const RtThreadStats *ts)
{
    char *text = NULL, line[160];
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL)
        return false;
    rt_print_stats(out);
    fclose(out);
    bool ok = strstr(text, "rt threads: 1 attached; the world stopped ") != NULL;
    snprintf(line, sizeof line, "threads parked for other threads' stops %.6f s in all", ts->parked_s);
    ok = ok && strstr(text, line) != NULL;
    snprintf(line, sizeof line, "list changes by other threads %ju (bias revocations %ju)",
             (uintmax_t)ts->remote_list_changes, (uintmax_t)ts->bias_revocations);
    ok = ok && strstr(text, line) != NULL;
    snprintf(line, sizeof line, "objects handed to their owners %ju, hand-overs without memory 0  ok",
             (uintmax_t)ts->queued_to_owner);
    ok = ok && (!RT_RC_BIASED || strstr(text, line) != NULL);
    if (!ok)
        fprintf(stderr, "%s", text);
    free(text);
    return ok;
}

TEST(stress_eight_threads)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rt_gc_set_threshold(200, 5, 5);
    atomic_store(&next_id, 0);
    atomic_store(&failures, 0);
    nodes_forget_frees(0, MAX_NODES);
    boxes_init();
    pthread_t t[THREADS];
    rt_thread_block_begin();        /* the joins below wait */
    for (int k = 0; k < THREADS; k++)
        pthread_create(&t[k], NULL, stress_worker, (void *)(intptr_t)k);
    for (int k = 0; k < THREADS; k++)
        pthread_join(t[k], NULL);
    rt_thread_block_end();
    CHECK_EQ(atomic_load(&failures), 0);
    for (int k = 0; k < THREADS; k++) {
        RtObject *op;
        while ((op = take(k)) != NULL)
            rt_decref(op);
    }
    boxes_fini();
    rt_gc_collect(2);
    int made = atomic_load(&next_id), once = nodes_freed_once(0, made), twice = 0;
    for (int i = 0; i < made; i++)
        twice += atomic_load(&node_freed[i]) > 1;
    CHECK_EQ(once, made);
    CHECK_EQ(twice, 0);
    CHECK(rt_thread_stops() > 0);
    CHECK(heap_valid());
    CHECK_EQ(blocks_in_use(), 0);
    RtThreadStats ts = thread_stats();
    CHECK_EQ(ts.queue_oom, 0);
    CHECK(stats_printed(&ts));
    printf("     %d nodes, %ju world stops, %ju list changes by other threads, %ju objects handed to "
           "their owners\n", made, (uintmax_t)ts.stops, (uintmax_t)ts.remote_list_changes,
           (uintmax_t)ts.queued_to_owner);
    rt_fini();
}

/* ==== a stop waits for a running thread's safepoint ====================== */

static atomic_int phase;

static void *
runs_until_told(void *arg)
{
    (void)arg;
    if (rt_thread_attach() != 0)
        return arg;
    atomic_store(&phase, 1);
    /* Spin without allocating until the main thread asks to stop, then
     * reach a safepoint: the stop cannot end before this. */
    while (!(rti_mode() & RTI_MODE_STOP))
        ;
    atomic_store(&phase, 2);
    rt_thread_safepoint();
    rt_thread_detach();
    return NULL;
}

TEST(world_stop_waits_for_safepoints)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    atomic_store(&phase, 0);
    pthread_t t;
    rt_thread_block_begin();
    pthread_create(&t, NULL, runs_until_told, NULL);
    while (atomic_load(&phase) == 0)
        ;
    rt_thread_block_end();
    rt_gc_pauses_reset();
    CHECK(rt_gc_collect(0) >= 0);
    CHECK_EQ(atomic_load(&phase), 2);   /* the worker got to its safepoint first */
    RtGcPauses p;
    rt_gc_pauses(&p);
    CHECK_EQ(p.count, 1);
    CHECK(p.nsamples == 1 && p.safepoint_s != NULL && p.safepoint_s[0] > 0.0);
    CHECK(p.safepoint_total_s == p.safepoint_max_s);
    double pause = p.seconds[0];
    rt_thread_block_begin();
    pthread_join(t, NULL);
    rt_thread_block_end();
    /* The worker was parked from its safepoint until the restart: the
     * whole pause, which starts once it is parked (read after the join,
     * once it has counted its wait). */
    RtThreadStats ts;
    rt_thread_stats(&ts);
    CHECK(ts.parked_s >= pause && pause > 0.0);
    rt_fini();
}

/* ==== a large container's dealloc has safepoints ========================= */

/* Items that count their deallocations; the WAIT_AT-th waits, inside its
 * container's dealloc, until a stop is asked. */
#define BIG 10000
#define WAIT_AT 100
static atomic_int items_freed, freed_at_stop;

static void
item_dealloc(RtObject *op)
{
    if (atomic_fetch_add(&items_freed, 1) + 1 == WAIT_AT) {
        atomic_store(&phase, 2);
        while (!(rti_mode() & RTI_MODE_STOP))
            ;
    }
    rt_object_free(op);
}

static RtType item_type = {.name = "Item", .basic_size = sizeof(RtObject), .dealloc = item_dealloc};

enum { AS_LIST, AS_TUPLE, AS_DICT, KINDS };
static const char *const kind_name[KINDS] = {"list", "tuple", "dict"};

/* A container of kind holding the only references to BIG new Items, or
 * NULL (nothing left behind) when out of memory. */
static RtObject *
big_container(int kind)
{
    RtObject *c = kind == AS_LIST ? rt_list_new(0) : kind == AS_TUPLE ? rt_tuple_new(BIG) : rt_dict_new();
    int status = c != NULL ? 0 : -1;
    for (int i = 0; status == 0 && i < BIG; i++) {
        RtObject *item = rt_object_new(&item_type), *key = kind == AS_DICT ? rt_int_from(1000 + i) : NULL;
        if (item == NULL || (kind == AS_DICT && key == NULL))
            status = -1;
        else if (kind == AS_LIST)
            status = rt_list_append(c, item);
        else if (kind == AS_TUPLE)
            rt_tuple_init_item(c, i, item);
        else
            status = rt_dict_set(c, key, item);
        rt_xdecref(key);
        rt_xdecref(item);
    }
    if (status != 0)
        rt_clearref(&c);
    return c;
}

static void *
drops_a_big_container(void *arg)
{
    if (rt_thread_attach() != 0)
        return arg;
    RtObject *c = big_container(*(int *)arg);
    if (c == NULL)
        atomic_store(&phase, 2);    /* nothing to wait in: the main thread's checks fail */
    rt_xdecref(c);      /* the WAIT_AT-th item waits for the stop: the dealloc parks after it */
    rt_thread_detach();
    return NULL;
}

static void
record_freed(const char *when, const RtGcInfo *info, void *arg)
{
    (void)info, (void)arg;
    if (strcmp(when, "start") == 0)
        atomic_store(&freed_at_stop, atomic_load(&items_freed));
}

/* A thread freeing a list, tuple or dict of BIG items parks at the
 * dealloc's next safepoint when another thread stops the world, not after
 * its last item: at the collection's start, with the world stopped, at
 * most RTI_DEALLOC_SAFEPOINT items past the one that waited for the stop
 * are freed (all BIG without the safepoints).  Then the rest are freed,
 * each once. */
TEST(a_large_container_parks_in_its_dealloc)
{
    for (int kind = 0; kind < KINDS; kind++) {
        REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
        rt_gc_disable();        /* the one collection below, explicit */
        REQUIRE(rt_gc_callback_add(record_freed, NULL) == 0);
        atomic_store(&phase, 0);
        atomic_store(&items_freed, 0);
        pthread_t t;
        rt_thread_block_begin();
        pthread_create(&t, NULL, drops_a_big_container, &kind);
        while (atomic_load(&phase) < 2)     /* the worker waits inside the dealloc */
            ;
        rt_thread_block_end();
        CHECK(rt_gc_collect(0) >= 0);
        int at_stop = atomic_load(&freed_at_stop);
        if (!(at_stop >= WAIT_AT && at_stop <= WAIT_AT + RTI_DEALLOC_SAFEPOINT))
            printf("     %s: %d items freed when the world stopped\n", kind_name[kind], at_stop);
        CHECK(at_stop >= WAIT_AT && at_stop <= WAIT_AT + RTI_DEALLOC_SAFEPOINT);
        rt_thread_block_begin();
        pthread_join(t, NULL);
        rt_thread_block_end();
        CHECK_EQ(atomic_load(&items_freed), BIG);
        rt_gc_callback_remove(record_freed, NULL);
        rt_gc_collect(2);
        CHECK(heap_valid());
        CHECK_EQ(blocks_in_use(), 0);
        rt_fini();
    }
}

/* ==== a blocked thread is stopped already ================================ */

static atomic_int release_blocked;

static void *
blocks(void *arg)
{
    if (rt_thread_attach() != 0)
        return arg;
    rt_thread_block_begin();
    atomic_store(&phase, 1);
    while (!atomic_load(&release_blocked))
        ;
    rt_thread_block_end();
    rt_thread_detach();
    return NULL;
}

TEST(blocked_threads_do_not_hold_a_collection)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    atomic_store(&phase, 0);
    atomic_store(&release_blocked, 0);
    pthread_t t;
    rt_thread_block_begin();
    pthread_create(&t, NULL, blocks, NULL);
    while (atomic_load(&phase) == 0)
        ;
    rt_thread_block_end();
    CHECK_EQ(rt_thread_count(), 2);
    CHECK(rt_gc_collect(2) >= 0);           /* returns while the other is blocked */
    atomic_store(&release_blocked, 1);
    rt_thread_block_begin();
    pthread_join(t, NULL);
    rt_thread_block_end();
    CHECK_EQ(rt_thread_count(), 1);
    rt_fini();
}

/* ==== one str hashed on two threads at once ============================== */

static RtObject *unhashed;
static atomic_int hash_go, hash_ready;

static void *
hash_it(void *arg)
{
    if (rt_thread_attach() != 0)
        return arg;
    atomic_fetch_add(&hash_ready, 1);
    while (!atomic_load(&hash_go))
        rt_thread_safepoint();
    *(uint64_t *)arg = rt_object_hash(unhashed);
    rt_thread_detach();
    return NULL;
}

TEST(one_str_hashed_on_two_threads)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    static const char text[] = "a key no thread has hashed yet";
    REQUIRE((unhashed = rt_str_from_cstr(text)) != NULL);
    atomic_store(&hash_go, 0);
    atomic_store(&hash_ready, 0);
    uint64_t seen[2] = {0, 0};
    pthread_t t[2];
    rt_thread_block_begin();
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, hash_it, &seen[i]);
    while (atomic_load(&hash_ready) < 2)
        ;
    atomic_store(&hash_go, 1);      /* both read the empty cache, both fill it */
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    rt_thread_block_end();
    const uint64_t want = rti_hash_bytes(text, sizeof text - 1);
    CHECK(seen[0] == want && seen[1] == want);
    CHECK(rt_object_hash(unhashed) == want);
    rt_decref(unhashed);
    rt_fini();
}

/* ==== instances of one class on two threads ============================== */

#define CLASS_ROUNDS 20000
#define CLASS_HOLD 16

static RtType *shared_class;
static atomic_int class_phase;

/* Make CLASS_ROUNDS instances of shared_class, holding the last CLASS_HOLD
 * in held[] (each freed as a newer one takes its place); 0, or -1 when out
 * of memory. */
static int
churn_instances(RtObject **held)
{
    for (int i = 0; i < CLASS_ROUNDS; i++) {
        RtObject *x = rt_instance_new(shared_class);
        if (x == NULL)
            return -1;
        rt_xdecref(held[i % CLASS_HOLD]);
        held[i % CLASS_HOLD] = x;
        if ((i & 255) == 0)
            rt_thread_safepoint();
    }
    return 0;
}

static void
drop_all(RtObject **held)
{
    for (int i = 0; i < CLASS_HOLD; i++)
        rt_clearref(&held[i]);
}

static void *
class_worker(void *arg)
{
    RtObject *held[CLASS_HOLD] = {NULL};
    if (rt_thread_attach() != 0)
        return arg;
    atomic_store(&class_phase, 1);
    int status = churn_instances(held);
    atomic_store(&class_phase, status == 0 ? 2 : -1);
    while (atomic_load(&class_phase) != 3)     /* main frees the class meanwhile */
        rt_thread_safepoint();
    drop_all(held);
    rt_thread_detach();
    return NULL;
}

/* The live instances of the class named name, by rt_type_stats; -1 if none. */
static int64_t
live_of(const char *name)
{
    RtTypeStats row;
    return rt_test_type_stats(name, &row) ? row.live : -1;
}

TEST(one_class_on_two_threads)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    shared_class = rt_class_new("Shared", 1, 0, NULL);
    REQUIRE(shared_class != NULL);
    atomic_store(&class_phase, 0);
    pthread_t t;
    rt_thread_block_begin();
    pthread_create(&t, NULL, class_worker, NULL);
    while (atomic_load(&class_phase) == 0)
        ;
    rt_thread_block_end();
    RtObject *held[CLASS_HOLD] = {NULL};
    CHECK_EQ(churn_instances(held), 0);             /* at once with the worker's */
    while (atomic_load(&class_phase) == 1)
        rt_thread_safepoint();
    CHECK_EQ(atomic_load(&class_phase), 2);
    CHECK_EQ(live_of("Shared"), 2 * CLASS_HOLD);
    drop_all(held);
    rt_class_free(shared_class);                    /* the worker's instances live */
    CHECK(rti_class_listed(shared_class));
    atomic_store(&class_phase, 3);
    rt_thread_block_begin();
    pthread_join(t, NULL);
    rt_thread_block_end();
    CHECK(rti_class_listed(shared_class));              /* no collection since */
    CHECK(rt_gc_collect(0) >= 0);
    CHECK(!rti_class_listed(shared_class));
    CHECK_EQ(live_of("Shared"), -1);
    rt_fini();
}

/* ==== an instance on a block of another heap's pool ====================== */

static RtType *elsewhere_class;
static RtObject *made_there;
static RtPoolHeap *_Atomic heap_there;

static void *
make_one_and_leave(void *arg)
{
    (void)arg;
    if (rt_thread_attach() != 0)
        return NULL;
    atomic_store(&heap_there, rti_theap);
    made_there = rt_instance_new(elsewhere_class);
    rt_thread_detach();
    return NULL;
}

static bool
listed(RtGcHead *list, const RtGcHead *g)
{
    for (RtGcHead *x = rti_gc_next(list); x != list; x = rti_gc_next(x))
        if (x == g)
            return true;
    return false;
}

TEST(an_instance_on_another_heaps_block_lives_on_that_heap)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rt_gc_disable();                    /* no collection moves the objects below */
    elsewhere_class = rt_class_new("Elsewhere", 2, 0, NULL);
    REQUIRE(elsewhere_class != NULL);
    rt_decref(rt_instance_new(elsewhere_class));    /* this thread's cache of the class in use */
    pthread_t t;
    rt_thread_block_begin();
    pthread_create(&t, NULL, make_one_and_leave, NULL);
    pthread_join(t, NULL);
    rt_thread_block_end();
    RtThreadHeap *there = (RtThreadHeap *)atomic_load(&heap_there), *here = rti_thread_heap();
    REQUIRE(made_there != NULL && there != NULL && there != here && rti_heap_shared());
    RtGcHead *g = RTI_AS_GC(made_there);
    CHECK(rti_gc_home(g) == there && listed(&there->gc.lists[0], g));
    rt_decref(made_there);              /* its maker left: freed here, into this thread's cache */
    RtFreeCache *c = &here->pool.cache[RTI_SIZE_CLASS(sizeof(RtGcHead) + elsewhere_class->basic_size)];
    REQUIRE(c->n > 0 && c->slots[c->n - 1] == (void *)g);
    RtObject *x = rt_instance_new(elsewhere_class);     /* the shared quick path pops it */
    REQUIRE(x != NULL && RTI_AS_GC(x) == g);
    CHECK(rti_gc_home(g) == there);
    CHECK(listed(&there->gc.lists[0], g));
    CHECK(!listed(&here->gc.lists[0], g));
    rt_decref(x);                       /* untracked from its home's lists */
    CHECK(!listed(&there->gc.lists[0], g));
    rt_class_free(elsewhere_class);
    rt_gc_enable();
    CHECK(rt_gc_collect(2) >= 0);
    CHECK(heap_valid());
    CHECK_EQ(blocks_in_use(), 0);
    rt_fini();
}

/* ==== the fault walk on threaded paths ==================================== */

static void ignore_mark(RtWorkloadCtx *c, const char *n, int64_t b) { (void)c; (void)n; (void)b; }
static void ignore_int(RtWorkloadCtx *c, const char *k, int64_t v) { (void)c; (void)k; (void)v; }
static void ignore_double(RtWorkloadCtx *c, const char *k, double v) { (void)c; (void)k; (void)v; }
static const RtWorkloadOps ignore_ops = {ignore_mark, ignore_int, ignore_double, NULL};

/* A threaded workload at a size: its parameters, in order. */
typedef struct Sized {
    const char *name;
    int64_t params[RT_WORKLOAD_MAX_PARAMS];
    int threads_at;         /* the index of its threads parameter */
    bool same_check;        /* the check is the same however many threads */
} Sized;

static const Sized walks[] = {
    {"list_append", {300, 4, 2}, 2, true},
    {"dict_churn", {10, 40, 2}, 2, false},
    {"cycle_storm", {60, 3, 4, 2}, 3, true},
    {"binary_trees", {4, 2}, 1, true},
    {"shared_refs", {8, 200, 4, 1, 2}, 4, false},
    {"cycle_storm", {60, 3, 6, 3}, 3, true},     /* three threads: a stop waits for two */
    {"binary_trees", {4, 3}, 1, true},
};

/* Fail allocation k, for k = 1, 2, ... until a run fails none. */
static int
walk(const RtWorkload *w, const int64_t *params)
{
    RtWorkloadCtx ctx = {&ignore_ops, 0};
    int sites = 0;
    for (uint64_t k = 1; k < 100000; k++) {
        rt_fault_inject(k, false);
        int status = w->run(&ctx, params);
        uint64_t fired = rt_fault_fired();
        rt_fault_inject(0, false);
        CHECK(status == 0 || rt_error() == RT_ERR_NOMEM);
        rt_error_clear();
        rt_gc_collect(2);
        CHECK_EQ(blocks_in_use(), 0);
        if (fired == 0)
            return sites;
        sites++;
    }
    return -1;
}

TEST(fault_walk_on_threads)
{
    for (size_t i = 0; i < sizeof walks / sizeof walks[0]; i++) {
        REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
        const RtWorkload *w = rt_workload_find(walks[i].name);
        REQUIRE(w != NULL);
        int sites = walk(w, walks[i].params);
        CHECK(sites > 0);
        printf("     %-13s %d allocation sites at %lld threads\n", walks[i].name, sites,
               (long long)walks[i].params[walks[i].threads_at]);
        rt_fini();
    }
}

/* ==== one part of the work (the worker's --part) ========================== */

static int64_t last_check;
static void keep_check(RtWorkloadCtx *c, const char *k, int64_t v) { (void)c; (void)k; last_check = v; }
static const RtWorkloadOps check_ops = {ignore_mark, keep_check, ignore_double, NULL};

/* Part k of T runs share k - 1 alone, on the calling thread: the parts'
 * checks add up to the whole run's; a part past T is refused. */
TEST(one_part_of_the_work)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    const RtWorkload *w = rt_workload_find("shared_refs");
    REQUIRE(w != NULL);
    const int64_t params[RT_WORKLOAD_MAX_PARAMS] = {8, 200, 4, 1, 2};
    RtWorkloadCtx ctx = {&check_ops, 0};
    CHECK_EQ(w->run(&ctx, params), 0);
    int64_t whole = last_check, parts = 0;
    for (int k = 1; k <= 2; k++) {
        ctx.only_part = k;
        CHECK_EQ(w->run(&ctx, params), 0);
        CHECK_EQ(rt_thread_count(), 1);
        CHECK(last_check != whole);
        parts += last_check;
    }
    CHECK_EQ(parts, whole);
    ctx.only_part = 3;
    CHECK_EQ(w->run(&ctx, params), -1);
    CHECK_EQ(rt_error(), RT_ERR_VALUE);
    rt_error_clear();
    rt_fini();
}

/* ==== the workloads on more threads than cores ============================ */

static const Sized sized[] = {
    {"list_append", {3000, 16, 1}, 2, true},
    {"dict_churn", {300, 20000, 1}, 2, false},
    {"cycle_storm", {3000, 8, 8, 1}, 3, true},
    {"binary_trees", {8, 1}, 1, true},
    {"shared_refs", {50, 100000, 8, 1, 1}, 4, false},
};

TEST(workloads_at_three_and_eight_threads)
{
    static const int64_t threads[] = {1, 3, 8};
    for (size_t i = 0; i < sizeof sized / sizeof sized[0]; i++) {
        int64_t one = 0;
        for (size_t k = 0; k < sizeof threads / sizeof threads[0]; k++) {
            REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
            const RtWorkload *w = rt_workload_find(sized[i].name);
            REQUIRE(w != NULL);
            int64_t params[RT_WORKLOAD_MAX_PARAMS];
            memcpy(params, sized[i].params, sizeof params);
            params[sized[i].threads_at] = threads[k];
            RtWorkloadCtx ctx = {&check_ops, 0};
            last_check = -1;
            uint64_t revoked = thread_stats().bias_revocations;
            CHECK_EQ(w->run(&ctx, params), 0);
            CHECK(last_check > 0);
            /* Each thread's objects die on it or in a collection: no
             * other thread changes its lists, nor takes its bias. */
            CHECK_EQ(thread_stats().bias_revocations, revoked);
            if (k == 0)
                one = last_check;
            else if (sized[i].same_check)
                CHECK_EQ(last_check, one);
            CHECK_EQ(rt_thread_count(), 1);
            CHECK(rt_gc_collect(2) >= 0);
            CHECK(heap_valid());
            CHECK_EQ(blocks_in_use(), 0);
            rt_fini();
        }
        printf("     %-13s 1, 3 and 8 threads\n", sized[i].name);
    }
}

int
main(void)
{
    RUN(stress_eight_threads);
    RUN(world_stop_waits_for_safepoints);
    RUN(a_large_container_parks_in_its_dealloc);
    RUN(blocked_threads_do_not_hold_a_collection);
    RUN(one_str_hashed_on_two_threads);
    RUN(one_class_on_two_threads);
    RUN(an_instance_on_another_heaps_block_lives_on_that_heap);
    RUN(fault_walk_on_threads);
    RUN(one_part_of_the_work);
    RUN(workloads_at_three_and_eight_threads);
    return rt_test_summary();
}
