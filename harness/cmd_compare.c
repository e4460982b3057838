/* cmd_compare.c -- rtbench compare A.json B.json: per configuration, the
 * medians with their spread, then "1.11x faster", "1.30x slower" or "not
 * significant" (two-sided Mann-Whitney U at --alpha, as Google Benchmark's
 * compare.py decides), and a geometric-mean row.
 *
 * Runs pair up by name; what is left pairs by workload and parameters when
 * that is unambiguous (so A from --rc nonatomic and B from --rc atomic
 * compare without renaming).  Samples that did not finish are left out.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAIRS 4096

static void
help(void)
{
    printf("usage: rtbench compare A.json B.json [--metric NAME] [--alpha P] [--table-format text|md]\n\n"
           "Compare two result files configuration by configuration: the medians of A and B\n"
           "with their spread, the ratio, and whether the difference is significant by a\n"
           "two-sided Mann-Whitney U test over the samples (as Google Benchmark's compare.py;\n"
           "at least 2 samples per side, 9 or more recommended).  A last row gives the\n"
           "geometric mean of the ratios.\n\n"
           "Runs are paired by name, then by workload and parameters where unambiguous.\n\n"
           "Options:\n"
           "  --metric NAME          wall_s (default), process_wall_s, user_s, sys_s, cpu_s (user+sys),\n"
           "                         peak_rss_bytes, final_rss_bytes, gc_pause_p99_s, gc_pause_total_s\n"
           "  --alpha P              significance level (default 0.05)\n"
           "  --table-format text|md plain text (default) or a Markdown table (for CI summaries)\n");
}

typedef struct Metric {
    const char *name, *path, *unit;
    double scale;
    bool is_time;
} Metric;

static const Metric metrics[] = {
    {"wall_s", "wall_s", "ms", 1e3, true},
    {"process_wall_s", "process_wall_s", "ms", 1e3, true},
    {"user_s", "user_s", "ms", 1e3, true},
    {"sys_s", "sys_s", "ms", 1e3, true},
    {"cpu_s", NULL, "ms", 1e3, true},
    {"peak_rss_bytes", "peak_rss_bytes", "MiB", 1.0 / 1048576, false},
    {"final_rss_bytes", "final_rss_bytes", "MiB", 1.0 / 1048576, false},
    {"gc_pause_p99_s", "gc.pauses.p99_s", "ms", 1e3, true},
    {"gc_pause_total_s", "gc.pauses.total_s", "ms", 1e3, true},
};

static size_t
values(const Rtj *run, const Metric *m, double *out, size_t max)
{
    const Rtj *samples = rtj_get(run, "samples");
    size_t n = 0;
    for (size_t k = 0; k < rtj_len(samples) && n < max; k++) {
        const Rtj *s = rtj_at(samples, k);
        if (strcmp(rtj_str(rtj_get(s, "status"), ""), "ok") != 0)
            continue;
        if (m->path == NULL) {
            out[n++] = rtj_num(rtj_get(s, "user_s"), 0) + rtj_num(rtj_get(s, "sys_s"), 0);
        } else {
            const Rtj *v = rtj_path(s, m->path);
            if (rtj_is(v, RTJ_NUMBER))
                out[n++] = rtj_num(v, 0);
        }
    }
    return n;
}

/* Runs of b paired with runs of a: by name, then by workload + params. */
static int
pair_runs(const Rtj *ra, const Rtj *rb, int *pa, int *pb)
{
    size_t na = rtj_len(ra), nb = rtj_len(rb);
    bool *used = calloc(nb + 1, 1);
    int n = 0;
    for (size_t i = 0; i < na && n < MAX_PAIRS; i++) {
        const char *name = rtj_str(rtj_get(rtj_at(ra, i), "name"), "");
        for (size_t j = 0; j < nb; j++) {
            if (!used[j] && strcmp(name, rtj_str(rtj_get(rtj_at(rb, j), "name"), "")) == 0) {
                used[j] = true;
                pa[n] = (int)i;
                pb[n++] = (int)j;
                break;
            }
        }
    }
    for (size_t i = 0; i < na && n < MAX_PAIRS; i++) {
        bool paired = false;
        for (int k = 0; k < n; k++)
            paired = paired || pa[k] == (int)i;
        if (paired)
            continue;
        char *ka = rtj_dump(rtj_get(rtj_at(ra, i), "params"), 0, NULL);
        const char *wa = rtj_str(rtj_get(rtj_at(ra, i), "workload"), "");
        int match = -1, matches = 0;
        for (size_t j = 0; j < nb; j++) {
            if (used[j])
                continue;
            char *kb = rtj_dump(rtj_get(rtj_at(rb, j), "params"), 0, NULL);
            if (strcmp(wa, rtj_str(rtj_get(rtj_at(rb, j), "workload"), "")) == 0 && strcmp(ka, kb) == 0) {
                match = (int)j;
                matches++;
            }
            free(kb);
        }
        free(ka);
        if (matches == 1) {
            used[match] = true;
            pa[n] = (int)i;
            pb[n++] = match;
        }
    }
    free(used);
    return n;
}

static void
verdict(const Metric *m, double ratio, bool significant, bool enough, char *out, size_t n)
{
    if (!enough)
        snprintf(out, n, "too few samples");
    else if (!significant)
        snprintf(out, n, "not significant");
    else if (ratio > 1)
        snprintf(out, n, "%.2fx %s", ratio, m->is_time ? "slower" : "larger");
    else
        snprintf(out, n, "%.2fx %s", 1 / ratio, m->is_time ? "faster" : "smaller");
}

static void
describe(const Metric *m, const double *v, size_t n, char *out, size_t len)
{
    if (n == 0) {
        snprintf(out, len, "no samples");
        return;
    }
    double med = rtb_median(v, n), lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    double spread = med > 0 ? 100 * (hi - lo) / 2 / med : 0;
    snprintf(out, len, "%.4g %s +-%.0f%%", med * m->scale, m->unit, spread);
}

static int
load_pair(const char *pa, const char *pb, Rtj **a, Rtj **b)
{
    char err[600];
    *a = rtb_read_result(pa, err, sizeof err);
    if (*a == NULL) {
        fprintf(stderr, "rtbench compare: %s\n", err);
        return RTB_EXIT_USAGE;
    }
    *b = rtb_read_result(pb, err, sizeof err);
    if (*b == NULL) {
        fprintf(stderr, "rtbench compare: %s\n", err);
        rtj_free(*a);
        return RTB_EXIT_USAGE;
    }
    return 0;
}

int
rtb_cmd_compare(int argc, char **argv)
{
    const char *files[2] = {NULL, NULL}, *metric = "wall_s";
    bool md = false;
    double alpha = 0.05;
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            help();
            return 0;
        } else if (strcmp(arg, "--metric") == 0 && i + 1 < argc) {
            metric = argv[++i];
        } else if (strcmp(arg, "--alpha") == 0 && i + 1 < argc) {
            if (!rtb_parse_double(argv[++i], 0, &alpha) || alpha >= 1)
                return rtb_usage_error("compare", "--alpha expects a probability between 0 and 1; got '%s'", argv[i]);
        } else if (strcmp(arg, "--table-format") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "md") == 0)
                md = true;
            else if (strcmp(argv[i], "text") != 0)
                return rtb_usage_error("compare", "--table-format expects text or md; got '%s'", argv[i]);
        } else if (arg[0] == '-') {
            return rtb_usage_error("compare", "unknown option '%s'", arg);
        } else if (nfiles < 2) {
            files[nfiles++] = arg;
        } else {
            return rtb_usage_error("compare", "give exactly two result files");
        }
    }
    if (nfiles != 2)
        return rtb_usage_error("compare", "give two result files: rtbench compare A.json B.json");
    const Metric *m = NULL;
    for (size_t k = 0; k < sizeof metrics / sizeof metrics[0]; k++)
        if (strcmp(metrics[k].name, metric) == 0)
            m = &metrics[k];
    if (m == NULL)
        return rtb_usage_error("compare", "unknown metric '%s' (see --help for the list)", metric);
    Rtj *a, *b;
    int r = load_pair(files[0], files[1], &a, &b);
    if (r != 0)
        return r;
    const Rtj *ra = rtj_get(a, "runs"), *rb = rtj_get(b, "runs");
    static int pa[MAX_PAIRS], pb[MAX_PAIRS];
    int n = pair_runs(ra, rb, pa, pb);
    if (n == 0) {
        fprintf(stderr, "rtbench compare: no configuration of %s matches one of %s (by name, or by workload and parameters)\n",
                files[0], files[1]);
        rtj_free(a);
        rtj_free(b);
        return 1;
    }
    if (md)
        printf("| configuration | %s | %s | change |\n|---|---:|---:|---|\n", files[0], files[1]);
    else
        printf("%s: %s -> %s\n", m->name, files[0], files[1]);
    double log_sum = 0;
    int nlog = 0;
    double va[1024], vb[1024];
    for (int k = 0; k < n; k++) {
        const Rtj *x = rtj_at(ra, (size_t)pa[k]), *y = rtj_at(rb, (size_t)pb[k]);
        size_t nx = values(x, m, va, 1024), ny = values(y, m, vb, 1024);
        char da[64], db[64], v[64];
        describe(m, va, nx, da, sizeof da);
        describe(m, vb, ny, db, sizeof db);
        double ratio = nx && ny && rtb_median(va, nx) > 0 ? rtb_median(vb, ny) / rtb_median(va, nx) : NAN;
        bool enough = nx >= 2 && ny >= 2 && isfinite(ratio);
        double p = enough ? rtb_mann_whitney_p(va, nx, vb, ny) : 1;
        verdict(m, ratio, p < alpha, enough, v, sizeof v);
        if (isfinite(ratio) && ratio > 0) {
            log_sum += log(ratio);
            nlog++;
        }
        const char *name = rtj_str(rtj_get(x, "name"), "");
        if (md)
            printf("| %s | %s | %s | %s%s |\n", name, da, db, v, enough ? "" : "");
        else
            printf("  %s: %s -> %s: %s%s\n", name, da, db, v, enough ? "" : "");
    }
    if (nlog > 0) {
        char v[64];
        verdict(m, exp(log_sum / nlog), true, true, v, sizeof v);
        if (md)
            printf("| geometric mean | | | %s |\n", v);
        else
            printf("  geometric mean: %s\n", v);
    }
    size_t unpaired = rtj_len(ra) + rtj_len(rb) - 2 * (size_t)n;
    if (unpaired > 0)
        fprintf(stderr, "rtbench compare: %zu configuration(s) had no counterpart and were left out\n", unpaired);
    rtj_free(a);
    rtj_free(b);
    return 0;
}
