/* test_alloc.c -- the allocator's API test.
 *
 * Strategy: every backend gets the same functional checks (sizes, alignment,
 * contents, realloc, statistics returning to zero); the pool backend then
 * gets checks of its policy (size classes, most-used arenas first, arenas
 * retained when free (test_arena.c), retained pools, the free caches, trim)
 * through the
 * internal validator;
 * the debug backend's reports are checked in forked children; the malloc
 * backend is checked to really be glibc's; fault injection and the options
 * table are checked last.  The randomized test is test_alloc_stress.c.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"
#include "prng.h"

#include <dlfcn.h>
#include <malloc.h>

static const size_t sizes[] = {0, 1, 8, 15, 16, 17, 31, 32, 33, 48, 64, 100, 127, 128, 129, 255, 256,
                               257, 384, 497, 511, 512, 513, 1000, 4096, 65536, 1 << 20};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i);
}

static bool
intact(const uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)(seed + i))
            return false;
    return true;
}

static void
check_backend(RtAllocKind kind)
{
    REQUIRE(rt_test_init(kind) == 0);
    CHECK_EQ(rt_alloc_current(), kind);
    void *blocks[NSIZES];
    for (size_t i = 0; i < NSIZES; i++) {
        blocks[i] = rt_malloc(sizes[i]);
        CHECK(blocks[i] != NULL);
        CHECK(((uintptr_t)blocks[i] & (RT_ALIGNMENT - 1)) == 0);
        fill(blocks[i], sizes[i], (uint8_t)i);
    }
    for (size_t i = 0; i < NSIZES; i++)
        CHECK(intact(blocks[i], sizes[i], (uint8_t)i));
    /* realloc keeps the common prefix, growing and shrinking across the
     * pool/large boundary. */
    for (size_t i = 0; i < NSIZES; i++) {
        size_t to = sizes[(i * 7 + 3) % NSIZES], keep = to < sizes[i] ? to : sizes[i];
        uint8_t *q = rt_realloc(blocks[i], to);
        CHECK(q != NULL);
        CHECK(intact(q, keep, (uint8_t)i));
        blocks[i] = q;
    }
    RtAllocStats st;
    rt_alloc_stats(&st);
    CHECK_EQ(st.blocks.current, (int64_t)NSIZES);
    for (size_t i = 0; i < NSIZES; i++)
        rt_free(blocks[i]);
    rt_free(NULL);
    uint8_t *z = rt_calloc(10, 37);
    CHECK(z != NULL);
    bool zero = true;
    for (size_t i = 0; z && i < 370; i++)
        zero = zero && z[i] == 0;
    CHECK(zero);
    rt_free(z);
    rt_alloc_stats(&st);
    CHECK_EQ(st.blocks.current, 0);
    CHECK_EQ(st.backend, kind);
    rt_fini();
}

TEST(every_backend_allocates_aligned_and_keeps_contents)
{
    for (int k = 0; k < RT_ALLOC_KIND_COUNT; k++) {
        if (!rt_alloc_available((RtAllocKind)k)) {
            printf("     (backend %s not available: %s)\n", rt_alloc_name((RtAllocKind)k),
                   rt_alloc_unavailable_reason((RtAllocKind)k));
            continue;
        }
        check_backend((RtAllocKind)k);
    }
}

TEST(backend_names_round_trip)
{
    for (int k = 0; k < RT_ALLOC_KIND_COUNT; k++) {
        RtAllocKind out;
        CHECK(rt_alloc_parse(rt_alloc_name((RtAllocKind)k), &out) == 0);
        CHECK_EQ(out, k);
    }
    RtAllocKind out;
    CHECK(rt_alloc_parse("tcmalloc", &out) == -1);
    CHECK(rt_alloc_parse("", &out) == -1);
    CHECK(rt_alloc_parse(NULL, &out) == -1);
}

TEST(pool_size_classes)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    RtPoolHeap *ph = &rti_runtime.heap.pool;
    for (size_t n = 1; n <= RT_SMALL_REQUEST_THRESHOLD; n++) {
        void *p = rt_malloc(n);
        CHECK_EQ(rti_pool_block_size(ph, p), ((n + 15) / 16) * 16);
        rt_free(p);
    }
    void *big = rt_malloc(RT_SMALL_REQUEST_THRESHOLD + 1), *zero = rt_malloc(0);
    CHECK_EQ(rti_pool_block_size(ph, big), 0);  /* large: malloc's */
    CHECK_EQ(rti_pool_block_size(ph, zero), 0); /* 0 bytes: malloc's, as obmalloc */
    rt_free(big);
    rt_free(zero);
    char err[200];
    CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    rt_fini();
}

#define ARENA_OF(p) ((uintptr_t)(p) & ~(uintptr_t)(RT_ARENA_SIZE - 1))
#define PER_POOL_512 (RT_POOL_SIZE / 512)
#define PER_ARENA_512 (PER_POOL_512 * (RTI_POOLS_PER_ARENA - RTI_FIRST_POOL))

/* Fill three arenas with 512-byte blocks, free all but one pool of the
 * first and two pools of the second: a new pool (for another class: the
 * 512-byte class retains one of the emptied pools) must come from the
 * second, the more used one. */
TEST(pool_prefers_most_used_arena)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    RtPoolHeap *ph = &rti_runtime.heap.pool;
    enum { N = 3 * PER_ARENA_512 };
    void **b = malloc(N * sizeof *b);
    REQUIRE(b != NULL);
    for (int i = 0; i < N; i++)
        b[i] = rt_malloc(512);
    uintptr_t a0 = ARENA_OF(b[0]), a1 = ARENA_OF(b[PER_ARENA_512]);
    CHECK(a0 != a1);
    for (int i = 0; i < N; i++) {
        uintptr_t a = ARENA_OF(b[i]);
        uint32_t slot = (uint32_t)RTI_POOL_SLOT(b[i]);
        bool drop = (a == a0 && slot > RTI_FIRST_POOL) || (a == a1 && slot < RTI_FIRST_POOL + 2);
        if (drop) {
            rt_free(b[i]);
            b[i] = NULL;
        }
    }
    char err[200];
    CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    void *fresh = rt_malloc(256);
    CHECK_EQ(ARENA_OF(fresh), a1);
    rt_free(fresh);
    RtAllocStats st;
    rt_alloc_stats(&st);
    CHECK_EQ(st.arenas.current, 3);
    for (int i = 0; i < N; i++)
        rt_free(b[i]);
    free(b);
    CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    rt_alloc_trim();
    rt_alloc_stats(&st);
    CHECK_EQ(st.arenas.current, 0);
    CHECK_EQ(st.pools.current, 0);
    CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    rt_fini();
}

/* An alloc/free pair in an otherwise empty class must not recycle the pool
 * through the arena every time: the pool is retained. */
TEST(pool_retains_last_pool_of_a_class)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    RtAllocStats before, after;
    void *p = rt_malloc(64);
    rt_free(p);
    rt_alloc_stats(&before);
    for (int i = 0; i < 1000; i++)
        rt_free(rt_malloc(64));
    rt_alloc_stats(&after);
    CHECK_EQ(after.pools.allocated, before.pools.allocated);
    CHECK_EQ(after.pools.current, 1);
    CHECK_EQ(after.small.current, 0);
    rt_alloc_trim();
    rt_alloc_stats(&after);
    CHECK_EQ(after.pools.current, 0);
    rt_fini();
}

/* An empty pool taken again hands its blocks out in address order, not in
 * the reverse order of their frees (pool.c, the departures): the objects
 * made next, and the collector's lists that keep their order, then walk
 * memory forwards.  Pool A's blocks are freed in a scrambled order while
 * pool C, part used, keeps A off the retained slot; once C is full, the
 * next pool taken is A, and it must count up from its first block. */
TEST(pool_empty_pool_is_carved_afresh)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    RtPoolHeap *ph = &rti_runtime.heap.pool;
    enum { SIZE = 64, CAP = RT_POOL_SIZE / SIZE, N = 2 * CAP + 1 };
    uint8_t **b = malloc(N * sizeof *b);
    REQUIRE(b != NULL);
    for (int i = 0; i < N; i++)
        b[i] = rt_malloc(SIZE);
    RtPool *a = RTI_POOL_OF(b[0]);
    for (int i = 0; i < CAP; i++)
        REQUIRE(RTI_POOL_OF(b[i]) == a);
    REQUIRE(RTI_POOL_OF(b[N - 1]) != RTI_POOL_OF(b[CAP]));     /* C: one block of CAP */
    for (int i = 0; i < CAP; i++) {
        int k = (i * 37) % CAP;     /* 37 and CAP are coprime: every block once */
        rt_free(b[k]);
        b[k] = NULL;
    }
    rti_pool_flush(ph);     /* the cached ones back to A: A is empty */
    char err[200];
    CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    uint8_t **c = malloc((CAP - 1) * sizeof *c);   /* fill C */
    uint8_t **again = malloc(CAP * sizeof *again);
    REQUIRE(c != NULL && again != NULL);
    for (int i = 0; i < CAP - 1; i++)
        c[i] = rt_malloc(SIZE);
    for (int i = 0; i < CAP; i++)
        again[i] = rt_malloc(SIZE);
    CHECK(RTI_POOL_OF(again[0]) == a);
    for (int i = 0; i < CAP; i++)
        CHECK(again[i] == (uint8_t *)RTI_POOL_MEM(a) + (size_t)i * SIZE);
    for (int i = 0; i < CAP; i++)
        rt_free(again[i]);
    for (int i = 0; i < CAP - 1; i++)
        rt_free(c[i]);
    for (int i = 0; i < N; i++)
        rt_free(b[i]);
    free(again);
    free(c);
    free(b);
    CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    RtAllocStats st;
    rt_alloc_stats(&st);
    CHECK_EQ(st.small.current, 0);
    rt_fini();
}

/* The free cache: last in, first out; cached blocks are free to the user
 * (the statistics) and go back to their pools on a trim. */
TEST(pool_free_cache_is_lifo)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    RtPoolHeap *ph = &rti_runtime.heap.pool;
    enum { N = 4 };
    void *b[N];
    for (int i = 0; i < N; i++)
        b[i] = rt_malloc(96);
    void *kept = rt_malloc(96);
    for (int i = 0; i < N; i++)
        rt_free(b[i]);
    RtAllocStats st;
    rt_alloc_stats(&st);
    CHECK_EQ(st.small.current, 1);
    CHECK_EQ(st.classes[5].blocks, 1);
    CHECK_EQ(ph->cache[5].n, N);
    char err[200];
    CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    CHECK(rt_malloc(96) == b[N - 1]);   /* the newest */
    CHECK(rt_malloc(96) == b[N - 2]);
    rt_free(b[N - 1]);
    CHECK(rt_malloc(96) == b[N - 1]);
    CHECK_EQ(ph->cache[5].n, N - 2);
    rt_free(b[N - 2]);
    rt_free(b[N - 1]);
    rt_free(kept);
    CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    rt_alloc_trim();
    rt_alloc_stats(&st);
    CHECK_EQ(ph->cache[5].n, 0);
    CHECK_EQ(st.pools.current, 0);
    CHECK_EQ(st.arenas.current, 0);
    rt_fini();
}

/* A full cache sends frees straight to their pools; when a block given back
 * empties its pool the class is shrinking, and the cache steps aside so
 * that arenas drain: eight arenas freed in random order, with no trim,
 * leave nothing cached and every arena wholly free but the one holding the
 * class's retained pool.  (Were the last 31 frees left cached, they would
 * pin most of the eight.)  The class's next new pool or refill makes the
 * cache work again. */
TEST(pool_free_cache_steps_aside_while_a_class_shrinks)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    RtPoolHeap *ph = &rti_runtime.heap.pool;
    enum { N = 8 * PER_ARENA_512 };
    void **b = malloc(N * sizeof *b);
    REQUIRE(b != NULL);
    for (int i = 0; i < N; i++)
        b[i] = rt_malloc(512);
    RtPrng prng;
    rt_prng_seed(&prng, 7);
    for (int i = N - 1; i > 0; i--) {   /* shuffle */
        int j = (int)rt_prng_below(&prng, (uint64_t)i + 1);
        void *t = b[i];
        b[i] = b[j];
        b[j] = t;
    }
    char err[200];
    const RtFreeCache *c = &ph->cache[31];
    for (int i = 0; i < N; i++) {
        rt_free(b[i]);
        CHECK(c->n <= RTI_CACHE_SIZE);
        if (i % 997 == 0)
            CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    }
    free(b);
    RtAllocStats st;
    rt_alloc_stats(&st);
    CHECK_EQ(c->n, 0);
    CHECK_EQ(c->limit, 0);
    CHECK(st.arenas.current - (int64_t)st.arenas_retained <= 1);
    CHECK(st.pools.current <= 1);
    CHECK_EQ(st.small.current, 0);
    CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    /* Growing again: a refill or a new pool restores the limit. */
    void *more[PER_POOL_512 + 1];
    for (int i = 0; i <= PER_POOL_512; i++)
        more[i] = rt_malloc(512);
    CHECK_EQ(c->limit, RTI_CACHE_SIZE);
    for (int i = 0; i < 8; i++)
        rt_free(more[i]);
    CHECK_EQ(c->n, 8);
    CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    for (int i = 8; i <= PER_POOL_512; i++)
        rt_free(more[i]);
    CHECK(rti_pools_validate(ph->ar, err, sizeof err) == 0);
    rt_fini();
}

TEST(pool_statistics_per_class)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    void *a[100];
    for (int i = 0; i < 100; i++)
        a[i] = rt_malloc(i < 60 ? 24 : 200);
    RtAllocStats st;
    rt_alloc_stats(&st);
    CHECK_EQ(st.classes[1].blocks, 60);
    CHECK_EQ(st.classes[1].size, 32);
    CHECK_EQ(st.classes[12].blocks, 40);
    CHECK_EQ(st.small.current, 100);
    CHECK(st.small.peak >= 100);
    CHECK_EQ(st.small_bytes, 60 * 32 + 40 * 208);
    for (int i = 0; i < 100; i++)
        rt_free(a[i]);
    rt_alloc_stats(&st);
    CHECK_EQ(st.small.current, 0);
    CHECK_EQ(st.small.freed, st.small.allocated);
    rt_fini();
}

/* RT_MALLOC=malloc must be glibc's allocator, also after mimalloc and
 * jemalloc were loaded into the process. */
TEST(malloc_backend_is_glibc)
{
    for (int k = RT_ALLOC_MIMALLOC; k <= RT_ALLOC_JEMALLOC; k++) {
        if (rt_alloc_available((RtAllocKind)k)) {
            REQUIRE(rt_test_init((RtAllocKind)k) == 0);
            rt_free(rt_malloc(100));
            rt_fini();
        }
    }
    REQUIRE(rt_test_init(RT_ALLOC_MALLOC) == 0);
    /* Loading mimalloc and jemalloc (RTLD_LOCAL) must not have replaced the
     * process's malloc: it is still libc's -- or, under a sanitizer, the
     * sanitizer's interceptor in the executable. */
    Dl_info global, backend;
    void *global_malloc = dlsym(RTLD_DEFAULT, "malloc");
    REQUIRE(global_malloc != NULL);
    REQUIRE(dladdr(global_malloc, &global) != 0 && global.dli_fname != NULL);
    REQUIRE(dladdr((void *)rt_allocator(RT_ALLOC_MALLOC)->malloc, &backend) != 0 && backend.dli_fname != NULL);
    CHECK(strstr(global.dli_fname, "mimalloc") == NULL && strstr(global.dli_fname, "jemalloc") == NULL);
    CHECK(strcmp(global.dli_fname, backend.dli_fname) == 0);
    /* A sanitizer's malloc interceptor lives in the executable; it may be
     * linked in (a fuzz build instruments only the runtime) without this
     * file being compiled with the sanitizer, so ask the process. */
    bool intercepted = RT_ASAN || RT_TSAN || dlsym(RTLD_DEFAULT, "__asan_init") != NULL
                       || dlsym(RTLD_DEFAULT, "__tsan_init") != NULL;
    if (!intercepted) {
        CHECK(strstr(global.dli_fname, "libc.so") != NULL);
        /* glibc's own bookkeeping sees the block. */
        struct mallinfo2 before = mallinfo2();
        void *p = rt_malloc(100000 / 4);
        struct mallinfo2 after = mallinfo2();
        CHECK(after.uordblks >= before.uordblks + 100000 / 4);
        rt_free(p);
    }
    rt_fini();
}

static void
double_free(void)
{
    rt_test_init(RT_ALLOC_DEBUG);
    void *p = rt_malloc(40);
    rt_free(p);
    rt_free(p);
}

static void
overrun(void)
{
    rt_test_init(RT_ALLOC_DEBUG);
    char *p = rt_malloc(40);
    p[40] = 'x';
    p[42] = 'y';
    rt_free(p);
}

static void
write_after_free(void)
{
    rt_test_init(RT_ALLOC_DEBUG);
    char *p = rt_malloc(40);
    rt_free(p);
    p[3] = 'z';
    for (int i = 0; i < RTI_DEBUG_QUARANTINE + 1; i++)
        rt_free(rt_malloc(16));
}

static void
foreign_pointer(void)
{
    rt_test_init(RT_ALLOC_DEBUG);
    char *p = rt_malloc(64);
    rt_free(p + 16);
}

TEST(debug_backend_reports_misuse)
{
    CHECK(rt_test_dies(double_free, "double free: block"));
    CHECK(rt_test_dies(overrun, "overrun: 3 byte(s) written past the end"));
    CHECK(rt_test_dies(write_after_free, "write after free: block"));
    CHECK(rt_test_dies(foreign_pointer, "not the start of a block"));
    /* Reports name the size. */
    CHECK(rt_test_dies(double_free, "(size 40)"));
}

TEST(debug_backend_fills_and_poisons)
{
    REQUIRE(rt_test_init(RT_ALLOC_DEBUG) == 0);
    uint8_t *p = rt_malloc(32);
    CHECK(p[0] == 0xCD && p[31] == 0xCD);
    rt_free(p);
    CHECK(p[0] == 0xDD && p[31] == 0xDD);   /* parked in the quarantine */
    rt_fini();
}

TEST(fault_injection_fails_the_nth_allocation)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    rt_fault_inject(3, false);
    void *a = rt_malloc(16), *b = rt_malloc(16);
    CHECK(a != NULL && b != NULL);
    CHECK_EQ(rt_fault_countdown(), 1);
    rt_error_clear();
    void *c = rt_malloc(16);
    CHECK(c == NULL);
    CHECK_EQ(rt_error(), RT_ERR_NOMEM);
    CHECK_EQ(rt_fault_fired(), 1);
    void *d = rt_malloc(16);    /* transient: the next one works */
    CHECK(d != NULL);
    rt_fault_inject(1, true);
    CHECK(rt_malloc(16) == NULL);
    CHECK(rt_realloc(d, 1000) == NULL); /* d is left alone */
    CHECK(rt_calloc(2, 8) == NULL);
    CHECK_EQ(rt_fault_fired(), 3);
    rt_fault_inject(0, false);
    CHECK(rti_runtime.heap.fast_small != 0);
    RtAllocStats st;
    rt_alloc_stats(&st);
    CHECK_EQ(st.faults_injected, 0);    /* re-arming resets the count */
    rt_free(a);
    rt_free(b);
    rt_free(d);
    /* Counting mode: arm far away and read how many were made. */
    rt_fault_inject(UINT64_MAX, false);
    for (int i = 0; i < 5; i++)
        rt_free(rt_malloc(8));
    CHECK_EQ(UINT64_MAX - rt_fault_countdown(), 5);
    rt_fault_inject(0, false);
    rt_fini();
}

TEST(calloc_overflow_and_uninitialized_runtime)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    CHECK(rt_calloc(SIZE_MAX / 2, 4) == NULL);
    CHECK_EQ(rt_error(), RT_ERR_NOMEM);
    rt_fini();
    rt_error_clear();
    CHECK(rt_malloc(10) == NULL);
    CHECK_EQ(rt_error(), RT_ERR_STATE);
    CHECK(rt_gc_collect(0) == -1);
    RtConfig cfg;
    rt_config_default(&cfg);
    cfg.gc_threshold[1] = -1;
    CHECK(rt_init_ex(&cfg) == -1);
    CHECK_EQ(rt_error(), RT_ERR_VALUE);
    rt_config_default(&cfg);
    cfg.arena_decay_ms = -1;
    CHECK(rt_init_ex(&cfg) == -1);
    CHECK_EQ(rt_error(), RT_ERR_VALUE);
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    CHECK(rt_test_init(RT_ALLOC_POOL) == -1);  /* already running */
    CHECK_EQ(rt_error(), RT_ERR_STATE);
    rt_fini();
}

TEST(options_table_parses_and_rejects)
{
    long t[3] = {1, 2, 3};
    CHECK_EQ(rt_parse_threshold("5000", t), 1);
    CHECK(t[0] == 5000 && t[1] == 2 && t[2] == 3);
    CHECK_EQ(rt_parse_threshold("0,0,100", t), 3);
    CHECK(t[0] == 0 && t[1] == 0 && t[2] == 100);
    const char *bad[] = {"", "-1", "1,", ",1", "1,2,3,4", "1.5", "abc", "1,,2", " 1", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(rt_parse_threshold(bad[i], t), -1);
    CHECK(t[0] == 0 && t[2] == 100);

    RtConfig cfg;
    rt_config_default(&cfg);
    setenv("RT_MALLOC", "malloc", 1);
    setenv("RT_GC_THRESHOLD", "100,5", 1);
    setenv("RT_GC", "off", 1);
    setenv("RT_FAIL_AFTER", "7+", 1);
    setenv("RT_ARENA_DECAY_MS", "250", 1);
    CHECK_EQ(cfg.gc_parallel_min, RT_GC_PARALLEL_DEFAULT);
    setenv("RT_GC_PARALLEL", "off", 1);
    CHECK_EQ(rt_config_from_env(&cfg, NULL), 0);
    CHECK_EQ(cfg.gc_parallel_min, RT_GC_GENERATIONS);
    CHECK_EQ(cfg.arena_decay_ms, 250);
    static const char *const parallel[] = {"0", "1", "2"};
    for (int g = 0; g < RT_GC_GENERATIONS; g++) {
        setenv("RT_GC_PARALLEL", parallel[g], 1);
        CHECK_EQ(rt_config_from_env(&cfg, NULL), 0);
        CHECK_EQ(cfg.gc_parallel_min, g);
    }
    static const char *const bad_parallel[] = {"3", "on", "yes", "1x", "-1", " 1"};
    for (size_t i = 0; i < sizeof bad_parallel / sizeof bad_parallel[0]; i++) {
        setenv("RT_GC_PARALLEL", bad_parallel[i], 1);
        CHECK_EQ(rt_config_from_env(&cfg, NULL), 1);
        CHECK_EQ(cfg.gc_parallel_min, 2);   /* kept */
    }
    unsetenv("RT_GC_PARALLEL");
    CHECK_EQ(cfg.alloc, RT_ALLOC_MALLOC);
    CHECK(cfg.gc_threshold[0] == 100 && cfg.gc_threshold[1] == 5 && cfg.gc_threshold[2] == 10);
    CHECK(!cfg.gc_enabled);
    CHECK(cfg.fail_after == 7 && cfg.fail_persistent);
    setenv("RT_MALLOC", "tcmalloc", 1);
    setenv("RT_GC_THRESHOLD", "x", 1);
    setenv("RT_GC", "maybe", 1);
    setenv("RT_FAIL_AFTER", "7-", 1);
    setenv("RT_ARENA_DECAY_MS", "86400001", 1);     /* more than a day */
    char *text = NULL;
    size_t len = 0;
    FILE *warn = open_memstream(&text, &len);
    CHECK_EQ(rt_config_from_env(&cfg, warn), 5);
    fclose(warn);
    CHECK(strstr(text, "RT_MALLOC has an invalid value 'tcmalloc' (accepted: pool|malloc|debug") != NULL);
    CHECK(strstr(text, "keeping the default") != NULL);
    free(text);
    CHECK_EQ(cfg.alloc, RT_ALLOC_MALLOC);   /* unchanged by the bad values */
    CHECK(cfg.gc_threshold[0] == 100 && !cfg.gc_enabled);
    CHECK_EQ(cfg.arena_decay_ms, 250);
    const char *bad_decay[] = {"-1", "1.5", "10ms", " 5"};
    for (size_t i = 0; i < sizeof bad_decay / sizeof bad_decay[0]; i++) {
        setenv("RT_ARENA_DECAY_MS", bad_decay[i], 1);
        CHECK_EQ(rt_config_from_env(&cfg, NULL), 5);
    }
    CHECK_EQ(cfg.arena_decay_ms, 250);
    unsetenv("RT_ARENA_DECAY_MS");
    unsetenv("RT_MALLOC");
    unsetenv("RT_GC_THRESHOLD");
    unsetenv("RT_GC");
    unsetenv("RT_FAIL_AFTER");
}

TEST(stats_print_says_ok_or_not_all_freed)
{
    REQUIRE(rt_test_init(RT_ALLOC_POOL) == 0);
    char *text = NULL;
    size_t len = 0;
    void *p = rt_malloc(100);
    FILE *out = open_memstream(&text, &len);
    rt_print_stats(out);
    fclose(out);
    CHECK(strstr(text, "not all freed") != NULL);
    CHECK(strstr(text, "backend pool") != NULL);
    free(text);
    rt_free(p);
    out = open_memstream(&text, &len);
    rt_alloc_print_stats(out);
    fclose(out);
    CHECK(strstr(text, "not all freed") == NULL);
    CHECK(strstr(text, " ok") != NULL);
    free(text);
    rt_fini();
}

int
main(void)
{
    RUN(backend_names_round_trip);
    RUN(every_backend_allocates_aligned_and_keeps_contents);
    RUN(pool_size_classes);
    RUN(pool_prefers_most_used_arena);
    RUN(pool_retains_last_pool_of_a_class);
    RUN(pool_empty_pool_is_carved_afresh);
    RUN(pool_free_cache_is_lifo);
    RUN(pool_free_cache_steps_aside_while_a_class_shrinks);
    RUN(pool_statistics_per_class);
    RUN(malloc_backend_is_glibc);
    RUN(debug_backend_reports_misuse);
    RUN(debug_backend_fills_and_poisons);
    RUN(fault_injection_fails_the_nth_allocation);
    RUN(calloc_overflow_and_uninitialized_runtime);
    RUN(options_table_parses_and_rejects);
    RUN(stats_print_says_ok_or_not_all_freed);
    return rt_test_summary();
}
