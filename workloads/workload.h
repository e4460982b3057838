/* workload.h -- what a workload is, and what it may ask of the harness.
 *
 * A workload is a descriptor (RtWorkload) in its own file: a name, a
 * one-line description, its parameters with defaults, and a run function.
 * The harness (harness/worker.c) starts the runtime with the configuration
 * under test, calls run() between its clocks, runs one counted full
 * collection after it, and reports what it measured.  workloads/README.md
 * says what each workload does; workloads/python/ holds their CPython twins.
 *
 * A run function:
 *   - gets the parameters in the order of the descriptor's 'params';
 *   - uses only the runtime's public API (rt/rt.h);
 *   - returns 0, or -1 with rt_error() set when an operation failed (out of
 *     memory above all: the fault-injection walks fail every allocation in
 *     turn), having released everything it held -- no leak, no half-built
 *     object graph left reachable;
 *   - records its checksum with rt_workload_result_int(ctx, "check", ...)
 *     and may record other values and RSS marks.
 */
#ifndef RT_WORKLOAD_H
#define RT_WORKLOAD_H

#include "rt/rt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RT_WORKLOAD_MAX_PARAMS 6

/* The README's Node: a class with two slots, made by
 * rt_class_new("Node", RT_NODE_SLOTS, 0, NULL). */
enum { RT_NODE_NEXT, RT_NODE_OTHER, RT_NODE_SLOTS };

typedef struct RtWorkloadParam {
    const char *name;       /* the command-line option is --NAME */
    int64_t def;            /* default */
    int64_t min;            /* smallest accepted value (0 unless more is needed) */
    int64_t max;            /* largest accepted value; 0: no limit */
    const char *help;       /* one line */
} RtWorkloadParam;

/* What a run may ask of the program running it (the harness's worker, or the
 * selftest): a table of callbacks in the context, so that the workloads
 * depend on no program -- the program embeds an RtWorkloadCtx as the first
 * member of its own context and fills 'ops'. */
typedef struct RtWorkloadCtx RtWorkloadCtx;
typedef struct RtWorkloadOps {
    void (*mark)(RtWorkloadCtx *ctx, const char *name, int64_t live_bytes);
    void (*result_int)(RtWorkloadCtx *ctx, const char *key, int64_t value);
    void (*result_double)(RtWorkloadCtx *ctx, const char *key, double value);
    /* A thread of the run's own (rt_workload_parallel) starts (begin) or
     * ends its part, on that thread; NULL: nothing to do.  The worker
     * counts such threads' instructions too (callgrind switches counting
     * per thread). */
    void (*thread)(RtWorkloadCtx *ctx, bool begin);
} RtWorkloadOps;
/* The most threads rt_workload_parallel starts (parallel.h). */
#define RT_WORKLOAD_MAX_THREADS 1024
struct RtWorkloadCtx {
    const RtWorkloadOps *ops;
    /* 0: rt_workload_parallel runs every part of the work; k > 0: only part
     * k - 1 of the threads asked, on the calling thread -- the same share in
     * a process of its own, so that T such processes at once show what the
     * machine gives T independent workers (scripts/scaling). */
    int only_part;
};

typedef struct RtWorkload {
    const char *name;
    const char *description;
    RtWorkloadParam params[RT_WORKLOAD_MAX_PARAMS];    /* up to the first NULL name */
    int (*run)(RtWorkloadCtx *ctx, const int64_t *params);
} RtWorkload;

/* The workloads, NULL-terminated (workloads/registry.c). */
extern const RtWorkload *const rt_workloads[];
const RtWorkload *rt_workload_find(const char *name);
int rt_workload_nparams(const RtWorkload *w);

/* ---- what a run may ask of the program running it ---- */

/* Record the RSS now, under a name, with the bytes the workload knows it
 * holds (live_bytes < 0: unknown). */
static inline void
rt_workload_mark(RtWorkloadCtx *ctx, const char *name, int64_t live_bytes)
{
    ctx->ops->mark(ctx, name, live_bytes);
}

/* Record a value in the run's "result" object (a later call with the same
 * key replaces the value). */
static inline void
rt_workload_result_int(RtWorkloadCtx *ctx, const char *key, int64_t value)
{
    ctx->ops->result_int(ctx, key, value);
}

static inline void
rt_workload_result_double(RtWorkloadCtx *ctx, const char *key, double value)
{
    ctx->ops->result_double(ctx, key, value);
}

#ifdef __cplusplus
}
#endif

#endif /* RT_WORKLOAD_H */
