/* compare.c -- the comparison engine (compare.h says what a row means).
 *
 * Three steps, each its own function: pair the configurations of A and B
 * (rtb_pair_configs), judge each pair on one metric (rtb_compare_row), sum
 * up and print (rtb_comparison_summarize, rtb_comparison_print).  The
 * caller owns every array; the engine allocates only scratch memory, in
 * proportion to the samples, and frees it before returning.
 *
 * The ratio's interval comes from the logarithms of the samples, so it
 * needs positive values; a pair with a zero or negative value (a p99 pause
 * of 0 when nothing was collected) gets the ratio of its medians, its
 * p-value, and a note instead of an interval.
 */
#define _GNU_SOURCE
#include "compare.h"
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ==== metrics ============================================================= */

const RtbMetric rtb_metrics[] = {
    {"wall_s", "ms", 1e3, RTB_METRIC_TIME, "the workload's wall time, inside the child"},
    {"cpu_s", "ms", 1e3, RTB_METRIC_TIME, "the workload's CPU time"},
    {"user_s", "ms", 1e3, RTB_METRIC_TIME, "user CPU time of the child process"},
    {"sys_s", "ms", 1e3, RTB_METRIC_TIME, "system CPU time of the child process"},
    {"process_wall_s", "ms", 1e3, RTB_METRIC_TIME, "the child process's wall time, with start-up"},
    {"instructions", "M", 1e-6, RTB_METRIC_INSTRUCTIONS, "instructions the workload executed"},
    {"peak_rss_bytes", "MiB", 1.0 / 1048576, RTB_METRIC_MEMORY, "peak resident set of the child (VmHWM)"},
    {"final_rss_bytes", "MiB", 1.0 / 1048576, RTB_METRIC_MEMORY, "resident set when the workload ended"},
    {"gc_pause_p99_s", "ms", 1e3, RTB_METRIC_TIME, "99th percentile of the collector's pauses"},
    {"gc_pause_max_s", "ms", 1e3, RTB_METRIC_TIME, "longest collector pause"},
    {"gc_pause_total_s", "ms", 1e3, RTB_METRIC_TIME, "total time in the collector"},
    {"worker_pss_bytes", "MiB", 1.0 / 1048576, RTB_METRIC_MEMORY, "--fork-workers: a worker's PSS (mean of them)"},
    {"worker_uss_bytes", "MiB", 1.0 / 1048576, RTB_METRIC_MEMORY, "--fork-workers: a worker's USS (mean of them)"},
    {"worker_rss_bytes", "MiB", 1.0 / 1048576, RTB_METRIC_MEMORY, "--fork-workers: a worker's RSS (mean of them)"},
    {"total_pss_bytes", "MiB", 1.0 / 1048576, RTB_METRIC_MEMORY, "--fork-workers: the main process's and workers' PSS"},
};
const size_t rtb_metric_count = sizeof rtb_metrics / sizeof rtb_metrics[0];

const RtbMetric *
rtb_metric_find(const char *name)
{
    for (size_t k = 0; k < rtb_metric_count; k++)
        if (strcmp(rtb_metrics[k].name, name) == 0)
            return &rtb_metrics[k];
    return NULL;
}

void
rtb_metric_format(const RtbMetric *m, double value, char *out, size_t len)
{
    if (!isfinite(value))
        snprintf(out, len, "-");
    else if (m->kind == RTB_METRIC_INSTRUCTIONS)
        snprintf(out, len, "%.6g %s", value * m->scale, m->unit);   /* exact counts deserve digits */
    else
        snprintf(out, len, "%.4g %s", value * m->scale, m->unit);
}

/* ==== one row ============================================================== */

void
rtb_compare_options_default(RtbCompareOptions *o)
{
    *o = (RtbCompareOptions){.alpha = 0.05, .fail_above = -1, .ci = RTB_CI_HODGES_LEHMANN, .seed = 1,
                             .resamples = 9999};
}

static bool
all_positive(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(v[i] > 0))
            return false;
    return true;
}

/* The ratio B/A and its interval from log values (HL), or the bootstrap. */
static int
ratio_interval(const RtbCompareSide *a, const RtbCompareSide *b, const RtbCompareOptions *o, RtbCompareRow *r)
{
    if (o->ci == RTB_CI_BOOTSTRAP) {
        RtbRatioCi ci;
        if (rtb_bootstrap_ratio(a->v, a->n, b->v, b->n, o->alpha, o->resamples ? o->resamples : 9999, o->seed, &ci) != 0)
            return -1;
        r->ratio = ci.estimate;
        r->low = ci.low;
        r->high = ci.high;
        r->coverage = NAN;
        return 0;
    }
    double *la = malloc((a->n + b->n) * sizeof *la);
    if (la == NULL)
        return -1;
    double *lb = la + a->n;
    for (size_t i = 0; i < a->n; i++)
        la[i] = log(a->v[i]);
    for (size_t i = 0; i < b->n; i++)
        lb[i] = log(b->v[i]);
    RtbShift s;
    int rc = rtb_hodges_lehmann(la, a->n, lb, b->n, o->alpha, &s);
    free(la);
    if (rc != 0)
        return -1;
    r->ratio = exp(s.estimate);
    r->low = exp(s.low);
    r->high = exp(s.high);
    r->coverage = s.coverage;
    return 0;
}

static void
decide(const RtbMetric *m, const RtbCompareOptions *o, RtbCompareRow *r)
{
    (void)m;
    bool interval_excludes_1 = isnan(r->low) || r->low > 1 || r->high < 1;
    if (r->p < o->alpha && interval_excludes_1)
        r->verdict = r->ratio > 1 ? RTB_V_WORSE : RTB_V_BETTER;
    else if (r->min_p >= o->alpha)
        r->verdict = RTB_V_TOO_FEW;
    else
        r->verdict = RTB_V_NOT_SIGNIFICANT;
    /* A ratio of exactly 1 cannot be a difference, whatever the ranks say. */
    if (r->verdict >= RTB_V_BETTER && r->ratio == 1)
        r->verdict = RTB_V_NOT_SIGNIFICANT;
    /* "Above 1 + PCT/100" beyond rounding: exp(log b - log a) of 1.01e9 over
     * 1e9 is 1.0100000000000002. */
    r->gate_failed = o->fail_above >= 0 && r->verdict == RTB_V_WORSE &&
                     r->ratio > (1 + o->fail_above / 100) * (1 + 1e-12);
}

int
rtb_compare_row(const RtbMetric *m, const RtbCompareSide *a, const RtbCompareSide *b, const RtbCompareOptions *o,
                RtbCompareRow *row)
{
    RtbCompareRow r = {a->name, b->name, a->n, b->n, NAN, NAN, NAN, NAN, NAN, NAN, 1, 1, RTB_V_NO_DATA, false, NULL};
    if (a->n == 0 || b->n == 0) {
        r.note = a->n == 0 && b->n == 0 ? "no ok samples on either side" : a->n == 0 ? "no ok samples in A" : "no ok samples in B";
        *row = r;
        return 0;
    }
    r.median_a = rtb_median(a->v, a->n);
    r.median_b = rtb_median(b->v, b->n);
    r.min_p = rtb_mwu_min_p(a->n, b->n);
    RtbMwu u;
    if (rtb_mann_whitney(a->v, a->n, b->v, b->n, &u) != 0)
        return -1;
    r.p = u.p;
    if (all_positive(a->v, a->n) && all_positive(b->v, b->n)) {
        if (ratio_interval(a, b, o, &r) != 0)
            return -1;
    } else {
        r.ratio = r.median_a > 0 ? r.median_b / r.median_a : NAN;
        r.note = "no interval: some values are 0 or less";
    }
    if (isnan(r.ratio)) {
        r.verdict = RTB_V_NO_DATA;
        r.note = "no ratio: A's median is 0";
    } else {
        decide(m, o, &r);
    }
    *row = r;
    return 0;
}

void
rtb_verdict_text(const RtbMetric *m, const RtbCompareRow *r, char *out, size_t len)
{
    bool memory = m->kind == RTB_METRIC_MEMORY;
    switch (r->verdict) {
    case RTB_V_NO_DATA:
        snprintf(out, len, "no data (%s)", r->note ? r->note : "no samples");
        break;
    case RTB_V_TOO_FEW:
        snprintf(out, len, "too few samples (%zu vs %zu: p >= %.3g at best)", r->na, r->nb, r->min_p);
        break;
    case RTB_V_NOT_SIGNIFICANT:
        snprintf(out, len, "not significant");
        break;
    case RTB_V_BETTER:
        snprintf(out, len, "%.3gx %s", 1 / r->ratio, memory ? "smaller" : "faster");
        break;
    case RTB_V_WORSE:
        snprintf(out, len, "%.3gx %s", r->ratio, memory ? "larger" : "slower");
        break;
    }
}

/* ==== pairing ============================================================== */

static bool
same(const char *x, const char *y)
{
    return strcmp(x ? x : "", y ? y : "") == 0;
}

static bool
same_shape(const RtbConfigId *x, const RtbConfigId *y)
{
    return same(x->group, y->group) && same(x->workload, y->workload) && same(x->params, y->params);
}

/* How many unpaired configurations of set v (n of them) have x's shape;
 * the last one's index in *at. */
static size_t
count_shape(const RtbConfigId *x, const RtbConfigId *v, size_t n, const bool *used, size_t *at)
{
    size_t count = 0;
    for (size_t j = 0; j < n; j++)
        if (!used[j] && same_shape(x, &v[j])) {
            count++;
            *at = j;
        }
    return count;
}

int
rtb_pair_configs(const RtbConfigId *a, size_t na, const RtbConfigId *b, size_t nb, RtbPairing *out)
{
    memset(out, 0, sizeof *out);
    bool *used_a = calloc(na + 1, 1), *used_b = calloc(nb + 1, 1);
    size_t *match = malloc((na + 1) * sizeof *match);
    out->pairs = malloc((na < nb ? na : nb) * sizeof *out->pairs + 1);
    out->lone_a = malloc((na + 1) * sizeof *out->lone_a);
    out->lone_b = malloc((nb + 1) * sizeof *out->lone_b);
    if (used_a == NULL || used_b == NULL || match == NULL || out->pairs == NULL || out->lone_a == NULL ||
        out->lone_b == NULL) {
        free(used_a);
        free(used_b);
        free(match);
        rtb_pairing_free(out);
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < na; i++) {           /* by group and name */
        match[i] = SIZE_MAX;
        for (size_t j = 0; j < nb && match[i] == SIZE_MAX; j++)
            if (!used_b[j] && same(a[i].group, b[j].group) && same(a[i].name, b[j].name)) {
                match[i] = j;
                used_a[i] = used_b[j] = true;
            }
    }
    for (size_t i = 0; i < na; i++) {           /* by shape, where unambiguous */
        size_t at_b = 0, at_a = 0;
        if (used_a[i] || count_shape(&a[i], b, nb, used_b, &at_b) != 1 || count_shape(&a[i], a, na, used_a, &at_a) != 1)
            continue;
        match[i] = at_b;
        used_a[i] = used_b[at_b] = true;
    }
    if (na == 1 && nb == 1 && !used_a[0]) {     /* one against one: what else could be meant */
        match[0] = 0;
        used_a[0] = used_b[0] = true;
    }
    for (size_t i = 0; i < na; i++) {
        if (match[i] != SIZE_MAX) {
            out->pairs[out->npairs][0] = i;
            out->pairs[out->npairs++][1] = match[i];
        } else {
            out->lone_a[out->nlone_a++] = i;
        }
    }
    for (size_t j = 0; j < nb; j++)
        if (!used_b[j])
            out->lone_b[out->nlone_b++] = j;
    free(used_a);
    free(used_b);
    free(match);
    return 0;
}

void
rtb_pairing_free(RtbPairing *p)
{
    free(p->pairs);
    free(p->lone_a);
    free(p->lone_b);
    memset(p, 0, sizeof *p);
}

/* ==== the whole comparison ================================================== */

void
rtb_comparison_summarize(RtbComparison *c)
{
    double log_sum = 0;
    c->nsignificant = c->ngate_failed = c->ntoo_few = 0;
    for (size_t k = 0; k < c->nrows; k++) {
        const RtbCompareRow *r = &c->rows[k];
        if (r->verdict == RTB_V_BETTER || r->verdict == RTB_V_WORSE) {
            c->nsignificant++;
            log_sum += log(r->ratio);
        }
        c->ngate_failed += r->gate_failed;
        c->ntoo_few += r->verdict == RTB_V_TOO_FEW;
    }
    c->geomean = c->nsignificant ? exp(log_sum / (double)c->nsignificant) : NAN;
}

static void
format_ratio(const RtbCompareRow *r, char *out, size_t len)
{
    if (isnan(r->ratio))
        snprintf(out, len, "-");
    else if (isnan(r->low))
        snprintf(out, len, "%.3f", r->ratio);
    else
        snprintf(out, len, "%.3f [%.3f, %.3f]", r->ratio, r->low, r->high);
}

static void
format_p(double p, char *out, size_t len)
{
    if (p < 1e-4)
        snprintf(out, len, "%.1e", p);
    else
        snprintf(out, len, "%.4f", p);
}

/* The geometric mean line's text. */
static void
geomean_text(const RtbComparison *c, char *out, size_t len)
{
    if (c->nsignificant == 0) {
        snprintf(out, len, "no significant difference in %zu row(s)", c->nrows);
        return;
    }
    RtbCompareRow g = {.ratio = c->geomean, .verdict = c->geomean > 1 ? RTB_V_WORSE : RTB_V_BETTER};
    char v[64];
    rtb_verdict_text(c->metric, &g, v, sizeof v);
    snprintf(out, len, "%s (ratio %.3f, over the %zu significant row(s) of %zu)", c->geomean == 1 ? "no change" : v,
             c->geomean, c->nsignificant, c->nrows);
}

/* A row's figures as text, for both table formats. */
typedef struct RowText {
    char ma[48], mb[48], ratio[64], p[24], verdict[96];
} RowText;

static void
row_text(const RtbComparison *c, const RtbCompareRow *r, RowText *t)
{
    rtb_metric_format(c->metric, r->median_a, t->ma, sizeof t->ma);
    rtb_metric_format(c->metric, r->median_b, t->mb, sizeof t->mb);
    format_ratio(r, t->ratio, sizeof t->ratio);
    format_p(r->p, t->p, sizeof t->p);
    rtb_verdict_text(c->metric, r, t->verdict, sizeof t->verdict);
}

static void
print_text_row(const RtbComparison *c, const RtbCompareRow *r, FILE *out)
{
    RowText t;
    row_text(c, r, &t);
    fprintf(out, "  %s", r->name_a);
    if (!same(r->name_a, r->name_b))
        fprintf(out, "\n    vs %s", r->name_b);
    fprintf(out, "\n    %s -> %s (n %zu, %zu): ratio %s, p %s: %s%s\n", t.ma, t.mb, r->na, r->nb, t.ratio, t.p,
            t.verdict, r->gate_failed ? "  << FAILS --fail-above" : "");
}

/* One Markdown row into buf; snprintf's count (the caller checks it fits). */
static int
md_row(const RtbComparison *c, const RtbCompareRow *r, char *buf, size_t len)
{
    RowText t;
    row_text(c, r, &t);
    const char *mark = r->gate_failed ? ":x: " : "";
    if (same(r->name_a, r->name_b))
        return snprintf(buf, len, "| `%s` | %s | %s | %s | %s | %s%s |\n", r->name_a, t.ma, t.mb, t.ratio, t.p, mark,
                        t.verdict);
    return snprintf(buf, len, "| `%s`<br>vs `%s` | %s | %s | %s | %s | %s%s |\n", r->name_a, r->name_b, t.ma, t.mb,
                    t.ratio, t.p, mark, t.verdict);
}

static void
print_md(const RtbComparison *c, FILE *out)
{
    size_t written = 0, left_out = 0;
    written += (size_t)fprintf(out, "**%s** (%s): A = `%s`, B = `%s`; ratio = B/A with its 95%% interval, p from a "
                                    "two-sided Mann-Whitney U test, alpha %.3g\n\n",
                               c->metric->name, c->metric->unit, c->label_a, c->label_b, c->opt.alpha);
    written += (size_t)fprintf(out, "| configuration | A median | B median | ratio [95%% CI] | p | verdict |\n"
                                    "|---|---:|---:|---|---:|---|\n");
    char row[2048];
    for (size_t k = 0; k < c->nrows; k++) {
        int n = md_row(c, &c->rows[k], row, sizeof row);
        if (n < 0 || (size_t)n >= sizeof row || written + (size_t)n > RTB_MD_LIMIT - 4096) {
            left_out++;
            continue;
        }
        fputs(row, out);
        written += (size_t)n;
    }
    char g[160];
    geomean_text(c, g, sizeof g);
    fprintf(out, "| **geometric mean** | | | | | %s |\n", g);
    if (left_out)
        fprintf(out, "\n%zu row(s) left out to stay under GitHub's 1 MiB step summary; the text table has them all.\n",
                left_out);
}

static void
print_lone(const char *side, const char *label, const char **names, size_t n, FILE *out)
{
    if (n == 0)
        return;
    fprintf(out, "%zu configuration(s) of %s (%s) have no counterpart:\n", n, side, label);
    for (size_t k = 0; k < n && k < 20; k++)
        fprintf(out, "  %s\n", names[k]);
    if (n > 20)
        fprintf(out, "  ... and %zu more\n", n - 20);
}

void
rtb_comparison_print(const RtbComparison *c, RtbTableFormat fmt, FILE *out)
{
    if (fmt == RTB_TABLE_MD) {
        print_md(c, out);
    } else {
        fprintf(out, "%s (%s): A = %s, B = %s; ratio = B/A [95%% interval], p: Mann-Whitney U, alpha %.3g\n",
                c->metric->name, c->metric->unit, c->label_a, c->label_b, c->opt.alpha);
        for (size_t k = 0; k < c->nrows; k++)
            print_text_row(c, &c->rows[k], out);
        char g[160];
        geomean_text(c, g, sizeof g);
        fprintf(out, "  geometric mean: %s\n", g);
    }
    FILE *notes = fmt == RTB_TABLE_MD ? out : stderr;
    if (fmt == RTB_TABLE_MD && (c->nlone_a || c->nlone_b || c->ntoo_few))
        fputc('\n', notes);
    if (c->ntoo_few)
        fprintf(notes, "%zu row(s) have too few samples for any difference to be significant at alpha %.3g "
                       "(at least 4 against 4, 3 against 5 or 2 against 8 for 0.05): take more samples.\n",
                c->ntoo_few, c->opt.alpha);
    print_lone("A", c->label_a, c->lone_a, c->nlone_a, notes);
    print_lone("B", c->label_b, c->lone_b, c->nlone_b, notes);
    if (c->opt.fail_above >= 0) {
        if (c->ngate_failed)
            fprintf(notes, "%s%zu configuration(s) significantly worse by more than %g%% (--fail-above):\n",
                    fmt == RTB_TABLE_MD ? "\n" : "", c->ngate_failed, c->opt.fail_above);
        else
            fprintf(notes, "%sno configuration significantly worse by more than %g%% (--fail-above)\n",
                    fmt == RTB_TABLE_MD ? "\n" : "", c->opt.fail_above);
        /* Markdown lists the first 50 (the summary's size), text all. */
        size_t listed = 0, limit = fmt == RTB_TABLE_MD ? 50 : SIZE_MAX;
        for (size_t k = 0; k < c->nrows; k++)
            if (c->rows[k].gate_failed && listed++ < limit)
                fprintf(notes, "%s%s: ratio %.3f\n", fmt == RTB_TABLE_MD ? "- " : "  ", c->rows[k].name_b,
                        c->rows[k].ratio);
        if (listed > limit)
            fprintf(notes, "- ... and %zu more (the text output lists them all)\n", listed - limit);
    }
}
