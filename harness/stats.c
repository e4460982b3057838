/* stats.c -- the statistics the harness reports.
 *
 * Medians and nearest-rank quantiles for summaries, and the Mann-Whitney U
 * test that decides "faster", "slower" or "not significant" in compare,
 * computed as scipy.stats.mannwhitneyu(x, y, alternative="two-sided",
 * method="auto") does in scipy 1.10 -- what Google Benchmark's compare.py
 * calls -- so that both tools agree on the same samples:
 *   - exact distribution of U when either sample has at most 8 values and
 *     there are no ties, by the classic recursion on counts;
 *   - otherwise the normal approximation with the tie correction of the
 *     variance and a continuity correction of 0.5.
 */
#include "rtbench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double
rtb_quantile_sorted(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)ceil(q * (double)n);     /* nearest rank, 1-based */
    if (rank < 1)
        rank = 1;
    return sorted[(rank > n ? n : rank) - 1];
}

double
rtb_median(const double *v, size_t n)
{
    if (n == 0)
        return NAN;
    double *s = malloc(n * sizeof *s);
    if (s == NULL)
        abort();
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

double
rtb_mean(const double *v, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    return n ? sum / (double)n : NAN;
}

double
rtb_stdev(const double *v, size_t n)
{
    if (n < 2)
        return 0;
    double m = rtb_mean(v, n), ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - m) * (v[i] - m);
    return sqrt(ss / (double)(n - 1));
}

/* ==== Mann-Whitney U ===================================================== */

typedef struct Ranked {
    double value;
    int group;
} Ranked;

static int
cmp_ranked(const void *a, const void *b)
{
    return cmp_double(&((const Ranked *)a)->value, &((const Ranked *)b)->value);
}

/* P(U >= u) for samples of sizes m and n without ties: the number of
 * orderings with U = k obeys c(m, n, k) = c(m - 1, n, k - n) + c(m, n - 1, k)
 * (the largest value is from the first sample, or not). */
static double
exact_sf(long u, int m, int n)
{
    long kmax = (long)m * n;
    size_t width = (size_t)kmax + 1;
    double *c = calloc((size_t)(m + 1) * (size_t)(n + 1) * width, sizeof *c);
    if (c == NULL)
        return 1;
#define C(i, j, k) c[(((size_t)(i) * (size_t)(n + 1)) + (size_t)(j)) * width + (size_t)(k)]
    for (int i = 0; i <= m; i++) {
        for (int j = 0; j <= n; j++) {
            if (i == 0 || j == 0) {
                C(i, j, 0) = 1;
                continue;
            }
            for (long k = 0; k <= (long)i * j; k++)
                C(i, j, k) = (k >= j ? C(i - 1, j, k - j) : 0) + C(i, j - 1, k);
        }
    }
    double total = 0, tail = 0;
    for (long k = 0; k <= kmax; k++) {
        total += C(m, n, k);
        if (k >= u)
            tail += C(m, n, k);
    }
#undef C
    free(c);
    return tail / total;
}

double
rtb_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return 1;
    size_t n = na + nb;
    Ranked *r = malloc(n * sizeof *r);
    if (r == NULL)
        return 1;
    for (size_t i = 0; i < na; i++)
        r[i] = (Ranked){a[i], 0};
    for (size_t i = 0; i < nb; i++)
        r[na + i] = (Ranked){b[i], 1};
    qsort(r, n, sizeof *r, cmp_ranked);
    /* Average ranks over ties; sum t^3 - t for the variance correction. */
    double rank_sum_a = 0, tie_term = 0;
    bool ties = false;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && r[j + 1].value == r[i].value)
            j++;
        double t = (double)(j - i + 1), avg = ((double)i + (double)j) / 2.0 + 1.0;
        if (t > 1) {
            ties = true;
            tie_term += t * t * t - t;
        }
        for (size_t k = i; k <= j; k++)
            if (r[k].group == 0)
                rank_sum_a += avg;
        i = j + 1;
    }
    free(r);
    double u1 = rank_sum_a - (double)na * (double)(na + 1) / 2.0;
    double u2 = (double)na * (double)nb - u1;
    double u = u1 > u2 ? u1 : u2, p;
    if ((na > 8 && nb > 8) || ties) {
        double mu = (double)na * (double)nb / 2.0;
        double s = sqrt((double)na * (double)nb / 12.0 * (((double)n + 1) - tie_term / ((double)n * ((double)n - 1))));
        if (s == 0)
            return 1;
        double z = (u - mu - 0.5) / s;
        p = 0.5 * erfc(z / sqrt(2.0));
    } else {
        p = exact_sf((long)llround(u), (int)na, (int)nb);
    }
    p *= 2;
    return p > 1 ? 1 : p < 0 ? 0 : p;
}

/* ==== the median's confidence interval =================================== */

/* P(B <= k) for B ~ Binomial(n, 1/2), summed in logs (n may be large). */
static double
binom_half_cdf(size_t k, size_t n)
{
    double sum = 0, logp = -(double)n * log(2.0);
    for (size_t i = 0; i <= k && i <= n; i++)
        sum += exp(lgamma((double)n + 1) - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) + logp);
    return sum;
}

/* Distribution-free interval of the median from order statistics: with the
 * sorted values x(1..n), [x(k), x(n+1-k)] covers the median with
 * probability 1 - 2 P(B <= k-1), B ~ Binomial(n, 1/2).  k is the largest
 * with 2 P(B <= k-1) <= 1 - level; below n = 6 no k reaches 95%, and the
 * interval is the whole range (k = 1).  Returns the coverage. */
double
rtb_median_ci(const double *v, size_t n, double level, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (n == 0)
        return 0;
    double *s = malloc(n * sizeof *s);
    if (s == NULL)
        abort();
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    size_t k = 1;
    while (k + 1 <= (n + 1) / 2 && 2 * binom_half_cdf(k, n) <= 1 - level)
        k++;
    *lo = s[k - 1];
    *hi = s[n - k];
    free(s);
    return 1 - 2 * binom_half_cdf(k - 1, n);
}
