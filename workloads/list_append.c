/* list_append.c -- append n boxed ints to a fresh list, rounds times.
 *
 * What it measures: the allocator and reference counting, not the
 * collector.  Each round makes one GC object (the list) and n boxed ints
 * (those past the immortal small ints come from the pools), and grows the
 * list's item array by CPython's over-allocation: about 100 reallocations
 * on the way to a million items, the array leaving the pools for the
 * system allocator past 512 bytes.  Dropping the list frees every int by
 * reference counting.  The young count hardly moves: no collection runs
 * but the harness's final one.  With --threads T each thread does every
 * round with a list of its own and its span of the n ints (parallel.h).
 *
 * Twin: python/list_append.py.
 */
#include "parallel.h"

enum { P_N, P_ROUNDS, P_THREADS };

/* Append the ints span.first .. span.first + span.n - 1 to lst. */
static int
append_ints(RtObject *lst, RtWorkloadSpan span)
{
    for (int64_t i = span.first, end = span.first + span.n; i < end; i++) {
        /* The value hidden from the optimizer: seen as the loop's index,
         * GCC kept a pointer into the small ints in step with it, an
         * instruction an append more than the loop from 0 it replaced
         * (callgrind, a million appends: 73.1 M; hidden, 71.1 M, against
         * the old loop's 72.1 M; biased 115.6 M and 113.6 M). */
        int64_t v = i;
        __asm__("" : "+r"(v));
        RtObject *value = rt_int_from(v);
        if (value == NULL)
            return -1;
        int status = rt_list_append(lst, value);    /* the list takes its own reference */
        rt_decref(value);
        if (status < 0)
            return -1;
    }
    return 0;
}

/* Every round with one thread's share of its ints (parallel.h: the live
 * heap stays one thread's); adds the items appended to *check. */
static int
append_rounds(void *arg, int index, int threads, int64_t *check)
{
    const int64_t *params = arg;
    const RtWorkloadSpan span = rt_workload_span(params[P_N], index, threads);
    for (int64_t r = 0; r < params[P_ROUNDS]; r++) {
        RtObject *lst = rt_list_new(0);
        if (lst == NULL)
            return -1;
        if (append_ints(lst, span) < 0) {
            rt_decref(lst);
            return -1;
        }
        *check += rt_list_size(lst);
        rt_decref(lst);     /* frees the list and its ints */
    }
    return 0;
}

static int
run_list_append(RtWorkloadCtx *ctx, const int64_t *params)
{
    int64_t check = 0;      /* items appended, over all rounds */
    if (rt_workload_parallel(ctx, params[P_THREADS], append_rounds, (void *)params, &check) < 0)
        return -1;
    rt_workload_result_int(ctx, "check", check);
    return 0;
}

const RtWorkload rt_workload_list_append = {
    .name = "list_append",
    .description = "append n boxed ints to a fresh list, rounds times",
    .params = {
        {"n", 1000000, 0, 0, "ints appended per round (split among the threads)"},
        {"rounds", 10, 0, 0, "rounds, each with a fresh list"},
        RT_WORKLOAD_THREADS_PARAM,
    },
    .run = run_list_append,
};
