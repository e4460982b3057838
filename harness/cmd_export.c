/* cmd_export.c -- rtbench export FILE --to gbench|hyperfine|md: the same
 * samples in the shapes users' tools read unmodified.
 *
 *   gbench     Google Benchmark 1.7.1 JSON: one "iteration" entry per ok
 *              sample and the mean/median/stddev/cv aggregates.  real_time
 *              and cpu_time are both the workload's (its wall and CPU time,
 *              measured inside the child), in ns; the whole process's
 *              figures are extra counters (process_wall_ns, process_cpu_ns),
 *              with peak_rss_bytes and gc_pause_p99_ns.  Names are the run
 *              names, cycle_storm/n:100000/.../t0:700/.../rc:atomic/alloc:pool,
 *              whose parts sit between slashes, so compare.py's regexes
 *              match a part exactly: filters run.json '/t0:100/' '/t0:1000/',
 *              or benchmarksfiltered a.json '/rc:nonatomic/' b.json
 *              '/rc:atomic/' to compare two files.
 *   hyperfine  hyperfine 1.15's --export-json shape: results[] with times
 *              in seconds (each whole process, as hyperfine measures it),
 *              user, system, and as parameters only the axes that vary
 *              across the file's runs (a one-axis sweep has one, as
 *              hyperfine's plot_parametrized.py requires); the command is a
 *              short label of those axes.  No field hyperfine 1.15 lacks.
 *   md         a Markdown table of the medians.
 * Only samples that finished are exported.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void
help(void)
{
    printf("usage: rtbench export FILE --to gbench|hyperfine|md [--out OUT]\n\n"
           "Convert a result file (schema rtbench/1) for other tools; write to OUT\n"
           "(atomically) or to standard output.\n"
           "  gbench     Google Benchmark JSON: one entry per sample plus mean, median,\n"
           "             stddev and cv aggregates; real_time and cpu_time are the\n"
           "             workload's, in ns.  With\n"
           "             Google Benchmark's compare.py (Debian: libbenchmark-tools):\n"
           "               compare.py filters run.json '/t0:100/' '/t0:1000/'\n"
           "               compare.py benchmarksfiltered a.json '/rc:nonatomic/' \\\n"
           "                   b.json '/rc:atomic/'\n"
           "             (slashes on both sides match a part exactly; the last part needs\n"
           "             '/alloc:pool$')\n"
           "  hyperfine  hyperfine 1.15's --export-json shape (seconds, whole-process times,\n"
           "             the varying axes as string parameters); hyperfine's scripts read it\n"
           "  md         a Markdown table of the medians\n");
}

static size_t
ok_values(const RtbRun *r, const char *metric, double *out)
{
    size_t n = 0;
    for (size_t k = 0; k < r->nsamples; k++) {
        double v = r->samples[k].status == RTB_OK ? rtb_sample_metric(&r->samples[k], metric) : NAN;
        if (isfinite(v))
            out[n++] = v;
    }
    return n;
}

/* ==== Google Benchmark =================================================== */

static Rtj *
gbench_entry(const char *name, const char *run_name, int family, const char *run_type, int reps)
{
    Rtj *e = rtj_object();
    rtj_set(e, "name", rtj_string(name));
    rtj_set(e, "family_index", rtj_integer(family));
    rtj_set(e, "per_family_instance_index", rtj_integer(0));
    rtj_set(e, "run_name", rtj_string(run_name));
    rtj_set(e, "run_type", rtj_string(run_type));
    rtj_set(e, "repetitions", rtj_integer(reps));
    rtj_set(e, "threads", rtj_integer(1));
    rtj_set(e, "iterations", rtj_integer(1));
    return e;
}

static void
gbench_aggregates(Rtj *list, const char *name, int family, const double *wall, const double *cpu, size_t n)
{
    static const char *const kinds[] = {"mean", "median", "stddev", "cv"};
    for (int k = 0; k < 4; k++) {
        char *full = rtb_asprintf("%s_%s", name, kinds[k]);
        Rtj *e = gbench_entry(full, name, family, "aggregate", (int)n);
        free(full);
        rtj_set(e, "aggregate_name", rtj_string(kinds[k]));
        rtj_set(e, "aggregate_unit", rtj_string(k == 3 ? "percentage" : "time"));
        double r = 0, c = 0;
        switch (k) {
        case 0: r = rtb_mean(wall, n); c = rtb_mean(cpu, n); break;
        case 1: r = rtb_median(wall, n); c = rtb_median(cpu, n); break;
        case 2: r = rtb_stdev(wall, n); c = rtb_stdev(cpu, n); break;
        default:
            r = rtb_mean(wall, n) > 0 ? rtb_stdev(wall, n) / rtb_mean(wall, n) : 0;
            c = rtb_mean(cpu, n) > 0 ? rtb_stdev(cpu, n) / rtb_mean(cpu, n) : 0;
            break;
        }
        rtj_set(e, "real_time", rtj_number(k == 3 ? r : r * 1e9));
        rtj_set(e, "cpu_time", rtj_number(k == 3 ? c : c * 1e9));
        rtj_set(e, "time_unit", rtj_string("ns"));
        rtj_append(list, e);
    }
}

static void
gbench_run(Rtj *list, const RtbRun *r, int family)
{
    double *wall = rtb_xcalloc(r->nsamples + 1, sizeof *wall), *cpu = rtb_xcalloc(r->nsamples + 1, sizeof *cpu);
    size_t n = 0, ok = rtb_run_ok(r);
    for (size_t k = 0; k < r->nsamples; k++) {
        const RtbSample *s = &r->samples[k];
        if (s->status != RTB_OK || !isfinite(s->wall_s))
            continue;
        wall[n] = s->wall_s;
        cpu[n] = isfinite(s->cpu_s) ? s->cpu_s : s->wall_s;     /* files before cpu_s: the wall time */
        Rtj *e = gbench_entry(r->name, r->name, family, "iteration", (int)ok);
        rtj_set(e, "repetition_index", rtj_integer((int64_t)n));
        rtj_set(e, "real_time", rtj_number(wall[n] * 1e9));
        rtj_set(e, "cpu_time", rtj_number(cpu[n] * 1e9));
        rtj_set(e, "time_unit", rtj_string("ns"));
        rtj_set(e, "process_wall_ns", rtj_number(s->process_wall_s * 1e9));
        rtj_set(e, "process_cpu_ns", rtj_number((s->user_s + s->sys_s) * 1e9));
        rtj_set(e, "peak_rss_bytes", rtj_number((double)s->peak_rss_bytes));
        if (s->gc.present && isfinite(s->gc.pauses.p99_s))
            rtj_set(e, "gc_pause_p99_ns", rtj_number(s->gc.pauses.p99_s * 1e9));
        rtj_append(list, e);
        n++;
    }
    if (n > 0)
        gbench_aggregates(list, r->name, family, wall, cpu, n);
    free(wall);
    free(cpu);
}

static Rtj *
to_gbench(const RtbResult *res)
{
    Rtj *doc = rtj_object(), *ctx = rtj_object(), *list = rtj_array();
    const RtbMachine *m = &res->machine;
    rtj_set(ctx, "date", rtj_string(res->created ? res->created : ""));
    rtj_set(ctx, "host_name", rtj_string(m->hostname ? m->hostname : ""));
    rtj_set(ctx, "executable", rtj_string("rtbench"));
    rtj_set(ctx, "num_cpus", rtj_integer(m->cores == RTB_NONE ? 0 : m->cores));
    rtj_set(ctx, "mhz_per_cpu", rtj_integer(0));
    rtj_set(ctx, "cpu_scaling_enabled", rtj_boolean(false));
    rtj_set(ctx, "caches", rtj_array());
    Rtj *load = rtj_set(ctx, "load_avg", rtj_array());
    for (int i = 0; i < m->nload; i++)
        rtj_append(load, rtj_number(m->load_avg[i]));
    rtj_set(ctx, "library_build_type", rtj_string("release"));
    rtj_set(ctx, "rtbench_git_commit", rtj_string(m->git_commit ? m->git_commit : ""));
    for (size_t r = 0; r < res->nruns; r++)
        gbench_run(list, &res->runs[r], (int)r);
    rtj_set(doc, "context", ctx);
    rtj_set(doc, "benchmarks", list);
    return doc;
}

/* ==== hyperfine ========================================================== */

/* The parts of a run's name ("t0:700"), by position. */
static int
name_parts(const char *name, char parts[][64], int max)
{
    int n = 0;
    for (const char *p = name; *p && n < max; n++) {
        size_t len = strcspn(p, "/");
        snprintf(parts[n], 64, "%.*s", (int)len, p);
        p += len + (p[len] == '/');
    }
    return n;
}

/* Which parts vary across the runs (same shape of names only). */
static void
varying_parts(const RtbResult *res, bool *varies, int max)
{
    char first[32][64], other[32][64];
    int nf = res->nruns ? name_parts(res->runs[0].name, first, 32) : 0;
    for (int k = 0; k < max; k++)
        varies[k] = false;
    for (size_t r = 1; r < res->nruns; r++) {
        int n = name_parts(res->runs[r].name, other, 32);
        for (int k = 0; k < n && k < nf && k < max; k++)
            varies[k] |= strcmp(first[k], other[k]) != 0;
    }
}

static Rtj *
hyperfine_result(const RtbRun *r, const bool *varies)
{
    double *t = rtb_xcalloc(r->nsamples + 1, sizeof *t), *u = rtb_xcalloc(r->nsamples + 1, sizeof *u);
    double *sy = rtb_xcalloc(r->nsamples + 1, sizeof *sy);
    size_t n = ok_values(r, "process_wall_s", t);
    ok_values(r, "user_s", u);
    ok_values(r, "sys_s", sy);
    Rtj *e = rtj_object(), *times = rtj_array(), *codes = rtj_array(), *params = rtj_object();
    double lo = n ? t[0] : 0, hi = n ? t[0] : 0;
    for (size_t k = 0; k < n; k++) {
        rtj_append(times, rtj_number(t[k]));
        rtj_append(codes, rtj_integer(0));
        lo = fmin(lo, t[k]);
        hi = fmax(hi, t[k]);
    }
    char parts[32][64], label[32 * 65] = "";
    int np = name_parts(r->name, parts, 32);
    for (int k = 0; k < np; k++) {
        char *colon = strchr(parts[k], ':');
        if (!varies[k] || colon == NULL)
            continue;
        *colon = '\0';
        const char *key = strcmp(parts[k], "t0") == 0 ? "threshold0" : strcmp(parts[k], "t1") == 0 ? "threshold1"
                          : strcmp(parts[k], "t2") == 0 ? "threshold2" : parts[k];
        rtj_set(params, key, rtj_string(colon + 1));
        *colon = ':';
        if (label[0])
            strcat(label, " ");
        strcat(label, parts[k]);    /* 32 parts of under 64 bytes each fit */
    }
    rtj_set(e, "command", rtj_string(label[0] ? label : r->workload));
    rtj_set(e, "mean", rtj_number(n ? rtb_mean(t, n) : 0));
    rtj_set(e, "stddev", n > 1 ? rtj_number(rtb_stdev(t, n)) : rtj_null());
    rtj_set(e, "median", rtj_number(n ? rtb_median(t, n) : 0));
    rtj_set(e, "user", rtj_number(n ? rtb_mean(u, n) : 0));
    rtj_set(e, "system", rtj_number(n ? rtb_mean(sy, n) : 0));
    rtj_set(e, "min", rtj_number(lo));
    rtj_set(e, "max", rtj_number(hi));
    rtj_set(e, "times", times);
    rtj_set(e, "exit_codes", codes);
    rtj_set(e, "parameters", params);
    free(t);
    free(u);
    free(sy);
    return e;
}

static Rtj *
to_hyperfine(const RtbResult *res)
{
    Rtj *doc = rtj_object(), *list = rtj_array();
    bool varies[32];
    varying_parts(res, varies, 32);
    for (size_t r = 0; r < res->nruns; r++)
        if (rtb_run_ok(&res->runs[r]) > 0)
            rtj_append(list, hyperfine_result(&res->runs[r], varies));
    rtj_set(doc, "results", list);
    return doc;
}

/* ==== Markdown =========================================================== */

static char *
to_markdown(const RtbResult *res)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return rtb_xmalloc(SIZE_MAX);   /* reports out of memory */
    fprintf(f, "| configuration | samples | wall ms (median) | 95%% interval | cpu ms | peak RSS MiB | collections g0/g1/g2 "
               "| p99 pause ms |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t k = 0; k < res->nruns; k++) {
        const RtbRun *r = &res->runs[k];
        const RtbSummary *s = &r->summary;
        fprintf(f, "| %s | %d/%zu |", r->name, s->wall_s.n, r->nsamples);
        if (s->wall_s.n == 0) {
            fprintf(f, " %s | | | | | |\n", r->nsamples ? "no ok samples" : "not run");
            continue;
        }
        char ci[32] = "-";          /* the median's interval: its larger side */
        double half = rtb_stat_precision(&s->wall_s);
        if (isfinite(half))
            snprintf(ci, sizeof ci, "+-%.1f%%", 100 * half);
        fprintf(f, " %.2f | %s | %.2f | %.1f |", s->wall_s.median * 1e3, ci,
                isfinite(s->cpu_s.median) ? s->cpu_s.median * 1e3 : 0, s->peak_rss_bytes.median / 1048576.0);
        if (s->gc_collections[0].n > 0)
            fprintf(f, " %.0f/%.0f/%.0f |", s->gc_collections[0].median, s->gc_collections[1].median,
                    s->gc_collections[2].median);
        else
            fprintf(f, " - |");
        if (isfinite(s->gc_pause_p99_s.median))
            fprintf(f, " %.3f |\n", s->gc_pause_p99_s.median * 1e3);
        else
            fprintf(f, " - |\n");
    }
    const RtbMachine *m = &res->machine;
    fprintf(f, "\n%s, %lld cores, commit %s\n", m->cpu_model ? m->cpu_model : "?",
            (long long)(m->cores == RTB_NONE ? 0 : m->cores), m->git_commit ? m->git_commit : "?");
    fclose(f);
    return buf;
}

static const RtbOptDef options[] = {{"to", true, RTB_OPT_TO}, {"out", true, RTB_OPT_OUT}, {NULL, false, 0}};

static int
parse(int argc, char **argv, const char **file, const char **to, const char **out)
{
    RtbGetopt g = {"export", argc, argv, NULL, 0, NULL, NULL};
    int r;
    while ((r = rtb_getopt(&g, options, NULL)) == 1) {
        if (g.id == RTB_OPT_HELP)
            help(), r = -1;
        else if (g.positional != NULL && *file == NULL)
            *file = g.positional;
        else if (g.positional != NULL)
            r = rtb_usage_error("export", "give one result file");
        else if (g.id == RTB_OPT_TO)
            *to = g.value;
        else if (g.id == RTB_OPT_OUT)
            *out = g.value;
        if (r != 1)
            break;
    }
    rtb_getopt_free(&g);
    if (r == 0 && (*file == NULL || *to == NULL))
        r = rtb_usage_error("export", "usage: rtbench export FILE --to gbench|hyperfine|md");
    else if (r == 0 && strcmp(*to, "gbench") != 0 && strcmp(*to, "hyperfine") != 0 && strcmp(*to, "md") != 0)
        r = rtb_usage_error("export", "unknown format '%s' (accepted: gbench, hyperfine, md)", *to);
    return r;
}

int
rtb_cmd_export(int argc, char **argv)
{
    const char *file = NULL, *to = NULL, *out = NULL;
    int r = parse(argc, argv, &file, &to, &out);
    if (r != 0)
        return r < 0 ? 0 : r;
    char err[1024];
    if (out != NULL && rtb_check_writable(out, false, err, sizeof err) != 0)
        return rtb_usage_error("export", "%s", err);
    RtbResult res;
    if (rtb_result_read(file, &res, err, sizeof err) != 0) {
        rtb_say("rtbench export: %s", err);
        return RTB_EXIT_USAGE;
    }
    char *text;
    size_t len;
    if (strcmp(to, "md") == 0) {
        text = to_markdown(&res);
        len = strlen(text);
    } else {
        Rtj *doc = strcmp(to, "gbench") == 0 ? to_gbench(&res) : to_hyperfine(&res);
        text = rtj_dump(doc, 2, &len);
        rtj_free(doc);
    }
    int status = 0;
    if (out == NULL)
        fwrite(text, 1, len, stdout);
    else if (rtb_write_file_atomic(out, text, len, err, sizeof err) != 0) {
        rtb_say("rtbench export: %s", err);
        status = 1;
    }
    free(text);
    rtb_result_free(&res);
    return status;
}
