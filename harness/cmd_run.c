/* cmd_run.c -- rtbench run and rtbench cpython: one configuration, K samples.
 *
 * Both take the workload's parameters and the collector's settings; run adds
 * the refcount variant and the allocator backend, cpython the interpreter.
 * The samples go to one result file (and its CSV); the terminal gets a
 * summary line, the noise warnings, and where the file is.  Ctrl-C keeps
 * the samples that finished: the file is written with "complete": false.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
help(RtbImpl impl)
{
    bool cpy = impl == RTB_IMPL_CPYTHON;
    printf("usage: rtbench %s WORKLOAD [--PARAM V ...] [--threshold T0[,T1[,T2]]] [--gc on|off]\n", cpy ? "cpython" : "run");
    if (cpy)
        printf("                       [--python PATH] [--repeat K] [--out FILE] [options]\n\n"
               "Run the workload's Python twin (workloads/python/) under CPython, K times, each\n"
               "in a fresh interpreter, and record the same metrics as 'rtbench run', in the\n"
               "same schema, so that the two can be charted and compared side by side.\n\n");
    else
        printf("                   [--rc nonatomic|atomic] [--alloc pool|malloc|debug|mimalloc|jemalloc]\n"
               "                   [--repeat K] [--out FILE] [options]\n\n"
               "Run one workload K times, each sample in a fresh child process, and record\n"
               "wall/user/sys time, peak and final RSS, an RSS timeline, GC collections and\n"
               "pauses, allocator statistics and a memory profile at the peak.\n\n");
    printf("Workload parameters: --NAME VALUE for the workload's parameters ('rtbench list'\n"
           "shows them with their defaults), e.g. --n 100000 --ring 8.\n\n"
           "Options:\n"
           "  --threshold T0[,T1[,T2]]  collector thresholds (default 700,10,10; T0=0: no\n"
           "                            automatic collection, as in Python)\n"
           "  --gc on|off               automatic collection (default on)\n");
    if (cpy)
        printf("  --python PATH             the interpreter (default %s)\n", RTB_DEFAULT_PYTHON);
    else
        printf("  --rc nonatomic|atomic     reference counting variant (default nonatomic)\n"
               "  --alloc BACKEND           allocator backend (default pool)\n");
    printf("  --repeat K, --runs K      samples (default 5)\n"
           "  --warmup K                samples run first and not kept (default 0)\n"
           "  --out FILE                result file (default results/%s-WORKLOAD-TIMESTAMP.json);\n"
           "                            the CSV goes beside it\n"
           "  --rss-interval MS         RSS timeline step in milliseconds (default 5)\n"
           "  --no-rss                  no RSS timeline\n"
           "  --no-gc-timing            do not time collections (no pause statistics)\n"
           "  --timeout S               kill a sample after S seconds (default: none)\n"
           "  --quiet                   no progress line\n\n"
           "Exit status: 0 all samples ok, 1 a sample failed, 2 bad arguments (nothing is\n"
           "run or written), 130 interrupted (the finished samples are kept).\n",
           cpy ? "cpython" : "run");
}

static int
check_python(const char *python)
{
    if (access(python, X_OK) != 0)
        return rtb_usage_error("cpython", "no interpreter at %s (install Debian's python3, or give --python PATH)", python);
    char script[4096];
    snprintf(script, sizeof script, "%s/workloads/python/run.py", rtb_home());
    if (access(script, R_OK) != 0)
        return rtb_usage_error("cpython", "cannot find the Python twins at %s (set RTBENCH_HOME to the rtbench source tree)", script);
    return 0;
}

/* Take the samples of one configuration; false when interrupted. */
bool
rtb_take_samples(const RtbConfig *c, const RtbMeasure *m, Rtj *samples, RtbProgress *pr, const char *label)
{
    char line[200];
    for (int k = 0; k < m->warmup + m->repeat; k++) {
        bool warm = k < m->warmup;
        snprintf(line, sizeof line, "%s %s %d/%d", label, warm ? "warmup" : "sample",
                 warm ? k + 1 : k - m->warmup + 1, warm ? m->warmup : m->repeat);
        rtb_progress_update(pr, line);
        Rtj *s = rtb_run_sample(c, m, k - m->warmup);
        if (s == NULL || strcmp(rtj_str(rtj_get(s, "status"), ""), "interrupted") == 0 || rtb_interrupted) {
            rtj_free(s);
            return false;
        }
        if (warm)
            rtj_free(s);
        else
            rtj_append(samples, s);
        rtb_progress_step(pr);
    }
    return true;
}

int
rtb_cmd_run(int argc, char **argv, RtbImpl impl)
{
    const char *cmd = impl == RTB_IMPL_CPYTHON ? "cpython" : "run";
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help(impl);
            return 0;
        }
    if (argc < 2 || argv[1][0] == '-')
        return rtb_usage_error(cmd, "which workload? ('rtbench list' shows them)");
    const RtWorkload *w = rt_workload_find(argv[1]);
    if (w == NULL)
        return rtb_usage_error(cmd, "unknown workload '%s' ('rtbench list' shows them)", argv[1]);
    RtbAxes ax;
    RtbMeasure m;
    rtb_axes_init(&ax, w, impl);
    rtb_measure_defaults(&m);
    const char *out = NULL;
    RtbArgs a = {argc, argv, 2, cmd};
    while (a.i < argc) {
        int r = rtb_parse_common(&a, &ax, &m, false);
        if (r == RTB_EXIT_USAGE)
            return r;
        if (r == 1)
            continue;
        if (strcmp(argv[a.i], "--out") == 0 && a.i + 1 < argc) {
            out = argv[a.i + 1];
            a.i += 2;
        } else if (strncmp(argv[a.i], "--out=", 6) == 0) {
            out = argv[a.i++] + 6;
        } else {
            return rtb_usage_error(cmd, "unknown option '%s'", argv[a.i]);
        }
    }
    if (ax.nt0 || ax.nt1 || ax.nt2)
        return rtb_usage_error(cmd, "--threshold0/1/2 are sweep axes; use --threshold T0[,T1[,T2]]");
    RtbConfig c = ax.base;
    if (ax.nrc)
        c.rc = ax.rc[0];
    if (ax.nalloc)
        c.alloc = ax.alloc[0];
    if (ax.ngc)
        c.gc = ax.gc[0];
    if (impl == RTB_IMPL_CPYTHON && check_python(c.python) != 0)
        return RTB_EXIT_USAGE;
    char *ts = rtb_timestamp(), defpath[256];
    snprintf(defpath, sizeof defpath, "results/%s-%s-%s.json", cmd, w->name, ts);
    free(ts);
    if (out == NULL)
        out = defpath;
    char err[512];
    if (rtb_check_writable(out, false, err, sizeof err) != 0)
        return rtb_usage_error(cmd, "%s", err);

    rtb_install_signal_handlers();
    RtbProgress pr;
    rtb_progress_start(&pr, m.warmup + m.repeat, m.quiet);
    Rtj *samples = rtj_array();
    bool finished = rtb_take_samples(&c, &m, samples, &pr, w->name);
    rtb_progress_end(&pr);
    Rtj *result = rtb_result_new(cmd, argc, argv);
    rtj_set(result, "complete", rtj_boolean(finished));
    Rtj *run = rtj_append(rtj_get(result, "runs"), rtb_run_json(&c, m.repeat, samples));
    rtb_print_summary(result, stdout);
    rtb_print_warnings(result);
    int status = rtb_write_result(out, result, err, sizeof err);
    if (status != 0)
        fprintf(stderr, "rtbench %s: %s\n", cmd, err);
    else if (!finished)
        fprintf(stderr, "rtbench %s: interrupted; kept %zu finished sample(s) in %s\n", cmd,
                rtj_len(rtj_get(run, "samples")), out);
    else
        printf("wrote %s\n", out);
    bool all_ok = rtj_int(rtj_path(run, "summary.wall_s.n"), 0) == (int64_t)rtj_len(rtj_get(run, "samples"));
    rtj_free(result);
    if (status != 0)
        return 1;
    return !finished ? RTB_EXIT_INTERRUPTED : all_ok ? 0 : 1;
}
