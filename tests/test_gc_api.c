/* test_gc_api.c -- the collector's schedule and the gc module's API.
 *
 * The exact collection schedule that CPython 3.11's threshold rules give
 * (worked out by hand in the comments), the count of generation 0,
 * disabled collection, the gc module API (thresholds, stats, callbacks,
 * freeze), the untracking of tuples, and a collection with every
 * allocation failing.  The cycle shapes, the reachability oracle,
 * finalizers and weakrefs are test_gc.c's.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"     /* RTI_GC_MAX_CALLBACKS */

/* ==== setup ============================================================ */

static RtTestMark mark;

static void
setup(long t0, long t1, long t2)
{
    rt_test_start(t0, t1, t2, true);
    mark = rt_test_mark();
}

static void teardown(void) { rt_test_collect_and_finish(mark); }


/* ==== thresholds: the schedule CPython 3.11's rules give =============== */

static void
alloc_live(RtObject **keep, int n)
{
    for (int i = 0; i < n; i++)
        keep[i] = rt_list_new(0);
}

/* Defaults (700, 10, 10), every object kept alive.
 *   - count0 passes 700 at every 701st allocation (the collection zeroes
 *     it, the allocating object included): trigger t at allocation 701 t.
 *   - count1 counts gen-0 collections; at the trigger after 11 of them,
 *     count1 = 11 > 10, so trigger 12 collects generation 1.  Every 12
 *     triggers: 11 gen-0 + 1 gen-1.
 *   - count2 counts gen-1 collections: it reaches 11 at trigger 132; at
 *     trigger 133 count2 > 10 and long_lived_total is 0 (no full collection
 *     yet), so pending >= total / 4 holds: a full collection.  It records
 *     long_lived_total = 133 * 701 = 93233 and pending = 0.
 *   - Triggers 134..265: 11 gen-1 collections (145, 157, ..., 265), each
 *     adding its survivors, 12 * 701 = 8412, to pending: 92532 at 265.
 *   - Trigger 266: count2 = 11 > 10 and 92532 >= 93233 / 4 = 23308: full.
 * So 266 * 701 = 186466 allocations give gen0 = 266 - 22 - 2 = 242,
 * gen1 = 22, gen2 = 2. */
TEST(threshold_schedule_with_a_growing_live_heap)
{
    setup(700, 10, 10);
    enum { N = 266 * 701 };
    RtObject **keep = malloc(N * sizeof *keep);
    REQUIRE(keep != NULL);
    alloc_live(keep, N);
    RtGcGenStats st[3];
    rt_gc_get_stats(st);
    CHECK_EQ(st[0].collections, 242);
    CHECK_EQ(st[1].collections, 22);
    CHECK_EQ(st[2].collections, 2);
    intptr_t count[3];
    rt_gc_get_count(count);
    CHECK(count[0] == 0 && count[1] == 0 && count[2] == 0);
    for (int i = 0; i < N; i++)
        rt_decref(keep[i]);
    free(keep);
    teardown();
}

/* Thresholds (100, 2, 2) after a full collection of 1000 live objects
 * (long_lived_total = 1000, pending = 0), then only garbage self-cycles:
 *   - a trigger every 101 allocations; generation 1 is collected once
 *     count1 > 2, i.e. at every 4th trigger (3 gen-0 collections, then one
 *     gen-1), and its survivors are none: pending stays 0;
 *   - from the 13th trigger on count2 > 2, but pending (0) < 1000 / 4:
 *     generation 2 is skipped, count2 keeps growing, and generations 1 and
 *     0 take the triggers as before.
 * 32 triggers (32 * 101 allocations): gen0 = 24, gen1 = 8, gen2 = 0, and
 * count2 = 8. */
TEST(full_collections_wait_for_enough_long_lived_growth)
{
    setup(100, 2, 2);
    RtObject *keep[1000];
    rt_gc_disable();
    alloc_live(keep, 1000);
    rt_gc_collect(2);
    rt_gc_enable();
    RtGcGenStats base[3], st[3];
    rt_gc_get_stats(base);
    for (int i = 0; i < 32 * 101; i++) {
        RtObject *l = rt_list_new(0);
        rt_list_append(l, l);
        rt_decref(l);
    }
    rt_gc_get_stats(st);
    CHECK_EQ(st[0].collections - base[0].collections, 24);
    CHECK_EQ(st[1].collections - base[1].collections, 8);
    CHECK_EQ(st[2].collections - base[2].collections, 0);
    intptr_t count[3];
    rt_gc_get_count(count);
    CHECK_EQ(count[2], 8);
    for (int i = 0; i < 1000; i++)
        rt_decref(keep[i]);
    teardown();
}

/* Allocation minus deallocation: a list made and dropped nets zero, so a
 * churn of short-lived containers never triggers a collection. */
TEST(count0_is_allocations_minus_deallocations)
{
    setup(700, 10, 10);
    for (int i = 0; i < 100000; i++)
        rt_decref(rt_list_new(0));
    RtGcGenStats st[3];
    rt_gc_get_stats(st);
    CHECK_EQ(st[0].collections, 0);
    RtObject *a = rt_list_new(0), *b = rt_dict_new(), *s = rt_str_from_cstr("not a GC type");
    intptr_t count[3];
    rt_gc_get_count(count);
    CHECK_EQ(count[0], 2);
    rt_decref(a);
    rt_gc_get_count(count);
    CHECK_EQ(count[0], 1);
    rt_decref(b);
    rt_decref(s);
    teardown();
}

static void
churn_cycles(int n)
{
    for (int i = 0; i < n; i++) {
        RtObject *l = rt_list_new(0);
        rt_list_append(l, l);
        rt_decref(l);
    }
}

TEST(disabled_collector_never_collects_by_itself)
{
    setup(700, 10, 10);
    rt_gc_disable();
    CHECK(!rt_gc_isenabled());
    churn_cycles(10000);
    RtGcGenStats st[3];
    rt_gc_get_stats(st);
    CHECK(st[0].collections == 0 && st[1].collections == 0 && st[2].collections == 0);
    CHECK_EQ(rt_gc_collect(2), 10000);     /* explicit collection still works */
    rt_gc_enable();
    CHECK(rt_gc_isenabled());
    /* threshold0 = 0 disables automatic collection too (Python's rule). */
    CHECK_EQ(rt_gc_set_threshold(0, RT_GC_KEEP, RT_GC_KEEP), 0);
    churn_cycles(10000);
    rt_gc_get_stats(st);
    CHECK_EQ(st[0].collections, 0);
    CHECK_EQ(rt_gc_collect(0), 10000);
    teardown();
}

/* ==== the API =========================================================== */

typedef struct CbLog {
    int starts, stops;
    int last_generation;
    intptr_t last_collected;
    double last_duration;
    bool saw_start_zero;
} CbLog;

static void
cb(const char *phase, const RtGcInfo *info, void *arg)
{
    CbLog *log = arg;
    if (strcmp(phase, "start") == 0) {
        log->starts++;
        log->saw_start_zero = info->collected == 0 && info->uncollectable == 0;
    } else if (strcmp(phase, "stop") == 0) {
        log->stops++;
        log->last_collected = info->collected;
        log->last_duration = info->duration_s;
    }
    log->last_generation = info->generation;
}

TEST(api_thresholds_stats_callbacks_freeze)
{
    setup(700, 10, 10);
    long t[3];
    rt_gc_get_threshold(t);
    CHECK(t[0] == 700 && t[1] == 10 && t[2] == 10);
    CHECK_EQ(rt_gc_set_threshold(5000, RT_GC_KEEP, 20), 0);
    rt_gc_get_threshold(t);
    CHECK(t[0] == 5000 && t[1] == 10 && t[2] == 20);
    CHECK_EQ(rt_gc_set_threshold(-2, 1, 1), -1);
    CHECK_EQ(rt_error(), RT_ERR_VALUE);
    rt_gc_get_threshold(t);
    CHECK_EQ(t[0], 5000);
    CHECK_EQ(rt_gc_collect(3), -1);
    CHECK_EQ(rt_gc_collect(-1), -1);
    CHECK(strstr(rt_error_message(), "generation") != NULL);

    CbLog log = {0};
    CHECK_EQ(rt_gc_callback_add(cb, &log), 0);
    churn_cycles(7);
    CHECK_EQ(rt_gc_collect(1), 7);
    CHECK_EQ(log.starts, 1);
    CHECK_EQ(log.stops, 1);
    CHECK(log.saw_start_zero);
    CHECK_EQ(log.last_generation, 1);
    CHECK_EQ(log.last_collected, 7);
    CHECK(log.last_duration >= 0);
    RtGcGenStats st[3];
    rt_gc_get_stats(st);
    CHECK_EQ(st[1].collections, 1);
    CHECK_EQ(st[1].collected, 7);
    CHECK_EQ(rt_gc_callback_remove(cb, &log), 0);
    CHECK_EQ(rt_gc_callback_remove(cb, &log), -1);
    rt_gc_collect(0);
    CHECK_EQ(log.starts, 1);
    for (int i = 0; i < RTI_GC_MAX_CALLBACKS; i++)
        CHECK_EQ(rt_gc_callback_add(cb, &log), 0);
    CHECK_EQ(rt_gc_callback_add(cb, &log), -1);
    for (int i = 0; i < RTI_GC_MAX_CALLBACKS; i++)
        rt_gc_callback_remove(cb, &log);

    /* Pauses: one per collection so far. */
    RtGcPauses p;
    rt_gc_pauses(&p);
    CHECK_EQ(p.count, 2);
    CHECK_EQ(p.nsamples, 2);
    CHECK(p.generation[0] == 1 && p.generation[1] == 0);
    CHECK(p.total_s >= p.max_s && p.max_s >= 0);

    /* Freeze: tracked objects move to the permanent generation, which no
     * collection looks at; unfreeze brings them back. */
    RtObject *a = rt_list_new(0);
    rt_list_append(a, a);
    rt_gc_freeze();
    CHECK_EQ(rt_gc_get_freeze_count(), 1);
    intptr_t count[3];
    rt_gc_get_count(count);
    CHECK_EQ(count[0], 0);
    rt_decref(a);
    CHECK_EQ(rt_gc_collect(2), 0);      /* frozen garbage is not collected */
    rt_gc_unfreeze();
    CHECK_EQ(rt_gc_get_freeze_count(), 0);
    CHECK_EQ(rt_gc_collect(2), 1);

    RtObject *s = rt_str_from_cstr("x"), *l = rt_list_new(0);
    CHECK(!rt_gc_is_tracked(s));
    CHECK(rt_gc_is_tracked(l));
    rt_gc_untrack(l);
    CHECK(!rt_gc_is_tracked(l));
    rt_gc_track(l);
    rt_gc_track(l);     /* idempotent */
    CHECK(rt_gc_is_tracked(l));
    rt_decref(s);
    rt_decref(l);
    teardown();
}

/* A callback that holds the collection up for 'hold' seconds, by the clock
 * (no sleep: the wait is the same on a busy machine). */
typedef struct SlowCb {
    double hold;
    double duration;    /* info->duration_s at "stop" */
} SlowCb;

static void
slow_cb(const char *phase, const RtGcInfo *info, void *arg)
{
    SlowCb *slow = arg;
    double until = rt_monotonic_s() + slow->hold;
    while (rt_monotonic_s() < until)
        ;
    if (strcmp(phase, "stop") == 0)
        slow->duration = info->duration_s;
}

/* The pause is the collection's, the callbacks' own time left out (the
 * harness's takes a heap profile at "start"), and the one the "stop"
 * callbacks see is the one logged. */
TEST(pause_leaves_the_callbacks_out)
{
    setup(700, 10, 10);
    SlowCb slow = {0.25, -1.0};
    CHECK_EQ(rt_gc_callback_add(slow_cb, &slow), 0);
    churn_cycles(7);
    double t0 = rt_monotonic_s();
    CHECK_EQ(rt_gc_collect(2), 7);
    double elapsed = rt_monotonic_s() - t0;
    CHECK_EQ(rt_gc_callback_remove(slow_cb, &slow), 0);
    RtGcPauses p;
    rt_gc_pauses(&p);
    CHECK_EQ(p.nsamples, 1);
    CHECK(elapsed >= 2 * slow.hold);                    /* both callbacks held it up */
    CHECK(p.seconds[0] >= 0 && p.seconds[0] < slow.hold);
    CHECK(slow.duration == p.seconds[0]);
    CHECK(p.start_s[0] >= t0 && p.start_s[0] + p.seconds[0] <= t0 + elapsed);
    teardown();
}

TEST(tuples_of_untracked_items_get_untracked)
{
    setup(700, 10, 10);
    RtObject *s = rt_str_from_cstr("s"), *i = rt_int_from(5);
    RtObject *plain = rt_tuple_pack(2, s, i), *nested = rt_tuple_pack(1, plain);
    RtObject *l = rt_list_new(0), *holds_list = rt_tuple_pack(1, l);
    CHECK(rt_gc_is_tracked(plain) && rt_gc_is_tracked(nested));
    rt_gc_collect(0);
    CHECK(!rt_gc_is_tracked(plain));
    CHECK(!rt_gc_is_tracked(nested));   /* its item is an untracked tuple */
    CHECK(rt_gc_is_tracked(holds_list));
    rt_decref(plain);
    rt_decref(nested);
    rt_decref(holds_list);
    rt_decref(l);
    rt_decref(s);
    teardown();
}

/* A collection allocates nothing: with every allocation failing, it still
 * finds and frees its garbage. */
TEST(collection_works_when_memory_is_exhausted)
{
    setup(700, 10, 10);
    RtType *cls = rt_class_new("M", 1, 0, NULL);
    rt_gc_disable();
    for (int i = 0; i < 1000; i++) {
        RtObject *a = rt_instance_new(cls);
        rt_instance_set(a, 0, a);
        rt_decref(a);
    }
    RtObject *l = rt_list_new(0);
    rt_fault_inject(1, true);
    CHECK(rt_list_new(0) == NULL);
    CHECK_EQ(rt_gc_collect(2), 1000);
    CHECK(rt_list_append(l, l) == -1);  /* still failing: nothing changed */
    CHECK_EQ(rt_list_size(l), 0);
    rt_fault_inject(0, false);
    rt_decref(l);
    teardown();
}

int
main(void)
{
    RUN(threshold_schedule_with_a_growing_live_heap);
    RUN(full_collections_wait_for_enough_long_lived_growth);
    RUN(count0_is_allocations_minus_deallocations);
    RUN(disabled_collector_never_collects_by_itself);
    RUN(api_thresholds_stats_callbacks_freeze);
    RUN(pause_leaves_the_callbacks_out);
    RUN(tuples_of_untracked_items_get_untracked);
    RUN(collection_works_when_memory_is_exhausted);
    return rt_test_summary();
}
