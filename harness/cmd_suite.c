/* cmd_suite.c -- rtbench suite: the main job.
 *
 * Into results/<UTC timestamp>/ (results/latest points at it):
 *   runs.json            every workload at its default size, under each
 *                        refcount variant (pool) and each allocator backend
 *                        built (nonatomic)
 *   sweep-<w>.json       threshold0 from 100 to 100000, log-spaced, and the
 *                        default 700, per workload
 *   cpython.json         the Python twins and rtbench at the same sizes
 *   micro.json           the Google Benchmark microbenchmarks
 *   hyperfine-<w>.json   whole-process comparisons of the refcount variants
 *   charts/, summary.md  by rtbench plot
 * Every configuration of the first three is one plan for the sample driver
 * (driver.c): samples go round-robin across all of them, rtbench beside
 * its CPython twin, with --repeat auto by default; the suite is resumable
 * (--resume) and can be split across machines (--shard I/N, then rtbench
 * merge).  --quick shrinks sizes and budgets to finish in a few minutes on
 * two cores (CI); --tiny is for the tests.
 *
 * --baseline BUILD_DIR measures two builds in one plan: every configuration
 * of runs.json and the sweeps twice, once by this rtbench's worker into
 * DIR/head/ and once by BUILD_DIR's into DIR/base/, all in the same seeded
 * rounds, so that drift lands on both sides alike; 'rtbench compare
 * DIR/base DIR/head' then judges the change (scripts/bench-gate, CI).  The
 * CPython twins, microbenchmarks and hyperfine are left out there: the
 * twins run the same interpreter on both sides, and the other two cannot
 * be interleaved.  A part that cannot run (no
 * CPython, no hyperfine, no matplotlib) is skipped with a message, and the
 * suite goes on.
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "rt/bench.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct SuiteOptions {
    bool quick, tiny, cpython, micro, hyperfine, plots, repeat_given;
    const char *dir;
    const char *python;
    const char *shard;
    const char *baseline;       /* --baseline BUILD_DIR */
    int nrc;                    /* refcount variants run: all, or those a baseline has */
} SuiteOptions;

typedef struct SizeOverride {
    const char *workload, *param;
    int64_t value;
} SizeOverride;

/* --quick sizes: each workload around 0.05 s here. */
static const SizeOverride quick_sizes[] = {
    {"list_append", "n", 200000}, {"list_append", "rounds", 3},
    {"dict_churn", "keys", 2000}, {"dict_churn", "n", 50000},
    {"cycle_storm", "n", 20000}, {"cycle_storm", "rounds", 2},
    {"binary_trees", "depth", 10},
    {"long_lived", "m", 20000}, {"long_lived", "n", 100000},
    {"fragmentation", "n", 100000},
    {"gc_collect", "loops", 20},
    {"gc_traversal", "levels", 300}, {"gc_traversal", "loops", 5},
    {"shared_refs", "n", 1000000},
};

/* --tiny sizes, for the tests: the whole suite in seconds. */
static const SizeOverride tiny_sizes[] = {
    {"list_append", "n", 20000}, {"list_append", "rounds", 2},
    {"dict_churn", "keys", 500}, {"dict_churn", "n", 5000},
    {"cycle_storm", "n", 2000}, {"cycle_storm", "rounds", 2},
    {"binary_trees", "depth", 8},
    {"long_lived", "m", 2000}, {"long_lived", "n", 10000},
    {"fragmentation", "n", 10000},
    {"gc_collect", "loops", 3},
    {"gc_traversal", "levels", 100}, {"gc_traversal", "loops", 2},
    {"shared_refs", "keys", 100}, {"shared_refs", "n", 20000},
};

/* Sizes of the CPython comparisons in the full suite (both sides): CPython
 * is several times slower than the runtime, so these keep each twin near a
 * second. */
static const SizeOverride cpython_sizes[] = {
    {"dict_churn", "n", 500000}, {"cycle_storm", "rounds", 3}, {"binary_trees", "depth", 14},
    {"long_lived", "m", 200000}, {"long_lived", "n", 1000000}, {"gc_collect", "loops", 200},
    {"gc_traversal", "loops", 20}, {"shared_refs", "n", 2000000},
};

static const RtbOptDef options[] = {
    {"quick", false, RTB_OPT_QUICK}, {"tiny", false, RTB_OPT_TINY}, {"out", true, RTB_OPT_OUT},
    {"repeat", true, RTB_OPT_REPEAT}, {"precision", true, RTB_OPT_PRECISION}, {"max-repeat", true, RTB_OPT_MAX_REPEAT},
    {"max-time", true, RTB_OPT_MAX_TIME}, {"seed", true, RTB_OPT_SEED}, {"cpu", true, RTB_OPT_CPU},
    {"python", true, RTB_OPT_PYTHON}, {"no-cpython", false, RTB_OPT_NO_CPYTHON}, {"no-micro", false, RTB_OPT_NO_MICRO},
    {"no-hyperfine", false, RTB_OPT_NO_HYPERFINE}, {"no-plots", false, RTB_OPT_NO_PLOTS},
    {"shard", true, RTB_OPT_SHARD}, {"resume", false, RTB_OPT_RESUME}, {"force", false, RTB_OPT_FORCE},
    {"timeout", true, RTB_OPT_TIMEOUT}, {"heartbeat", true, RTB_OPT_HEARTBEAT}, {"quiet", false, RTB_OPT_QUIET},
    {"metric", true, RTB_OPT_METRIC}, {"baseline", true, RTB_OPT_BASELINE},
    {NULL, false, 0},
};

static void
help(void)
{
    printf("usage: rtbench suite [--quick|--tiny] [--out DIR] [--repeat K|auto]\n"
           "                     [--python PATH] [--shard I/N] [--resume] [--force]\n"
           "                     [--no-cpython] [--no-micro] [--no-hyperfine] [--no-plots]\n"
           "                     [--metric time|instructions] [--baseline BUILD_DIR]\n\n"
           "The main job: every workload under each refcount variant and every allocator\n"
           "backend built, a threshold0 sweep per workload (100 to 100000, log-spaced, and\n"
           "700), the threaded workloads under atomic and biased at 2, 4, ... threads up\n"
           "to the cores (threads.json; at most 16), the CPython twins beside rtbench,\n"
           "the microbenchmarks and hyperfine comparisons, then the charts, summary.md\n"
           "and report.html, all in results/<UTC timestamp>/ (results/latest points at\n"
           "it).  Samples of every configuration are taken round-robin in a seeded\n"
           "random order, each rtbench run beside its twin.\n\n"
           "  --quick        small sizes and budget: a few minutes on 2 cores (what CI runs)\n"
           "  --tiny         tiny sizes, 2 samples: seconds (what the tests run end to end)\n"
           "  --out DIR      write there instead of results/<timestamp>\n"
           "  --repeat K|auto  samples per configuration (default auto: at least %d, until\n"
           "                 the median's 95%% interval is within --precision (2%%\n"
           "                 here), at most --max-repeat (30; quick 15) and\n"
           "                 --max-time (1080 s; quick 120 s))\n"
           "  --shard I/N    only the I-th of N shares of the configurations (the\n"
           "                 microbenchmarks and hyperfine run in shard 1; no charts: run\n"
           "                 'rtbench merge' then 'rtbench plot' on the merged folder)\n"
           "  --resume       continue an interrupted suite in --out DIR\n"
           "  --force        replace the result files in an existing --out DIR\n"
           "  --baseline BUILD_DIR  also measure the build in BUILD_DIR (e.g. the base\n"
           "                 commit's build/release), interleaved with this one: DIR/base/\n"
           "                 and DIR/head/, for 'rtbench compare DIR/base DIR/head' (no\n"
           "                 CPython twins, microbenchmarks or hyperfine then)\n"
           "  --python PATH  interpreter for the twins (default %s)\n"
           "  --no-...       skip a part\n"
           "Also --metric, --precision, --max-repeat, --max-time, --seed, --cpu,\n"
           "--timeout, --heartbeat, --quiet as for 'rtbench run'.\n", RTB_DEFAULT_MIN_REPEAT, RTB_DEFAULT_PYTHON);
}

static void
apply_sizes(RtbConfig *c, const SizeOverride *t, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (strcmp(t[k].workload, c->workload->name) != 0)
            continue;
        int p = rtb_param_index(c->workload, t[k].param);
        if (p >= 0)
            c->params[p] = t[k].value;
    }
}

static RtbConfig
base_config(const RtWorkload *w, const SuiteOptions *o)
{
    RtbConfig c;
    rtb_config_defaults(&c, w);
    if (o->tiny)
        apply_sizes(&c, tiny_sizes, sizeof tiny_sizes / sizeof tiny_sizes[0]);
    else if (o->quick)
        apply_sizes(&c, quick_sizes, sizeof quick_sizes / sizeof quick_sizes[0]);
    return c;
}

static int
count_backends(RtAllocKind *kinds)
{
    int n = 0;
    for (int k = 0; k < RT_ALLOC_KIND_COUNT; k++)
        if (rt_alloc_available((RtAllocKind)k))
            kinds[n++] = (RtAllocKind)k;
    return n;
}

static int
nworkloads(void)
{
    int n = 0;
    while (rt_workloads[n] != NULL)
        n++;
    return n;
}

/* ==== the parts: one plan ================================================ */

/* runs.json: per workload, each refcount variant with the pool, and each
 * other allocator backend with the nonatomic variant -- the two families of
 * ratios the charts draw (variants, backends), not their cross product,
 * whose other cells no chart reads and whose samples the full suite's half
 * hour cannot afford (15 configurations a workload against 7). */
static void
add_runs(RtbPlan *p, const SuiteOptions *o, const char *dir, const char *build)
{
    RtAllocKind kinds[RT_ALLOC_KIND_COUNT];
    int nk = count_backends(kinds), nw = nworkloads(), n = 0;
    RtbConfig *configs = rtb_xcalloc((size_t)(nw * (RTB_RC_COUNT + nk)), sizeof *configs);
    for (int w = 0; w < nw; w++) {
        for (int rc = 0; rc < o->nrc; rc++) {
            configs[n] = base_config(rt_workloads[w], o);
            configs[n].rc = (RtbRc)rc;
            configs[n++].alloc = RT_ALLOC_POOL;
        }
        for (int k = 0; k < nk; k++)
            if (kinds[k] != RT_ALLOC_POOL) {
                configs[n] = base_config(rt_workloads[w], o);
                configs[n].rc = RTB_RC_NONATOMIC;
                configs[n++].alloc = kinds[k];
            }
    }
    for (int k = 0; k < n; k++)
        configs[k].build = build;
    rtb_plan_add_output(p, "run", rtb_asprintf("%s/runs.json", dir), configs, n, false);
    free(configs);
}

/* Thread scaling: every workload with a threads parameter under the
 * threaded variants at 2, 4, .. threads up to the cores (at least 2, at
 * most 16; tiny: 2).  Each thread count does the same total work.  The
 * one-thread points are runs.json's (each variant with the pool): measured
 * again here they were the same configurations twice. */
static void
add_threads(RtbPlan *p, const SuiteOptions *o, const char *dir)
{
    int counts[8], nc = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    for (int t = 2; t <= (o->tiny ? 2 : cores < 16 ? cores : 16) && nc < 8; t *= 2)
        counts[nc++] = t;
    if (nc == 0)
        counts[nc++] = 2;
    RtbConfig *configs = rtb_xcalloc((size_t)(nworkloads() * 2 * nc), sizeof *configs);
    int n = 0;
    for (int w = 0; rt_workloads[w] != NULL; w++) {
        int tp = rtb_param_index(rt_workloads[w], "threads");
        if (tp < 0)
            continue;
        for (RtbRc rc = RTB_RC_ATOMIC; rc <= RTB_RC_BIASED; rc++)
            for (int k = 0; k < nc; k++) {
                configs[n] = base_config(rt_workloads[w], o);
                configs[n].rc = rc;
                configs[n++].params[tp] = counts[k];
            }
    }
    rtb_plan_add_output(p, "run", rtb_asprintf("%s/threads.json", dir), configs, n, false);
    free(configs);
}

/* Log-spaced from 100 to 100000, and the default as a point of its own,
 * so that every sweep can be read against it. */
static void
add_sweeps(RtbPlan *p, const SuiteOptions *o, const char *dir, const char *build)
{
    int64_t t0[80];
    char *axis = rtb_asprintf("%s,%d", o->tiny ? "100:100000:log2" : o->quick ? "100:100000:log4" : "100:100000:log7",
                              RTB_DEFAULT_T0);
    int nt = rtb_parse_list(axis, 0, t0, 80);
    free(axis);
    for (int w = 0; rt_workloads[w] != NULL; w++) {
        RtbConfig configs[80];
        for (int k = 0; k < nt; k++) {
            configs[k] = base_config(rt_workloads[w], o);
            configs[k].build = build;
            configs[k].threshold[0] = (long)t0[k];
        }
        rtb_plan_add_output(p, "sweep", rtb_asprintf("%s/sweep-%s.json", dir, rt_workloads[w]->name), configs, nt,
                            false);
    }
}

/* Each twin beside rtbench (nonatomic, pool) at the same sizes: linked
 * pairs, measured in the same rounds. */
static void
add_cpython(RtbPlan *p, const SuiteOptions *o)
{
    int nw = nworkloads(), n = 0;
    RtbConfig *configs = rtb_xcalloc((size_t)(2 * nw), sizeof *configs);
    for (int w = 0; w < nw; w++) {
        RtbConfig c = base_config(rt_workloads[w], o);
        if (!o->quick)
            apply_sizes(&c, cpython_sizes, sizeof cpython_sizes / sizeof cpython_sizes[0]);
        configs[n++] = c;
        c.impl = RTB_IMPL_CPYTHON;
        c.python = o->python;
        configs[n++] = c;
    }
    rtb_plan_add_output(p, "cpython", rtb_asprintf("%s/cpython.json", o->dir), configs, n, true);
    free(configs);
}

static void
part_micro(const SuiteOptions *o, int *failures)
{
    char *out = rtb_asprintf("%s/micro.json", o->dir);
    const char *filter = o->tiny ? "^(alloc_free/(pool|malloc)/(16|512)|incref_decref/(nonatomic|atomic|biased)|gc_young/700)$"
                         : o->quick ? "^(alloc_free/|incref_decref/|gc_collect_live/100000|gc_collect_cycles/100000|gc_young/700$)"
                         : "^(alloc_free|incref_decref/|incref_decref_private/.*threads:[12]$|gc_)";
    char *args[] = {"micro", "--filter", (char *)filter, "--out", out, "--force", "--repetitions", o->quick ? "1" : "3",
                    "--min-time", o->tiny ? "0.01" : o->quick ? "0.05" : "0.2", NULL};
    rtb_say("rtbench suite: microbenchmarks");
    if (rtb_cmd_micro(10, args) != 0)
        (*failures)++;
    free(out);
}

/* hyperfine over the worker itself, whole processes: {bin} is rtbench,
 * rtbench-atomic or rtbench-biased, with the pool; one file per workload.
 * (The backends are compared in runs.json, interleaved; hyperfine over
 * every variant and backend, 15 commands a workload, took 25 minutes of the
 * full suite's 30.) */
static void
part_hyperfine(const SuiteOptions *o, int *failures)
{
    char *probe[] = {"hyperfine", "--version", NULL};
    if (rtb_spawn(probe, true) != 0) {
        rtb_say("rtbench suite: hyperfine not found (apt-get install hyperfine): skipping the whole-process comparisons");
        (*failures)++;
        return;
    }
    for (int w = 0; rt_workloads[w] != NULL && !rtb_interrupted; w++) {
        RtbConfig c = base_config(rt_workloads[w], o);
        char params[256] = "";
        for (int p = 0; p < rt_workload_nparams(c.workload); p++)
            snprintf(params + strlen(params), sizeof params - strlen(params), " --%s %lld", c.workload->params[p].name,
                     (long long)c.params[p]);
        char *cmd = rtb_asprintf("%s/{bin} __worker %s --result-fd 1 --alloc pool%s", rtb_self_dir(),
                                 c.workload->name, params);
        char *out = rtb_asprintf("%s/hyperfine-%s.json", o->dir, c.workload->name);
        char *args[] = {"hyperfine", "--warmup", o->tiny ? "0" : "1", "--runs", o->tiny ? "2" : "3", "--style", "basic",
                        "-N", "-L", "bin", "rtbench,rtbench-atomic,rtbench-biased", "--export-json", out, cmd, NULL};
        rtb_say("rtbench suite: hyperfine %s", c.workload->name);
        if (rtb_spawn(args, o->quick) != 0) {
            rtb_say("rtbench suite: hyperfine failed for %s", c.workload->name);
            (*failures)++;
        }
        free(cmd);
        free(out);
    }
}

/* results/latest -> <dir>, replaced atomically. */
static void
point_latest(const char *dir)
{
    char *parent = rtb_dirname(dir), *copy = rtb_strdup(dir);
    char *link = rtb_asprintf("%s/latest", parent), *tmp = rtb_asprintf("%s/.latest.%d", parent, (int)getpid());
    unlink(tmp);
    if (symlink(basename(copy), tmp) == 0 && rename(tmp, link) != 0)
        unlink(tmp);
    free(parent);
    free(copy);
    free(link);
    free(tmp);
}

/* ==== --baseline ========================================================= */

/* The configurations of one side: this build's into dir (the CPython twins
 * too, without a baseline), or the baseline's, its outputs marked with its
 * commit. */
static void
add_side(RtbPlan *p, const SuiteOptions *o, const char *dir, const char *build)
{
    int first = p->noutputs;
    add_runs(p, o, dir, build);
    add_sweeps(p, o, dir, build);
    if (o->baseline == NULL)
        add_threads(p, o, dir);     /* not part of --baseline's comparison */
    if (o->cpython && build == NULL)
        add_cpython(p, o);
    for (int k = first; build != NULL && k < p->noutputs; k++)
        p->outputs[k].git_commit = rtb_build_dir_commit(build);
}

static void
add_parts(RtbPlan *p, SuiteOptions *o)
{
    o->nrc = RTB_RC_COUNT;
    if (o->baseline != NULL) {
        /* A base built before the biased variant has no rtbench-biased:
         * both sides then run the variants it has, so that they pair. */
        char *path = rtb_asprintf("%s/%s", o->baseline, rtb_rc_binary(RTB_RC_BIASED));
        if (access(path, X_OK) != 0)
            o->nrc = RTB_RC_BIASED;
        free(path);
    }
    if (o->baseline == NULL) {
        add_side(p, o, o->dir, NULL);
        return;
    }
    if (o->cpython || o->micro || o->hyperfine)
        rtb_say("rtbench suite: --baseline: no CPython twins, microbenchmarks or hyperfine (only the interleaved "
                "parts)");
    o->cpython = o->micro = o->hyperfine = false;
    char *head = rtb_asprintf("%s/head", o->dir), *base = rtb_asprintf("%s/base", o->dir);
    add_side(p, o, head, NULL);
    int nhead = p->n;
    add_side(p, o, base, o->baseline);
    /* Each base configuration linked to its head twin (same place in the
     * same order): one shard takes both, and both stop together with as
     * many samples, the pairs compare will make. */
    for (int k = nhead; k < p->n; k++)
        p->link[k] = k - nhead;
    free(head);
    free(base);
}

/* Charts of each results folder: DIR, or DIR/base and DIR/head. */
static int
plot_parts(const SuiteOptions *o)
{
    int failures = 0;
    for (int side = 0; side < (o->baseline ? 2 : 1); side++) {
        char *dir = o->baseline ? rtb_asprintf("%s/%s", o->dir, side ? "base" : "head") : rtb_strdup(o->dir);
        char *args[] = {"plot", dir, NULL};
        failures += rtb_cmd_plot(2, args) != 0;
        free(dir);
    }
    return failures;
}

static int
parse(int argc, char **argv, SuiteOptions *o, RtbPlan *p, RtbAxes *ax)
{
    RtbGetopt g = {"suite", argc, argv, NULL, 0, NULL, NULL};
    int r;
    while ((r = rtb_getopt(&g, options, NULL)) == 1) {
        if (g.positional != NULL) {
            r = rtb_usage_error("suite", "unexpected argument '%s'", g.positional);
            break;
        }
        int a = rtb_apply_option(&g, ax, &p->m, false);
        if (a != 0) {
            o->repeat_given |= g.id == RTB_OPT_REPEAT;
            if (a != 1) {
                r = a;
                break;
            }
            continue;
        }
        switch (g.id) {
        case RTB_OPT_HELP: help(); r = -1; break;
        case RTB_OPT_QUICK: o->quick = true; break;
        case RTB_OPT_TINY: o->quick = o->tiny = true; break;
        case RTB_OPT_NO_CPYTHON: o->cpython = false; break;
        case RTB_OPT_NO_MICRO: o->micro = false; break;
        case RTB_OPT_NO_HYPERFINE: o->hyperfine = false; break;
        case RTB_OPT_NO_PLOTS: o->plots = false; break;
        case RTB_OPT_OUT: o->dir = g.value; break;
        case RTB_OPT_SHARD: o->shard = g.value; break;
        case RTB_OPT_BASELINE: o->baseline = g.value; break;
        case RTB_OPT_RESUME: p->resume = true; break;
        case RTB_OPT_FORCE: p->force = true; break;
        default: r = rtb_usage_error("suite", "unknown option"); break;
        }
        if (r != 1)
            break;
    }
    rtb_getopt_free(&g);
    return r;
}

/* The budget of --repeat auto, unless given: what fits the promise of each
 * size (quick: a few minutes; full: under half an hour).  The suite asks
 * 2% of each median, not run's 1%: it measures some hundred configurations
 * to chart them, where run and sweep measure a few to tell them apart. */
enum { SUITE_PRECISION_PCT = 2 };

static void
suite_budget(RtbMeasure *m, const SuiteOptions *o, bool precision_given, bool max_repeat_given, bool max_time_given)
{
    if (!precision_given)
        m->precision = SUITE_PRECISION_PCT / 100.0;
    if (!o->repeat_given) {
        m->auto_repeat = !o->tiny;
        m->repeat = 2;                  /* --tiny: seconds */
    }
    if (!max_repeat_given)
        m->max_repeat = o->quick ? 15 : 30;
    if (!max_time_given)
        m->max_time_s = o->quick ? 120 : 1080;
}

int
rtb_cmd_suite(int argc, char **argv)
{
    SuiteOptions o = {.cpython = true, .micro = true, .hyperfine = true, .plots = true};
    RtbPlan p = {.cmd = "suite", .argc = argc, .argv = argv, .quiet_tables = true};
    RtbAxes ax;
    rtb_axes_init(&ax, NULL, RTB_IMPL_RTBENCH);
    rtb_measure_defaults(&p.m);
    p.m.max_repeat = p.m.max_time_s = 0;
    p.m.precision = 0;
    int r = parse(argc, argv, &o, &p, &ax);
    if (r != 0)
        return r < 0 ? 0 : r;
    suite_budget(&p.m, &o, p.m.precision != 0, p.m.max_repeat != 0, p.m.max_time_s != 0);
    o.python = ax.base.python;
    int si = 0, sn = 0;
    if (o.shard != NULL && !rtb_parse_shard(o.shard, &si, &sn))
        return rtb_usage_error("suite", "--shard expects I/N with 1 <= I <= N; got '%s'", o.shard);
    if (o.baseline != NULL && rtb_check_build_dir("suite", o.baseline) != 0)
        return RTB_EXIT_USAGE;
    char *defdir = NULL;
    bool default_dir = o.dir == NULL;
    if (default_dir) {
        if (p.resume)
            return rtb_usage_error("suite", "--resume needs the --out DIR of the suite to continue");
        char *ts = rtb_timestamp();
        o.dir = defdir = rtb_asprintf("results/%s", ts);
        free(ts);
    }
    char *python = NULL;
    if (o.cpython && (python = rtb_which(o.python)) == NULL) {
        rtb_say("rtbench suite: no interpreter '%s': skipping the CPython twins (give --python PATH)", o.python);
        o.cpython = false;
    }
    o.python = python;
    add_parts(&p, &o);
    p.journal = rtb_asprintf("%s/.journal.jsonl", o.dir);
    if (sn > 0)
        rtb_plan_shard(&p, si, sn);
    int status = rtb_plan_check(&p);
    if (status == 0) {
        double start = rt_monotonic_s();
        rtb_say("rtbench suite: %d configurations into %s (%s)", p.n, o.dir,
                p.m.auto_repeat ? "--repeat auto" : "fixed --repeat");
        RtbDriveStatus st;
        int failures = 0;
        status = rtb_plan_run(&p, &st);
        failures += st.failures + st.write_errors;
        bool first_shard = sn == 0 || si == 1;
        if (st.finished && o.micro && first_shard)
            part_micro(&o, &failures);
        if (st.finished && o.hyperfine && first_shard && !rtb_interrupted)
            part_hyperfine(&o, &failures);
        if (default_dir)
            point_latest(o.dir);
        if (o.plots && sn == 0 && !rtb_interrupted)
            failures += plot_parts(&o);
        rtb_say("rtbench suite: %s in %.0f s: %s%s", st.finished ? "done" : "interrupted", rt_monotonic_s() - start,
                o.dir, failures ? " (some parts failed or were skipped: see above)" : "");
        status = !st.finished ? RTB_EXIT_INTERRUPTED : failures ? 1 : 0;
    }
    rtb_plan_free(&p);
    free(defdir);
    free(python);
    return status;
}
