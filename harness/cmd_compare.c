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

static void
help(void)
{
    printf("usage: rtbench compare A.json B.json [--metric NAME] [--alpha P]\n"
           "                       [--table-format text|md]\n\n"
           "Compare two result files configuration by configuration: the medians of A and B\n"
           "with their spread (+-: half the range, max - min, over the median), the ratio,\n"
           "and whether the difference is significant by a two-sided Mann-Whitney U test\n"
           "over the samples (as Google Benchmark's compare.py; at least 2 samples per side,\n"
           "9 or more recommended).  A last row gives the geometric mean of the ratios.\n\n"
           "Runs are paired by name, then by workload and parameters where unambiguous.\n\n"
           "Options:\n"
           "  --metric NAME          wall_s (default), cpu_s, process_wall_s, user_s, sys_s,\n"
           "                         peak_rss_bytes, final_rss_bytes, gc_pause_p99_s,\n"
           "                         gc_pause_max_s, gc_pause_total_s, instructions\n"
           "  --alpha P              significance level (default 0.05)\n"
           "  --table-format text|md plain text (default) or a Markdown table (for CI\n"
           "                         summaries)\n");
}

typedef struct Metric {
    const char *name, *unit;
    double scale;
    bool is_time;
} Metric;

static const Metric metrics[] = {
    {"wall_s", "ms", 1e3, true}, {"cpu_s", "ms", 1e3, true}, {"process_wall_s", "ms", 1e3, true},
    {"user_s", "ms", 1e3, true}, {"sys_s", "ms", 1e3, true}, {"peak_rss_bytes", "MiB", 1.0 / 1048576, false},
    {"final_rss_bytes", "MiB", 1.0 / 1048576, false}, {"gc_pause_p99_s", "ms", 1e3, true},
    {"gc_pause_max_s", "ms", 1e3, true}, {"gc_pause_total_s", "ms", 1e3, true}, {"instructions", "M", 1e-6, true},
};

/* The ok samples' values of the metric (out has room for every sample). */
static size_t
values(const RtbRun *run, const Metric *m, double *out)
{
    size_t n = 0;
    for (size_t k = 0; k < run->nsamples; k++) {
        double v = run->samples[k].status == RTB_OK ? rtb_sample_metric(&run->samples[k], m->name) : NAN;
        if (isfinite(v))
            out[n++] = v;
    }
    return n;
}

static bool
same_params(const RtbRun *a, const RtbRun *b)
{
    if (strcmp(a->workload, b->workload) != 0 || a->nparams != b->nparams)
        return false;
    for (int k = 0; k < a->nparams; k++)
        if (strcmp(a->params[k].name, b->params[k].name) != 0 || a->params[k].value != b->params[k].value)
            return false;
    return true;
}

/* Runs of b paired with runs of a: by name, then by workload + params when
 * exactly one candidate is left.  pa, pb have room for min(na, nb). */
static size_t
pair_runs(const RtbResult *a, const RtbResult *b, size_t *pa, size_t *pb)
{
    bool *used = rtb_xcalloc(b->nruns + 1, 1), *paired = rtb_xcalloc(a->nruns + 1, 1);
    size_t n = 0;
    for (size_t i = 0; i < a->nruns; i++)
        for (size_t j = 0; j < b->nruns && !paired[i]; j++)
            if (!used[j] && strcmp(a->runs[i].name, b->runs[j].name) == 0) {
                used[j] = paired[i] = true;
                pa[n] = i;
                pb[n++] = j;
            }
    for (size_t i = 0; i < a->nruns; i++) {
        size_t match = 0, matches = 0;
        for (size_t j = 0; j < b->nruns && !paired[i]; j++)
            if (!used[j] && same_params(&a->runs[i], &b->runs[j])) {
                match = j;
                matches++;
            }
        if (matches == 1) {
            used[match] = paired[i] = true;
            pa[n] = i;
            pb[n++] = match;
        }
    }
    free(used);
    free(paired);
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

static const RtbOptDef options[] = {
    {"metric", true, RTB_OPT_METRIC}, {"alpha", true, RTB_OPT_ALPHA}, {"table-format", true, RTB_OPT_TABLE_FORMAT},
    {NULL, false, 0},
};

static int
parse(int argc, char **argv, const char **files, const char **metric, double *alpha, bool *md)
{
    RtbGetopt g = {"compare", argc, argv, NULL, 0, NULL, NULL};
    int r, nfiles = 0;
    while ((r = rtb_getopt(&g, options, NULL)) == 1) {
        if (g.id == RTB_OPT_HELP)
            help(), r = -1;
        else if (g.positional != NULL && nfiles < 2)
            files[nfiles++] = g.positional;
        else if (g.positional != NULL)
            r = rtb_usage_error("compare", "give exactly two result files");
        else if (g.id == RTB_OPT_METRIC)
            *metric = g.value;
        else if (g.id == RTB_OPT_ALPHA && (!rtb_parse_double(g.value, 0, alpha) || *alpha >= 1))
            r = rtb_usage_error("compare", "--alpha expects a probability between 0 and 1; got '%s'", g.value);
        else if (g.id == RTB_OPT_TABLE_FORMAT && strcmp(g.value, "md") != 0 && strcmp(g.value, "text") != 0)
            r = rtb_usage_error("compare", "--table-format expects text or md; got '%s'", g.value);
        else if (g.id == RTB_OPT_TABLE_FORMAT)
            *md = strcmp(g.value, "md") == 0;
        if (r != 1)
            break;
    }
    rtb_getopt_free(&g);
    if (r == 0 && nfiles != 2)
        r = rtb_usage_error("compare", "give two result files: rtbench compare A.json B.json");
    return r;
}

static void
compare_pair(const RtbRun *x, const RtbRun *y, const Metric *m, double alpha, bool md, double *log_sum, int *nlog)
{
    double *va = rtb_xcalloc(x->nsamples + 1, sizeof *va), *vb = rtb_xcalloc(y->nsamples + 1, sizeof *vb);
    size_t nx = values(x, m, va), ny = values(y, m, vb);
    char da[64], db[64], v[64];
    describe(m, va, nx, da, sizeof da);
    describe(m, vb, ny, db, sizeof db);
    double ratio = nx && ny && rtb_median(va, nx) > 0 ? rtb_median(vb, ny) / rtb_median(va, nx) : NAN;
    bool enough = nx >= 2 && ny >= 2 && isfinite(ratio);
    double p = enough ? rtb_mann_whitney_p(va, nx, vb, ny) : 1;
    verdict(m, ratio, p < alpha, enough, v, sizeof v);
    if (isfinite(ratio) && ratio > 0) {
        *log_sum += log(ratio);
        (*nlog)++;
    }
    if (md)
        printf("| %s | %s | %s | %s |\n", x->name, da, db, v);
    else
        printf("  %s: %s -> %s: %s\n", x->name, da, db, v);
    free(va);
    free(vb);
}

int
rtb_cmd_compare(int argc, char **argv)
{
    const char *files[2] = {NULL, NULL}, *metric = "wall_s";
    bool md = false;
    double alpha = 0.05;
    int r = parse(argc, argv, files, &metric, &alpha, &md);
    if (r != 0)
        return r < 0 ? 0 : r;
    const Metric *m = NULL;
    for (size_t k = 0; k < sizeof metrics / sizeof metrics[0]; k++)
        if (strcmp(metrics[k].name, metric) == 0)
            m = &metrics[k];
    if (m == NULL)
        return rtb_usage_error("compare", "unknown metric '%s' (see --help for the list)", metric);
    RtbResult a, b;
    char err[1024];
    if (rtb_result_read(files[0], &a, err, sizeof err) != 0)
        return rtb_say("rtbench compare: %s", err), RTB_EXIT_USAGE;
    if (rtb_result_read(files[1], &b, err, sizeof err) != 0) {
        rtb_result_free(&a);
        return rtb_say("rtbench compare: %s", err), RTB_EXIT_USAGE;
    }
    size_t room = (a.nruns < b.nruns ? a.nruns : b.nruns) + 1;
    size_t *pa = rtb_xcalloc(room, sizeof *pa), *pb = rtb_xcalloc(room, sizeof *pb);
    size_t n = pair_runs(&a, &b, pa, pb);
    int status = 0;
    if (n == 0) {
        rtb_say("rtbench compare: no configuration of %s matches one of %s (by name, or by workload and parameters)",
                files[0], files[1]);
        status = 1;
    } else {
        if (md)
            printf("| configuration | %s | %s | change |\n|---|---:|---:|---|\n", files[0], files[1]);
        else
            printf("%s: %s -> %s\n", m->name, files[0], files[1]);
        double log_sum = 0;
        int nlog = 0;
        for (size_t k = 0; k < n; k++)
            compare_pair(&a.runs[pa[k]], &b.runs[pb[k]], m, alpha, md, &log_sum, &nlog);
        if (nlog > 0) {
            char v[64];
            verdict(m, exp(log_sum / nlog), true, true, v, sizeof v);
            if (md)
                printf("| geometric mean | | | %s |\n", v);
            else
                printf("  geometric mean: %s\n", v);
        }
        fflush(stdout);
        size_t unpaired = a.nruns + b.nruns - 2 * n;
        if (unpaired > 0)
            rtb_say("rtbench compare: %zu configuration(s) had no counterpart and were left out", unpaired);
    }
    free(pa);
    free(pb);
    rtb_result_free(&a);
    rtb_result_free(&b);
    return status;
}
