/* cmd_sweep.c -- rtbench sweep: the cross product of the axes given,
 * through the sample driver (driver.c).
 *
 * Axes: --threshold0/1/2 (values and log ranges), --rc, --alloc,
 * --arena-decay, --gc, and any workload parameter given as a list.  At least one axis must have
 * more than one value, else this is a run.  The samples go round-robin
 * across the configurations, in a seeded random order per round, and each
 * is journaled in DIR as it finishes: a sweep killed in any way is
 * continued by the same command with --resume.  DIR/sweep.json and
 * sweep.csv are written at the end; a finished sweep is never overwritten
 * without --force.  --shard I/N takes a deterministic share of the
 * configurations (rtbench merge joins the shards).
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <stdlib.h>
#include <string.h>

static const RtbOptDef options[] = {
    {"threshold", true, RTB_OPT_THRESHOLD}, {"threshold0", true, RTB_OPT_THRESHOLD0},
    {"threshold1", true, RTB_OPT_THRESHOLD1}, {"threshold2", true, RTB_OPT_THRESHOLD2}, {"gc", true, RTB_OPT_GC},
    {"rc", true, RTB_OPT_RC}, {"alloc", true, RTB_OPT_ALLOC}, {"arena-decay", true, RTB_OPT_ARENA_DECAY},
    {"repeat", true, RTB_OPT_REPEAT},
    {"runs", true, RTB_OPT_REPEAT}, {"warmup", true, RTB_OPT_WARMUP}, {"precision", true, RTB_OPT_PRECISION},
    {"max-repeat", true, RTB_OPT_MAX_REPEAT}, {"max-time", true, RTB_OPT_MAX_TIME}, {"seed", true, RTB_OPT_SEED},
    {"cpu", true, RTB_OPT_CPU}, {"out", true, RTB_OPT_OUT}, {"force", false, RTB_OPT_FORCE},
    {"resume", false, RTB_OPT_RESUME}, {"shard", true, RTB_OPT_SHARD}, {"rss-interval", true, RTB_OPT_RSS_INTERVAL},
    {"no-rss", false, RTB_OPT_NO_RSS}, {"no-gc-timing", false, RTB_OPT_NO_GC_TIMING},
    {"timeout", true, RTB_OPT_TIMEOUT}, {"heartbeat", true, RTB_OPT_HEARTBEAT}, {"quiet", false, RTB_OPT_QUIET},
    {"metric", true, RTB_OPT_METRIC},
    {"python", true, RTB_OPT_PYTHON}, {"freeze", true, RTB_OPT_FREEZE},
    {"freeze-after-import", true, RTB_OPT_FREEZE_AFTER_IMPORT}, {"fork-workers", true, RTB_OPT_FORK_WORKERS},
    {"gc-timing", true, RTB_OPT_GC_TIMING}, {NULL, false, 0},
};

static void
help(void)
{
    printf("usage: rtbench sweep WORKLOAD AXIS... [--PARAM V|LIST ...] [--repeat K|auto]\n"
           "                     [--out DIR] [--resume] [--force] [--shard I/N] [options]\n\n"
           "Run the workload over the cross product of the axes given, and write\n"
           "DIR/sweep.json and DIR/sweep.csv (default DIR:\n"
           "results/sweep-WORKLOAD-TIMESTAMP).\n"
           "At least one axis needs more than one value:\n"
           "  --threshold0 LIST         e.g. 100:100000:log4,700 -- values and log ranges\n"
           "  --threshold1 LIST, --threshold2 LIST    (FROM:TO:logN is N values from FROM\n"
           "                            to TO, log-spaced; the list is sorted, once each)\n"
           "  --rc LIST, --alloc LIST, --gc LIST    comma lists of names\n"
           "  --arena-decay LIST        the pool's arena decay in ms, e.g. 0,100,1000\n"
           "  --PARAM LIST              any workload parameter (--threads 1,2,4 with --rc\n"
           "                            nonatomic,...: nonatomic's points above one thread\n"
           "                            are left out, said on stderr: it runs one thread)\n"
           "--threshold T0[,T1[,T2]] sets the base the axes vary from.\n\n"
           "Samples go round-robin across the configurations, shuffled per round (the\n"
           "seed and the order are in the result).  Each finished sample is journaled in\n"
           "DIR: after an interruption (Ctrl-C, kill -9), the same command with --resume\n"
           "runs only what is missing.\n\n"
           "  --shard I/N               only the I-th of N deterministic shares of the\n"
           "                            configurations (balanced by expected time);\n"
           "                            'rtbench merge' joins the shards' folders\n\n"
           "  rtbench sweep (--script PATH | -m MODULE) AXIS... [options] [-- ARGS...]\n"
           "sweeps a Python program under CPython instead, over --threshold0/1/2,\n"
           "--gc on,off, --freeze on,off (with --freeze-after-import), --gc-timing on,off\n"
           "and --python A,B (interpreters compared; each starts from its own default\n"
           "thresholds where --threshold sets none).\n");
    rtb_measure_help();
    putchar('\n');
    rtb_program_help("sweep");
    printf("\nExit status: 0 all samples ok, 1 a sample failed, 2 bad arguments or an existing\n"
           "result (nothing run), 130 interrupted (resume with --resume).\n");
}

static int
parse(RtbGetopt *g, RtbAxes *ax, RtbPlan *p, const char **dir, const char **shard)
{
    int r;
    while ((r = rtb_getopt(g, options, ax->base.workload)) == 1) {
        if (g->positional != NULL)
            return rtb_usage_error("sweep", "one workload at a time (got '%s' too)", g->positional);
        int a = rtb_apply_option(g, ax, &p->m, true);
        if (a != 0) {
            if (a != 1)
                return a;
            continue;
        }
        switch (g->id) {
        case RTB_OPT_OUT: *dir = g->value; break;
        case RTB_OPT_FORCE: p->force = true; break;
        case RTB_OPT_RESUME: p->resume = true; break;
        case RTB_OPT_SHARD: *shard = g->value; break;
        default: return rtb_usage_error("sweep", "unknown option");
        }
    }
    return r;
}

/* The options of a workload's sweep that a program's refuses, and back. */
static int
check_axes(const RtbAxes *ax)
{
    if (ax->program != NULL && (ax->nrc > 0 || ax->nalloc > 0))
        return rtb_usage_error("sweep", "--rc and --alloc are rtbench's: a Python program runs CPython's own "
                               "refcounting and allocator");
    if (ax->program == NULL && (ax->npython > 0 || ax->nfreeze > 0 || ax->ntiming > 0))
        return rtb_usage_error("sweep", "--python, --freeze and --gc-timing sweep a Python program (--script PATH "
                               "or -m MODULE), not a workload");
    if (ax->program != NULL && ax->nfreeze > 0 && ax->program->freeze == NULL)
        return rtb_usage_error("sweep", "--freeze on,off needs --freeze-after-import MODULE,... (what to import "
                               "before the freeze)");
    return 0;
}

/* The axes and the plan of a sweep: of the workload argv[1], or of the
 * program (argv already without it: rtb_program_take). */
static int
setup(int argc, char **argv, RtbProgram *prog, RtbAxes *ax, RtbPlan *p, const char **dir, const char **shard)
{
    const RtWorkload *w = prog ? &prog->workload : NULL;
    if (prog == NULL && (argc < 2 || argv[1][0] == '-'))
        return rtb_usage_error("sweep", "which workload or program? ('rtbench list' shows the workloads; "
                               "--script PATH or -m MODULE for a Python program)");
    if (prog == NULL && (w = rt_workload_find(argv[1])) == NULL)
        return rtb_usage_error("sweep", "unknown workload '%s' ('rtbench list' shows them)", argv[1]);
    if (prog != NULL && rtb_program_check("sweep", prog) != 0)
        return RTB_EXIT_USAGE;
    rtb_axes_init(ax, w, prog ? RTB_IMPL_CPYTHON : RTB_IMPL_RTBENCH);
    ax->program = prog;
    rtb_measure_defaults(&p->m);
    if (rtb_env_apply("sweep", ax, &p->m, prog != NULL, &p->env) != 0)
        return RTB_EXIT_USAGE;
    /* getopt skips argv[0]: the workload, or the command when a program */
    RtbGetopt g = {"sweep", prog ? argc : argc - 1, prog ? argv : argv + 1, NULL, 0, NULL, NULL};
    int r = parse(&g, ax, p, dir, shard);
    rtb_getopt_free(&g);
    if (r == 0)
        r = check_axes(ax);
    if (r == 0 && prog != NULL)
        r = rtb_axes_resolve_pythons("sweep", ax);
    return r;
}

static int sweep(RtbAxes *ax, RtbPlan *p, const char *dir, const char *shard);

int
rtb_cmd_sweep(int argc, char **argv)
{
    if (rtb_asks_help(argc, argv)) {
        help();
        return 0;
    }
    RtbProgram prog;
    int rest_argc;
    char **rest = NULL;
    int taken = rtb_program_take("sweep", argc, argv, options, &prog, &rest_argc, &rest);
    if (taken != 0 && taken != 1)
        return taken;
    RtbAxes ax = {0};
    RtbPlan p = {.cmd = "sweep", .argc = argc, .argv = argv};
    const char *dir = NULL, *shard = NULL;
    int r = taken == 0 ? setup(rest_argc, rest, &prog, &ax, &p, &dir, &shard)
                       : setup(argc, argv, NULL, &ax, &p, &dir, &shard);
    if (r == 0)
        r = sweep(&ax, &p, dir, shard);
    rtb_axes_free(&ax);
    free(rest);
    return r;
}

static int
sweep(RtbAxes *ax, RtbPlan *p, const char *dir, const char *shard)
{
    const RtWorkload *w = ax->base.workload;
    int si = 0, sn = 0;
    if (shard != NULL && !rtb_parse_shard(shard, &si, &sn))
        return rtb_usage_error("sweep", "--shard expects I/N with 1 <= I <= N; got '%s'", shard);
    int n;
    RtbConfig *configs = rtb_axes_expand(ax, &n);
    if ((n = rtb_configs_runnable("sweep", configs, n)) < 0) {
        free(configs);
        return RTB_EXIT_USAGE;
    }
    if (n < 2) {
        free(configs);
        return rtb_usage_error("sweep", "no axis with more than one value: give e.g. --threshold0 100:100000:log4,700 "
                               "(or use 'rtbench run' for one configuration)");
    }
    char *defdir = NULL;
    if (dir == NULL) {
        if (p->resume) {
            free(configs);
            return rtb_usage_error("sweep", "--resume needs the --out DIR of the sweep to continue");
        }
        char *ts = rtb_timestamp();
        dir = defdir = rtb_asprintf("results/sweep-%s-%s", w->name, ts);
        free(ts);
    }
    p->journal = rtb_asprintf("%s/.journal.jsonl", dir);
    char *path = rtb_asprintf("%s/sweep.json", dir);
    rtb_plan_add_output(p, "sweep", path, configs, n, false);
    free(configs);
    if (sn > 0)
        rtb_plan_shard(p, si, sn);
    int status = rtb_plan_check(p);
    if (status == 0) {
        RtbDriveStatus st;
        status = rtb_plan_run(p, &st);
        if (status == RTB_EXIT_INTERRUPTED)
            rtb_say("rtbench sweep: interrupted; the finished samples are in %s; continue with the same command "
                    "and --resume", dir);
        else if (st.write_errors == 0)
            printf("wrote %s/sweep.json\n", dir);
    }
    rtb_plan_free(p);
    free(defdir);
    return status;
}
