/* cmd_tune.c -- rtbench tune: which GC thresholds suit a Python program.
 *
 *   rtbench tune (--script PATH | -m MODULE) [--objective time|rss|p99-pause|balanced]
 *                [--budget MIN] [--python P] [--out DIR] [-- ARGS]
 *
 * A coarse-to-fine search, each stage one interleaved plan through the
 * sample driver (driver.c) with the interpreter's own default thresholds as
 * the control in it, each stage's result file in DIR:
 *
 *   1. coarse   threshold0 at the default x 1/4, 4, 16, 64, 256;
 *   2. fine     around stage 1's best: x 1/2, 1/sqrt2, 1, sqrt2, 2; every
 *               candidate measured afresh, so that the winner of stage 1
 *               is not judged on the samples that picked it (when stage 1
 *               found nothing better than the defaults, the search ends
 *               there: keep the defaults);
 *   3. t1/t2    only when it pays -- stage 2's best setting still runs full
 *               collections -- and budget is left: threshold1 x 4 and
 *               threshold2 x 4 beside it; taken only when significantly
 *               better than stage 2's best itself on the objective.
 *
 * Every setting of a stage gets its minimum samples even past the budget
 * (a stage without them could not tell anything from noise).
 *
 * Each candidate is compared with the control of its own stage (compare.c:
 * the Hodges-Lehmann ratio with its 95% interval, Mann-Whitney p) on wall
 * time, peak RSS and the p99 pause (tune_judge.c).  The recommendation is
 * the best candidate significantly better than the defaults on the
 * objective (balanced: better on one of the three, worse on none); when
 * there is none, the answer is to keep the defaults.  tune.json in DIR
 * holds the recommendation, every candidate's effects and the Pareto front;
 * plots/chart_tune.py draws them (DIR/tune.png, tune.svg).
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "tune.h"
#include "rt/bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const RtbOptDef options[] = {
    {"objective", true, RTB_OPT_OBJECTIVE}, {"budget", true, RTB_OPT_BUDGET}, {"python", true, RTB_OPT_PYTHON},
    {"threshold", true, RTB_OPT_THRESHOLD}, {"repeat", true, RTB_OPT_REPEAT}, {"precision", true, RTB_OPT_PRECISION},
    {"max-repeat", true, RTB_OPT_MAX_REPEAT}, {"seed", true, RTB_OPT_SEED}, {"cpu", true, RTB_OPT_CPU},
    {"out", true, RTB_OPT_OUT}, {"force", false, RTB_OPT_FORCE}, {"timeout", true, RTB_OPT_TIMEOUT},
    {"quiet", false, RTB_OPT_QUIET}, {"heartbeat", true, RTB_OPT_HEARTBEAT},
    {"rss-interval", true, RTB_OPT_RSS_INTERVAL}, {"no-rss", false, RTB_OPT_NO_RSS},
    {"freeze-after-import", true, RTB_OPT_FREEZE_AFTER_IMPORT}, {"fork-workers", true, RTB_OPT_FORK_WORKERS},
    {NULL, false, 0},
};

static void
help(void)
{
    printf("usage: rtbench tune (--script PATH | -m MODULE) [--objective OBJ] [--budget MIN]\n"
           "                    [--python P] [--out DIR] [--force] [options] [-- ARGS...]\n\n"
           "Search the program's GC thresholds, coarse to fine, against the interpreter's\n"
           "own defaults measured in the same interleaved runs, and recommend the\n"
           "gc.set_threshold(...) line that is best for the objective -- only when its\n"
           "effect is significant (its interval clear of 1, a stage's candidates sharing\n"
           "an alpha of 5%%); otherwise the answer is to keep the defaults.  Writes\n"
           "DIR/tune.json (the recommendation, every candidate's effect with its\n"
           "interval, the Pareto front), its chart DIR/tune.png and .svg, and one result\n"
           "file per stage (default DIR: results/tune-NAME-TIMESTAMP).\n\n"
           "  --objective OBJ           time (wall time, the default), rss (peak RSS),\n"
           "                            p99-pause (the 99th percentile collector pause),\n"
           "                            balanced (better on one of the three, worse on none)\n"
           "  --budget MIN              minutes for the whole search (default 10): each\n"
           "                            stage repeats samples (--repeat auto) within its\n"
           "                            share, but takes at least %d per setting first\n"
           "  --repeat K                K samples per setting instead of auto\n"
           "  --threshold T0[,T1[,T2]]  the control instead of the interpreter's defaults\n"
           "  --python PATH|NAME        the interpreter (default %s)\n"
           "  --out DIR, --force, --seed N, --cpu LIST, --timeout S, --quiet, --precision,\n"
           "  --max-repeat, --rss-interval, --no-rss: as for 'rtbench sweep'\n\n",
           RTB_TUNE_MIN_REPEAT, RTB_DEFAULT_PYTHON);
    rtb_program_help("tune");
    printf("\nExit status: 0 a recommendation (keeping the defaults is one), 1 a sample\n"
           "failed (the program raised or exited non-zero), 2 bad arguments or an existing\n"
           "DIR/tune.json without --force, 130 interrupted.\n");
}

/* ==== the command line ===================================================== */

static int
parse_objective(const char *v, RtbObjective *out)
{
    static const char *const names[] = {"time", "rss", "p99-pause", "balanced"};
    for (int k = 0; k < 4; k++)
        if (strcmp(v, names[k]) == 0) {
            *out = (RtbObjective)k;
            return 1;
        }
    return rtb_usage_error("tune", "--objective expects time, rss, p99-pause or balanced; got '%s'", v);
}

static int
parse(RtbGetopt *g, RtbAxes *ax, RtbTune *t)
{
    int r;
    double minutes;
    while ((r = rtb_getopt(g, options, NULL)) == 1) {
        if (g->positional != NULL)
            return rtb_usage_error("tune", "unexpected '%s' (the program's arguments go after '--')", g->positional);
        int a = rtb_apply_option(g, ax, &t->m, false);
        if (a != 0) {
            if (a != 1)
                return a;
            continue;
        }
        switch (g->id) {
        case RTB_OPT_OBJECTIVE:
            if ((r = parse_objective(g->value, &t->objective)) != 1)
                return r;
            break;
        case RTB_OPT_BUDGET:
            if (!rtb_parse_double(g->value, 0, &minutes) || minutes <= 0)
                return rtb_usage_error("tune", "--budget expects minutes above 0 (e.g. 10 or 0.5); got '%s'",
                                       g->value);
            t->budget_s = minutes * 60;
            break;
        case RTB_OPT_OUT: t->dir = g->value; break;
        case RTB_OPT_FORCE: t->force = true; break;
        default: return rtb_usage_error("tune", "unknown option");
        }
    }
    return r;
}

static int
setup(int argc, char **argv, RtbProgram *prog, RtbAxes *ax, RtbTune *t)
{
    if (rtb_program_check("tune", prog) != 0)
        return RTB_EXIT_USAGE;
    rtb_axes_init(ax, &prog->workload, RTB_IMPL_CPYTHON);
    ax->program = prog;
    rtb_measure_defaults(&t->m);
    t->m.auto_repeat = true;
    /* the candidates of a stage share alpha (0.05 / 5): with ties, 5
     * against 5 samples cannot reach it, 7 against 7 can */
    t->m.min_repeat = RTB_TUNE_MIN_REPEAT;
    if (rtb_env_apply("tune", ax, &t->m, true, &t->env) != 0)
        return RTB_EXIT_USAGE;
    RtbGetopt g = {"tune", argc, argv, NULL, 0, NULL, NULL};
    int r = parse(&g, ax, t);
    rtb_getopt_free(&g);
    if (r == 0 && ax->npython > 1)
        r = rtb_usage_error("tune", "one interpreter at a time (compare interpreters with 'rtbench sweep --python "
                            "A,B')");
    if (r == 0)
        r = rtb_axes_resolve_pythons("tune", ax);
    if (r != 0)
        return r;
    long d[3];
    int n;
    RtbConfig *c = rtb_axes_expand(ax, &n);
    memcpy(d, c[0].threshold, sizeof d);
    t->base = c[0];
    free(c);
    memcpy(t->control, d, sizeof d);
    if (d[0] == 0)
        return rtb_usage_error("tune", "the control's threshold0 is 0 (automatic collection off): give --threshold "
                               "with the thresholds to start from");
    return 0;
}

/* ==== the stages =============================================================== */

static long
scaled(long v, double f)
{
    double x = floor((double)v * f + 0.5);
    return x < 1 ? 1 : x > 2147483647.0 ? 2147483647 : (long)x;
}

/* Add t0 x f (t1, t2 of from) unless that setting is there already. */
static void
add_candidate(RtbStage *s, const long from[3], double f0, double f1, double f2)
{
    long t[3] = {scaled(from[0], f0), scaled(from[1], f1), scaled(from[2], f2)};
    for (int k = 0; k < s->n; k++)
        if (memcmp(s->t[k], t, sizeof t) == 0)
            return;
    if (s->n < RTB_TUNE_MAX_CANDIDATES)
        memcpy(s->t[s->n++], t, sizeof t);
}

static void
coarse(const RtbTune *t, RtbStage *s)
{
    static const double f[] = {1, 0.25, 4, 16, 64, 256};
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
        add_candidate(s, t->control, f[k], 1, 1);
}

static void
fine(const RtbTune *t, const long best[3], RtbStage *s)
{
    add_candidate(s, t->control, 1, 1, 1);
    static const double around[] = {0.5, M_SQRT1_2, 1, M_SQRT2, 2};
    for (size_t k = 0; k < sizeof around / sizeof around[0]; k++)
        add_candidate(s, best, around[k], 1, 1);
}

static void
generations(const RtbTune *t, const long best[3], RtbStage *s)
{
    add_candidate(s, t->control, 1, 1, 1);
    add_candidate(s, best, 1, 1, 1);
    add_candidate(s, best, 1, 4, 1);
    add_candidate(s, best, 1, 1, 4);
}

/* Run stage s (number idx) within budget_s; read its result back. */
static int
run_stage(RtbTune *t, int idx, RtbStage *s, double budget_s)
{
    RtbPlan p = {.cmd = "tune", .argc = t->argc, .argv = t->argv, .m = t->m, .env = t->env, .force = true};
    if (p.m.auto_repeat)
        p.m.max_time_s = budget_s;
    RtbConfig *c = rtb_xcalloc((size_t)s->n, sizeof *c);
    for (int k = 0; k < s->n; k++) {
        c[k] = t->base;
        memcpy(c[k].threshold, s->t[k], sizeof c[k].threshold);
    }
    s->path = rtb_asprintf("%s/stage%d-%s.json", t->dir, idx, s->what);
    p.journal = rtb_asprintf("%s/.stage%d.journal.jsonl", t->dir, idx);
    if (!t->m.quiet)
        rtb_say("rtbench tune: stage %d (%s): %d settings, %s", idx, s->what, s->n,
                p.m.auto_repeat ? "repeated until precise or out of the stage's budget" : "fixed repeats");
    rtb_plan_add_output(&p, "sweep", rtb_strdup(s->path), c, s->n, false);
    free(c);
    RtbDriveStatus st;
    int status = rtb_plan_run(&p, &st);
    rtb_plan_free(&p);
    if (status == RTB_EXIT_INTERRUPTED || st.write_errors > 0)
        return status ? status : 1;
    char err[1024];
    if (rtb_result_read(s->path, &s->result, err, sizeof err) != 0) {
        rtb_say("rtbench tune: %s", err);
        return 1;
    }
    s->read = true;
    t->failed |= st.failures > 0;
    return 0;
}

static int
search(RtbTune *t)
{
    static const double share[] = {0.45, 0.35, 0.20};
    RtbStage *s = &t->stages[0];
    s->what = "coarse";
    coarse(t, s);
    int status = run_stage(t, 1, s, t->budget_s * share[0]);
    if (status != 0)
        return status;
    rtb_tune_judge(t, s);
    t->nstages = 1;
    if (s->best_index == 0)
        return 0;
    s = &t->stages[1];
    s->what = "fine";
    fine(t, t->stages[0].best, s);
    if ((status = run_stage(t, 2, s, t->budget_s * share[1])) != 0)
        return status;
    rtb_tune_judge(t, s);
    t->nstages = 2;
    if (!rtb_tune_generations_pay(t, s))
        return 0;
    if (rt_monotonic_s() - t->start >= t->budget_s) {
        /* the fine stage confirms a change; this one only refines it */
        rtb_say("rtbench tune: the budget is spent: no threshold1/threshold2 stage (raise --budget for it)");
        return 0;
    }
    RtbStage *g = &t->stages[2];
    g->what = "generations";
    generations(t, s->best, g);
    if ((status = run_stage(t, 3, g, t->budget_s * share[2])) != 0)
        return status;
    rtb_tune_judge(t, g);
    t->nstages = 3;
    return 0;
}

/* ==== the command ============================================================== */

/* DIR/tune.png and .svg by plots/chart_tune.py, under a Python with
 * matplotlib; without one, a line says so and the answer stands. */
static void
chart(const RtbTune *t)
{
    char tried[1024];
    const char *py = rtb_find_python("matplotlib", tried, sizeof tried);
    if (py == NULL) {
        rtb_say("rtbench tune: no chart: no Python with matplotlib (tried %s; apt-get install "
                "python3-matplotlib)", tried);
        return;
    }
    char *script = rtb_asprintf("%s/plots/chart_tune.py", rtb_home());
    char *args[] = {(char *)py, script, t->out, NULL};
    if (rtb_spawn(args, true) != 0)
        rtb_say("rtbench tune: %s could not draw the chart of %s", script, t->out);
    else
        printf("wrote %s/tune.png and tune.svg\n", t->dir);
    free(script);
}

static int
prepare_dir(RtbTune *t, const RtbProgram *prog)
{
    if (t->dir == NULL) {
        char *ts = rtb_timestamp();
        t->dir = t->own_dir = rtb_asprintf("results/tune-%s-%s", prog->name, ts);
        free(ts);
    }
    t->out = rtb_asprintf("%s/tune.json", t->dir);
    char err[1024];
    if (!t->force && access(t->out, F_OK) == 0)
        return rtb_usage_error("tune", "%s exists: give --force to replace it, or another --out", t->out);
    if (rtb_mkdirs(t->dir) != 0 || rtb_check_writable(t->out, false, err, sizeof err) != 0)
        return rtb_usage_error("tune", "cannot write in %s: %s", t->dir, err);
    return 0;
}

static void
tune_free(RtbTune *t)
{
    for (int k = 0; k < 3; k++) {
        if (t->stages[k].read)
            rtb_result_free(&t->stages[k].result);
        free(t->stages[k].path);
    }
    free(t->out);
    free(t->own_dir);
}

int
rtb_cmd_tune(int argc, char **argv)
{
    if (rtb_asks_help(argc, argv)) {
        help();
        return 0;
    }
    RtbProgram prog;
    int rest_argc;
    char **rest = NULL;
    int taken = rtb_program_take("tune", argc, argv, options, &prog, &rest_argc, &rest);
    if (taken == 1)
        return rtb_usage_error("tune", "which program? give --script PATH or -m MODULE");
    if (taken != 0)
        return taken;
    RtbAxes ax = {0};
    RtbTune t = {.argc = argc, .argv = argv, .objective = RTB_OBJ_TIME, .budget_s = 600};
    int status = setup(rest_argc, rest, &prog, &ax, &t);
    if (status == 0)
        status = prepare_dir(&t, &prog);
    if (status == 0) {
        t.start = rt_monotonic_s();
        status = search(&t);
        t.elapsed_s = rt_monotonic_s() - t.start;
        if (status == 0 || status == 1) {
            rtb_tune_recommend(&t);
            rtb_tune_print(&t, stdout);
            int w = rtb_tune_write(&t, &prog);
            if (w == 0)
                chart(&t);
            status = w != 0 ? w : t.failed ? 1 : 0;
        }
    }
    tune_free(&t);
    rtb_axes_free(&ax);
    free(rest);
    return status;
}
