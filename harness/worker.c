/* worker.c -- the child process of one sample (rtbench __worker ...).
 *
 * The parent (runner.c) starts a fresh worker per sample so that the peak
 * RSS, the page faults and the heap belong to that sample alone.  The worker
 * starts the runtime with the configuration under test, runs the workload
 * between two reads of the monotonic clock -- the final full collection
 * included, as the Python twin's driver does -- and writes one JSON object
 * on the result descriptor: wall time, the collector's statistics and
 * pauses, the allocator's statistics, a memory profile at the peak, the
 * workload's marks and results (workloads/README.md, "What a run reports").
 *
 * The memory profile is taken when the blocks in use reach a new high at a
 * collection, a mark, or the end of the run: live objects and bytes per
 * type, blocks per size class -- in the spirit of tracemalloc's snapshot at
 * the peak, without a hook on every allocation.
 *
 *   rtbench __worker WORKLOAD --result-fd N [--PARAM V ...] [--threshold T0,T1,T2]
 *                    [--gc on|off] [--alloc BACKEND] [--gc-timing on|off]
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "procfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct RtWorkloadCtx {
    Rtj *result;
    Rtj *marks;
    double start;
    int64_t peak_blocks;    /* blocks in use at the last profile */
    Rtj *profile;
};

/* ==== the memory profile ================================================= */

static Rtj *
profile_now(double t)
{
    Rtj *p = rtj_object(), *types = rtj_array(), *classes = rtj_array();
    RtTypeStats ts[RT_MAX_TYPES];
    size_t n = rt_type_stats(ts, RT_MAX_TYPES);
    for (size_t i = 0; i < n && i < RT_MAX_TYPES; i++) {
        Rtj *t1 = rtj_append(types, rtj_object());
        rtj_set(t1, "name", rtj_string(ts[i].name));
        rtj_set(t1, "live", rtj_integer(ts[i].live));
        rtj_set(t1, "bytes", rtj_integer(ts[i].bytes));
        rtj_set(t1, "live_peak", rtj_integer(ts[i].live_peak));
        rtj_set(t1, "bytes_peak", rtj_integer(ts[i].bytes_peak));
        rtj_set(t1, "allocated", rtj_integer((int64_t)ts[i].allocated));
    }
    RtAllocStats st;
    rt_alloc_stats(&st);
    for (int c = 0; c < RT_NB_SMALL_SIZE_CLASSES; c++) {
        if (st.classes[c].pools == 0)
            continue;
        Rtj *c1 = rtj_append(classes, rtj_object());
        rtj_set(c1, "size", rtj_integer(st.classes[c].size));
        rtj_set(c1, "blocks", rtj_integer((int64_t)st.classes[c].blocks));
        rtj_set(c1, "pools", rtj_integer(st.classes[c].pools));
    }
    rtj_set(p, "t_s", rtj_number(t));
    rtj_set(p, "blocks_in_use", rtj_integer(st.blocks.current));
    rtj_set(p, "types", types);
    rtj_set(p, "size_classes", classes);
    return p;
}

static void
profile_consider(RtWorkloadCtx *ctx)
{
    RtAllocStats st;
    rt_alloc_stats_counts(&st);
    if (ctx->profile != NULL && st.blocks.current <= ctx->peak_blocks)
        return;
    ctx->peak_blocks = st.blocks.current;
    rtj_free(ctx->profile);
    ctx->profile = profile_now(rt_monotonic_s() - ctx->start);
}

static void
on_collection(const char *phase, const RtGcInfo *info, void *arg)
{
    (void)info;
    if (strcmp(phase, "start") == 0)    /* the heap is largest before it */
        profile_consider(arg);
}

/* ==== the context API ==================================================== */

void
rt_workload_mark(RtWorkloadCtx *ctx, const char *name, int64_t live_bytes)
{
    profile_consider(ctx);
    Rtj *m = rtj_append(ctx->marks, rtj_object());
    rtj_set(m, "name", rtj_string(name));
    rtj_set(m, "t_s", rtj_number(rt_monotonic_s() - ctx->start));
    rtj_set(m, "rss_bytes", rtj_integer(rtb_rss_bytes(0)));
    rtj_set(m, "live_bytes", live_bytes < 0 ? rtj_null() : rtj_integer(live_bytes));
}

void
rt_workload_result_int(RtWorkloadCtx *ctx, const char *key, int64_t value)
{
    rtj_set(ctx->result, key, rtj_integer(value));
}

void
rt_workload_result_double(RtWorkloadCtx *ctx, const char *key, double value)
{
    rtj_set(ctx->result, key, rtj_number(value));
}

/* ==== the report ========================================================= */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static Rtj *
int_triple(const uint64_t v[3])
{
    Rtj *a = rtj_array();
    for (int i = 0; i < 3; i++)
        rtj_append(a, rtj_integer((int64_t)v[i]));
    return a;
}

/* Pause statistics; the list itself is kept whole up to
 * RTB_MAX_PAUSE_SAMPLES, then uniformly subsampled. */
static Rtj *
pauses_json(double workload_start)
{
    RtGcPauses p;
    rt_gc_pauses(&p);
    Rtj *o = rtj_object();
    double *sorted = malloc((p.nsamples ? p.nsamples : 1) * sizeof *sorted);
    if (p.nsamples)
        memcpy(sorted, p.seconds, p.nsamples * sizeof *sorted);
    qsort(sorted, p.nsamples, sizeof *sorted, cmp_double);
    rtj_set(o, "count", rtj_integer((int64_t)p.count));
    rtj_set(o, "total_s", rtj_number(p.total_s));
    rtj_set(o, "p50_s", rtj_number(rtb_quantile_sorted(sorted, p.nsamples, 0.50)));
    rtj_set(o, "p90_s", rtj_number(rtb_quantile_sorted(sorted, p.nsamples, 0.90)));
    rtj_set(o, "p99_s", rtj_number(rtb_quantile_sorted(sorted, p.nsamples, 0.99)));
    rtj_set(o, "max_s", rtj_number(p.max_s));
    free(sorted);
    Rtj *sec = rtj_array(), *gen = rtj_array(), *at = rtj_array();
    size_t keep = p.nsamples < RTB_MAX_PAUSE_SAMPLES ? p.nsamples : RTB_MAX_PAUSE_SAMPLES;
    for (size_t k = 0; k < keep; k++) {
        size_t i = keep == p.nsamples ? k : k * p.nsamples / keep;
        rtj_append(sec, rtj_number(p.seconds[i]));
        rtj_append(gen, rtj_integer(p.generation[i]));
        rtj_append(at, rtj_number(p.start_s[i] - workload_start));
    }
    rtj_set(o, "seconds", sec);
    rtj_set(o, "generation", gen);
    rtj_set(o, "t_s", at);
    if (keep < p.nsamples || p.dropped)
        rtj_set(o, "subsampled", rtj_boolean(true));
    return o;
}

static Rtj *
gc_json(double workload_start)
{
    RtGcGenStats st[3];
    rt_gc_get_stats(st);
    uint64_t coll[3], done[3], unc[3];
    for (int i = 0; i < 3; i++) {
        coll[i] = st[i].collections;
        done[i] = st[i].collected;
        unc[i] = st[i].uncollectable;
    }
    Rtj *g = rtj_object();
    rtj_set(g, "collections", int_triple(coll));
    rtj_set(g, "collected", int_triple(done));
    rtj_set(g, "uncollectable", int_triple(unc));
    rtj_set(g, "pauses", pauses_json(workload_start));
    return g;
}

static Rtj *
alloc_json(void)
{
    RtAllocStats st;
    rt_alloc_stats(&st);
    Rtj *a = rtj_object();
    rtj_set(a, "backend", rtj_string(rt_alloc_name(st.backend)));
    rtj_set(a, "blocks_allocated", rtj_integer((int64_t)st.blocks.allocated));
    rtj_set(a, "blocks_peak", rtj_integer(st.blocks.peak));
    rtj_set(a, "small_peak", rtj_integer(st.small.peak));
    rtj_set(a, "large_peak", rtj_integer(st.large.peak));
    rtj_set(a, "pools_peak", rtj_integer(st.pools.peak));
    rtj_set(a, "arenas_allocated", rtj_integer((int64_t)st.arenas.allocated));
    rtj_set(a, "arenas_peak", rtj_integer(st.arenas.peak));
    rtj_set(a, "arenas_released", rtj_integer((int64_t)st.arenas.freed));
    rtj_set(a, "arenas_current", rtj_integer(st.arenas.current));
    rtj_set(a, "faults_injected", rtj_integer((int64_t)st.faults_injected));
    return a;
}

/* After the run, failed or not: is every object and block gone?  (A fault
 * walk's check that an interrupted workload released what it held.) */
static bool
heap_clean(void)
{
    RtAllocStats st;
    RtTypeStats ts[RT_MAX_TYPES];
    rt_alloc_stats_counts(&st);
    size_t n = rt_type_stats(ts, RT_MAX_TYPES);
    for (size_t i = 0; i < n && i < RT_MAX_TYPES; i++)
        if (ts[i].live != 0)
            return false;
    return st.blocks.current == 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* ==== main ================================================================ */

typedef struct WorkerArgs {
    const RtWorkload *w;
    int64_t params[RT_WORKLOAD_MAX_PARAMS];
    RtConfig cfg;
    int fd;
} WorkerArgs;

static int
parse_worker_args(int argc, char **argv, WorkerArgs *wa)
{
    if (argc < 2 || (wa->w = rt_workload_find(argv[1])) == NULL)
        return rtb_usage_error("__worker", "unknown workload '%s'", argc > 1 ? argv[1] : "");
    rt_config_default(&wa->cfg);
    wa->fd = -1;
    for (int p = 0; p < rt_workload_nparams(wa->w); p++)
        wa->params[p] = wa->w->params[p].def;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *opt = argv[i], *val = argv[i + 1];
        int64_t v;
        int p = strncmp(opt, "--", 2) == 0 ? rtb_param_index(wa->w, opt + 2) : -1;
        if (p >= 0 && rtb_parse_int64(val, wa->w->params[p].min, &v))
            wa->params[p] = v;
        else if (strcmp(opt, "--result-fd") == 0 && rtb_parse_int64(val, 0, &v))
            wa->fd = (int)v;
        else if (strcmp(opt, "--threshold") == 0 && rt_parse_threshold(val, wa->cfg.gc_threshold) > 0)
            continue;
        else if (strcmp(opt, "--gc") == 0 && (!strcmp(val, "on") || !strcmp(val, "off")))
            wa->cfg.gc_enabled = strcmp(val, "on") == 0;
        else if (strcmp(opt, "--gc-timing") == 0 && (!strcmp(val, "on") || !strcmp(val, "off")))
            wa->cfg.gc_timing = strcmp(val, "on") == 0;
        else if (strcmp(opt, "--alloc") == 0 && rt_alloc_parse(val, &wa->cfg.alloc) == 0)
            continue;
        else
            return rtb_usage_error("__worker", "bad option %s %s", opt, val);
    }
    if (wa->fd < 0)
        return rtb_usage_error("__worker", "--result-fd is required");
    return 0;
}

int
rtb_worker_main(int argc, char **argv)
{
    double exec_time = rt_monotonic_s();   /* the exec that made this process */
    WorkerArgs wa;
    int r = parse_worker_args(argc, argv, &wa);
    if (r != 0)
        return r;
    /* The environment may add fault injection (RT_FAIL_AFTER) or show
     * statistics; the command line's choices win over the rest. */
    RtConfig env = wa.cfg;
    rt_config_from_env(&env, stderr);
    wa.cfg.fail_after = env.fail_after;
    wa.cfg.fail_persistent = env.fail_persistent;
    wa.cfg.show_stats = env.show_stats;
    Rtj *out = rtj_object();
    if (rt_init_ex(&wa.cfg) != 0) {
        rtj_set(out, "error", rtj_stringf("cannot start the runtime: %s", rt_error_message()));
    } else {
        RtWorkloadCtx ctx = {rtj_object(), rtj_array(), 0, 0, NULL};
        rt_gc_callback_add(on_collection, &ctx);
        int64_t rss_at_start = rtb_rss_bytes(0);
        ctx.start = rt_monotonic_s();
        int status = wa.w->run(&ctx, wa.params);
        profile_consider(&ctx);
        rt_fault_inject(0, false);      /* the final collection must not fail */
        rt_gc_collect(2);
        double wall = rt_monotonic_s() - ctx.start;
        if (status != 0)
            rtj_set(out, "error", rtj_stringf("%s: %s", wa.w->name, rt_error_message()));
        rtj_set(out, "wall_s", rtj_number(wall));
        rtj_set(out, "rss_at_start_bytes", rtj_integer(rss_at_start));
        rtj_set(out, "final_rss_bytes", rtj_integer(rtb_rss_bytes(0)));
        rtj_set(out, "peak_rss_bytes", rtj_integer(rtb_peak_rss_bytes()));
        rtj_set(out, "t_exec_monotonic", rtj_number(exec_time));
        rtj_set(out, "result", ctx.result);
        rtj_set(out, "marks", ctx.marks);
        rtj_set(out, "gc", gc_json(ctx.start));
        rtj_set(out, "t0_monotonic", rtj_number(ctx.start));
        rtj_set(out, "alloc", alloc_json());
        rtj_set(out, "profile", ctx.profile ? ctx.profile : rtj_null());
        rtj_set(out, "heap_clean", rtj_boolean(heap_clean()));
        rtj_set(out, "rc", rtj_string(RT_RC_VARIANT));
        rt_gc_callback_remove(on_collection, &ctx);
        rt_fini();
    }
    size_t len;
    char *text = rtj_dump(out, 0, &len);
    bool failed = rtj_get(out, "error") != NULL;
    int w = write_all(wa.fd, text, len);
    free(text);
    rtj_free(out);
    return w != 0 ? 3 : failed ? 1 : 0;
}
