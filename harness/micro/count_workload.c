/* count_workload.c -- rtbench-count WORKLOAD [--PARAM V ...]: run one
 * workload as the harness's worker does (a fresh runtime with the default
 * configuration, the run, one final full collection), for instruction counts
 * under callgrind (scripts/instructions-per-op).
 *
 * The run and the final collection sit between two callgrind client
 * requests that toggle collection, so that under
 *     valgrind --tool=callgrind --collect-atstart=no build/release/rtbench-count ...
 * the totals count the workload alone: no start-up, argument parsing or
 * teardown.  Natively the requests are a few no-op instructions.
 *
 * Prints the workload's "check" result on stdout (the number of operations
 * of some workloads: binary_trees' Nodes).  Its workload context (as
 * workloads/selftest.c's) keeps the check and drops the marks.
 */
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

typedef struct CountCtx {
    RtWorkloadCtx base;     /* first: the workloads see this */
    int64_t check;
} CountCtx;

static void mark(RtWorkloadCtx *c, const char *name, int64_t live) { (void)c, (void)name, (void)live; }
static void result_double(RtWorkloadCtx *c, const char *key, double v) { (void)c, (void)key, (void)v; }

static void
result_int(RtWorkloadCtx *c, const char *key, int64_t v)
{
    if (strcmp(key, "check") == 0)
        ((CountCtx *)c)->check = v;
}

/* A thread of the workload's: callgrind switches counting per thread. */
static void thread_part(RtWorkloadCtx *c, bool begin) { (void)c, (void)begin; CALLGRIND_TOGGLE_COLLECT; }

static const RtWorkloadOps count_ops = {mark, result_int, result_double, thread_part};

static int
usage(const char *why)
{
    fprintf(stderr, "rtbench-count: %s\nusage: rtbench-count WORKLOAD [--PARAM VALUE ...]\n", why);
    return 2;
}

int
main(int argc, char **argv)
{
    const RtWorkload *w = argc > 1 ? rt_workload_find(argv[1]) : NULL;
    if (w == NULL)
        return usage("unknown or missing workload");
    int64_t params[RT_WORKLOAD_MAX_PARAMS];
    int np = rt_workload_nparams(w);
    for (int p = 0; p < np; p++)
        params[p] = w->params[p].def;
    for (int i = 2; i < argc; i += 2) {
        int p = 0;
        while (p < np && !(strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, w->params[p].name) == 0))
            p++;
        char *end = NULL;
        long long v = i + 1 < argc ? strtoll(argv[i + 1], &end, 10) : -1;
        if (p == np || end == argv[i + 1] || *end != '\0' || v < w->params[p].min)
            return usage("bad parameter");
        params[p] = v;
    }
    if (rt_init() != 0) {
        fprintf(stderr, "rtbench-count: %s\n", rt_error_message());
        return 1;
    }
    CountCtx ctx = {.base.ops = &count_ops, .check = -1};
    CALLGRIND_TOGGLE_COLLECT;
    int status = w->run(&ctx.base, params);
    rt_gc_collect(2);
    CALLGRIND_TOGGLE_COLLECT;
    if (status != 0)
        fprintf(stderr, "rtbench-count: %s: %s\n", w->name, rt_error_message());
    rt_fini();
    printf("%lld\n", (long long)ctx.check);
    return status != 0;
}
