/* results.c -- result files: building, summarizing, writing, reading.
 *
 * The schema (rtbench/1) is described in results/README.md.  Every file is
 * written to a temporary name in the same directory, flushed to disk and
 * renamed, so a result file is complete or absent, never half written; the
 * CSV beside it (one row per sample) is written the same way.
 *
 * Noise is reported, not hidden: a run whose wall time spreads by 10% of its
 * median or more, or whose median is under a millisecond, carries a warning,
 * and the command prints each kind of warning once.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NOISE_SPREAD 0.10
#define SHORT_SAMPLE_S 0.001

char *
rtb_timestamp(void)
{
    char buf[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return strdup(buf);
}

Rtj *
rtb_result_new(const char *kind, int argc, char **argv)
{
    Rtj *r = rtj_object(), *cmd = rtj_array();
    char created[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    rtj_append(cmd, rtj_string("rtbench"));
    for (int i = 0; i < argc; i++)
        rtj_append(cmd, rtj_string(argv[i]));
    rtj_set(r, "schema", rtj_string("rtbench/1"));
    rtj_set(r, "tool", rtj_string("rtbench " RTB_VERSION));
    rtj_set(r, "kind", rtj_string(kind));
    rtj_set(r, "created", rtj_string(created));
    rtj_set(r, "command", cmd);
    rtj_set(r, "complete", rtj_boolean(true));
    rtj_set(r, "machine", rtb_machine_json());
    rtj_set(r, "runs", rtj_array());
    return r;
}

/* ==== summary ============================================================ */

static bool
sample_ok(const Rtj *s)
{
    return strcmp(rtj_str(rtj_get(s, "status"), ""), "ok") == 0;
}

/* The values of one field over the ok samples (path into the sample). */
static size_t
collect(const Rtj *samples, const char *path, int index, double *out)
{
    size_t n = 0;
    for (size_t k = 0; k < rtj_len(samples); k++) {
        const Rtj *s = rtj_at(samples, k);
        const Rtj *v = rtj_path(s, path);
        if (index >= 0)
            v = rtj_at(v, (size_t)index);
        if (sample_ok(s) && rtj_is(v, RTJ_NUMBER))
            out[n++] = rtj_num(v, 0);
    }
    return n;
}

static Rtj *
stat_json(const double *v, size_t n)
{
    Rtj *o = rtj_object();
    rtj_set(o, "n", rtj_integer((int64_t)n));
    if (n == 0) {
        static const char *const keys[] = {"median", "min", "max", "mean", "stdev"};
        for (int k = 0; k < 5; k++)
            rtj_set(o, keys[k], rtj_null());
        return o;
    }
    double lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    rtj_set(o, "median", rtj_number(rtb_median(v, n)));
    rtj_set(o, "min", rtj_number(lo));
    rtj_set(o, "max", rtj_number(hi));
    rtj_set(o, "mean", rtj_number(rtb_mean(v, n)));
    rtj_set(o, "stdev", rtj_number(rtb_stdev(v, n)));
    return o;
}

static const struct {
    const char *name, *path;
} summary_fields[] = {
    {"wall_s", "wall_s"}, {"process_wall_s", "process_wall_s"}, {"user_s", "user_s"}, {"sys_s", "sys_s"},
    {"peak_rss_bytes", "peak_rss_bytes"}, {"final_rss_bytes", "final_rss_bytes"},
    {"gc_pause_p99_s", "gc.pauses.p99_s"}, {"gc_pause_max_s", "gc.pauses.max_s"},
    {"gc_pause_total_s", "gc.pauses.total_s"},
};

static void
add_warnings(Rtj *run, const Rtj *samples, const double *wall, size_t nwall)
{
    Rtj *w = rtj_set(run, "warnings", rtj_array());
    size_t total = rtj_len(samples), bad = total - nwall;
    if (bad > 0) {
        const Rtj *first = NULL;
        for (size_t k = 0; k < total && first == NULL; k++)
            if (!sample_ok(rtj_at(samples, k)))
                first = rtj_at(samples, k);
        rtj_append(w, rtj_stringf("failed: %zu of %zu samples did not finish (%s: %s)", bad, total,
                                  rtj_str(rtj_get(first, "status"), "?"), rtj_str(rtj_get(first, "error"), "")));
    }
    int64_t repeat = rtj_int(rtj_get(run, "repeat"), 0);
    if ((int64_t)total < repeat)
        rtj_append(w, rtj_stringf("incomplete: %zu of %lld samples ran", total, (long long)repeat));
    if (nwall == 0)
        return;
    double med = rtb_median(wall, nwall), lo = wall[0], hi = wall[0];
    for (size_t i = 1; i < nwall; i++) {
        lo = wall[i] < lo ? wall[i] : lo;
        hi = wall[i] > hi ? wall[i] : hi;
    }
    if (nwall >= 2 && med > 0 && (hi - lo) / med >= NOISE_SPREAD)
        rtj_append(w, rtj_stringf("noisy: wall time spread %.0f%% of the median (%.4g..%.4g s)",
                                  100 * (hi - lo) / med, lo, hi));
    if (med < SHORT_SAMPLE_S)
        rtj_append(w, rtj_stringf("short: median wall time %.3g ms is under 1 ms", med * 1e3));
}

void
rtb_run_summarize(Rtj *run)
{
    const Rtj *samples = rtj_get(run, "samples");
    size_t n = rtj_len(samples) ? rtj_len(samples) : 1;
    double *v = malloc(n * sizeof *v);
    if (v == NULL)
        abort();
    Rtj *sum = rtj_object();
    for (size_t f = 0; f < sizeof summary_fields / sizeof summary_fields[0]; f++) {
        size_t k = collect(samples, summary_fields[f].path, -1, v);
        rtj_set(sum, summary_fields[f].name, stat_json(v, k));
    }
    Rtj *coll = rtj_set(sum, "gc_collections", rtj_array());
    for (int g = 0; g < 3; g++) {
        size_t k = collect(samples, "gc.collections", g, v);
        rtj_append(coll, stat_json(v, k));
    }
    rtj_set(run, "summary", sum);
    size_t nwall = collect(samples, "wall_s", -1, v);
    add_warnings(run, samples, v, nwall);
    free(v);
}

Rtj *
rtb_run_json(const RtbConfig *c, int repeat, Rtj *samples)
{
    Rtj *run = rtj_object();
    char *name = rtb_config_name(c);
    rtj_set(run, "name", rtj_string(name));
    free(name);
    rtj_set(run, "implementation", rtj_string(c->impl == RTB_IMPL_CPYTHON ? "cpython" : "rtbench"));
    rtj_set(run, "workload", rtj_string(c->workload->name));
    rtj_set(run, "params", rtb_params_json(c));
    rtj_set(run, "config", rtb_config_json(c));
    rtj_set(run, "repeat", rtj_integer(repeat));
    rtj_set(run, "samples", samples);
    rtb_run_summarize(run);
    return run;
}

/* ==== files ============================================================== */

int
rtb_mkdirs(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* Before any work: the directory exists (made if need be) and a file can be
 * created in it, and the target, if it exists, is a regular file. */
int
rtb_check_writable(const char *path, bool is_dir, char *err, size_t errlen)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    const char *dir = is_dir ? buf : dirname(buf);
    struct stat st;
    if (!is_dir && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is a directory; give a file name (e.g. %s/run.json)", path, path);
        return -1;
    }
    if (rtb_mkdirs(dir) != 0) {
        snprintf(err, errlen, "cannot write %s: cannot create the directory %s: %s", path, dir, strerror(errno));
        return -1;
    }
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.rtbench-probe-%d", dir, (int)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: cannot create files in %s: %s", path, dir, strerror(errno));
        return -1;
    }
    close(fd);
    unlink(probe);
    return 0;
}

int
rtb_write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    char tmp[4200], buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%d", dirname(buf), basename((char *)path), (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int
rtb_write_result(const char *path, const Rtj *result, char *err, size_t errlen)
{
    size_t len;
    char *text = rtj_dump(result, 1, &len);
    int r = rtb_write_file_atomic(path, text, len, err, errlen);
    free(text);
    if (r != 0)
        return r;
    char csv_path[4200];
    size_t n = strlen(path);
    if (n > 5 && strcmp(path + n - 5, ".json") == 0)
        snprintf(csv_path, sizeof csv_path, "%.*s.csv", (int)(n - 5), path);
    else
        snprintf(csv_path, sizeof csv_path, "%s.csv", path);
    char *csv = rtb_csv(result);
    r = rtb_write_file_atomic(csv_path, csv, strlen(csv), err, errlen);
    free(csv);
    return r;
}

/* ==== CSV ================================================================ */

static void
csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void
csv_number(FILE *f, const Rtj *v)
{
    char buf[40];
    if (rtj_is_int(v))
        fprintf(f, ",%lld", (long long)rtj_int(v, 0));
    else if (rtj_is(v, RTJ_NUMBER)) {
        rtj_format_double(rtj_num(v, 0), buf, sizeof buf);
        fprintf(f, ",%s", buf);
    } else {
        fputc(',', f);
    }
}

static const char *const csv_sample_fields[] = {
    "wall_s", "process_wall_s", "user_s", "sys_s", "peak_rss_bytes", "final_rss_bytes", "minflt", "majflt",
    "gc.collections.0", "gc.collections.1", "gc.collections.2", "gc.collected.0", "gc.collected.1",
    "gc.collected.2", "gc.uncollectable.0", "gc.uncollectable.1", "gc.uncollectable.2", "gc.pauses.count",
    "gc.pauses.total_s", "gc.pauses.p50_s", "gc.pauses.p90_s", "gc.pauses.p99_s", "gc.pauses.max_s",
};

/* A dotted path whose last part may be an array index. */
static const Rtj *
field(const Rtj *s, const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot != NULL && dot[1] >= '0' && dot[1] <= '9') {
        char parent[64];
        snprintf(parent, sizeof parent, "%.*s", (int)(dot - path), path);
        return rtj_at(rtj_path(s, parent), (size_t)atoi(dot + 1));
    }
    return rtj_path(s, path);
}

char *
rtb_csv(const Rtj *result)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fputs("name,implementation,workload,params,t0,t1,t2,gc,rc,alloc,sample,status", f);
    for (size_t k = 0; k < sizeof csv_sample_fields / sizeof csv_sample_fields[0]; k++) {
        char col[64];
        snprintf(col, sizeof col, "%s", csv_sample_fields[k]);
        for (char *c = col; *c; c++)
            if (*c == '.')
                *c = '_';
        fprintf(f, ",%s", col);
    }
    fputs(",error\n", f);
    const Rtj *runs = rtj_get(result, "runs");
    for (size_t r = 0; r < rtj_len(runs); r++) {
        const Rtj *run = rtj_at(runs, r), *params = rtj_get(run, "params"), *cfg = rtj_get(run, "config");
        char ptext[512] = "";
        for (size_t p = 0; p < rtj_len(params); p++)
            snprintf(ptext + strlen(ptext), sizeof ptext - strlen(ptext), "%s%s=%lld", p ? ";" : "",
                     rtj_key_at(params, p), (long long)rtj_int(rtj_at(params, p), 0));
        const Rtj *samples = rtj_get(run, "samples"), *th = rtj_get(cfg, "threshold");
        for (size_t k = 0; k < rtj_len(samples); k++) {
            const Rtj *s = rtj_at(samples, k);
            csv_field(f, rtj_str(rtj_get(run, "name"), ""));
            fprintf(f, ",%s,%s,", rtj_str(rtj_get(run, "implementation"), ""), rtj_str(rtj_get(run, "workload"), ""));
            csv_field(f, ptext);
            fprintf(f, ",%lld,%lld,%lld,%s,%s,%s,%lld,%s", (long long)rtj_int(rtj_at(th, 0), 0),
                    (long long)rtj_int(rtj_at(th, 1), 0), (long long)rtj_int(rtj_at(th, 2), 0),
                    rtj_bool(rtj_get(cfg, "gc"), true) ? "on" : "off", rtj_str(rtj_get(cfg, "rc"), ""),
                    rtj_str(rtj_get(cfg, "alloc"), ""), (long long)rtj_int(rtj_get(s, "index"), (int64_t)k),
                    rtj_str(rtj_get(s, "status"), ""));
            for (size_t c = 0; c < sizeof csv_sample_fields / sizeof csv_sample_fields[0]; c++)
                csv_number(f, field(s, csv_sample_fields[c]));
            fputc(',', f);
            csv_field(f, rtj_str(rtj_get(s, "error"), ""));
            fputc('\n', f);
        }
    }
    fclose(f);
    return buf;
}

/* ==== reading ============================================================ */

Rtj *
rtb_read_result(const char *path, char *err, size_t errlen)
{
    char why[256];
    Rtj *r = rtj_parse_file(path, why, sizeof why);
    if (r == NULL) {
        snprintf(err, errlen, "%s: %s", path, why);
        return NULL;
    }
    const char *problem = NULL;
    if (!rtj_is(r, RTJ_OBJECT))
        problem = "not a result file (the top level is not an object)";
    else if (rtj_get(r, "schema") == NULL)
        problem = "not a result file (no \"schema\"; rtbench writes \"rtbench/1\")";
    else if (strcmp(rtj_str(rtj_get(r, "schema"), ""), "rtbench/1") != 0)
        problem = "unknown schema (this rtbench reads \"rtbench/1\")";
    else if (!rtj_is(rtj_get(r, "runs"), RTJ_ARRAY))
        problem = "malformed result file (\"runs\" is not a list)";
    for (size_t k = 0; problem == NULL && k < rtj_len(rtj_get(r, "runs")); k++) {
        const Rtj *run = rtj_at(rtj_get(r, "runs"), k);
        if (!rtj_is(rtj_get(run, "name"), RTJ_STRING) || !rtj_is(rtj_get(run, "samples"), RTJ_ARRAY))
            problem = "malformed result file (a run lacks \"name\" or \"samples\")";
    }
    if (problem != NULL) {
        snprintf(err, errlen, "%s: %s", path, problem);
        rtj_free(r);
        return NULL;
    }
    return r;
}

/* ==== terminal output ==================================================== */

void
rtb_print_warnings(const Rtj *result)
{
    static const char *const kinds[] = {"failed", "incomplete", "noisy", "short"};
    static const char *const advice[] = {
        "see the error above; the summary uses the samples that finished",
        "the run stopped early; the file keeps the samples that finished",
        "the machine is noisy: quote medians and ratios, or add samples (--repeat)",
        "timer resolution and start-up dominate: use larger parameters",
    };
    const Rtj *runs = rtj_get(result, "runs");
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t count = 0;
        const char *example = NULL, *example_run = NULL;
        for (size_t r = 0; r < rtj_len(runs); r++) {
            const Rtj *w = rtj_get(rtj_at(runs, r), "warnings");
            for (size_t i = 0; i < rtj_len(w); i++) {
                const char *text = rtj_str(rtj_at(w, i), "");
                if (strncmp(text, kinds[k], strlen(kinds[k])) == 0) {
                    count++;
                    if (example == NULL) {
                        example = text;
                        example_run = rtj_str(rtj_get(rtj_at(runs, r), "name"), "");
                    }
                }
            }
        }
        if (count == 1)
            fprintf(stderr, "warning: %s -- %s\n  (%s)\n", example_run, example, advice[k]);
        else if (count > 1)
            fprintf(stderr, "warning: %zu of %zu configurations %s; e.g. %s -- %s\n  (%s)\n", count,
                    rtj_len(runs), k == 2 ? "are noisy" : k == 3 ? "are short" : "had failures", example_run,
                    example, advice[k]);
    }
}

void
rtb_print_summary(const Rtj *result, FILE *out)
{
    const Rtj *runs = rtj_get(result, "runs");
    int width = 13;
    for (size_t r = 0; r < rtj_len(runs); r++) {
        int len = (int)strlen(rtj_str(rtj_get(rtj_at(runs, r), "name"), ""));
        width = len > width ? (len < 110 ? len : 110) : width;
    }
    fprintf(out, "%-*s %7s %10s %10s %10s %9s\n", width, "configuration", "samples", "wall ms", "user ms", "peak MiB",
            "p99 pause");
    for (size_t r = 0; r < rtj_len(runs); r++) {
        const Rtj *run = rtj_at(runs, r), *sum = rtj_get(run, "summary");
        const char *name = rtj_str(rtj_get(run, "name"), "");
        size_t ok = (size_t)rtj_int(rtj_path(sum, "wall_s.n"), 0);
        double p99 = rtj_num(rtj_path(sum, "gc_pause_p99_s.median"), NAN);
        fprintf(out, "%-*.*s %3zu/%-3zu %10.2f %10.2f %10.1f %7.3fms\n", width, width, name, ok, rtj_len(rtj_get(run, "samples")),
                rtj_num(rtj_path(sum, "wall_s.median"), NAN) * 1e3, rtj_num(rtj_path(sum, "user_s.median"), NAN) * 1e3,
                rtj_num(rtj_path(sum, "peak_rss_bytes.median"), NAN) / 1048576.0, p99 * 1e3);
    }
}
