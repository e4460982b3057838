/* cmd_suite.c -- rtbench suite: the main job.
 *
 * Into results/<UTC timestamp>/ (results/latest points at it):
 *   runs.json            every workload at its default size, under both
 *                        refcount variants and every allocator backend built
 *   sweep-<w>.json       threshold0 from 100 to 100000, log-spaced, per workload
 *   cpython.json         the Python twins and rtbench at the same sizes
 *   micro.json           the Google Benchmark microbenchmarks
 *   hyperfine-<w>.json   whole-process comparisons of variants and backends
 *   charts/, summary.md  by rtbench plot
 * --quick shrinks sizes, samples and points to finish in a few minutes on
 * two cores (CI); the full suite takes well under half an hour.  A part that
 * cannot run (no CPython, no hyperfine, no matplotlib) is skipped with a
 * message, and the suite goes on.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct SuiteOptions {
    bool quick, tiny, cpython, micro, hyperfine, plots;
    const char *dir;
    const char *python;
    int repeat;
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
};

/* Sizes of the CPython comparisons (both sides): CPython is several times
 * slower than the runtime, so these keep each twin near a second. */
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
};

static const SizeOverride cpython_sizes[] = {
    {"dict_churn", "n", 500000}, {"cycle_storm", "rounds", 3}, {"binary_trees", "depth", 14},
    {"long_lived", "m", 200000}, {"long_lived", "n", 1000000}, {"gc_collect", "loops", 200},
    {"gc_traversal", "loops", 20},
};

static void
help(void)
{
    printf("usage: rtbench suite [--quick|--tiny] [--out DIR] [--repeat K] [--python PATH]\n"
           "                     [--no-cpython] [--no-micro] [--no-hyperfine] [--no-plots]\n\n"
           "The main job: every workload under both refcount variants and every allocator\n"
           "backend built, a threshold0 sweep per workload (100 to 100000, log-spaced, and 700), the\n"
           "CPython twins, the microbenchmarks and hyperfine comparisons, then the charts and\n"
           "summary.md, all in results/<UTC timestamp>/ (results/latest points at it).\n\n"
           "  --quick        small sizes, fewer samples and sweep points: a few minutes on 2\n"
           "                 cores (what CI runs)\n"
           "  --tiny         tiny sizes: seconds (what the tests run end to end)\n"
           "  --out DIR      write there instead of results/<timestamp>\n"
           "  --repeat K     samples per configuration (default 5, quick 3)\n"
           "  --python PATH  interpreter for the twins (default %s)\n"
           "  --no-...       skip a part\n", RTB_DEFAULT_PYTHON);
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

/* Measure configurations into one result file; false when interrupted. */
static bool
measure_into(const char *path, const char *kind, RtbConfig *configs, int n, const RtbMeasure *m, RtbProgress *pr,
             int *failures)
{
    Rtj *result = rtb_result_new(kind, 0, NULL);
    bool finished = true;
    for (int k = 0; k < n && finished; k++) {
        Rtj *samples = rtj_array();
        char *name = rtb_config_name(&configs[k]);
        finished = rtb_take_samples(&configs[k], m, samples, pr, name);
        free(name);
        Rtj *run = rtj_append(rtj_get(result, "runs"), rtb_run_json(&configs[k], m->repeat, samples));
        if (rtj_int(rtj_path(run, "summary.wall_s.n"), 0) != (int64_t)rtj_len(rtj_get(run, "samples")))
            (*failures)++;
    }
    rtj_set(result, "complete", rtj_boolean(finished));
    char err[600];
    if (rtb_write_result(path, result, err, sizeof err) != 0) {
        fprintf(stderr, "rtbench suite: %s\n", err);
        (*failures)++;
    }
    rtb_print_warnings(result);
    rtj_free(result);
    return finished;
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

/* ==== the parts ========================================================== */

static bool
part_runs(const SuiteOptions *o, const RtbMeasure *m, RtbProgress *pr, int *failures)
{
    RtAllocKind kinds[RT_ALLOC_KIND_COUNT];
    int nk = count_backends(kinds), nw = nworkloads(), n = 0;
    RtbConfig *configs = calloc((size_t)(nw * 2 * nk), sizeof *configs);
    for (int w = 0; w < nw; w++)
        for (int rc = 0; rc < 2; rc++)
            for (int k = 0; k < nk; k++) {
                configs[n] = base_config(rt_workloads[w], o);
                configs[n].rc = (RtbRc)rc;
                configs[n++].alloc = kinds[k];
            }
    char path[4200];
    snprintf(path, sizeof path, "%s/runs.json", o->dir);
    bool finished = measure_into(path, "run", configs, n, m, pr, failures);
    free(configs);
    return finished;
}

static bool
part_sweeps(const SuiteOptions *o, const RtbMeasure *m, RtbProgress *pr, int *failures)
{
    /* Log-spaced from 100 to 100000, and the default (700) as a point of
     * its own, so that every sweep can be read against it. */
    int64_t t0[16];
    int nt = rtb_parse_list(o->tiny ? "100:100000:log2" : o->quick ? "100:100000:log4" : "100:100000:log7", 0, t0, 15);
    int at = 0;
    while (at < nt && t0[at] < 700)
        at++;
    if (at == nt || t0[at] != 700) {
        memmove(&t0[at + 1], &t0[at], (size_t)(nt - at) * sizeof t0[0]);
        t0[at] = 700;
        nt++;
    }
    bool finished = true;
    for (int w = 0; rt_workloads[w] != NULL && finished; w++) {
        RtbConfig configs[16];
        for (int k = 0; k < nt; k++) {
            configs[k] = base_config(rt_workloads[w], o);
            configs[k].threshold[0] = (long)t0[k];
        }
        char path[4200];
        snprintf(path, sizeof path, "%s/sweep-%s.json", o->dir, rt_workloads[w]->name);
        finished = measure_into(path, "sweep", configs, nt, m, pr, failures);
    }
    return finished;
}

/* The twins, and rtbench (nonatomic, pool) at the same sizes -- unless
 * those are the sizes of runs.json (--quick), which has those runs. */
static bool
part_cpython(const SuiteOptions *o, const RtbMeasure *m, RtbProgress *pr, int *failures)
{
    int nw = nworkloads(), n = 0;
    RtbConfig *configs = calloc((size_t)(2 * nw), sizeof *configs);
    for (int w = 0; w < nw; w++) {
        RtbConfig c = base_config(rt_workloads[w], o);
        if (!o->quick) {
            apply_sizes(&c, cpython_sizes, sizeof cpython_sizes / sizeof cpython_sizes[0]);
            configs[n++] = c;
        }
        c.impl = RTB_IMPL_CPYTHON;
        c.python = o->python;
        configs[n++] = c;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/cpython.json", o->dir);
    bool finished = measure_into(path, "cpython", configs, n, m, pr, failures);
    free(configs);
    return finished;
}

static void
part_micro(const SuiteOptions *o, int *failures)
{
    char out[4200], filter[256];
    snprintf(out, sizeof out, "%s/micro.json", o->dir);
    snprintf(filter, sizeof filter, "%s", o->tiny ? "^(alloc_free/(pool|malloc)/(16|512)|incref_decref/(nonatomic|atomic)|gc_young/700)$"
             : o->quick ? "^(alloc_free/|incref_decref/|gc_collect_live/100000|gc_collect_cycles/100000|gc_young/700$)"
             : "^(alloc_free|incref_decref/|incref_decref_private/.*threads:[12]$|gc_)");
    char *args[] = {"micro", "--filter", filter, "--out", out, "--repetitions", o->quick ? "1" : "3",
                    "--min-time", o->tiny ? "0.01" : o->quick ? "0.05" : "0.2", NULL};
    fprintf(stderr, "rtbench suite: microbenchmarks\n");
    if (rtb_cmd_micro(9, args) != 0)
        (*failures)++;
}

/* hyperfine over the worker itself: {bin} is rtbench or rtbench-atomic,
 * {alloc} every backend; one file per workload. */
static void
part_hyperfine(const SuiteOptions *o, int *failures)
{
    char tried[256];
    (void)tried;
    char *probe[] = {"hyperfine", "--version", NULL};
    if (rtb_spawn(probe, true) != 0) {
        fprintf(stderr, "rtbench suite: hyperfine not found (apt-get install hyperfine): skipping the whole-process comparisons\n");
        (*failures)++;
        return;
    }
    RtAllocKind kinds[RT_ALLOC_KIND_COUNT];
    int nk = count_backends(kinds);
    char allocs[128] = "";
    for (int k = 0; k < nk; k++)
        snprintf(allocs + strlen(allocs), sizeof allocs - strlen(allocs), "%s%s", k ? "," : "", rt_alloc_name(kinds[k]));
    for (int w = 0; rt_workloads[w] != NULL; w++) {
        RtbConfig c = base_config(rt_workloads[w], o);
        char cmd[1024], out[4200], params[256] = "";
        for (int p = 0; p < rt_workload_nparams(c.workload); p++)
            snprintf(params + strlen(params), sizeof params - strlen(params), " --%s %lld", c.workload->params[p].name,
                     (long long)c.params[p]);
        snprintf(cmd, sizeof cmd, "%s/{bin} __worker %s --result-fd 1 --alloc {alloc}%s", rtb_self_dir(),
                 c.workload->name, params);
        snprintf(out, sizeof out, "%s/hyperfine-%s.json", o->dir, c.workload->name);
        char *args[] = {"hyperfine", "--warmup", o->tiny ? "0" : "1", "--runs", o->tiny ? "2" : o->quick ? "3" : "5",
                        "--style", "basic",
                        "-N", "-L", "bin", "rtbench,rtbench-atomic", "-L", "alloc", allocs,
                        "--export-json", out, cmd, NULL};
        fprintf(stderr, "rtbench suite: hyperfine %s\n", c.workload->name);
        if (rtb_spawn(args, o->quick) != 0) {
            fprintf(stderr, "rtbench suite: hyperfine failed for %s\n", c.workload->name);
            (*failures)++;
        }
    }
}

/* results/latest -> <dir>, replaced atomically. */
static void
point_latest(const char *dir)
{
    char buf[4096], parent[4096], link[4200], tmp[4300];
    snprintf(buf, sizeof buf, "%s", dir);
    snprintf(parent, sizeof parent, "%s", dirname(buf));
    snprintf(buf, sizeof buf, "%s", dir);
    snprintf(link, sizeof link, "%s/latest", parent);
    snprintf(tmp, sizeof tmp, "%s/.latest.%d", parent, (int)getpid());
    unlink(tmp);
    if (symlink(basename(buf), tmp) == 0 && rename(tmp, link) != 0)
        unlink(tmp);
}

static int
parse(int argc, char **argv, SuiteOptions *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int64_t v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help();
            return -1;
        } else if (strcmp(a, "--quick") == 0) {
            o->quick = true;
        } else if (strcmp(a, "--tiny") == 0) {
            o->quick = o->tiny = true;
        } else if (strcmp(a, "--no-cpython") == 0) {
            o->cpython = false;
        } else if (strcmp(a, "--no-micro") == 0) {
            o->micro = false;
        } else if (strcmp(a, "--no-hyperfine") == 0) {
            o->hyperfine = false;
        } else if (strcmp(a, "--no-plots") == 0) {
            o->plots = false;
        } else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
            o->dir = argv[++i];
        } else if (strcmp(a, "--python") == 0 && i + 1 < argc) {
            o->python = argv[++i];
        } else if (strcmp(a, "--repeat") == 0 && i + 1 < argc) {
            if (!rtb_parse_int64(argv[++i], 1, &v) || v > 1000)
                return rtb_usage_error("suite", "--repeat expects an integer from 1 to 1000; got '%s'", argv[i]);
            o->repeat = (int)v;
        } else {
            return rtb_usage_error("suite", "unknown option '%s'", a);
        }
    }
    return 0;
}

int
rtb_cmd_suite(int argc, char **argv)
{
    SuiteOptions o = {false, false, true, true, true, true, NULL, RTB_DEFAULT_PYTHON, 0};
    int r = parse(argc, argv, &o);
    if (r != 0)
        return r < 0 ? 0 : r;
    char *ts = rtb_timestamp(), defdir[256], err[600];
    snprintf(defdir, sizeof defdir, "results/%s", ts);
    free(ts);
    bool default_dir = o.dir == NULL;
    if (default_dir)
        o.dir = defdir;
    if (rtb_check_writable(o.dir, true, err, sizeof err) != 0)
        return rtb_usage_error("suite", "%s", err);
    if (o.cpython && access(o.python, X_OK) != 0) {
        fprintf(stderr, "rtbench suite: no interpreter at %s: skipping the CPython twins (give --python PATH)\n", o.python);
        o.cpython = false;
    }
    RtbMeasure m;
    rtb_measure_defaults(&m);
    m.repeat = o.repeat ? o.repeat : o.tiny ? 2 : o.quick ? 3 : 5;
    m.quiet = false;
    RtAllocKind kinds[RT_ALLOC_KIND_COUNT];
    int nw = nworkloads(), nk = count_backends(kinds);
    int total = m.repeat * nw * (2 * nk + (o.tiny ? 3 : o.quick ? 5 : 8) + (o.cpython ? (o.quick ? 1 : 2) : 0));
    double start = rt_monotonic_s();
    fprintf(stderr, "rtbench suite: %d samples into %s\n", total, o.dir);
    rtb_install_signal_handlers();
    RtbProgress pr;
    rtb_progress_start(&pr, total, false);
    int failures = 0;
    bool finished = part_runs(&o, &m, &pr, &failures) && part_sweeps(&o, &m, &pr, &failures)
                    && (!o.cpython || part_cpython(&o, &m, &pr, &failures));
    rtb_progress_end(&pr);
    if (finished && o.micro)
        part_micro(&o, &failures);
    if (finished && o.hyperfine && !rtb_interrupted)
        part_hyperfine(&o, &failures);
    if (default_dir)
        point_latest(o.dir);
    if (o.plots && !rtb_interrupted) {
        char *args[] = {"plot", (char *)o.dir, NULL};
        if (rtb_cmd_plot(2, args) != 0)
            failures++;
    }
    fprintf(stderr, "rtbench suite: %s in %.0f s: %s%s\n", finished ? "done" : "interrupted", rt_monotonic_s() - start, o.dir,
            failures ? " (some parts failed or were skipped: see above)" : "");
    return !finished ? RTB_EXIT_INTERRUPTED : failures ? 1 : 0;
}
