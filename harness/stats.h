/* stats.h -- the statistics behind every figure rtbench prints.
 *
 * Pure functions on arrays of doubles: nothing here reads a result file or
 * prints.  Each states what it allocates (always in proportion to its
 * inputs, never a fixed cap) and how it fails: a function that allocates
 * returns -1 with errno = ENOMEM when memory runs out, and leaves its output
 * untouched.
 *
 * Conventions:
 *   - alpha is the two-sided significance level, 0 < alpha < 1 (0.05 for
 *     95% intervals);
 *   - sizes are counts of values, never of bytes;
 *   - "exact" means computed from the permutation (or binomial) null
 *     distribution, "asymptotic" from its normal approximation.
 *
 */
#ifndef RTB_STATS_H
#define RTB_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Summaries ------------------------------------------------------------ */
/* The median (NAN for n = 0); it copies v, and aborts when that copy finds
 * no memory (its callers, summaries, have no error path). */
double rtb_median(const double *v, size_t n);
/* The value of nearest rank ceil(q*n) (at least 1) of sorted values; 0 for n = 0. */
double rtb_quantile_sorted(const double *sorted, size_t n, double q);
double rtb_mean(const double *v, size_t n);     /* NAN for n = 0 */
double rtb_stdev(const double *v, size_t n);    /* sample (n - 1); 0 under 2 values */

/* ---- Mann-Whitney U, two-sided ------------------------------------------
 * As scipy.stats.mannwhitneyu(a, b, alternative="two-sided", method="auto")
 * in scipy 1.10: exact when one sample has at most 8 values and no value
 * occurs twice in the pooled samples, else the normal approximation with
 * the tie-corrected variance and a continuity correction of 0.5. */
typedef enum RtbMwuMethod { RTB_MWU_EXACT, RTB_MWU_ASYMPTOTIC } RtbMwuMethod;

typedef struct RtbMwu {
    double u;               /* U of the first sample (scipy's U1): pairs a > b, ties 1/2 */
    double p;               /* two-sided p-value, in [0, 1] */
    RtbMwuMethod method;
    bool ties;              /* some value occurs more than once */
} RtbMwu;

/* The test; 0, or -1 (ENOMEM; EINVAL when a side is empty or holds a NaN).
 * Memory: O(na + nb) for the ranks, and for the exact method
 * O(min(na, nb) * max(na, nb)) doubles (8 against 1024: 33 KiB). */
int rtb_mann_whitney(const double *a, size_t na, const double *b, size_t nb, RtbMwu *out);
/* Its p-value alone; 1 when the test cannot be made (an empty side). */
double rtb_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb);

/* The smallest p-value rtb_mann_whitney can give for samples of these sizes
 * without ties (all of one side below all of the other): 2 / C(na+nb, na)
 * where the exact method applies, else the normal approximation's at
 * U = na*nb.  A difference can be significant at alpha only if this is
 * below alpha (3 against 3: 0.1, never at 0.05).  1 when a size is 0.  Ties
 * shrink the approximation's variance, so tied samples (identical
 * instruction counts) may go lower. */
double rtb_mwu_min_p(size_t na, size_t nb);

/* The null distribution of U for sizes m and n: cdf[u] = P(U <= u) for
 * u = 0..h, h <= m*n/2 (the lower half; P(U >= m*n - u) is the same by
 * symmetry).  Memory: h + 1 doubles, in cdf.  0, or -1 (EINVAL when h is
 * past the middle).  Harding's product of q-binomial factors, one factor
 * per value of the smaller side, on probabilities; the lower half only
 * adds to itself, so its relative error stays near m*n*DBL_EPSILON. */
int rtb_mwu_null_cdf(size_t m, size_t n, double *cdf, size_t h);

/* ---- Shift and ratio: Hodges-Lehmann with its exact interval -------------
 * The estimate of y - x is the median of the nx*ny differences y_j - x_i;
 * the interval is [D(k), D(nx*ny + 1 - k)] of the sorted differences, with
 * k = qwilcox(alpha/2, nx, ny) from the null distribution of U (at least 1)
 * as R's wilcox.test(conf.int = TRUE) computes it when both sides have
 * fewer than 50 values; from 50 on, k = floor(nx*ny/2 - z*sd + 1/2), the
 * normal approximation (which gives the same k from 10 values up).  Ties do
 * not change k (R would switch to its approximation; the coverage is then
 * approximate).  Passing log values gives the log of a ratio: exponentiate
 * estimate, low and high. */
typedef struct RtbShift {
    double estimate, low, high;
    double coverage;        /* what the interval achieves: 1 - 2 P(U <= k-1) */
    size_t k;
    bool exact;             /* k from the exact null distribution */
} RtbShift;

/* 0, or -1 (ENOMEM; EINVAL for an empty side, a NaN, or alpha out of
 * (0, 1)).  Memory: nx*ny doubles for the differences, plus the null
 * distribution's nx*ny/2 + 1 when exact. */
int rtb_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny, double alpha, RtbShift *out);

/* ---- The ratio of medians by percentile bootstrap -------------------------
 * B resamples of each side, drawn independently with replacement from a
 * xoshiro256** generator seeded by seed (record it to reproduce the
 * interval); each gives median(y*)/median(x*); the interval is the
 * alpha/2 and 1 - alpha/2 nearest-rank quantiles of the B ratios.  The
 * estimate is median(y)/median(x).  Needs positive medians.  0, or -1
 * (ENOMEM; EINVAL for an empty side, B = 0, alpha out of (0, 1), or a
 * median that is not positive).  Memory: B + nx + ny doubles. */
typedef struct RtbRatioCi {
    double estimate, low, high;
} RtbRatioCi;

int rtb_bootstrap_ratio(const double *x, size_t nx, const double *y, size_t ny, double alpha, size_t b,
                        uint64_t seed, RtbRatioCi *out);

/* ---- The median of one sample, distribution-free ---------------------------
 * [x(j), x(n+1-j)] of the sorted values, with j the largest such that
 * P(Bin(n, 1/2) <= j-1) <= alpha/2 (at least 1): it covers the true median
 * with probability coverage >= 1 - alpha, whatever the distribution.  Under
 * 6 values 95% is out of reach: j = 1, the whole range, and coverage says
 * what it achieves (5 values: 0.9375).  0, or -1 (ENOMEM; EINVAL for n = 0,
 * a NaN or alpha out of (0, 1)).  Memory: n doubles. */
typedef struct RtbMedianCi {
    double median, low, high, coverage;
    size_t j;
} RtbMedianCi;

int rtb_median_interval(const double *v, size_t n, double alpha, RtbMedianCi *out);
/* The same for the summaries and --repeat auto's stop rule: the interval
 * at level (0.95) in lo, hi, and its coverage; NAN, NAN and 0 for n = 0 or
 * a NaN; aborts when out of memory. */
double rtb_median_ci(const double *v, size_t n, double level, double *lo, double *hi);

/* ---- Small helpers ---------------------------------------------------------- */
/* log C(n, k) (lgamma); exact enough for probabilities. */
double rtb_log_choose(size_t n, size_t k);
/* The standard normal's upper quantile: z with P(Z > z) = p, 0 < p < 1. */
double rtb_normal_isf(double p);
/* SplitMix64: advances *x and returns the next value (the seeder below,
 * and the driver's shuffle of a round's sample order). */
uint64_t rtb_splitmix64(uint64_t *x);
/* xoshiro256** seeded by splitmix64 from one 64-bit seed. */
typedef struct RtbRng {
    uint64_t s[4];
} RtbRng;
void rtb_rng_seed(RtbRng *r, uint64_t seed);
uint64_t rtb_rng_next(RtbRng *r);
size_t rtb_rng_below(RtbRng *r, size_t n);      /* uniform in [0, n), n > 0 */

#endif /* RTB_STATS_H */
