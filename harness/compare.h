/* compare.h -- the comparison engine: two sets of configurations, paired,
 * each pair judged on one metric.
 *
 * Typed inputs only: a side of a pair is a name and an array of values (one
 * per ok sample); a configuration's identity is its group (the result file
 * it came from inside a folder), name, workload and parameters.  Readers of
 * result files (JSON today, typed results later) fill these and call the
 * engine; nothing here parses or opens files.
 *
 * What a row says (rtb_compare_row):
 *   - both medians;
 *   - ratio = B / A, the Hodges-Lehmann estimate on the logarithms of the
 *     samples (the median of all log(b_j) - log(a_i), exponentiated), with
 *     its 95% interval (stats.h: exact k below 50 values a side), or the
 *     seeded percentile bootstrap of median(B)/median(A) when asked;
 *   - p, the two-sided Mann-Whitney p-value (scipy 1.10's method="auto");
 *   - the verdict: "too few samples" when no difference could be significant
 *     at alpha with these sizes (rtb_mwu_min_p >= alpha, and the samples'
 *     own p is not below alpha either); "not significant" when p >= alpha or
 *     the interval contains 1; else faster/slower (time, instructions) or
 *     smaller/larger (memory), by the ratio;
 *   - the gate (--fail-above PCT): a row fails when it is significant, worse
 *     (slower or larger: ratio > 1) and its ratio exceeds 1 + PCT/100.
 *
 * The geometric mean of the ratios is taken over the significant rows only:
 * a row that is not significant is noise, and averaging noise in would move
 * the mean by chance.
 */
#ifndef RTB_COMPARE_H
#define RTB_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- metrics ---- */
typedef enum RtbMetricKind { RTB_METRIC_TIME, RTB_METRIC_INSTRUCTIONS, RTB_METRIC_MEMORY } RtbMetricKind;

typedef struct RtbMetric {
    const char *name;       /* as in result files' summaries: wall_s, instructions, ... */
    const char *unit;       /* what values are printed in */
    double scale;           /* printed = value * scale */
    RtbMetricKind kind;
    const char *doc;        /* one line for --help */
} RtbMetric;

extern const RtbMetric rtb_metrics[];
extern const size_t rtb_metric_count;
const RtbMetric *rtb_metric_find(const char *name);     /* NULL when unknown */
/* The metric's value as a person reads it ("289 ms", "1.23 G", "40.1 MiB"). */
void rtb_metric_format(const RtbMetric *m, double value, char *out, size_t len);

/* ---- one row ---- */
typedef enum RtbVerdict {
    RTB_V_NO_DATA,          /* a side has no sample */
    RTB_V_TOO_FEW,          /* too few samples for significance to be possible */
    RTB_V_NOT_SIGNIFICANT,
    RTB_V_BETTER,           /* faster, or smaller */
    RTB_V_WORSE,            /* slower, or larger */
} RtbVerdict;

typedef enum RtbCiMethod { RTB_CI_HODGES_LEHMANN, RTB_CI_BOOTSTRAP } RtbCiMethod;

typedef struct RtbCompareOptions {
    double alpha;           /* 0.05 */
    double fail_above;      /* percent; < 0: no gate */
    RtbCiMethod ci;
    uint64_t seed;          /* bootstrap only */
    size_t resamples;       /* bootstrap only; 0: 9999 */
} RtbCompareOptions;

void rtb_compare_options_default(RtbCompareOptions *o);

typedef struct RtbCompareSide {
    const char *name;
    const double *v;        /* the ok samples' values */
    size_t n;
} RtbCompareSide;

typedef struct RtbCompareRow {
    const char *name_a, *name_b;    /* borrowed from the sides */
    size_t na, nb;
    double median_a, median_b;
    double ratio, low, high;        /* B / A and its interval; NAN when undefined */
    double coverage;                /* the interval's (HL); NAN for the bootstrap */
    double p, min_p;
    RtbVerdict verdict;
    bool gate_failed;
    const char *note;               /* why a figure is missing, or NULL */
} RtbCompareRow;

/* Judge one pair.  0, or -1 (ENOMEM) with the row untouched. */
int rtb_compare_row(const RtbMetric *m, const RtbCompareSide *a, const RtbCompareSide *b,
                    const RtbCompareOptions *o, RtbCompareRow *row);
/* "1.05x slower", "1.11x faster", "not significant", ... */
void rtb_verdict_text(const RtbMetric *m, const RtbCompareRow *r, char *out, size_t len);

/* ---- pairing two sets of configurations ---- */
typedef struct RtbConfigId {
    const char *group;      /* file inside a folder ("runs.json"); "" for a single file */
    const char *name;       /* the configuration's name */
    const char *workload;
    const char *params;     /* canonical text of the parameters */
} RtbConfigId;

typedef struct RtbPairing {
    size_t npairs;
    size_t (*pairs)[2];     /* index into a, index into b */
    size_t nlone_a, nlone_b;
    size_t *lone_a, *lone_b;    /* unpaired, in their original order */
} RtbPairing;

/* Pair b's configurations with a's: by group and name first, then by group,
 * workload and parameters where exactly one configuration of each side is
 * left with them (so --rc nonatomic against --rc atomic pairs without
 * renaming); and a set of one configuration always pairs with a set of
 * one (two runs of one workload at two sizes).  Pairs come in a's order.  0, or -1 (ENOMEM). */
int rtb_pair_configs(const RtbConfigId *a, size_t na, const RtbConfigId *b, size_t nb, RtbPairing *out);
void rtb_pairing_free(RtbPairing *p);

/* ---- a whole comparison ---- */
typedef enum RtbTableFormat { RTB_TABLE_TEXT, RTB_TABLE_MD } RtbTableFormat;

/* The Markdown table stops before this many bytes (GitHub's step summary
 * takes 1 MiB); the rows left out are counted in a last line. */
#define RTB_MD_LIMIT (512 * 1024)

typedef struct RtbComparison {
    const RtbMetric *metric;
    RtbCompareOptions opt;
    const char *label_a, *label_b;      /* what A and B are (paths) */
    size_t nrows;
    RtbCompareRow *rows;
    size_t nlone_a, nlone_b;
    const char **lone_a, **lone_b;      /* names of the unpaired */
    /* rtb_comparison_summarize: */
    size_t nsignificant, ngate_failed, ntoo_few;
    double geomean;                     /* over the significant rows; NAN if none */
} RtbComparison;

/* Count verdicts and take the geometric mean. */
void rtb_comparison_summarize(RtbComparison *c);
/* The table, the geometric mean, the unpaired, the gate. */
void rtb_comparison_print(const RtbComparison *c, RtbTableFormat fmt, FILE *out);

#endif /* RTB_COMPARE_H */
