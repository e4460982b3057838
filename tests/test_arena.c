/* test_arena.c -- the pool's arenas: retention, reuse, decay, cap, trim.
 *
 * Strategy: a wholly free arena is retained (kept mapped), so a free/alloc
 * cycle of the same size maps nothing new; it is released once it has been
 * free for the decay, beyond the cap, or by a trim, and the newest one is
 * kept but by a trim.  Time never passes in these tests: the decay is a day,
 * and rti_pool_decay() is told a time to come, so no test sleeps or depends
 * on the machine's speed.  After every step the heap is validated
 * (rti_pools_validate: the retained arenas are exactly the wholly free ones,
 * at the tail of usable_arenas, newest first, and counted).
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"

#define PER_ARENA_512 ((RT_POOL_SIZE / 512) * (RTI_POOLS_PER_ARENA - RTI_FIRST_POOL))
#define DAY_S 86400.0

static RtArenas *
heap(void)
{
    return &rti_runtime.heap.arenas;
}

static int
init_with_decay(int64_t ms)
{
    RtConfig cfg;
    rt_config_default(&cfg);
    cfg.arena_decay_ms = ms;
    return rt_init_ex(&cfg);
}

static bool
valid(void)
{
    char err[256];
    if (rti_pools_validate(heap(), err, sizeof err) == 0)
        return true;
    fprintf(stderr, "  heap: %s\n", err);
    return false;
}

/* Allocate n 512-byte blocks, all alive at once, then free them in order. */
static int
fill_and_free_512(int n)
{
    void **b = malloc((size_t)n * sizeof *b);
    if (b == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        b[i] = rt_malloc(512);
    for (int i = 0; i < n; i++)
        rt_free(b[i]);
    free(b);
    return 0;
}

static RtAllocStats
stats(void)
{
    RtAllocStats st;
    rt_alloc_stats_counts(&st);
    return st;
}

/* Three arenas' worth freed: two are wholly free and retained (the third
 * holds the class's retained pool); the same again maps nothing new and
 * reuses both.  The decay passing releases all retained arenas but the
 * newest; a trim releases everything. */
TEST(free_arenas_are_retained_reused_then_released)
{
    REQUIRE(init_with_decay(RT_ARENA_DECAY_MAX_MS) == 0);
    REQUIRE(fill_and_free_512(3 * PER_ARENA_512) == 0);
    RtAllocStats st = stats();
    CHECK_EQ(st.arenas.allocated, 3);
    CHECK_EQ(st.arenas.current, 3);
    CHECK_EQ(st.arenas_retained, 2);
    CHECK_EQ(st.arenas.freed, 0);
    CHECK_EQ(st.pools.current, 1);
    CHECK(valid());
    for (int round = 0; round < 3; round++)
        REQUIRE(fill_and_free_512(3 * PER_ARENA_512) == 0);
    st = stats();
    CHECK_EQ(st.arenas.allocated, 3);   /* the mapped count stays flat */
    CHECK_EQ(st.arenas_reused, 3 * 2);
    CHECK_EQ(st.arenas_retained, 2);
    CHECK(valid());
    rti_pool_decay(heap(), rt_monotonic_s() + 2 * DAY_S);
    st = stats();
    CHECK_EQ(st.arenas_retained, 1);    /* the newest stays */
    CHECK_EQ(st.arenas.freed, 1);
    CHECK_EQ(st.arenas.current, 2);
    CHECK(valid());
    rt_alloc_trim();
    st = stats();
    CHECK_EQ(st.arenas.current, 0);
    CHECK_EQ(st.arenas_retained, 0);
    CHECK_EQ(st.pools.current, 0);
    CHECK(valid());
    rt_fini();
}

/* A decay not yet passed releases nothing; the oldest go first. */
TEST(decay_releases_only_arenas_free_that_long)
{
    REQUIRE(init_with_decay(1000) == 0);
    REQUIRE(fill_and_free_512(4 * PER_ARENA_512) == 0);
    RtAllocStats st = stats();
    uint64_t retained = st.arenas_retained;
    CHECK_EQ(retained, 3);
    double now = rt_monotonic_s();
    rti_pool_decay(heap(), now);
    CHECK_EQ(stats().arenas_retained, retained);
    rti_pool_decay(heap(), now + 0.5);
    CHECK_EQ(stats().arenas_retained, retained);
    CHECK(valid());
    /* Stamp the retained arenas one second apart, the oldest last (as they
     * lie): at now - 0.5 only the last has been free for 1 s; at now + 0.5
     * the middle one too; the newest stays. */
    int k = 0;
    for (RtArena *a = heap()->usable_arenas; a != NULL; a = a->nextarena)
        if (a->free_since != 0)
            a->free_since = now - k++;
    CHECK(valid());
    rti_pool_decay(heap(), now - 0.5);
    st = stats();
    CHECK_EQ(st.arenas_retained, retained - 1);
    CHECK_EQ(st.arenas.freed, 1);
    CHECK(valid());
    rti_pool_decay(heap(), now + 0.5);
    st = stats();
    CHECK_EQ(st.arenas_retained, 1);
    CHECK_EQ(st.arenas.freed, 2);
    CHECK(heap()->nfp2lasta[RTI_POOLS_PER_ARENA - RTI_FIRST_POOL]->free_since == now);
    CHECK(valid());
    rt_fini();
}

/* With a decay of 0 the pool behaves as obmalloc: a wholly free arena is
 * released at once, but for one (bpo-37257). */
TEST(decay_zero_releases_at_once_but_one)
{
    REQUIRE(init_with_decay(0) == 0);
    REQUIRE(fill_and_free_512(5 * PER_ARENA_512) == 0);
    RtAllocStats st = stats();
    CHECK_EQ(st.arenas_retained, 1);
    CHECK_EQ(st.arenas.allocated, 5);
    CHECK_EQ(st.arenas.freed, 3);       /* the fifth holds the retained pool */
    CHECK(valid());
    rt_fini();
}

/* However long the decay, no more arenas are retained than the cap:
 * RTI_RETAIN_MIN, or an eighth of the recent peak when that is more. */
TEST(retention_is_capped)
{
    REQUIRE(init_with_decay(RT_ARENA_DECAY_MAX_MS) == 0);
    enum { ARENAS = RTI_RETAIN_MIN + 8 };
    REQUIRE(fill_and_free_512(ARENAS * PER_ARENA_512) == 0);
    RtAllocStats st = stats();
    CHECK_EQ(st.arenas_retained, RTI_RETAIN_MIN);
    CHECK_EQ(st.arenas.freed, ARENAS - 1 - RTI_RETAIN_MIN);
    CHECK(valid());
    /* Once the decay passed, the peak is forgotten and the rest go but one. */
    rti_pool_decay(heap(), rt_monotonic_s() + 2 * DAY_S);
    st = stats();
    CHECK_EQ(st.arenas_retained, 1);
    CHECK_EQ(heap()->recent_peak, 1);   /* the arena of the retained pool */
    CHECK(valid());
    rt_fini();
}

/* A full collection gives the cached blocks and the retained pools back,
 * then applies the retention rule: a young free arena stays, an old one
 * goes (but the newest). */
TEST(full_collection_applies_the_rule)
{
    REQUIRE(init_with_decay(RT_ARENA_DECAY_MAX_MS) == 0);
    REQUIRE(fill_and_free_512(3 * PER_ARENA_512) == 0);
    rt_gc_collect(0);
    CHECK_EQ(stats().pools.current, 1);     /* a young collection trims nothing */
    rt_gc_collect(2);
    RtAllocStats st = stats();
    CHECK_EQ(st.pools.current, 0);
    CHECK_EQ(st.arenas.current, 3);
    CHECK_EQ(st.arenas_retained, 3);
    CHECK(valid());
    heap()->decay_s = 0;
    rt_gc_collect(2);
    st = stats();
    CHECK_EQ(st.arenas_retained, 1);
    CHECK_EQ(st.arenas.current, 1);
    CHECK(valid());
    rt_fini();
}

TEST(statistics_print_retention)
{
    REQUIRE(init_with_decay(RT_ARENA_DECAY_MAX_MS) == 0);
    REQUIRE(fill_and_free_512(2 * PER_ARENA_512) == 0);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rt_alloc_print_stats(out);
    fclose(out);
    CHECK(strstr(text, "arenas retained 1 (wholly free, kept for reuse), reused 0 times") != NULL);
    free(text);
    rt_fini();
}

int
main(void)
{
    RUN(free_arenas_are_retained_reused_then_released);
    RUN(decay_releases_only_arenas_free_that_long);
    RUN(decay_zero_releases_at_once_but_one);
    RUN(retention_is_capped);
    RUN(full_collection_applies_the_rule);
    RUN(statistics_print_retention);
    return rt_test_summary();
}
