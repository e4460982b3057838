/* cmd_export.c -- rtbench export FILE --to gbench|hyperfine|md: the same
 * samples in the shapes users' tools read.
 *
 *   gbench     Google Benchmark 1.7.1 JSON: one "iteration" entry per sample
 *              (real_time = the workload's wall time, cpu_time = user + sys,
 *              in ms; counters peak_rss_bytes and gc_pause_p99_ns) and the
 *              mean/median/stddev/cv aggregates.  Names are the run names,
 *              cycle_storm/n:100000/.../rc:atomic/alloc:pool, so that
 *              compare.py filters run.json rc:nonatomic rc:atomic pairs them.
 *   hyperfine  hyperfine 1.15's --export-json shape: results[] with times in
 *              seconds (each whole process, as hyperfine measures it), user,
 *              system, string parameters, and memory_usage_byte (peak RSS).
 *   md         a Markdown table of the medians.
 * Only samples that finished are exported.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
help(void)
{
    printf("usage: rtbench export FILE --to gbench|hyperfine|md [--out OUT]\n\n"
           "Convert a result file (schema rtbench/1) for other tools; write to OUT (atomically)\n"
           "or to standard output.\n"
           "  gbench     Google Benchmark JSON: one entry per sample plus mean/median/stddev/cv\n"
           "             aggregates, times in ms; works with compare.py, e.g.\n"
           "             compare.py filters run.json rc:nonatomic rc:atomic\n"
           "  hyperfine  hyperfine --export-json shape (seconds, whole-process times, string\n"
           "             parameters, memory_usage_byte); hyperfine's scripts read it\n"
           "  md         a Markdown table of the medians\n");
}

static bool
ok(const Rtj *s)
{
    return strcmp(rtj_str(rtj_get(s, "status"), ""), "ok") == 0;
}

static size_t
ok_values(const Rtj *run, const char *key, double *out, size_t max, bool cpu)
{
    size_t n = 0;
    const Rtj *samples = rtj_get(run, "samples");
    for (size_t k = 0; k < rtj_len(samples) && n < max; k++) {
        const Rtj *s = rtj_at(samples, k);
        if (ok(s))
            out[n++] = cpu ? rtj_num(rtj_get(s, "user_s"), 0) + rtj_num(rtj_get(s, "sys_s"), 0) : rtj_num(rtj_path(s, key), 0);
    }
    return n;
}

/* ==== Google Benchmark =================================================== */

static Rtj *
gbench_entry(const char *name, const char *run_name, int family, const char *run_type, int reps, int rep)
{
    Rtj *e = rtj_object();
    rtj_set(e, "name", rtj_string(name));
    rtj_set(e, "family_index", rtj_integer(family));
    rtj_set(e, "per_family_instance_index", rtj_integer(0));
    rtj_set(e, "run_name", rtj_string(run_name));
    rtj_set(e, "run_type", rtj_string(run_type));
    rtj_set(e, "repetitions", rtj_integer(reps));
    rtj_set(e, "repetition_index", rtj_integer(rep));
    rtj_set(e, "threads", rtj_integer(1));
    rtj_set(e, "iterations", rtj_integer(1));
    return e;
}

static void
gbench_aggregates(Rtj *list, const char *name, int family, int reps, const double *wall, const double *cpu, size_t n)
{
    static const char *const kinds[] = {"mean", "median", "stddev", "cv"};
    for (int k = 0; k < 4; k++) {
        char full[600];
        snprintf(full, sizeof full, "%s_%s", name, kinds[k]);
        Rtj *e = gbench_entry(full, name, family, "aggregate", reps, 0);
        rtj_free(rtj_take(e, "repetition_index"));
        rtj_set(e, "aggregate_name", rtj_string(kinds[k]));
        rtj_set(e, "aggregate_unit", rtj_string(k == 3 ? "percentage" : "time"));
        double r = 0, c = 0;
        switch (k) {
        case 0: r = rtb_mean(wall, n); c = rtb_mean(cpu, n); break;
        case 1: r = rtb_median(wall, n); c = rtb_median(cpu, n); break;
        case 2: r = rtb_stdev(wall, n); c = rtb_stdev(cpu, n); break;
        default: r = rtb_stdev(wall, n) / rtb_mean(wall, n); c = rtb_stdev(cpu, n) / rtb_mean(cpu, n); break;
        }
        rtj_set(e, "real_time", rtj_number(k == 3 ? r : r * 1e3));
        rtj_set(e, "cpu_time", rtj_number(k == 3 ? c : c * 1e3));
        rtj_set(e, "time_unit", rtj_string("ms"));
        rtj_append(list, e);
    }
}

static Rtj *
to_gbench(const Rtj *result)
{
    Rtj *doc = rtj_object(), *ctx = rtj_object(), *list = rtj_array();
    const Rtj *mach = rtj_get(result, "machine");
    rtj_set(ctx, "date", rtj_string(rtj_str(rtj_get(result, "created"), "")));
    rtj_set(ctx, "host_name", rtj_string(rtj_str(rtj_get(mach, "hostname"), "")));
    rtj_set(ctx, "executable", rtj_string("rtbench"));
    rtj_set(ctx, "num_cpus", rtj_integer(rtj_int(rtj_get(mach, "cores"), 0)));
    rtj_set(ctx, "mhz_per_cpu", rtj_integer(0));
    rtj_set(ctx, "cpu_scaling_enabled", rtj_boolean(false));
    rtj_set(ctx, "caches", rtj_array());
    rtj_set(ctx, "load_avg", rtj_copy(rtj_get(mach, "load_avg")));
    rtj_set(ctx, "library_build_type", rtj_string("release"));
    rtj_set(ctx, "rtbench_git_commit", rtj_string(rtj_str(rtj_get(mach, "git_commit"), "")));
    const Rtj *runs = rtj_get(result, "runs");
    for (size_t r = 0; r < rtj_len(runs); r++) {
        const Rtj *run = rtj_at(runs, r), *samples = rtj_get(run, "samples");
        const char *name = rtj_str(rtj_get(run, "name"), "");
        size_t n = 0, total = rtj_len(samples);
        double *wall = calloc(total + 1, sizeof *wall), *cpu = calloc(total + 1, sizeof *cpu);
        for (size_t k = 0; k < total; k++) {
            const Rtj *s = rtj_at(samples, k);
            if (!ok(s))
                continue;
            wall[n] = rtj_num(rtj_get(s, "wall_s"), 0);
            cpu[n] = rtj_num(rtj_get(s, "user_s"), 0) + rtj_num(rtj_get(s, "sys_s"), 0);
            Rtj *e = gbench_entry(name, name, (int)r, "iteration", 0, (int)n);
            rtj_set(e, "real_time", rtj_number(wall[n] * 1e3));
            rtj_set(e, "cpu_time", rtj_number(cpu[n] * 1e3));
            rtj_set(e, "time_unit", rtj_string("ms"));
            rtj_set(e, "peak_rss_bytes", rtj_number(rtj_num(rtj_get(s, "peak_rss_bytes"), 0)));
            rtj_set(e, "gc_pause_p99_ns", rtj_number(rtj_num(rtj_path(s, "gc.pauses.p99_s"), 0) * 1e9));
            rtj_append(list, e);
            n++;
        }
        /* Every entry of a run carries the run's repetition count. */
        for (size_t k = rtj_len(list) - n; k < rtj_len(list); k++)
            rtj_set(rtj_at(list, k), "repetitions", rtj_integer((int64_t)n));
        if (n > 0)
            gbench_aggregates(list, name, (int)r, (int)n, wall, cpu, n);
        free(wall);
        free(cpu);
    }
    rtj_set(doc, "context", ctx);
    rtj_set(doc, "benchmarks", list);
    return doc;
}

/* ==== hyperfine ========================================================== */

static Rtj *
hyperfine_parameters(const Rtj *run)
{
    Rtj *p = rtj_object();
    const Rtj *params = rtj_get(run, "params"), *cfg = rtj_get(run, "config"), *th = rtj_get(cfg, "threshold");
    for (size_t k = 0; k < rtj_len(params); k++)
        rtj_set(p, rtj_key_at(params, k), rtj_stringf("%lld", (long long)rtj_int(rtj_at(params, k), 0)));
    for (int g = 0; g < 3; g++) {
        char key[16];
        snprintf(key, sizeof key, "threshold%d", g);
        rtj_set(p, key, rtj_stringf("%lld", (long long)rtj_int(rtj_at(th, (size_t)g), 0)));
    }
    rtj_set(p, "gc", rtj_string(rtj_bool(rtj_get(cfg, "gc"), true) ? "on" : "off"));
    if (rtj_is(rtj_get(cfg, "rc"), RTJ_STRING))
        rtj_set(p, "rc", rtj_string(rtj_str(rtj_get(cfg, "rc"), "")));
    if (rtj_is(rtj_get(cfg, "alloc"), RTJ_STRING))
        rtj_set(p, "alloc", rtj_string(rtj_str(rtj_get(cfg, "alloc"), "")));
    rtj_set(p, "implementation", rtj_string(rtj_str(rtj_get(run, "implementation"), "")));
    return p;
}

static Rtj *
to_hyperfine(const Rtj *result)
{
    Rtj *doc = rtj_object(), *list = rtj_array();
    const Rtj *runs = rtj_get(result, "runs");
    for (size_t r = 0; r < rtj_len(runs); r++) {
        const Rtj *run = rtj_at(runs, r);
        size_t total = rtj_len(rtj_get(run, "samples")) + 1;
        double *t = calloc(total, sizeof *t), *u = calloc(total, sizeof *u), *sy = calloc(total, sizeof *sy);
        double *rss = calloc(total, sizeof *rss);
        size_t n = ok_values(run, "process_wall_s", t, total, false);
        ok_values(run, "user_s", u, total, false);
        ok_values(run, "sys_s", sy, total, false);
        ok_values(run, "peak_rss_bytes", rss, total, false);
        Rtj *e = rtj_object(), *times = rtj_array(), *codes = rtj_array(), *mem = rtj_array();
        double lo = n ? t[0] : 0, hi = n ? t[0] : 0;
        for (size_t k = 0; k < n; k++) {
            rtj_append(times, rtj_number(t[k]));
            rtj_append(codes, rtj_integer(0));
            rtj_append(mem, rtj_integer((int64_t)rss[k]));
            lo = t[k] < lo ? t[k] : lo;
            hi = t[k] > hi ? t[k] : hi;
        }
        rtj_set(e, "command", rtj_string(rtj_str(rtj_get(run, "name"), "")));
        rtj_set(e, "mean", rtj_number(n ? rtb_mean(t, n) : 0));
        rtj_set(e, "stddev", n > 1 ? rtj_number(rtb_stdev(t, n)) : rtj_null());
        rtj_set(e, "median", rtj_number(n ? rtb_median(t, n) : 0));
        rtj_set(e, "user", rtj_number(n ? rtb_mean(u, n) : 0));
        rtj_set(e, "system", rtj_number(n ? rtb_mean(sy, n) : 0));
        rtj_set(e, "min", rtj_number(lo));
        rtj_set(e, "max", rtj_number(hi));
        rtj_set(e, "times", times);
        rtj_set(e, "exit_codes", codes);
        rtj_set(e, "parameters", hyperfine_parameters(run));
        rtj_set(e, "memory_usage_byte", mem);
        rtj_append(list, e);
        free(t);
        free(u);
        free(sy);
        free(rss);
    }
    rtj_set(doc, "results", list);
    return doc;
}

/* ==== Markdown =========================================================== */

static char *
to_markdown(const Rtj *result)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const Rtj *mach = rtj_get(result, "machine");
    fprintf(f, "| configuration | samples | wall ms (median) | spread | user ms | peak RSS MiB | collections g0/g1/g2 | p99 pause ms |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    const Rtj *runs = rtj_get(result, "runs");
    for (size_t r = 0; r < rtj_len(runs); r++) {
        const Rtj *run = rtj_at(runs, r), *sum = rtj_get(run, "summary");
        double med = rtj_num(rtj_path(sum, "wall_s.median"), NAN);
        double spread = (rtj_num(rtj_path(sum, "wall_s.max"), NAN) - rtj_num(rtj_path(sum, "wall_s.min"), NAN)) / med;
        const Rtj *coll = rtj_get(sum, "gc_collections");
        fprintf(f, "| %s | %lld/%zu | %.2f | %.0f%% | %.2f | %.1f | %.0f/%.0f/%.0f | %.3f |\n",
                rtj_str(rtj_get(run, "name"), ""), (long long)rtj_int(rtj_path(sum, "wall_s.n"), 0),
                rtj_len(rtj_get(run, "samples")), med * 1e3, 100 * spread,
                rtj_num(rtj_path(sum, "user_s.median"), NAN) * 1e3,
                rtj_num(rtj_path(sum, "peak_rss_bytes.median"), NAN) / 1048576.0,
                rtj_num(rtj_get(rtj_at(coll, 0), "median"), NAN), rtj_num(rtj_get(rtj_at(coll, 1), "median"), NAN),
                rtj_num(rtj_get(rtj_at(coll, 2), "median"), NAN),
                rtj_num(rtj_path(sum, "gc_pause_p99_s.median"), NAN) * 1e3);
    }
    fprintf(f, "\n%s, %lld cores, commit %s\n", rtj_str(rtj_get(mach, "cpu_model"), "?"),
            (long long)rtj_int(rtj_get(mach, "cores"), 0), rtj_str(rtj_get(mach, "git_commit"), "?"));
    fclose(f);
    return buf;
}

int
rtb_cmd_export(int argc, char **argv)
{
    const char *file = NULL, *to = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help();
            return 0;
        } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            to = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] == '-') {
            return rtb_usage_error("export", "unknown option '%s'", argv[i]);
        } else if (file == NULL) {
            file = argv[i];
        } else {
            return rtb_usage_error("export", "give one result file");
        }
    }
    if (file == NULL || to == NULL)
        return rtb_usage_error("export", "usage: rtbench export FILE --to gbench|hyperfine|md");
    if (strcmp(to, "gbench") != 0 && strcmp(to, "hyperfine") != 0 && strcmp(to, "md") != 0)
        return rtb_usage_error("export", "unknown format '%s' (accepted: gbench, hyperfine, md)", to);
    char err[600];
    if (out != NULL && rtb_check_writable(out, false, err, sizeof err) != 0)
        return rtb_usage_error("export", "%s", err);
    Rtj *result = rtb_read_result(file, err, sizeof err);
    if (result == NULL) {
        fprintf(stderr, "rtbench export: %s\n", err);
        return RTB_EXIT_USAGE;
    }
    char *text;
    size_t len;
    if (strcmp(to, "md") == 0) {
        text = to_markdown(result);
        len = strlen(text);
    } else {
        Rtj *doc = strcmp(to, "gbench") == 0 ? to_gbench(result) : to_hyperfine(result);
        text = rtj_dump(doc, 2, &len);
        rtj_free(doc);
    }
    int status = 0;
    if (out == NULL)
        fwrite(text, 1, len, stdout);
    else if (rtb_write_file_atomic(out, text, len, err, sizeof err) != 0) {
        fprintf(stderr, "rtbench export: %s\n", err);
        status = 1;
    }
    free(text);
    rtj_free(result);
    return status;
}
