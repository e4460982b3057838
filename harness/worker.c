/* worker.c -- the child process of one sample (rtbench __worker ...).
 *
 * The parent (runner.c) starts a fresh worker per sample so that the peak
 * RSS, the page faults and the heap belong to that sample alone.  The worker
 * starts the runtime with the configuration under test, runs the workload
 * between two reads of the monotonic clock (and of its own CPU clock) -- the
 * final full collection included, as the Python twin's driver does -- and
 * fills a typed sample (result.h): wall and CPU time, the collector's
 * statistics and pauses, the allocator's statistics, a memory profile at the
 * peak, the workload's marks and results.  The sample goes to the parent as
 * one JSON object on the result descriptor (result_json.c, the edge).
 *
 * The memory profile is taken when the blocks in use pass the last
 * profile's by 1/32 at a collection, a mark, or the end of the run (so
 * within 3% of the highest point seen there): live objects and bytes per
 * type, blocks per size class -- in the spirit of tracemalloc's snapshot at
 * the peak, without a hook on every allocation.  Each type's peaks in it
 * are the run's, read when the workload returns: the blocks' highest point
 * at those moments need not be each type's (dict_churn's fill collects, its
 * churn does not; its ints peaked at 1,919 where the profile, taken in the
 * fill, said 1,144).
 *
 *   rtbench __worker WORKLOAD --result-fd N [--PARAM V ...] [--threshold T0,T1,T2]
 *                    [--gc on|off] [--alloc BACKEND] [--arena-decay MS] [--gc-timing on|off]
 *                    [--gc-parallel 0|1|2|off]
 *                    [--part K]
 * --part K runs only the K-th (from 1) of --threads' shares, on this thread
 * (RtWorkloadCtx.only_part): scripts/scaling starts one process per share
 * to measure what independent processes reach on the machine.
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "counter.h"
#include "procfs.h"
#include "rt/bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct WorkerCtx {
    RtWorkloadCtx base;     /* first: the workload sees this */
    RtbSample *s;
    double start;
    int64_t profiled_blocks;    /* blocks in use at the last profile */
} WorkerCtx;

/* A new profile once the blocks in use pass the last one's by this
 * fraction: the profile is then within 1/33 (3%) of the highest point seen,
 * and a heap that grows to H blocks is walked about 33 H blocks' worth in
 * all.  A profile at every new high walked every pool at every collection
 * of a growing heap: 3.6% of long_lived's time (perf), whose old heap grows
 * for most of its run. */
#define PROFILE_STEP 32

/* ==== the memory profile ================================================= */

/* Every type's statistics row into ts; returns how many it holds. */
static size_t
read_type_stats(RtTypeStats ts[RT_MAX_TYPES])
{
    size_t n = rt_type_stats(ts, RT_MAX_TYPES);
    return n < RT_MAX_TYPES ? n : RT_MAX_TYPES;
}

static void
profile_free(RtbProfile *p)
{
    for (size_t k = 0; k < p->ntypes; k++)
        free(p->types[k].name);
    free(p->types);
    free(p->classes);
    memset(p, 0, sizeof *p);
}

static void
profile_now(RtbProfile *p, double t)
{
    profile_free(p);
    RtTypeStats ts[RT_MAX_TYPES];
    size_t n = read_type_stats(ts);
    p->present = true;
    p->t_s = t;
    p->types = rtb_xcalloc(n + 1, sizeof *p->types);
    for (size_t i = 0; i < n; i++)
        p->types[p->ntypes++] = (RtbTypeRow){rtb_strdup(ts[i].name), ts[i].live, ts[i].bytes, ts[i].live_peak,
                                             ts[i].bytes_peak, (int64_t)ts[i].allocated};
    RtAllocStats st;
    rt_alloc_stats(&st);
    p->blocks_in_use = st.blocks.current;
    p->classes = rtb_xcalloc(RT_NB_SMALL_SIZE_CLASSES, sizeof *p->classes);
    for (int c = 0; c < RT_NB_SMALL_SIZE_CLASSES; c++)
        if (st.classes[c].pools != 0)
            p->classes[p->nclasses++] = (RtbClassRow){st.classes[c].size, (int64_t)st.classes[c].blocks,
                                                      st.classes[c].pools};
}

/* Profile now if none was taken yet or the blocks in use passed the last
 * profile's by 1/PROFILE_STEP.  Postcondition: every point seen so far had
 * at most profiled_blocks * (1 + 1/PROFILE_STEP) blocks in use. */
static void
profile_consider(WorkerCtx *ctx)
{
    RtAllocStats st;
    rt_alloc_stats_counts(&st);
    if (ctx->s->profile.present && st.blocks.current <= ctx->profiled_blocks + ctx->profiled_blocks / PROFILE_STEP)
        return;
    ctx->profiled_blocks = st.blocks.current;
    profile_now(&ctx->s->profile, rt_monotonic_s() - ctx->start);
}

/* The run's peaks so far into the profile's type rows: each row takes the
 * peaks rt_type_stats gives the same name, matched in order where names
 * repeat (a class per thread).  A class freed since reads "other", and its
 * row keeps the peaks it had. */
static void
profile_run_peaks(RtbProfile *p)
{
    RtTypeStats ts[RT_MAX_TYPES];
    size_t n = read_type_stats(ts);
    bool taken[RT_MAX_TYPES] = {false};
    for (size_t k = 0; k < p->ntypes; k++) {
        RtbTypeRow *row = &p->types[k];
        for (size_t i = 0; i < n; i++) {
            if (taken[i] || strcmp(ts[i].name, row->name) != 0)
                continue;
            taken[i] = true;
            row->live_peak = ts[i].live_peak > row->live_peak ? ts[i].live_peak : row->live_peak;
            row->bytes_peak = ts[i].bytes_peak > row->bytes_peak ? ts[i].bytes_peak : row->bytes_peak;
            break;
        }
    }
}

static void
on_collection(const char *phase, const RtGcInfo *info, void *arg)
{
    (void)info;
    if (strcmp(phase, "start") == 0)    /* the heap is largest before it */
        profile_consider(arg);
}

/* ==== the context's callbacks ============================================ */

static void
mark(RtWorkloadCtx *base, const char *name, int64_t live_bytes)
{
    WorkerCtx *ctx = (WorkerCtx *)base;
    profile_consider(ctx);
    RtbSample *s = ctx->s;
    s->marks = rtb_xrealloc(s->marks, (s->nmarks + 1) * sizeof *s->marks);
    s->marks[s->nmarks++] = (RtbMark){rtb_strdup(name), rt_monotonic_s() - ctx->start, rtb_rss_bytes(0),
                                      live_bytes < 0 ? RTB_NONE : live_bytes};
}

static RtbValue *
result_slot(RtbSample *s, const char *key)
{
    for (size_t k = 0; k < s->nresult; k++)
        if (strcmp(s->result[k].key, key) == 0)
            return &s->result[k];
    s->result = rtb_xrealloc(s->result, (s->nresult + 1) * sizeof *s->result);
    RtbValue *v = &s->result[s->nresult++];
    v->key = rtb_strdup(key);
    return v;
}

static void
result_int(RtWorkloadCtx *base, const char *key, int64_t value)
{
    RtbValue *v = result_slot(((WorkerCtx *)base)->s, key);
    v->is_int = true;
    v->i = value;
    v->d = (double)value;
}

static void
result_double(RtWorkloadCtx *base, const char *key, double value)
{
    RtbValue *v = result_slot(((WorkerCtx *)base)->s, key);
    v->is_int = false;
    v->d = value;
}

static void thread_part(RtWorkloadCtx *base, bool begin) { (void)base, rtb_region_thread(begin); }

static const RtWorkloadOps worker_ops = {mark, result_int, result_double, thread_part};

/* ==== the report ========================================================= */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Pause statistics; the list itself is kept whole up to
 * RTB_MAX_PAUSE_SAMPLES, then uniformly subsampled. */
static void
read_gc(RtbGc *g, double workload_start)
{
    RtGcGenStats st[3];
    rt_gc_get_stats(st);
    g->present = true;
    for (int i = 0; i < 3; i++) {
        g->collections[i] = (int64_t)st[i].collections;
        g->collected[i] = (int64_t)st[i].collected;
        g->uncollectable[i] = (int64_t)st[i].uncollectable;
    }
    RtGcPauses p;
    rt_gc_pauses(&p);
    RtbPauses *o = &g->pauses;
    double *sorted = rtb_xcalloc(p.nsamples + 1, sizeof *sorted);
    if (p.nsamples)
        memcpy(sorted, p.seconds, p.nsamples * sizeof *sorted);
    qsort(sorted, p.nsamples, sizeof *sorted, cmp_double);
    o->count = (int64_t)p.count;
    o->total_s = p.total_s;
    o->p50_s = rtb_quantile_sorted(sorted, p.nsamples, 0.50);
    o->p90_s = rtb_quantile_sorted(sorted, p.nsamples, 0.90);
    o->p99_s = rtb_quantile_sorted(sorted, p.nsamples, 0.99);
    o->max_s = p.max_s;
    o->safepoint_total_s = RT_RC_THREADED ? p.safepoint_total_s : NAN;
    o->safepoint_max_s = RT_RC_THREADED ? p.safepoint_max_s : NAN;
    RtThreadStats ts;
    rt_thread_stats(&ts);
    o->parked_total_s = RT_RC_THREADED ? ts.parked_s : NAN;
    free(sorted);
    size_t keep = p.nsamples < RTB_MAX_PAUSE_SAMPLES ? p.nsamples : RTB_MAX_PAUSE_SAMPLES;
    o->seconds = rtb_xcalloc(keep + 1, sizeof *o->seconds);
    o->t_s = rtb_xcalloc(keep + 1, sizeof *o->t_s);
    o->generation = rtb_xcalloc(keep + 1, sizeof *o->generation);
    for (size_t k = 0; k < keep; k++) {
        size_t i = keep == p.nsamples ? k : k * p.nsamples / keep;
        o->seconds[k] = p.seconds[i];
        o->generation[k] = p.generation[i];
        o->t_s[k] = p.start_s[i] - workload_start;
    }
    o->n = keep;
    o->subsampled = keep < p.nsamples || p.dropped;
}

static void
read_alloc(RtbAllocStats *a)
{
    RtAllocStats st;
    rt_alloc_stats(&st);
    *a = (RtbAllocStats){true, rtb_strdup(rt_alloc_name(st.backend)), (int64_t)st.blocks.allocated, st.blocks.peak,
                         st.small.peak, st.large.peak, st.pools.peak, (int64_t)st.arenas.allocated, st.arenas.peak,
                         (int64_t)st.arenas.freed, st.arenas.current, (int64_t)st.faults_injected,
                         (int64_t)st.arenas_reused, (int64_t)st.arenas_retained};
}

/* After the run, failed or not: is every object and block gone?  (A fault
 * walk's check that an interrupted workload released what it held.) */
static bool
heap_clean(void)
{
    RtAllocStats st;
    RtTypeStats ts[RT_MAX_TYPES];
    rt_alloc_stats_counts(&st);
    size_t n = read_type_stats(ts);
    for (size_t i = 0; i < n; i++)
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

static double
cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ==== main ================================================================ */

typedef struct WorkerArgs {
    const RtWorkload *w;
    int64_t params[RT_WORKLOAD_MAX_PARAMS];
    RtConfig cfg;
    int fd;
    int only_part;
} WorkerArgs;

/* The parent writes this command line; a mistake here is a harness bug.
 * The collector's options start from env's RT_GC_PARALLEL, which the
 * command line's --gc-parallel overrides: the parent passes it only when
 * it is not the default (a build from before the option refuses it), and
 * a worker started by hand takes the variable as `rtbench run` does. */
static int
parse_worker_args(int argc, char **argv, const RtConfig *env, WorkerArgs *wa)
{
    if (argc < 2 || (wa->w = rt_workload_find(argv[1])) == NULL)
        return rtb_usage_error("__worker", "unknown workload '%s'", argc > 1 ? argv[1] : "");
    rt_config_default(&wa->cfg);
    wa->cfg.gc_parallel_min = env->gc_parallel_min;
    wa->fd = -1;
    wa->only_part = 0;
    for (int p = 0; p < rt_workload_nparams(wa->w); p++)
        wa->params[p] = wa->w->params[p].def;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *opt = argv[i], *val = argv[i + 1];
        int64_t v;
        int p = strncmp(opt, "--", 2) == 0 ? rtb_param_index(wa->w, opt + 2) : -1;
        bool on = strcmp(val, "on") == 0, onoff = on || strcmp(val, "off") == 0;
        if (p >= 0 && rtb_parse_int64(val, wa->w->params[p].min, &v))
            wa->params[p] = v;
        else if (strcmp(opt, "--result-fd") == 0 && rtb_parse_int64(val, 0, &v))
            wa->fd = (int)v;
        else if (strcmp(opt, "--threshold") == 0 && rt_parse_threshold(val, wa->cfg.gc_threshold) > 0)
            continue;
        else if (strcmp(opt, "--gc") == 0 && onoff)
            wa->cfg.gc_enabled = on;
        else if (strcmp(opt, "--gc-timing") == 0 && onoff)
            wa->cfg.gc_timing = on;
        else if (strcmp(opt, "--gc-parallel") == 0 && rtb_parse_gc_parallel(val, &wa->cfg.gc_parallel_min))
            continue;
        else if (strcmp(opt, "--alloc") == 0 && rt_alloc_parse(val, &wa->cfg.alloc) == 0)
            continue;
        else if (strcmp(opt, "--arena-decay") == 0 && rtb_parse_int64(val, 0, &v) && v <= RT_ARENA_DECAY_MAX_MS)
            wa->cfg.arena_decay_ms = v;
        else if (strcmp(opt, "--part") == 0 && rtb_parse_int64(val, 1, &v) && v <= RT_WORKLOAD_MAX_THREADS)
            wa->only_part = (int)v;
        else
            return rtb_usage_error("__worker", "bad option %s %s", opt, val);
    }
    if (wa->fd < 0)
        return rtb_usage_error("__worker", "--result-fd is required");
    return 0;
}

static void
measure(const WorkerArgs *wa, RtbSample *s)
{
    WorkerCtx ctx = {{&worker_ops, wa->only_part}, s, 0, 0};
    rt_gc_callback_add(on_collection, &ctx);
    s->rss_at_start_bytes = rtb_rss_bytes(0);
    /* -- the counted region (counter.h): RTBENCH_COUNT, set by the parent -- */
    char count_err[256];
    int counted = rtb_region_begin(count_err, sizeof count_err);
    double cpu0 = cpu_now();
    ctx.start = rt_monotonic_s();
    int status = counted == 0 ? wa->w->run(&ctx.base, wa->params) : -1;
    profile_consider(&ctx);
    profile_run_peaks(&s->profile);
    rt_fault_inject(0, false);      /* the final collection must not fail */
    rt_gc_collect(2);
    s->wall_s = rt_monotonic_s() - ctx.start;
    s->cpu_s = cpu_now() - cpu0;
    long long instructions = rtb_region_end();
    if (instructions >= 0)
        s->instructions = instructions;     /* perf; callgrind's count is read by the parent */
    /* -- end of the counted region -- */
    if (counted != 0)
        s->error = rtb_strdup(count_err);
    else if (status != 0)
        s->error = rtb_asprintf("%s: %s", wa->w->name, rt_error_message());
    s->final_rss_bytes = rtb_rss_bytes(0);
    s->peak_rss_bytes = rtb_peak_rss_bytes();
    s->t0_monotonic = ctx.start;
    read_gc(&s->gc, ctx.start);
    read_alloc(&s->alloc);
    s->heap_clean = heap_clean();
    rt_gc_callback_remove(on_collection, &ctx);
}

int
rtb_worker_main(int argc, char **argv)
{
    double exec_time = rt_monotonic_s();   /* the exec that made this process */
    /* The parent resolved RT_MALLOC, RT_GC_THRESHOLD, RT_GC, RT_GC_TIMING and
     * RT_ARENA_DECAY_MS into the command line; the environment adds fault injection
     * (RT_FAIL_AFTER) and statistics (RT_SHOW_STATS), and RT_GC_PARALLEL where
     * the command line has no --gc-parallel (parse_worker_args). */
    RtConfig env;
    rt_config_default(&env);
    rt_config_from_env(&env, stderr);
    WorkerArgs wa;
    int r = parse_worker_args(argc, argv, &env, &wa);
    if (r != 0)
        return r;
    wa.cfg.fail_after = env.fail_after;
    wa.cfg.fail_persistent = env.fail_persistent;
    wa.cfg.show_stats = env.show_stats;
    RtbSample s;
    rtb_sample_init(&s);
    s.t_exec_monotonic = exec_time;
    s.rc = rtb_strdup(RT_RC_VARIANT);
    if (rt_init_ex(&wa.cfg) != 0) {
        s.error = rtb_asprintf("cannot start the runtime: %s", rt_error_message());
    } else {
        measure(&wa, &s);
        rt_fini();
    }
    Rtj *out = rtb_sample_to_json(&s, true);
    size_t len;
    char *text = rtj_dump(out, 0, &len);
    bool failed = s.error != NULL;
    int w = write_all(wa.fd, text, len);
    free(text);
    rtj_free(out);
    rtb_sample_free(&s);
    return w != 0 ? 3 : failed ? 1 : 0;
}
