/* test_brc.c -- the biased variant's header: its 16-bit local and 32-bit
 * shared counts, their ceilings, the owner's spill, and the collector's
 * read of both words.  Built for the biased variant only (test_types.c
 * covers the built-in types in every variant).
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"
#include "../runtime/src/brc_internal.h"

static RtTestMark mark;

static void setup(void) { mark = rt_test_begin_counting(); }
static void teardown(void) { rt_test_finish(mark); }

/* ==== the biased header's 16-bit local and 32-bit shared counts ========== */

/* A fresh int owned by the caller; the process stops if there is none
 * (the helpers below write its header). */
static RtObject *
fresh_int(void)
{
    RtObject *op = rt_int_from(123456);
    if (op == NULL) {
        fprintf(stderr, "  %s:%d: rt_int_from failed: %s\n", __FILE__, __LINE__, rt_error_message());
        abort();
    }
    return op;
}

/* An int owned by no thread: merged, count in the shared word alone. */
static RtObject *
merged_int_at(intptr_t count)
{
    RtObject *op = fresh_int();
    atomic_store(&op->ob_tid_local, 0);
    atomic_store(&op->ob_ref_shared, (RtRefShared)(count << RT_REF_SHARED_SHIFT) | RT_REF_MERGED);
    return op;
}

/* An int of ours with `shared` references counted by other threads. */
static RtObject *
owned_int_with_shared(intptr_t shared)
{
    RtObject *op = fresh_int();
    atomic_store(&op->ob_ref_shared, (RtRefShared)(shared << RT_REF_SHARED_SHIFT));
    return op;
}

static void
incref_past_the_ceiling(void)
{
    setup();
    rt_incref(merged_int_at(RT_REF_SHARED_MAX));
}

static void
merge_past_the_ceiling(void)
{
    setup();
    RtObject *op = owned_int_with_shared(RT_REF_SHARED_MAX - 10);
    atomic_store(&op->ob_tid_local, rt_thread_tag | 100);
    rti_brc_explicit_merge(op, 0);
}

static void
spill_past_the_ceiling(void)
{
    setup();
    RtObject *op = owned_int_with_shared(RT_REF_SHARED_MAX - RT_REF_LOCAL_SPILL);
    atomic_store(&op->ob_tid_local, rt_thread_tag | RT_REF_LOCAL_MAX);
    rt_incref(op);
}

/* The header is 16 bytes, as the other variants' (an int's block 32), so
 * the shared word is 32 bits: a count that would pass RT_REF_SHARED_MAX
 * stops the process -- a merge with a message; an increment, by a thread
 * that does not own the object or by the owner whose full local count
 * spills, traps in a release build (a call there would cost the owner's
 * path a stack frame), and reports in a debug one -- and a count up to it
 * is exact. */
TEST(biased_shared_count_stops_at_its_ceiling)
{
    CHECK_EQ(sizeof(RtObject), 16);
    CHECK(rt_test_dies(merge_past_the_ceiling, "reference count overflow"));
#if RT_DEBUG >= 1
    CHECK(rt_test_dies(incref_past_the_ceiling, "reference count overflow"));
    CHECK(rt_test_dies(spill_past_the_ceiling, "reference count overflow"));
#else
    CHECK(rt_test_dies_of(incref_past_the_ceiling, SIGILL, ""));
    CHECK(rt_test_dies_of(spill_past_the_ceiling, SIGILL, ""));
#endif
    setup();
    RtObject *op = merged_int_at(RT_REF_SHARED_MAX - 1);
    CHECK_EQ(rt_object_sizeof(op), 24);     /* as nonatomic's */
    rt_incref(op);
    CHECK_EQ(rt_refcnt(op), RT_REF_SHARED_MAX);
    rt_decref(op);
    CHECK_EQ(rt_refcnt(op), RT_REF_SHARED_MAX - 1);
    atomic_store(&op->ob_ref_shared, RT_REF_SHARED_ONE | RT_REF_MERGED);
    rt_decref(op);      /* merged at 1: freed */
    teardown();
}

/* The owner's 16-bit count: its increment past RT_REF_LOCAL_MAX moves
 * RT_REF_LOCAL_SPILL references to the shared count, the count stays
 * exact, and when the local count runs out the object merges and is freed
 * once, at the last decrement. */
TEST(biased_full_local_count_spills_to_shared)
{
    enum { HOLDS = 3 * RT_REF_LOCAL_MAX };
    setup();
    RtObject *op = rt_int_from(123456);
    RtAllocStats st;
    rt_alloc_stats(&st);
    uint64_t blocks = st.blocks.current;
    for (int i = 0; i < HOLDS; i++)
        rt_incref(op);
    CHECK_EQ(rt_refcnt(op), HOLDS + 1);
    CHECK(rt_is_owned_by_me(op));
    CHECK(atomic_load(&op->ob_ref_shared) >> RT_REF_SHARED_SHIFT > 0);
    for (int i = 0; i < HOLDS; i++)
        rt_decref(op);
    CHECK_EQ(rt_refcnt(op), 1);
    CHECK(!rt_is_owned_by_me(op));      /* merged as its local count ran out */
    rt_decref(op);
    rt_alloc_stats(&st);
    CHECK_EQ(st.blocks.current, blocks - 1);
    teardown();
}

/* The collector reads both count words in one load
 * (rti_refcnt_collecting): the same count as rt_refcnt in every state of
 * the header -- owned with others' references, queued (a
 * shared count below zero), merged, counted per thread, immortal. */
TEST(biased_collector_reads_the_count_as_rt_refcnt)
{
    setup();
    RtObject *owned = owned_int_with_shared(7);
    atomic_store(&owned->ob_tid_local, rt_thread_tag | 5);
    RtObject *queued = fresh_int();
    atomic_store(&queued->ob_tid_local, rt_thread_tag | 4);
    atomic_store(&queued->ob_ref_shared, (RtRefShared)(-3 * (intptr_t)RT_REF_SHARED_ONE) | RT_REF_QUEUED);
    RtObject *merged = merged_int_at(RT_REF_SHARED_MAX);
    RtObject *counted = fresh_int();
    REQUIRE(rt_object_enable_thread_counts(counted) == 0);
    rt_incref(counted);
    RtObject *immortal = rt_int_from(5);    /* a small int */
    const struct { RtObject *op; intptr_t want; } cases[] = {
        {owned, 12}, {queued, 1}, {merged, RT_REF_SHARED_MAX}, {counted, 2}, {immortal, RT_IMMORTAL_REFCNT},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        CHECK_EQ(rt_refcnt(cases[k].op), cases[k].want);
        CHECK_EQ(rti_refcnt_collecting(cases[k].op), rt_refcnt(cases[k].op));
    }
    /* Back to counts the deallocations expect, then dropped. */
    atomic_store(&owned->ob_tid_local, rt_thread_tag | 1);
    atomic_store(&owned->ob_ref_shared, 0);
    atomic_store(&queued->ob_tid_local, rt_thread_tag | 1);
    atomic_store(&queued->ob_ref_shared, 0);
    atomic_store(&merged->ob_ref_shared, RT_REF_SHARED_ONE | RT_REF_MERGED);
    rt_decref(owned);
    rt_decref(queued);
    rt_decref(merged);
    rt_decref(counted);
    rt_decref(counted);
    rt_gc_collect(2);       /* folds the per-thread counts: frees counted */
    teardown();
}

int
main(void)
{
    RUN(biased_shared_count_stops_at_its_ceiling);
    RUN(biased_full_local_count_spills_to_shared);
    RUN(biased_collector_reads_the_count_as_rt_refcnt);
    return rt_test_summary();
}
