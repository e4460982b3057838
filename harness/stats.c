/* stats.c -- the statistics the harness reports (stats.h says what each
 * function promises).
 *
 * Medians and nearest-rank quantiles for summaries; the Mann-Whitney U test
 * that decides "faster", "slower" or "not significant", computed as
 * scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method="auto")
 * does in scipy 1.10 -- what Google Benchmark's compare.py calls -- so that
 * both tools agree on the same samples; the Hodges-Lehmann estimate of a
 * shift with its exact interval (R's wilcox.test); a seeded percentile
 * bootstrap of a ratio of medians; the distribution-free interval of a
 * median (order statistics and the binomial).
 *
 * Why medians and ranks: timing noise is one-sided and heavy-tailed (a
 * burst of background load only ever slows a sample down), and ranks do
 * not care how far out an outlier lies.  Why log ratios: effects are
 * multiplicative, and log r is symmetric (x2 and /2 are +-log 2).
 *
 * The exact null distribution of U (section "the null distribution") is
 * the one piece of numerical care: the number of orderings with U = u for
 * sizes m <= n is the coefficient of q^u in the q-binomial
 *   [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i),
 * built one factor at a time (Harding 1984).  Each step multiplies by
 * (1 - q^(n+i)) -- a subtraction -- and divides by (1 - q^i) -- a running
 * sum -- and scales by i/(n+i), so the coefficients stay probabilities.
 * Coefficient u of the result depends only on coefficients <= u, so the
 * lower half is computed alone, in place, in m*n/2 + 1 doubles.  In the
 * lower half the coefficients grow with u and each step's result is at
 * least its input there ([n+i choose i] = [n+i-1 choose i-1] + q^i [...]),
 * so a subtraction never cancels more than the running sum adds back: the
 * relative error stays near m*n*DBL_EPSILON.  The old table of counts per
 * (i, j, u) took (m+1)(n+1)(mn+1) doubles: 600 MB for 8 against 1024.
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "stats.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* n * m doubles, or NULL (ENOMEM) when that does not fit a size_t. */
static double *
alloc_doubles(size_t n, size_t m)
{
    if (m != 0 && n > SIZE_MAX / sizeof(double) / m) {
        errno = ENOMEM;
        return NULL;
    }
    return malloc((n != 0 && m != 0 ? n * m : 1) * sizeof(double));
}

static bool
has_nan(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]))
            return true;
    return false;
}

static bool
alpha_ok(double alpha)
{
    return alpha > 0 && alpha < 1;
}

/* The median of values already sorted. */
static double
median_sorted(const double *s, size_t n)
{
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
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
    double *s = alloc_doubles(n, 1);
    if (s == NULL)
        abort();        /* rtbench.h: the summaries' callers cannot fail */
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double m = median_sorted(s, n);
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

/* ==== small helpers ======================================================= */

double
rtb_log_choose(size_t n, size_t k)
{
    if (k > n)
        return -INFINITY;
    return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1);
}

static double
normal_sf(double z)
{
    return 0.5 * erfc(z / sqrt(2.0));
}

double
rtb_normal_isf(double p)
{
    /* Bisection on the survival function: 200 halvings of [-40, 40] reach
     * the resolution of a double; called a few times per comparison. */
    double lo = -40, hi = 40;
    for (int k = 0; k < 200 && hi - lo > 1e-15; k++) {
        double mid = (lo + hi) / 2;
        if (normal_sf(mid) > p)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

uint64_t
rtb_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void
rtb_rng_seed(RtbRng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = rtb_splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
rtb_rng_next(RtbRng *r)
{
    uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

size_t
rtb_rng_below(RtbRng *r, size_t n)
{
    /* Rejection of the top partial range: uniform, no modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
    do
        x = rtb_rng_next(r);
    while (x >= limit);
    return (size_t)(x % n);
}

/* ==== the null distribution of U ========================================== */

int
rtb_mwu_null_cdf(size_t m, size_t n, double *cdf, size_t h)
{
    size_t small = m < n ? m : n, large = m < n ? n : m;
    if (small != 0 && large > SIZE_MAX / small) {
        errno = EINVAL;
        return -1;
    }
    if (h > small * large / 2) {
        errno = EINVAL;
        return -1;
    }
    double *f = cdf;            /* the pmf first, in place */
    f[0] = 1;
    for (size_t u = 1; u <= h; u++)
        f[u] = 0;
    for (size_t i = 1; i <= small; i++) {
        size_t a = large + i;
        for (size_t u = h; u >= a; u--)                         /* times (1 - q^a), a >= 1 */
            f[u] -= f[u - a];
        for (size_t u = i; u <= h; u++)                         /* divided by (1 - q^i) */
            f[u] += f[u - i];
        double scale = (double)i / (double)a;                   /* C(large+i-1, i-1) / C(large+i, i) */
        for (size_t u = 0; u <= h; u++)
            f[u] *= scale;
    }
    double sum = 0;
    for (size_t u = 0; u <= h; u++) {
        sum += f[u] > 0 ? f[u] : 0;     /* rounding may leave -1e-300 */
        cdf[u] = sum < 1 ? sum : 1;
    }
    return 0;
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

/* U1 (midranks), whether any value repeats, and sum(t^3 - t) over tie
 * groups; -1 when out of memory. */
static int
rank_u(const double *a, size_t na, const double *b, size_t nb, double *u1, bool *ties, double *tie_term)
{
    size_t n = na + nb;
    Ranked *r = malloc(n * sizeof *r);
    if (r == NULL)
        return -1;
    for (size_t i = 0; i < na; i++)
        r[i] = (Ranked){a[i], 0};
    for (size_t i = 0; i < nb; i++)
        r[na + i] = (Ranked){b[i], 1};
    qsort(r, n, sizeof *r, cmp_ranked);
    double rank_sum_a = 0;
    *ties = false;
    *tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && r[j + 1].value == r[i].value)
            j++;
        double t = (double)(j - i + 1), avg = ((double)i + (double)j) / 2.0 + 1.0;
        if (t > 1) {
            *ties = true;
            *tie_term += t * t * t - t;
        }
        for (size_t k = i; k <= j; k++)
            if (r[k].group == 0)
                rank_sum_a += avg;
        i = j + 1;
    }
    free(r);
    *u1 = rank_sum_a - (double)na * (double)(na + 1) / 2.0;
    return 0;
}

/* P(U >= u) under the null, u >= m*n/2 an integer: P(U <= m*n - u). */
static int
exact_sf(double u, size_t m, size_t n, double *p)
{
    size_t mn = m * n, h = mn / 2, below = mn - (size_t)llround(u);
    double *cdf = alloc_doubles(h + 1, 1);
    if (cdf == NULL)
        return -1;
    rtb_mwu_null_cdf(m, n, cdf, h);
    *p = cdf[below <= h ? below : h];
    free(cdf);
    return 0;
}

int
rtb_mann_whitney(const double *a, size_t na, const double *b, size_t nb, RtbMwu *out)
{
    if (na == 0 || nb == 0 || has_nan(a, na) || has_nan(b, nb)) {
        errno = EINVAL;
        return -1;
    }
    double u1, tie_term;
    bool ties;
    if (rank_u(a, na, b, nb, &u1, &ties, &tie_term) != 0)
        return -1;
    double mn = (double)na * (double)nb, u = u1 > mn - u1 ? u1 : mn - u1, p;
    RtbMwuMethod method = (na > 8 && nb > 8) || ties ? RTB_MWU_ASYMPTOTIC : RTB_MWU_EXACT;
    if (method == RTB_MWU_EXACT) {
        if (exact_sf(u, na, nb, &p) != 0)
            return -1;
    } else {
        double n = (double)(na + nb);
        double s = sqrt(mn / 12.0 * ((n + 1) - tie_term / (n * (n - 1))));
        double num = u - mn / 2 - 0.5;
        /* s = 0 when every value is the same: scipy's z is -inf, p = 1. */
        p = s > 0 ? normal_sf(num / s) : (num > 0 ? 0 : 1);
    }
    p *= 2;
    *out = (RtbMwu){u1, p > 1 ? 1 : p < 0 ? 0 : p, method, ties};
    return 0;
}

double
rtb_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb)
{
    RtbMwu r;
    return rtb_mann_whitney(a, na, b, nb, &r) == 0 ? r.p : 1;
}

double
rtb_mwu_min_p(size_t na, size_t nb)
{
    if (na == 0 || nb == 0)
        return 1;
    double p;
    if (na > 8 && nb > 8) {
        double mn = (double)na * (double)nb, n = (double)(na + nb);
        p = 2 * normal_sf((mn / 2 - 0.5) / sqrt(mn / 12.0 * (n + 1)));
    } else {
        p = 2 * exp(-rtb_log_choose(na + nb, na < nb ? na : nb));     /* symmetric in na, nb */
    }
    return p > 1 ? 1 : p;
}

/* ==== Hodges-Lehmann ====================================================== */

/* R's qwilcox(alpha/2, m, n), at least 1, and the coverage it achieves. */
static int
exact_k(size_t m, size_t n, double alpha, size_t *k, double *coverage)
{
    size_t h = m * n / 2;
    double *cdf = alloc_doubles(h + 1, 1);
    if (cdf == NULL)
        return -1;
    rtb_mwu_null_cdf(m, n, cdf, h);
    size_t q = 0;
    while (q < h && cdf[q] < alpha / 2)
        q++;
    *k = q > 0 ? q : 1;
    *coverage = 1 - 2 * cdf[*k - 1];
    free(cdf);
    return 0;
}

static void
normal_k(size_t m, size_t n, double alpha, size_t *k, double *coverage)
{
    double mn = (double)m * (double)n, sd = sqrt(mn * ((double)(m + n) + 1) / 12.0);
    double kk = floor(mn / 2 - rtb_normal_isf(alpha / 2) * sd + 0.5);
    *k = kk < 1 ? 1 : kk > mn / 2 ? (size_t)(mn / 2) : (size_t)kk;
    *coverage = 1 - 2 * normal_sf((mn / 2 - ((double)*k - 1) - 0.5) / sd);
}

int
rtb_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny, double alpha, RtbShift *out)
{
    if (nx == 0 || ny == 0 || !alpha_ok(alpha) || has_nan(x, nx) || has_nan(y, ny)) {
        errno = EINVAL;
        return -1;
    }
    double *d = alloc_doubles(nx, ny);
    if (d == NULL)
        return -1;
    size_t mn = nx * ny, t = 0;
    for (size_t i = 0; i < nx; i++)
        for (size_t j = 0; j < ny; j++)
            d[t++] = y[j] - x[i];
    qsort(d, mn, sizeof *d, cmp_double);
    RtbShift s = {.estimate = median_sorted(d, mn), .exact = nx < 50 && ny < 50};
    if (s.exact) {
        if (exact_k(nx, ny, alpha, &s.k, &s.coverage) != 0) {
            free(d);
            return -1;
        }
    } else {
        normal_k(nx, ny, alpha, &s.k, &s.coverage);
    }
    s.low = d[s.k - 1];
    s.high = d[mn - s.k];
    free(d);
    *out = s;
    return 0;
}

/* ==== bootstrap ============================================================ */

static double
resampled_median(const double *v, size_t n, double *scratch, RtbRng *rng)
{
    for (size_t i = 0; i < n; i++)
        scratch[i] = v[rtb_rng_below(rng, n)];
    qsort(scratch, n, sizeof *scratch, cmp_double);
    return median_sorted(scratch, n);
}

int
rtb_bootstrap_ratio(const double *x, size_t nx, const double *y, size_t ny, double alpha, size_t b,
                    uint64_t seed, RtbRatioCi *out)
{
    if (nx == 0 || ny == 0 || b == 0 || !alpha_ok(alpha) || has_nan(x, nx) || has_nan(y, ny)) {
        errno = EINVAL;
        return -1;
    }
    double mx = rtb_median(x, nx), my = rtb_median(y, ny);
    if (!(mx > 0) || !(my > 0)) {
        errno = EINVAL;
        return -1;
    }
    double *theta = alloc_doubles(b, 1), *scratch = alloc_doubles(nx > ny ? nx : ny, 1);
    if (theta == NULL || scratch == NULL) {
        free(theta);
        free(scratch);
        errno = ENOMEM;
        return -1;
    }
    RtbRng rng;
    rtb_rng_seed(&rng, seed);
    size_t kept = 0;
    for (size_t i = 0; i < b; i++) {
        double sx = resampled_median(x, nx, scratch, &rng), sy = resampled_median(y, ny, scratch, &rng);
        /* A resample of a side with zeros can have a zero median: such a
         * ratio is infinite or undefined; count it at the extreme. */
        theta[kept++] = sx > 0 ? sy / sx : INFINITY;
    }
    qsort(theta, kept, sizeof *theta, cmp_double);
    *out = (RtbRatioCi){my / mx, rtb_quantile_sorted(theta, kept, alpha / 2),
                        rtb_quantile_sorted(theta, kept, 1 - alpha / 2)};
    free(theta);
    free(scratch);
    return 0;
}

/* ==== the median of one sample ============================================= */

/* P(Bin(n, 1/2) <= t). */
static double
binom_half_cdf(size_t n, size_t t)
{
    double sum = 0, ln2n = (double)n * log(2.0);
    for (size_t i = 0; i <= t && i <= n; i++)
        sum += exp(rtb_log_choose(n, i) - ln2n);
    return sum < 1 ? sum : 1;
}

int
rtb_median_interval(const double *v, size_t n, double alpha, RtbMedianCi *out)
{
    if (n == 0 || !alpha_ok(alpha) || has_nan(v, n)) {
        errno = EINVAL;
        return -1;
    }
    double *s = alloc_doubles(n, 1);
    if (s == NULL)
        return -1;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    /* Largest j with P(Bin <= j-1) <= alpha/2, j <= (n+1)/2. */
    size_t j = 1;
    while (j + 1 <= (n + 1) / 2 && binom_half_cdf(n, j) <= alpha / 2)
        j++;
    *out = (RtbMedianCi){median_sorted(s, n), s[j - 1], s[n - j], 1 - 2 * binom_half_cdf(n, j - 1), j};
    free(s);
    return 0;
}

double
rtb_median_ci(const double *v, size_t n, double level, double *lo, double *hi)
{
    *lo = *hi = NAN;
    RtbMedianCi m;
    if (n == 0 || rtb_median_interval(v, n, 1 - level, &m) != 0) {
        if (n != 0 && errno == ENOMEM)
            abort();    /* its callers (summaries, the stop rule) have no error path */
        return 0;
    }
    *lo = m.low;
    *hi = m.high;
    return m.coverage;
}
