/* selftest.c -- every workload at small sizes, then a fault walk over each.
 *
 * Each run has a fresh runtime with the default configuration, as in the
 * harness's worker.  At test_twins.py's sizes: the results match the closed
 * forms the twins are tested against, the collections find exactly the
 * cyclic garbage made, and after the final full collection no object or
 * block is left.  The fault walk fails each of a tiny run's allocations in
 * turn (once, then from there on): the run must succeed with the right
 * checksum or fail with RT_ERR_NOMEM, and after a full collection leave
 * nothing behind -- no leak, nothing half-built still reachable.
 *
 * Its context's callbacks keep results and marks in memory.  Exit status: failed checks.
 */
#define _POSIX_C_SOURCE 200809L
#include "parallel.h"
#include "prng.h"
#include "workload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== the context: results and marks in memory ========================= */

#define MAX_RECORDS 8       /* results or marks per run: 5 at most today */

typedef struct Table {
    const char *names[MAX_RECORDS];     /* the workloads pass literals */
    int64_t values[MAX_RECORDS];        /* an int result, a mark's live bytes */
    int n;
    bool overflow;                      /* a record did not fit */
} Table;

typedef struct SelftestCtx {
    RtWorkloadCtx base;     /* first: the workloads see this */
    Table results, marks;
} SelftestCtx;

static void
append(Table *t, const char *name, int64_t value)
{
    t->overflow |= t->n == MAX_RECORDS;
    if (!t->overflow) {
        t->names[t->n] = name;
        t->values[t->n++] = value;
    }
}

/* The value of the last row of that name (a later result replaces an
 * earlier one), or -1 when there is none. */
static int64_t
lookup(const Table *t, const char *name)
{
    for (int i = t->n; i-- > 0;)
        if (strcmp(t->names[i], name) == 0)
            return t->values[i];
    return -1;
}

static void mark(RtWorkloadCtx *c, const char *name, int64_t live) { append(&((SelftestCtx *)c)->marks, name, live); }
static void result_int(RtWorkloadCtx *c, const char *key, int64_t v) { append(&((SelftestCtx *)c)->results, key, v); }
/* A double result (a duration) reads as 1 when it is >= 0, else 0. */
static void result_double(RtWorkloadCtx *c, const char *key, double s) { append(&((SelftestCtx *)c)->results, key, s >= 0); }
static const RtWorkloadOps selftest_ops = {mark, result_int, result_double, NULL};

static int failures;

/* CHECK(condition, format, ...): on failure, count it and say why. */
#define CHECK(cond, ...)                                                            \
    do {                                                                            \
        if (!(cond)) {                                                              \
            failures++;                                                             \
            fprintf(stderr, "  %s:%d: failed: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                           \
            fputc('\n', stderr);                                                    \
        }                                                                           \
    } while (0)

/* ==== the expected checksums (test_twins.py's closed forms) ============= */

/* Parameters in descriptor order. */
static int64_t list_append_check(const int64_t *p) { return p[0] * p[1]; }
static int64_t dict_churn_check(const int64_t *p) { return p[0] * p[1] + p[0] * (p[0] - 1) / 2; }
static int64_t gc_collect_check(const int64_t *p) { return p[1] == 0 ? 0 : p[2] * p[0] * (p[1] + 1); }
static int64_t gc_traversal_check(const int64_t *p) { return p[0] * (p[0] - 1) / 2; }

static int64_t
cycle_storm_check(const int64_t *p)
{
    int64_t pairs = (p[0] + 2) / 3, selves = (p[0] + 1) / 3, rings = p[0] / 3;
    return p[2] * (2 * pairs + selves + p[1] * rings);
}

static int64_t
binary_trees_check(const int64_t *p)
{
    int64_t depth = p[0], check = ((int64_t)2 << depth) - 1;
    for (int64_t d = 4; d <= depth; d += 2)
        check += ((int64_t)1 << (depth - d + 4)) * (((int64_t)2 << d) - 1);
    return check;
}

static int64_t
long_lived_check(const int64_t *p)
{
    int64_t m = p[0], n = p[1], every = n / m > 1 ? n / m : 1, old = (n + every - 1) / every;
    return 2 * n + (old < m ? old : m);
}

/* Draw as the workload does (n sizes, then n keep-or-drop draws); return
 * the strings held, and the bytes made and kept. */
static int64_t
fragmentation_draw(const int64_t *p, int64_t *allocated, int64_t *kept)
{
    int64_t held = 0;
    RtPrng sizes, drops;
    rt_prng_seed(&sizes, (uint64_t)p[2]);
    rt_prng_seed(&drops, (uint64_t)p[2]);
    for (int64_t i = 0; i < p[0]; i++)
        rt_prng_next(&drops);
    *allocated = *kept = 0;
    for (int64_t i = 0; i < p[0]; i++) {
        int64_t size = 1 + (int64_t)rt_prng_below(&sizes, 400);     /* 1..MAX_SIZE bytes */
        *allocated += size;
        if (rt_prng_below(&drops, 100) < (uint64_t)p[1]) {         /* keep percent */
            held++;
            *kept += size;
        }
    }
    return held;
}

static int64_t
fragmentation_check(const int64_t *p)
{
    return fragmentation_draw(p, &(int64_t){0}, &(int64_t){0});
}

/* shared_refs on one thread: thread 0's stream (seed 1) picks n keys. */
static int64_t
shared_refs_check(const int64_t *p)
{
    RtPrng r;
    rt_prng_seed(&r, 1);
    int64_t sum = 0;
    for (int64_t i = 0; i < p[1]; i++)
        sum += 1000 + (int64_t)rt_prng_below(&r, (uint64_t)p[0]);
    return sum;
}

/* What the collections find over a whole run: nothing where reference
 * counting frees it all, long_lived's pairs, and in cycle_storm and
 * gc_collect every Node the checksum counts. */
static int64_t no_garbage(const int64_t *p) { (void)p; return 0; }
static int64_t long_lived_pairs(const int64_t *p) { return 2 * p[1]; }

static const struct Case {
    const char *name;
    int64_t (*check)(const int64_t *params), (*garbage)(const int64_t *params);
    int64_t tiny[RT_WORKLOAD_MAX_PARAMS];   /* the fault walk's size */
} cases[] = {
    {"list_append", list_append_check, no_garbage, {600, 2}},
    {"dict_churn", dict_churn_check, no_garbage, {20, 60}},
    {"cycle_storm", cycle_storm_check, cycle_storm_check, {300, 3, 2}},
    {"binary_trees", binary_trees_check, no_garbage, {6}},
    {"long_lived", long_lived_check, long_lived_pairs, {5, 400}},
    {"fragmentation", fragmentation_check, no_garbage, {100, 30, 3}},
    {"gc_collect", gc_collect_check, gc_collect_check, {3, 2, 2}},
    {"gc_traversal", gc_traversal_check, no_garbage, {12, 2}},
    {"shared_refs", shared_refs_check, no_garbage, {10, 200, 4}},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* test_twins.py's CASES, then its edge sizes: (index in cases, parameters). */
static const struct {
    size_t c;
    int64_t params[RT_WORKLOAD_MAX_PARAMS];
} runs[] = {
    {0, {1000, 3}}, {1, {50, 400}}, {2, {1000, 5, 2}}, {3, {8}}, {4, {30, 2000}}, {5, {2000, 10, 7}},
    {6, {10, 4, 3}}, {7, {60, 3}}, {0, {0, 10}}, {1, {0, 5}}, {2, {4, 1, 1}}, {3, {0}}, {3, {5}},
    {4, {5, 3}}, {5, {0, 10, 1}}, {6, {5, 0, 2}}, {7, {0, 0}},
};

static void
start_runtime(void)
{
    RtConfig cfg;
    rt_config_default(&cfg);
    if (rt_init_ex(&cfg) != 0) {
        fprintf(stderr, "cannot start the runtime: %s\n", rt_error_message());
        exit(1);
    }
}

/* Objects and blocks still alive: none, once the final collection ran. */
static void
check_heap_empty(const char *name, uint64_t nth)
{
    RtTypeStats ts[RT_MAX_TYPES];
    RtAllocStats st;
    int64_t objects = 0;
    size_t n = rt_type_stats(ts, RT_MAX_TYPES);
    for (size_t i = 0; i < n && i < RT_MAX_TYPES; i++)
        objects += ts[i].live;
    rt_alloc_stats_counts(&st);
    CHECK(objects == 0 && st.blocks.current == 0, "%s, fault %" PRIu64 ": %" PRId64 " objects, %" PRId64
          " blocks left", name, nth, objects, st.blocks.current);
}

/* fragmentation's byte counts, and its marks with their live bytes. */
static void
check_fragmentation(const SelftestCtx *ctx, const int64_t *params)
{
    int64_t allocated, kept;
    fragmentation_draw(params, &allocated, &kept);
    const Table *r = &ctx->results;
    CHECK(lookup(r, "allocated_bytes") == allocated && lookup(r, "kept_bytes") == kept, "byte counts");
    static const char *const names[] = {"allocated", "freed", "collected", "dropped", "trimmed"};
    const int64_t live[] = {allocated, kept, kept, 0, 0};
    CHECK(ctx->marks.n == 5, "%d marks", ctx->marks.n);
    for (int i = 0; i < ctx->marks.n && i < 5; i++)
        CHECK(strcmp(ctx->marks.names[i], names[i]) == 0 && ctx->marks.values[i] == live[i], "mark %s %" PRId64,
              ctx->marks.names[i], ctx->marks.values[i]);
}

/* Run c's workload at params and check what it reports and leaves. */
static void
check_run(const struct Case *c, const int64_t *params)
{
    start_runtime();
    SelftestCtx ctx = {.base.ops = &selftest_ops};
    int status = rt_workload_find(c->name)->run(&ctx.base, params);
    CHECK(status == 0, "%s: %s", c->name, rt_error_message());
    rt_gc_collect(2);   /* the harness's final collection */
    int64_t expected = c->check(params), collected = 0;
    CHECK(lookup(&ctx.results, "check") == expected, "%s: check %" PRId64 ", expected %" PRId64, c->name,
          lookup(&ctx.results, "check"), expected);
    RtGcGenStats st[RT_GC_GENERATIONS];
    rt_gc_get_stats(st);
    for (int g = 0; g < RT_GC_GENERATIONS; g++)
        collected += (int64_t)st[g].collected;
    CHECK(collected == c->garbage(params), "%s: %" PRId64 " collected", c->name, collected);
    CHECK(!ctx.results.overflow && !ctx.marks.overflow, "%s: too many records", c->name);
    if (strcmp(c->name, "fragmentation") == 0)
        check_fragmentation(&ctx, params);
    if (strncmp(c->name, "gc_", 3) == 0)
        CHECK(lookup(&ctx.results, "collect_s") == 1, "%s: no collect_s", c->name);
    check_heap_empty(c->name, 0);
    rt_fini();
}

/* Run c's workload at its tiny size with the nth allocation failing (once,
 * or from there on when persistent; nth 0: none), check the outcome and the
 * heap after a full collection, and return the allocations it made. */
static uint64_t
faulty_run(const struct Case *c, uint64_t nth, bool persistent)
{
    start_runtime();
    SelftestCtx ctx = {.base.ops = &selftest_ops};
    rt_fault_inject(nth != 0 ? nth : UINT64_MAX, persistent);
    int status = rt_workload_find(c->name)->run(&ctx.base, c->tiny);
    uint64_t made = UINT64_MAX - rt_fault_countdown();
    rt_fault_inject(0, false);
    CHECK(status == 0 || (status == -1 && rt_error() == RT_ERR_NOMEM), "%s, fault at %" PRIu64 ": %d, %s",
          c->name, nth, status, rt_error_message());
    /* A run that succeeds anyway must still be right. */
    CHECK(status != 0 || lookup(&ctx.results, "check") == c->check(c->tiny), "%s, fault at %" PRIu64, c->name,
          nth);
    rt_gc_collect(2);
    check_heap_empty(c->name, nth);
    rt_fini();
    return made;
}

/* Count the run's allocations, then fail each in turn; stop at the first
 * failed check (the rest would repeat it). */
static void
fault_walk(const struct Case *c)
{
    int before = failures;
    uint64_t sites = faulty_run(c, 0, false);
    for (uint64_t nth = 1; nth <= sites && failures == before; nth++) {
        faulty_run(c, nth, false);
        faulty_run(c, nth, true);
    }
    printf("%s fault walk %-14s %5" PRIu64 " allocation sites\n", failures == before ? "ok  " : "FAIL", c->name,
           sites);
}

/* The registry: README order, lookups, sane parameters. */
static void
check_registry(void)
{
    size_t n = 0;
    for (const RtWorkload *w; (w = rt_workloads[n]) != NULL; n++) {
        CHECK(n < NCASES && strcmp(w->name, cases[n].name) == 0 && rt_workload_find(w->name) == w, "%s", w->name);
        for (int p = 0; p < rt_workload_nparams(w); p++)
            CHECK(w->params[p].help != NULL && w->params[p].def >= w->params[p].min &&
                  (w->params[p].max == 0 || w->params[p].def <= w->params[p].max), "%s", w->params[p].name);
    }
    CHECK(n == NCASES && rt_workload_find("nope") == NULL, "%zu workloads", n);
}

/* rt_workload_span: the threads' spans are consecutive in thread order,
 * cover 0..total-1 once, and each holds rt_workload_share's count. */
static void
check_spans(void)
{
    for (int64_t total = 0; total <= 40; total++)
        for (int threads = 1; threads <= 9; threads++) {
            int64_t next = 0;
            for (int i = 0; i < threads; i++) {
                RtWorkloadSpan span = rt_workload_span(total, i, threads);
                CHECK(span.first == next && span.n == rt_workload_share(total, i, threads),
                      "span %d of %d of %" PRId64 ": [%" PRId64 ", +%" PRId64 ")", i, threads, total, span.first,
                      span.n);
                next = span.first + span.n;
            }
            CHECK(next == total, "the spans of %" PRId64 " over %d threads end at %" PRId64, total, threads, next);
        }
}

int
main(void)
{
    check_registry();
    check_spans();
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        int before = failures;
        const RtWorkload *w = rt_workload_find(cases[runs[i].c].name);
        check_run(&cases[runs[i].c], runs[i].params);
        printf("%s run        %-14s", failures == before ? "ok  " : "FAIL", w->name);
        for (int p = 0; p < rt_workload_nparams(w); p++)
            printf(" --%s %" PRId64, w->params[p].name, runs[i].params[p]);
        putchar('\n');
    }
    for (size_t i = 0; i < NCASES; i++)
        fault_walk(&cases[i]);
    printf("%d failed check(s)\n", failures);
    return failures > 125 ? 125 : failures;
}
