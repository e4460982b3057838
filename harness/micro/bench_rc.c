/* bench_rc.c -- the cost of an incref+decref pair, per refcount variant.
 *
 * Compiled three times, with RT_RC_ATOMIC / RT_RC_BIASED set for nonatomic,
 * atomic and biased, into one binary: each copy uses only rt/object.h's
 * inline functions (and, biased, brc.c's slow paths, compiled in beside it)
 * on objects of its own, so the variants' fast paths sit side by side
 * without linking three runtimes.  RT_MICRO_VARIANT names the copy.
 *
 * A compiler barrier between the incref and the decref stands for whatever
 * a program does while it holds the reference: without it, the pair of a
 * plain count folds to nothing and the loop measures an empty loop.
 */
#include "micro.h"
#include "rt/object.h"
#if RT_RC_BIASED
#include "brc_internal.h"
#endif

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define BATCH 1000
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

static void
never_dealloc(RtObject *op)
{
    (void)op;
    abort();    /* the benchmark always holds a reference */
}

static RtType bench_type = {.name = "bench", .basic_size = sizeof(RtObject), .dealloc = never_dealloc};

#if RT_RC_BIASED
/* The benchmarks hold a reference throughout: no shared count goes below
 * zero, so nothing is ever queued to an owner. */
void
rti_brc_queue_object(RtObject *op)
{
    (void)op;
    abort();
}

/* The per-thread benchmark sizes each thread's array before it counts. */
bool
rti_brc_counts_grow(uintptr_t id)
{
    (void)id;
    return false;
}

/* An owner index for the calling thread, as attaching gives one (thread.c):
 * a benchmark thread owns what it makes. */
static void
take_index(void)
{
    static atomic_uint taken;
    if (rt_thread_tag == RT_THREAD_TAG_NONE)
        rt_thread_tag = RT_TID_LOCAL(1 + atomic_fetch_add(&taken, 1) % RT_TID_MAX, 0);
}
#else
static void take_index(void) {}
#endif

static void
bench_private(RtBenchState *st, void *arg)
{
    RtObject obj = {.ob_type = &bench_type};
    take_index();
    rt_refcnt_init(&obj, 1);    /* owned by this thread, one reference held */
    while (rt_bench_keep_running(st, BATCH)) {
        for (int i = 0; i < BATCH; i++) {
            rt_incref(&obj);
            RT_BENCH_ESCAPE(&obj);
            rt_decref(&obj);
        }
    }
}

#if RT_RC_THREADED
/* One object for all threads: the cache line holding its count moves
 * between cores on every operation.  Its owner (biased) is the first thread
 * that ever runs the benchmark, as an object's owner is the thread that
 * made it; the count is set once and never reset, since Google Benchmark
 * starts a run's threads without a barrier. */
static RtObject shared_obj = {.ob_type = &bench_type};
static atomic_int shared_state;     /* 0 unset, 1 being set, 2 set */

static void
bench_shared(RtBenchState *st, void *arg)
{
    int expect = 0;
    take_index();
    if (atomic_compare_exchange_strong(&shared_state, &expect, 1)) {
        rt_refcnt_init(&shared_obj, 1);
        atomic_store_explicit(&shared_state, 2, memory_order_release);
    }
    while (atomic_load_explicit(&shared_state, memory_order_acquire) != 2)
        ;   /* the setter is running: a few instructions away */
    while (rt_bench_keep_running(st, BATCH)) {
        for (int i = 0; i < BATCH; i++) {
            rt_incref(&shared_obj);
            RT_BENCH_ESCAPE(&shared_obj);
            rt_decref(&shared_obj);
        }
    }
}
#endif

#if RT_RC_BIASED
/* One object counted per thread (rt/brc.h), id 1, as shared_refs' values
 * are: every thread, its maker's too, counts in its own array -- the
 * non-owner path's test of the local field, the array's size and an add
 * to memory no other thread writes.  Each thread's array is its own, set
 * here (as attaching would), and every pair leaves its entry at 0. */
static RtObject perthread_obj = {.ob_type = &bench_type};

static void
bench_perthread(RtBenchState *st, void *arg)
{
    enum { ID = 1 };
    take_index();
    atomic_store_explicit(&perthread_obj.ob_tid_local, RT_TID_LOCAL(ID, RT_REF_LOCAL_THREADS), memory_order_relaxed);
    intptr_t values[ID + 1] = {0};
    rt_thread_counts = (RtThreadCounts){values, ID + 1};
    while (rt_bench_keep_running(st, BATCH)) {
        for (int i = 0; i < BATCH; i++) {
            rt_incref(&perthread_obj);
            RT_BENCH_ESCAPE(&perthread_obj);
            rt_decref(&perthread_obj);
        }
    }
    rt_thread_counts = (RtThreadCounts){NULL, 0};
    if (values[ID] != 0)
        abort();    /* a pair that did not cancel: the count went elsewhere */
}
#endif

void
CAT(rt_micro_register_rc_, RT_MICRO_VARIANT)(void)
{
    /* Each thread on its own object, then (threaded variants only: a plain
     * count shared between threads is a data race) all threads on one. */
    static const int threads[] = {1, 2, 4, 8, 16};
    rt_bench_register("incref_decref/" RT_RC_VARIANT, bench_private, NULL);
    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++)
        rt_bench_register_threads("incref_decref_private/" RT_RC_VARIANT, bench_private, NULL, threads[i]);
#if RT_RC_THREADED
    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++)
        rt_bench_register_threads("incref_decref_shared/" RT_RC_VARIANT, bench_shared, NULL, threads[i]);
#endif
#if RT_RC_BIASED
    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++)
        rt_bench_register_threads("incref_decref_perthread/" RT_RC_VARIANT, bench_perthread, NULL, threads[i]);
#endif
}
