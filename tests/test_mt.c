/* test_mt.c -- the threaded variants under threads (built for rt_atomic and
 * rt_biased, run under ThreadSanitizer by scripts/test).
 *
 * The runtime's contract (rt/runtime.h): the allocator and the collector
 * belong to the thread that called rt_init (the owner); any thread may take
 * and drop references.  An object whose last reference goes on another
 * thread is handed to the owner, which frees it in rt_drain_pending (also
 * at every collection).  So:
 *   - shared_count_is_exact: every thread increments and decrements one
 *     object's count millions of times; after the join it is exactly what
 *     it was (a plain count would lose updates);
 *   - every_object_is_freed_exactly_once: threads hold and drop references
 *     to many objects at random while the owner drops its own; whichever
 *     thread drops the last reference, each object is deallocated exactly
 *     once, on the owner, after the drain.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"
#include "prng.h"

#include <pthread.h>
#include <stdatomic.h>

#if !RT_RC_THREADED
#error "test_mt runs a threaded variant: build it against rt_atomic or rt_biased"
#endif

#define THREADS 4
#define OBJECTS 512

static atomic_int deallocs[OBJECTS];
static atomic_int wrong_thread;     /* deallocations off the owner thread */
static pthread_t owner;

typedef struct Shared {
    RtObject ob_base;
    int id;
} Shared;

static void
shared_dealloc(RtObject *op)
{
    if (!pthread_equal(pthread_self(), owner))
        atomic_fetch_add(&wrong_thread, 1);
    atomic_fetch_add(&deallocs[((Shared *)op)->id], 1);
    rt_object_free(op);
}

static RtType shared_type = {.name = "Shared", .basic_size = sizeof(Shared), .dealloc = shared_dealloc};

/* A new Shared numbered id, its deallocations counted from 0; NULL when
 * there is no memory. */
static RtObject *
new_shared(int id)
{
    RtObject *op = rt_object_new(&shared_type);
    if (op != NULL) {
        ((Shared *)op)->id = id;
        atomic_store(&deallocs[id], 0);
    }
    return op;
}

/* ==== one object, every thread =========================================== */

static RtObject *hot;

static void *
hammer(void *arg)
{
    for (int i = 0; i < 200000; i++) {
        rt_incref(hot);
        rt_incref(hot);
        rt_decref(hot);
        rt_decref(hot);
    }
    return arg;
}

TEST(shared_count_is_exact)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    owner = pthread_self();
    rti_type_register(&shared_type);
    hot = new_shared(0);
    REQUIRE(hot != NULL);
    pthread_t t[THREADS];
    for (int k = 0; k < THREADS; k++)
        pthread_create(&t[k], NULL, hammer, NULL);
    for (int k = 0; k < THREADS; k++)
        pthread_join(t[k], NULL);
    CHECK_EQ(rt_refcnt(hot), 1);
    CHECK_EQ(atomic_load(&deallocs[0]), 0);
    rt_decref(hot);
    CHECK_EQ(atomic_load(&deallocs[0]), 1);
    rt_fini();
}

/* ==== many objects, references held and dropped at random ================= */

static RtObject *objects[OBJECTS];
static atomic_int started;

typedef struct Worker {
    uint64_t seed;
    RtObject *held[64];
    int nheld;
} Worker;

static void *
churn(void *arg)
{
    Worker *w = arg;
    RtPrng r;
    rt_prng_seed(&r, w->seed);
    atomic_fetch_add(&started, 1);
    for (int i = 0; i < 100000; i++) {
        if (w->nheld < 64 && rt_prng_below(&r, 2) == 0) {
            /* Take a reference from one already held -- never from the
             * owner's table, which the owner empties meanwhile. */
            if (w->nheld > 0) {
                RtObject *o = w->held[rt_prng_below(&r, (uint64_t)w->nheld)];
                rt_incref(o);
                w->held[w->nheld++] = o;
            }
        } else if (w->nheld > 0) {
            int k = (int)rt_prng_below(&r, (uint64_t)w->nheld);
            RtObject *o = w->held[k];
            w->held[k] = w->held[--w->nheld];
            rt_decref(o);
        }
    }
    while (w->nheld > 0)
        rt_decref(w->held[--w->nheld]);
    return NULL;
}

TEST(every_object_is_freed_exactly_once)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    owner = pthread_self();
    rti_type_register(&shared_type);
    atomic_store(&wrong_thread, 0);
    static Worker workers[THREADS];
    for (int i = 0; i < OBJECTS; i++) {
        objects[i] = new_shared(i);
        REQUIRE(objects[i] != NULL);
    }
    /* Before the threads start, the owner gives each a set of references;
     * afterwards only the threads take more, from references they hold. */
    for (int k = 0; k < THREADS; k++) {
        workers[k] = (Worker){.seed = (uint64_t)k + 1};
        for (int j = 0; j < 32; j++) {
            RtObject *o = objects[(k * 131 + j * 17) % OBJECTS];
            rt_incref(o);
            workers[k].held[workers[k].nheld++] = o;
        }
    }
    /* The owner drops half its references before the threads start (the
     * objects the workers hold then die on a worker), half while they run
     * (a race between the owner and the workers for the last reference). */
    for (int i = 0; i < OBJECTS; i += 2)
        rt_decref(objects[i]);
    pthread_t t[THREADS];
    atomic_store(&started, 0);
    for (int k = 0; k < THREADS; k++)
        pthread_create(&t[k], NULL, churn, &workers[k]);
    while (atomic_load(&started) < THREADS)
        ;
    for (int i = 1; i < OBJECTS; i += 2)
        rt_decref(objects[i]);
    for (int k = 0; k < THREADS; k++)
        pthread_join(t[k], NULL);
    size_t handed = rt_drain_pending();
    int once = 0;
    for (int i = 0; i < OBJECTS; i++)
        once += atomic_load(&deallocs[i]) == 1;
    CHECK_EQ(once, OBJECTS);
    CHECK_EQ(atomic_load(&wrong_thread), 0);
    printf("     %zu of %d objects had their last reference dropped on another thread\n", handed, OBJECTS);
    RtAllocStats st;
    rt_alloc_stats(&st);
    CHECK_EQ(st.blocks.current, 0);
    rt_fini();
}

#if RT_RC_BIASED
/* ==== biased counts: the merge queue and a departed owner ================= */

static RtObject *given;

static void *
drop_given(void *arg)
{
    rt_decref(given);     /* shared 0 -> queued to the owner */
    return arg;
}

/* A reference the owner took and another thread drops: the shared count
 * would go below zero, so the object goes to the owner's queue holding that
 * reference, and the owner's merge frees it once its own is gone. */
TEST(biased_queue_hands_back_to_the_owner)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    owner = pthread_self();
    rti_type_register(&shared_type);
    given = new_shared(0);
    REQUIRE(given != NULL);
    rt_incref(given);                       /* local 2 */
    pthread_t t;
    pthread_create(&t, NULL, drop_given, NULL);
    pthread_join(t, NULL);
    CHECK_EQ(atomic_load_explicit(&given->ob_ref_shared, memory_order_relaxed), RT_REF_QUEUED);
    CHECK_EQ(rt_refcnt(given), 2);          /* true count 1; the queue holds 1 */
    CHECK_EQ(rt_drain_pending(), 0);        /* merged: local 2 + 0 - 1 */
    CHECK_EQ(rt_refcnt(given), 1);
    CHECK_EQ(atomic_load_explicit(&given->ob_tid_local, memory_order_relaxed), 0);   /* merged */
    CHECK_EQ(atomic_load(&deallocs[0]), 0);
    rt_decref(given);                       /* merged: any thread may free */
    CHECK_EQ(atomic_load(&deallocs[0]), 1);
    rt_fini();
}

/* Objects owned by a thread that detached and exited: their last
 * references, dropped elsewhere, merge in place (nobody writes the local
 * count any more) and free them. */
#define ORPHANS 64
static RtObject *orphans[ORPHANS];

static void *
adopt_then_leave(void *arg)
{
    if (rt_thread_attach() != 0)
        return arg;
    for (int i = 0; i < ORPHANS; i++)
        rt_refcnt_init(orphans[i], 1);      /* as if this thread had made them */
    rt_incref(orphans[0]);                  /* local 2 */
    bool owned = rt_is_owned_by_me(orphans[0]);
    rt_thread_detach();
    /* Detached, the thread owns nothing: it counts as others do.  Its
     * decrement finds the shared count at 0 and no owner for the index,
     * and merges in place: 2 - 1, not freed. */
    bool foreign = !rt_is_owned_by_me(orphans[0]);
    rt_decref(orphans[0]);
    return owned && foreign && rt_refcnt(orphans[0]) == 1 ? NULL : arg;
}

TEST(biased_owner_gone_merges_in_place)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    owner = pthread_self();
    rti_type_register(&shared_type);
    for (int i = 0; i < ORPHANS; i++) {
        orphans[i] = new_shared(i);
        REQUIRE(orphans[i] != NULL);
    }
    pthread_t t;
    void *failed;
    rt_thread_block_begin();    /* the worker's attach stops the world */
    pthread_create(&t, NULL, adopt_then_leave, orphans);
    pthread_join(t, &failed);
    rt_thread_block_end();
    REQUIRE(failed == NULL);
    CHECK_EQ(rt_thread_count(), 1);
    for (int i = 0; i < ORPHANS; i++) {
        CHECK(!rt_is_owned_by_me(orphans[i]));
        rt_decref(orphans[i]);
    }
    int once = 0;
    for (int i = 0; i < ORPHANS; i++)
        once += atomic_load(&deallocs[i]) == 1;
    CHECK_EQ(once, ORPHANS);
    RtAllocStats st;
    rt_alloc_stats(&st);
    CHECK_EQ(st.blocks.current, 0);
    rt_fini();
}

/* ==== biased counts: per-thread counts ==================================== */

#define COUNTED 8
static RtObject *counted[COUNTED];
static pthread_barrier_t counted_barrier;
static intptr_t folded_count[COUNTED];

static void
count_each(int n, bool up)
{
    for (int k = 0; k < n; k++)
        for (int i = 0; i < COUNTED; i++)
            up ? rt_incref(counted[i]) : rt_decref(counted[i]);
}

/* Wait for the other workers as a stopped thread would. */
static void
counted_wait(void)
{
    rt_thread_block_begin();
    pthread_barrier_wait(&counted_barrier);
    rt_thread_block_end();
}

/* An attached worker: a net reference to each object in its own entries;
 * worker 0 folds every thread's entries by a collection and reads the
 * exact counts; then each drops its reference and detaches. */
static void *
count_per_thread(void *arg)
{
    int index = (int)(intptr_t)arg;
    if (rt_thread_attach() != 0)
        return arg;
    count_each(1000, true);
    count_each(999, false);
    counted_wait();
    if (index == 0) {
        rt_gc_collect(0);
        for (int i = 0; i < COUNTED; i++)
            folded_count[i] = rt_refcnt(counted[i]);
    }
    counted_wait();
    count_each(1, false);
    rt_thread_detach();
    return NULL;
}

/* A thread that never attaches counts in the shared count, beside the
 * workers, and is done before worker 0 folds. */
static void *
count_unattached(void *arg)
{
    count_each(1000, true);
    count_each(1000, false);
    pthread_barrier_wait(&counted_barrier);
    pthread_barrier_wait(&counted_barrier);
    return arg;
}

/* Objects counted per thread: every thread's entries, an attached thread's
 * negative ones included, fold into exact counts at a collection and at a
 * detach, and an object whose count reaches zero is freed once, by the next
 * collection. */
TEST(biased_thread_counts_fold_exactly)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    owner = pthread_self();
    rti_type_register(&shared_type);
    for (int i = 0; i < COUNTED; i++) {
        counted[i] = new_shared(i);
        REQUIRE(counted[i] != NULL);
        CHECK_EQ(rt_object_enable_thread_counts(counted[i]), 0);
        CHECK_EQ(rt_object_enable_thread_counts(counted[i]), 0);    /* again: nothing to do */
        CHECK_EQ(rt_refcnt(counted[i]), 1);
    }
    pthread_barrier_init(&counted_barrier, NULL, THREADS + 1);
    pthread_t t[THREADS + 1];
    rt_thread_block_begin();
    for (int k = 0; k < THREADS; k++)
        pthread_create(&t[k], NULL, count_per_thread, (void *)(intptr_t)k);
    pthread_create(&t[THREADS], NULL, count_unattached, NULL);
    void *failed = NULL;
    for (int k = 0; k <= THREADS; k++) {
        void *r;
        pthread_join(t[k], &r);
        failed = failed != NULL ? failed : r;
    }
    rt_thread_block_end();
    pthread_barrier_destroy(&counted_barrier);
    REQUIRE(failed == NULL);
    for (int i = 0; i < COUNTED; i++) {
        CHECK_EQ(folded_count[i], 1 + THREADS);     /* ours and one a worker */
        CHECK_EQ(rt_refcnt(counted[i]), 1);         /* folded at each detach */
        rt_decref(counted[i]);                      /* our entry: -1 */
        CHECK_EQ(atomic_load(&deallocs[i]), 0);     /* not before a fold */
    }
    rt_gc_collect(0);
    int once = 0;
    for (int i = 0; i < COUNTED; i++)
        once += atomic_load(&deallocs[i]) == 1;
    CHECK_EQ(once, COUNTED);
    RtAllocStats st;
    rt_alloc_stats(&st);
    CHECK_EQ(st.blocks.current, 0);
    rt_fini();
}

static void *
take_one(void *arg)
{
    rt_incref(arg);
    return NULL;
}

/* Only the maker may enable, before another thread holds the object;
 * immortals need nothing; a live object is freed by rt_fini's fold. */
TEST(biased_thread_counts_rules)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rti_type_register(&shared_type);
    RtObject *shared = new_shared(0), *late = new_shared(1);
    REQUIRE(shared != NULL && late != NULL);
    pthread_t t;
    pthread_create(&t, NULL, take_one, shared);     /* not attached: a shared count */
    pthread_join(t, NULL);
    CHECK_EQ(rt_object_enable_thread_counts(shared), -1);
    CHECK_EQ(rt_error(), RT_ERR_STATE);
    rt_error_clear();
    CHECK_EQ(rt_object_enable_thread_counts(rt_int_from(7)), 0);    /* immortal */
    CHECK_EQ(rt_object_enable_thread_counts(late), 0);
    rt_decref(shared);
    rt_decref(shared);
    CHECK_EQ(atomic_load(&deallocs[0]), 1);
    rt_decref(late);            /* its last reference: freed by rt_fini */
    CHECK_EQ(atomic_load(&deallocs[1]), 0);
    rt_fini();
    CHECK_EQ(atomic_load(&deallocs[1]), 1);
}

static void *
drop_one(void *arg)
{
    rt_decref(arg);
    return NULL;
}

/* A second thread: finds op counted per thread, counts it, leaves. */
static void *
attach_and_count(void *arg)
{
    RtObject *op = arg;
    if (rt_thread_attach() != 0)
        return arg;
    uint32_t word = atomic_load(&op->ob_tid_local);
    rt_incref(op);
    rt_decref(op);
    rt_thread_detach();
    return rt_brc_local(word) == RT_REF_LOCAL_THREADS ? NULL : arg;
}

/* Enabled while one thread has the runtime, an object keeps its owner's
 * count, marked LATER: a reference a thread not attached drops takes the
 * shared count below zero, the last reference frees nothing -- the owner's
 * local count reaching zero or not -- and the next fold frees the object
 * once; a second thread's attach gives the objects still alive their ids. */
TEST(biased_thread_counts_wait_for_a_second_thread)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    owner = pthread_self();
    rti_type_register(&shared_type);
    RtObject *below = new_shared(0), *dropped = new_shared(1), *kept = new_shared(2);
    REQUIRE(below != NULL && dropped != NULL && kept != NULL);
    RtObject *all[] = {below, dropped, kept};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(rt_object_enable_thread_counts(all[i]), 0);
        CHECK_EQ(rt_object_enable_thread_counts(all[i]), 0);    /* again: nothing to do */
        CHECK(rt_is_owned_by_me(all[i]));                       /* the owner's count still */
        CHECK_EQ(atomic_load(&all[i]->ob_ref_shared), RT_REF_LATER);
    }
    rt_incref(below);
    pthread_t t;
    pthread_create(&t, NULL, drop_one, below);      /* not attached: shared -1 */
    pthread_join(t, NULL);
    CHECK_EQ(rt_refcnt(below), 1);
    rt_decref(below);       /* local 2 -> 1, shared -1: dead, for the fold to see */
    rt_decref(dropped);     /* local 1 -> 0: the slow path leaves it */
    CHECK_EQ(atomic_load(&deallocs[0]) + atomic_load(&deallocs[1]), 0);
    rt_gc_collect(0);
    CHECK_EQ(atomic_load(&deallocs[0]), 1);
    CHECK_EQ(atomic_load(&deallocs[1]), 1);
    CHECK_EQ(rti_runtime.threads.ids.waiting.n, 1);

    rt_incref(kept);
    pthread_create(&t, NULL, drop_one, kept);       /* kept: local 2, shared -1 */
    pthread_join(t, NULL);
    rt_thread_block_begin();        /* the attach stops the world: kept merged to 1 */
    void *failed = (void *)1;
    pthread_create(&t, NULL, attach_and_count, kept);
    pthread_join(t, &failed);
    rt_thread_block_end();
    CHECK(failed == NULL);
    CHECK_EQ(rti_runtime.threads.ids.waiting.n, 0);
    CHECK_EQ(rt_refcnt(kept), 1);
    rt_decref(kept);
    CHECK_EQ(atomic_load(&deallocs[2]), 0);     /* not before a fold */
    rt_gc_collect(0);
    CHECK_EQ(atomic_load(&deallocs[2]), 1);
    CHECK_EQ(atomic_load(&wrong_thread), 0);
    RtAllocStats st;
    rt_alloc_stats(&st);
    CHECK_EQ(st.blocks.current, 0);
    rt_fini();
}

TEST(biased_attach_rules)
{
    CHECK_EQ(rt_thread_attach(), -1);       /* no runtime */
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    CHECK(rt_thread_is_attached());
    CHECK_EQ(rt_thread_attach(), -1);       /* rt_init attached us */
    CHECK_EQ(rt_error(), RT_ERR_STATE);
    CHECK_EQ(rt_thread_count(), 1);
    rt_fini();
    CHECK(!rt_thread_is_attached());
}
#endif

int
main(void)
{
    RUN(shared_count_is_exact);
    RUN(every_object_is_freed_exactly_once);
#if RT_RC_BIASED
    RUN(biased_queue_hands_back_to_the_owner);
    RUN(biased_owner_gone_merges_in_place);
    RUN(biased_thread_counts_fold_exactly);
    RUN(biased_thread_counts_rules);
    RUN(biased_thread_counts_wait_for_a_second_thread);
    RUN(biased_attach_rules);
#endif
    return rt_test_summary();
}
