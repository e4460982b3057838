/* cmd_run.c -- rtbench run and rtbench cpython: one configuration, K
 * samples (or --repeat auto), through the sample driver (driver.c).
 *
 * Both take the workload's parameters and the collector's settings; run adds
 * the refcount variant and the allocator backend, cpython the interpreter
 * and refuses what does not apply to CPython.  The samples go to one result
 * file (and its CSV), journaled as they finish: Ctrl-C writes the file with
 * "complete": false, and the same command with --resume finishes it.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const RtbOptDef run_options[] = {
    {"threshold", true, RTB_OPT_THRESHOLD}, {"gc", true, RTB_OPT_GC}, {"rc", true, RTB_OPT_RC},
    {"alloc", true, RTB_OPT_ALLOC}, {"arena-decay", true, RTB_OPT_ARENA_DECAY}, {"repeat", true, RTB_OPT_REPEAT},
    {"runs", true, RTB_OPT_REPEAT},
    {"warmup", true, RTB_OPT_WARMUP}, {"precision", true, RTB_OPT_PRECISION}, {"max-repeat", true, RTB_OPT_MAX_REPEAT},
    {"max-time", true, RTB_OPT_MAX_TIME}, {"seed", true, RTB_OPT_SEED}, {"cpu", true, RTB_OPT_CPU},
    {"out", true, RTB_OPT_OUT}, {"force", false, RTB_OPT_FORCE}, {"resume", false, RTB_OPT_RESUME},
    {"rss-interval", true, RTB_OPT_RSS_INTERVAL}, {"no-rss", false, RTB_OPT_NO_RSS},
    {"no-gc-timing", false, RTB_OPT_NO_GC_TIMING}, {"timeout", true, RTB_OPT_TIMEOUT},
    {"heartbeat", true, RTB_OPT_HEARTBEAT}, {"quiet", false, RTB_OPT_QUIET},
    {"metric", true, RTB_OPT_METRIC}, {"baseline", true, RTB_OPT_BASELINE},
    {NULL, false, 0},
};

/* No --rc, --alloc, --arena-decay, --no-gc-timing: CPython has one variant and
 * its own allocator; --gc-timing on|off says whether run.py times collections. */
static const RtbOptDef cpython_options[] = {
    {"threshold", true, RTB_OPT_THRESHOLD}, {"gc", true, RTB_OPT_GC}, {"python", true, RTB_OPT_PYTHON},
    {"repeat", true, RTB_OPT_REPEAT}, {"runs", true, RTB_OPT_REPEAT}, {"warmup", true, RTB_OPT_WARMUP},
    {"precision", true, RTB_OPT_PRECISION}, {"max-repeat", true, RTB_OPT_MAX_REPEAT},
    {"max-time", true, RTB_OPT_MAX_TIME}, {"seed", true, RTB_OPT_SEED}, {"cpu", true, RTB_OPT_CPU},
    {"out", true, RTB_OPT_OUT}, {"force", false, RTB_OPT_FORCE}, {"resume", false, RTB_OPT_RESUME},
    {"rss-interval", true, RTB_OPT_RSS_INTERVAL}, {"no-rss", false, RTB_OPT_NO_RSS},
    {"timeout", true, RTB_OPT_TIMEOUT}, {"heartbeat", true, RTB_OPT_HEARTBEAT}, {"quiet", false, RTB_OPT_QUIET},
    {"metric", true, RTB_OPT_METRIC},
    {"freeze-after-import", true, RTB_OPT_FREEZE_AFTER_IMPORT}, {"fork-workers", true, RTB_OPT_FORK_WORKERS},
    {"gc-timing", true, RTB_OPT_GC_TIMING}, {NULL, false, 0},
};

void
rtb_measure_help(void)
{
    printf("  --repeat K|auto           samples (default 5); auto: until the median's 95%%\n"
           "                            interval is within --precision, at least %d samples\n"
           "  --precision PCT           auto: target half-width of that interval\n"
           "                            (default %g%%)\n"
           "  --max-repeat N            auto: at most N samples per configuration\n"
           "                            (default %d)\n"
           "  --max-time S              auto: stop adding rounds after S seconds\n"
           "  --metric time|instructions  time (default), or count the instructions of\n"
           "                            each sample's workload (exact: a hardware counter,\n"
           "                            else callgrind, ~70x slower, whose times and RSS\n"
           "                            are valgrind's); auto judges this metric\n"
           "  --warmup K                samples run first and not kept (default 0)\n"
           "  --seed N                  seed of the sample order (default: from the clock;\n"
           "                            recorded in the result)\n"
           "  --cpu LIST                pin each child to these CPUs (e.g. 0 or 0,2-3)\n"
           "  --rss-interval MS         RSS timeline step in milliseconds (default 5)\n"
           "  --no-rss                  no RSS timeline\n"
           "  --timeout S               kill a sample after S seconds (default: none)\n"
           "  --force                   replace an existing result (else refused: exit 2)\n"
           "  --resume                  continue an interrupted command from its journal\n"
           "  --quiet                   no progress line\n"
           "  --heartbeat S             a progress line every S s when stderr is not a\n"
           "                            terminal (default 30; 0: none)\n",
           RTB_DEFAULT_MIN_REPEAT, RTB_DEFAULT_PRECISION * 100, RTB_DEFAULT_MAX_REPEAT);
}

static void
help(bool cpy)
{
    printf("usage: rtbench %s WORKLOAD [--PARAM V ...] [--threshold T0[,T1[,T2]]]\n", cpy ? "cpython" : "run");
    if (cpy)
        printf("         [--gc on|off] [--python PATH|NAME] [--repeat K|auto] [--out FILE]\n"
               "         [options]\n"
               "       rtbench cpython (--script PATH | -m MODULE) [options] [-- ARGS...]\n\n"
               "Run the workload's Python twin (workloads/python/) -- or any Python program --\n"
               "under CPython, each sample in a fresh interpreter, and record the same metrics\n"
               "as 'rtbench run', in the same schema, so that the two can be charted and\n"
               "compared side by side.  A program's failing sample (an exception, a non-zero\n"
               "exit) is a failed sample, its exit status and stderr's tail kept.\n\n");
    else
        printf("         [--gc on|off] [--rc nonatomic|atomic|biased]\n"
               "         [--alloc pool|malloc|debug|mimalloc|jemalloc] [--arena-decay MS]\n"
               "         [--repeat K|auto] [--out FILE] [--baseline BUILD_DIR] [options]\n\n"
               "Run one workload, each sample in a fresh child process, and record wall and\n"
               "CPU time, peak and final RSS, an RSS timeline, GC collections and pauses,\n"
               "allocator statistics and a memory profile at the peak.\n\n");
    printf("Workload parameters: --NAME VALUE for the workload's parameters ('rtbench list'\n"
           "shows them with their defaults), e.g. --n 100000 --ring 8.\n\n"
           "Options:\n"
           "  --threshold T0[,T1[,T2]]  collector thresholds (default %d,%d,%d; T0=0: no\n"
           "                            automatic collection, as in Python)\n"
           "  --gc on|off               automatic collection (default on)\n",
           RTB_DEFAULT_T0, RTB_DEFAULT_T1, RTB_DEFAULT_T2);
    if (cpy)
        printf("  --python PATH|NAME        the interpreter (default %s;\n"
               "                            a NAME is looked up in PATH)\n", RTB_DEFAULT_PYTHON);
    else
        printf("  --rc nonatomic|atomic|biased\n"
               "                            reference counting variant (default nonatomic;\n"
               "                            --threads above 1 needs atomic or biased)\n"
               "  --alloc BACKEND           allocator backend (default pool)\n"
               "  --arena-decay MS          the pool keeps a wholly free arena mapped this long\n"
               "                            for reuse (default %d; 0: release at once)\n"
               "  --no-gc-timing            do not time collections (no pause statistics)\n",
               RT_ARENA_DECAY_DEFAULT_MS);
    printf("  --out FILE                result file (default\n"
           "                            results/%s-WORKLOAD-TIMESTAMP.json); the CSV\n"
           "                            goes beside it\n", cpy ? "cpython" : "run");
    if (!cpy)
        printf("  --baseline BUILD_DIR      also run the same configuration with the build in\n"
               "                            BUILD_DIR (e.g. the base commit's build/release),\n"
               "                            interleaved in the same rounds, into FILE.base.json,\n"
               "                            then print 'rtbench compare FILE.base.json FILE'\n"
               "                            (the same BUILD_DIR as this one: an A/A check)\n");
    rtb_measure_help();
    if (cpy) {
        putchar('\n');
        rtb_program_help("cpython");
    }
    printf("\nEnvironment (see 'rtbench --help'): %s.\nEach is recorded in the result, a bad value is refused (exit 2), the options\nwin.\n\n"
           "Exit status: 0 all samples ok, 1 a sample failed, 2 bad arguments or an existing\n"
           "result (nothing is run or written), 130 interrupted (continue with --resume).\n",
           cpy ? "RT_GC_THRESHOLD and RT_GC set\nthe defaults of --threshold and --gc; the other RT_* variables do not apply\nto CPython and are refused"
               : "RT_MALLOC, RT_GC_THRESHOLD,\nRT_GC, RT_GC_TIMING and RT_ARENA_DECAY_MS set the defaults of --alloc,\n--threshold, --gc, --no-gc-timing and --arena-decay; RT_GC_PARALLEL the\nthreaded variants' parallel collection; RT_FAIL_AFTER and RT_SHOW_STATS\nreach each sample's runtime");
}

/* --python NAME is looked up in PATH; the twins must be there too. */
static int
check_python(const char *cmd, RtbConfig *c, char **resolved)
{
    *resolved = rtb_which(c->python);
    if (*resolved == NULL)
        return rtb_usage_error(cmd, "no interpreter '%s' (not an executable file, nor a program in PATH); install "
                               "Debian's python3, or give --python PATH", c->python);
    c->python = *resolved;
    char *script = rtb_asprintf("%s/workloads/python/run.py", rtb_home());
    int r = access(script, R_OK) == 0 ? 0
            : rtb_usage_error(cmd, "cannot find the Python twins at %s (set RTBENCH_HOME to the rtbench source tree)", script);
    free(script);
    return r;
}

/* The journal of FILE: DIR/.FILE.journal.jsonl */
static char *
journal_of(const char *out)
{
    char *dir = rtb_dirname(out);
    const char *base = strrchr(out, '/');
    char *j = rtb_asprintf("%s/.%s.journal.jsonl", dir, base ? base + 1 : out);
    free(dir);
    return j;
}

/* Where a command's files go and what it measures beside this build. */
typedef struct RunTarget {
    const char *out;            /* --out FILE */
    const char *baseline;       /* --baseline BUILD_DIR (run only) */
} RunTarget;

static int
parse(RtbGetopt *g, bool cpy, RtbAxes *ax, RtbPlan *p, RunTarget *t)
{
    const RtbOptDef *defs = cpy ? cpython_options : run_options;
    int r;
    while ((r = rtb_getopt(g, defs, ax->base.workload)) == 1) {
        if (g->positional != NULL)
            return rtb_usage_error(g->cmd, "one workload at a time (got '%s' too)", g->positional);
        int a = rtb_apply_option(g, ax, &p->m, false);
        if (a != 0) {
            if (a != 1)
                return a;
            continue;
        }
        switch (g->id) {
        case RTB_OPT_OUT: t->out = g->value; break;
        case RTB_OPT_BASELINE: t->baseline = g->value; break;
        case RTB_OPT_FORCE: p->force = true; break;
        case RTB_OPT_RESUME: p->resume = true; break;
        default: return rtb_usage_error(g->cmd, "unknown option");
        }
    }
    return r;
}

static int
refuse_rtbench_options(const char *cmd, int first, int argc, char **argv)
{
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], "--rc") == 0 || strncmp(argv[i], "--rc=", 5) == 0 || strcmp(argv[i], "--alloc") == 0
            || strncmp(argv[i], "--alloc=", 8) == 0 || strcmp(argv[i], "--no-gc-timing") == 0
            || strcmp(argv[i], "--arena-decay") == 0 || strncmp(argv[i], "--arena-decay=", 14) == 0)
            return rtb_usage_error(cmd, "%s is rtbench's, not CPython's (the twin runs CPython's own refcounting and "
                                   "allocator); drop it", argv[i]);
    return 0;
}

/* FILE.json -> FILE.base.json: where --baseline's samples go. */
static char *
base_path_of(const char *path)
{
    size_t n = strlen(path);
    if (n > 5 && strcmp(path + n - 5, ".json") == 0)
        n -= 5;
    return rtb_asprintf("%.*s.base.json", (int)n, path);
}

/* The plan's configuration into path (taken) -- and with a baseline, the
 * same configuration run by the baseline build's worker into FILE.base.json,
 * both in the same rounds and stopping together, then compared. */
static int
measure(RtbPlan *p, const char *cmd, char *path, const RtbConfig *c, const char *baseline)
{
    p->journal = journal_of(path);
    rtb_plan_add_output(p, cmd, path, c, 1, false);
    char *base = NULL;
    if (baseline != NULL) {
        RtbConfig b = *c;
        b.build = baseline;
        base = base_path_of(path);
        rtb_plan_add_output(p, cmd, rtb_strdup(base), &b, 1, false);
        p->outputs[1].git_commit = rtb_build_dir_commit(baseline);
        p->link[1] = 0;
    }
    int status = rtb_plan_check(p);
    if (status == 0) {
        RtbDriveStatus st;
        status = rtb_plan_run(p, &st);
        if (!st.finished && status == RTB_EXIT_INTERRUPTED)
            rtb_say("rtbench %s: interrupted; the finished samples are in %s%s%s; continue with the same command "
                    "and --resume", cmd, path, base ? " and " : "", base ? base : "");
        else if (st.write_errors == 0)
            printf(base ? "wrote %s and %s\n" : "wrote %s\n", path, base);
        if (st.finished && st.write_errors == 0 && base != NULL) {
            char *args[] = {"compare", base, path, "--metric", p->m.counter ? "instructions" : "wall_s", NULL};
            fflush(stdout);
            rtb_cmd_compare(5, args);
        }
    }
    free(base);
    rtb_plan_free(p);
    return status;
}

static char *
default_out(const char *cmd, const char *name)
{
    char *ts = rtb_timestamp();
    char *path = rtb_asprintf("results/%s-%s-%s.json", cmd, name, ts);
    free(ts);
    return path;
}

/* rtbench cpython --script PATH / -m MODULE [options] [-- ARGS]: argv is
 * rtbench's own options, the program taken out (rtb_program_take). */
static int
program_command(int argc, char **argv, RtbProgram *prog, int full_argc, char **full_argv)
{
    const char *cmd = "cpython";
    if (rtb_program_check(cmd, prog) != 0 || refuse_rtbench_options(cmd, 1, argc, argv) != 0)
        return RTB_EXIT_USAGE;
    RtbAxes ax;
    RtbPlan p = {.cmd = cmd, .argc = full_argc, .argv = full_argv};
    rtb_axes_init(&ax, &prog->workload, RTB_IMPL_CPYTHON);
    ax.program = prog;
    rtb_measure_defaults(&p.m);
    if (rtb_env_apply(cmd, &ax, &p.m, true, &p.env) != 0)
        return RTB_EXIT_USAGE;
    RunTarget t = {0};
    RtbGetopt g = {cmd, argc, argv, NULL, 0, NULL, NULL};     /* argv[0]: the command, as getopt wants */
    int r = parse(&g, true, &ax, &p, &t);
    rtb_getopt_free(&g);
    if (r == 0)
        r = rtb_axes_resolve_pythons(cmd, &ax);
    if (r != 0) {
        rtb_axes_free(&ax);
        return r;
    }
    int n;
    RtbConfig *c = rtb_axes_expand(&ax, &n);
    int status = measure(&p, cmd, t.out ? rtb_strdup(t.out) : default_out(cmd, prog->name), c, NULL);
    free(c);
    rtb_axes_free(&ax);
    return status;
}

static int
run_command(int argc, char **argv, bool cpy)
{
    const char *cmd = cpy ? "cpython" : "run";
    if (rtb_asks_help(argc, argv)) {
        help(cpy);
        return 0;
    }
    if (cpy) {
        RtbProgram prog;
        int rest_argc;
        char **rest;
        int taken = rtb_program_take(cmd, argc, argv, cpython_options, &prog, &rest_argc, &rest);
        if (taken == 0) {
            int status = program_command(rest_argc, rest, &prog, argc, argv);
            free(rest);
            return status;
        }
        if (taken != 1)
            return taken;
    }
    if (argc < 2 || argv[1][0] == '-')
        return rtb_usage_error(cmd, "which workload? ('rtbench list' shows them)");
    const RtWorkload *w = rt_workload_find(argv[1]);
    if (w == NULL)
        return rtb_usage_error(cmd, "unknown workload '%s' ('rtbench list' shows them)", argv[1]);
    if (cpy && refuse_rtbench_options(cmd, 2, argc, argv) != 0)
        return RTB_EXIT_USAGE;
    RtbAxes ax;
    RtbPlan p = {.cmd = cmd, .argc = argc, .argv = argv};
    rtb_axes_init(&ax, w, cpy ? RTB_IMPL_CPYTHON : RTB_IMPL_RTBENCH);
    rtb_measure_defaults(&p.m);
    if (rtb_env_apply(cmd, &ax, &p.m, cpy, &p.env) != 0)
        return RTB_EXIT_USAGE;
    RunTarget t = {0};
    RtbGetopt g = {cmd, argc - 1, argv + 1, NULL, 0, NULL, NULL};
    int r = parse(&g, cpy, &ax, &p, &t);
    rtb_getopt_free(&g);
    RtbConfig c = ax.base;
    c.rc = ax.nrc ? ax.rc[0] : c.rc;
    c.alloc = ax.nalloc ? ax.alloc[0] : c.alloc;
    c.gc = ax.ngc ? ax.gc[0] : c.gc;
    c.gc_timing = ax.ntiming ? ax.timing[0] : c.gc_timing;
    char *python = NULL;
    if (r == 0 && cpy && check_python(cmd, &c, &python) != 0)
        r = RTB_EXIT_USAGE;
    if (r == 0 && t.baseline != NULL)
        r = rtb_check_build_dir(cmd, t.baseline);
    if (r == 0 && rtb_configs_runnable(cmd, &c, 1) < 0)
        r = RTB_EXIT_USAGE;
    int status = r != 0 ? r : measure(&p, cmd, t.out ? rtb_strdup(t.out) : default_out(cmd, w->name), &c, t.baseline);
    free(python);
    rtb_axes_free(&ax);
    return status;
}

int rtb_cmd_run(int argc, char **argv) { return run_command(argc, argv, false); }
int rtb_cmd_cpython(int argc, char **argv) { return run_command(argc, argv, true); }
