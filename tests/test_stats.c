/* test_stats.c -- the statistics (harness/stats.h) against scipy.
 *
 * Two kinds of reference: the tables of exact values every statistics text
 * prints (smallest p-values 2/C(n+m, n), R's k for the Hodges-Lehmann
 * interval, the median interval's coverage), written here; and scipy 1.10's
 * own results, computed by tests/stats_reference.py when this test runs
 * (Debian's python3-scipy under /usr/bin/python3): Mann-Whitney p-values
 * and U over 200 cases of every size from 1 to 49 with and without ties,
 * the exact method at 8 against 1024 (where the old table of counts took
 * 600 MB), R's interval from scipy's null distribution, the binomial.
 *
 *   test_stats [PYTHON SCRIPT]      (default /usr/bin/python3 tests/stats_reference.py)
 *
 * Exit 77 (skipped) after the table checks when scipy is missing.
 */
#include "testhelper.h"
#include "rtbench.h"
#include "stats.h"

#include <errno.h>
#include <float.h>
#include <math.h>

static const char *python = "/usr/bin/python3", *script = "tests/stats_reference.py";

/* |x - y| within rel of y (or abs near 0). */
static bool
close_to(double x, double y, double rel)
{
    return fabs(x - y) <= rel * fabs(y) + 1e-300 || (x == y);
}

TEST(smallest_p_values_are_2_over_n_choose_k)
{
    /* The table of exact minima (two-sided), 3 significant digits. */
    static const struct {
        size_t n, m;
        double p;
    } t[] = {{2, 2, 0.333}, {3, 3, 0.100}, {3, 5, 0.0357}, {4, 4, 0.0286}, {2, 8, 0.0444}, {5, 5, 0.00794},
             {6, 8, 6.66e-4}, {8, 8, 1.554e-4}, {7, 7, 5.83e-4}};   /* 2/3003, 2/12870, 2/3432 */
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        double p = rtb_mwu_min_p(t[k].n, t[k].m);
        if (!close_to(p, t[k].p, 0.02))
            fprintf(stderr, "  %zu v %zu: %g, table %g\n", t[k].n, t[k].m, p, t[k].p);
        CHECK(close_to(p, t[k].p, 0.02));
        CHECK(rtb_mwu_min_p(t[k].m, t[k].n) == p);
    }
    /* Whether a difference can be significant at 0.05 at all. */
    CHECK(rtb_mwu_min_p(3, 3) >= 0.05);
    CHECK(rtb_mwu_min_p(4, 4) < 0.05);
    CHECK(rtb_mwu_min_p(3, 5) < 0.05);
    CHECK(rtb_mwu_min_p(2, 7) >= 0.05);
    CHECK(rtb_mwu_min_p(2, 8) < 0.05);
    CHECK(rtb_mwu_min_p(0, 5) == 1);
    /* The exact minimum is reached: all of a below all of b. */
    double a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
    CHECK(close_to(rtb_mann_whitney_p(a, 4, b, 4), rtb_mwu_min_p(4, 4), 1e-12));
}

TEST(null_distribution_is_exact_and_symmetric)
{
    /* 4 against 4: 70 orderings; P(U <= 0) = 1/70, P(U <= 1) = 2/70,
     * P(U <= 5) = 17/70 (scipy's _mwu_state.cdf(5, 4, 4)). */
    double cdf[9];
    REQUIRE(rtb_mwu_null_cdf(4, 4, cdf, 8) == 0);
    CHECK(close_to(cdf[0], 1.0 / 70, 1e-14));
    CHECK(close_to(cdf[1], 2.0 / 70, 1e-14));
    CHECK(close_to(cdf[5], 17.0 / 70, 1e-14));
    /* Half the mass below the middle, the middle counted once: for 4 v 4,
     * P(U <= 8) = (1 + P(U = 8)) / 2, P(U = 8) = 8/70. */
    CHECK(close_to(cdf[8], (1 + 8.0 / 70) / 2, 1e-14));
    /* Past the middle is refused; m*n overflow too. */
    errno = 0;
    CHECK(rtb_mwu_null_cdf(4, 4, cdf, 9) == -1 && errno == EINVAL);
    CHECK(rtb_mwu_null_cdf(SIZE_MAX / 2, 3, cdf, 1) == -1);
}

TEST(hodges_lehmann_k_matches_r)
{
    /* measurement.md: k for 95% and n = m. */
    static const struct {
        size_t n, k;
        double coverage;
    } t[] = {{4, 1, .971}, {5, 3, .968}, {6, 6, .959}, {7, 9, .962}, {8, 14, .950},
             {10, 24, .957}, {12, 38, .955}, {15, 65, .955}, {20, 128, .951}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        double x[20], y[20];
        for (size_t j = 0; j < t[i].n; j++) {
            x[j] = (double)j;
            y[j] = (double)j + 0.5;
        }
        RtbShift s;
        REQUIRE(rtb_hodges_lehmann(x, t[i].n, y, t[i].n, 0.05, &s) == 0);
        if (s.k != t[i].k)
            fprintf(stderr, "  n %zu: k %zu, R %zu\n", t[i].n, s.k, t[i].k);
        CHECK_EQ(s.k, t[i].k);
        CHECK(fabs(s.coverage - t[i].coverage) < 0.0006);
        CHECK(s.exact);
        CHECK(s.estimate == 0.5);
        CHECK(s.low <= 0.5 && s.high >= 0.5);
    }
    /* From 50 a side, the normal k: 50 v 50 and 200 v 200 stay near 95%. */
    double *x = malloc(200 * sizeof *x), *y = malloc(200 * sizeof *y);
    for (size_t j = 0; j < 200; j++) {
        x[j] = (double)j;
        y[j] = (double)j + 3;
    }
    RtbShift s;
    REQUIRE(rtb_hodges_lehmann(x, 50, y, 50, 0.05, &s) == 0);
    CHECK(!s.exact && fabs(s.coverage - 0.95) < 0.005 && s.estimate == 3);
    REQUIRE(rtb_hodges_lehmann(x, 200, y, 200, 0.05, &s) == 0);
    CHECK(!s.exact && fabs(s.coverage - 0.95) < 0.002 && s.estimate == 3);
    /* Errors: empty, NaN, alpha out of range. */
    errno = 0;
    CHECK(rtb_hodges_lehmann(x, 0, y, 3, 0.05, &s) == -1 && errno == EINVAL);
    CHECK(rtb_hodges_lehmann(x, 3, y, 3, 1.0, &s) == -1);
    x[1] = NAN;
    CHECK(rtb_hodges_lehmann(x, 3, y, 3, 0.05, &s) == -1);
    free(x);
    free(y);
}

TEST(bootstrap_is_seeded_and_brackets_the_estimate)
{
    double x[] = {100, 102, 98, 101, 99, 103, 97}, y[] = {110, 112, 108, 111, 109, 113, 107};
    RtbRatioCi c1, c2, c3;
    REQUIRE(rtb_bootstrap_ratio(x, 7, y, 7, 0.05, 2000, 42, &c1) == 0);
    REQUIRE(rtb_bootstrap_ratio(x, 7, y, 7, 0.05, 2000, 42, &c2) == 0);
    REQUIRE(rtb_bootstrap_ratio(x, 7, y, 7, 0.05, 2000, 43, &c3) == 0);
    CHECK(c1.low == c2.low && c1.high == c2.high);      /* same seed, same interval */
    CHECK(c1.estimate == 110.0 / 100.0);
    CHECK(c1.low <= c1.estimate && c1.estimate <= c1.high);
    CHECK(c1.low > 1);                                  /* a 10% shift, clearly */
    CHECK(c3.low > 1 && fabs(c3.low - c1.low) < 0.02);
    errno = 0;
    CHECK(rtb_bootstrap_ratio(x, 7, y, 7, 0.05, 0, 1, &c1) == -1 && errno == EINVAL);
    double zero[] = {0, 0, 0};
    CHECK(rtb_bootstrap_ratio(zero, 3, y, 7, 0.05, 100, 1, &c1) == -1 && errno == EINVAL);
    /* The generator: rtb_rng_below stays below its bound. */
    RtbRng r;
    rtb_rng_seed(&r, 7);
    size_t hits[3] = {0, 0, 0};
    for (int i = 0; i < 3000; i++)
        hits[rtb_rng_below(&r, 3)]++;
    CHECK(hits[0] > 800 && hits[1] > 800 && hits[2] > 800);
}

TEST(median_interval_edges)
{
    double v[] = {5, 1, 4, 2, 3};
    RtbMedianCi m;
    REQUIRE(rtb_median_interval(v, 5, 0.05, &m) == 0);
    CHECK(m.median == 3 && m.j == 1 && m.low == 1 && m.high == 5);
    CHECK(close_to(m.coverage, 1 - 2.0 / 32, 1e-12));   /* 95% is out of reach under 6 */
    errno = 0;
    CHECK(rtb_median_interval(v, 0, 0.05, &m) == -1 && errno == EINVAL);
    CHECK(rtb_median_interval(v, 5, 0, &m) == -1 && errno == EINVAL);
}

TEST(normal_quantile)
{
    CHECK(fabs(rtb_normal_isf(0.025) - 1.959963984540054) < 1e-12);
    CHECK(fabs(rtb_normal_isf(0.5)) < 1e-12);
}

/* ==== against scipy ========================================================= */

static Rtj *reference;

static Rtj *
load_reference(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s'", python, script);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return NULL;
    size_t len = 0, cap = 1 << 20;
    char *text = malloc(cap);
    size_t got;
    while ((got = fread(text + len, 1, cap - len, p)) > 0) {
        len += got;
        if (len == cap)
            text = realloc(text, cap *= 2);
    }
    int status = pclose(p);
    if (status != 0) {
        free(text);
        return WIFEXITED(status) && WEXITSTATUS(status) == 77 ? NULL : (Rtj *)-1;
    }
    char err[200];
    Rtj *doc = rtj_parse(text, len, err, sizeof err);
    free(text);
    return doc ? doc : (Rtj *)-1;
}

static size_t
doubles(const Rtj *arr, double *out)
{
    for (size_t k = 0; k < rtj_len(arr); k++)
        out[k] = rtj_num(rtj_at(arr, k), NAN);
    return rtj_len(arr);
}

TEST(mann_whitney_and_hodges_lehmann_match_scipy)
{
    const Rtj *cases = rtj_get(reference, "cases");
    REQUIRE(rtj_len(cases) > 100);
    size_t exact = 0, asymptotic = 0, hl = 0;
    double a[2048], b[2048];
    for (size_t k = 0; k < rtj_len(cases); k++) {
        const Rtj *c = rtj_at(cases, k), *m = rtj_get(c, "mwu"), *h = rtj_get(c, "hl");
        size_t na = doubles(rtj_get(c, "a"), a), nb = doubles(rtj_get(c, "b"), b);
        RtbMwu r;
        REQUIRE(rtb_mann_whitney(a, na, b, nb, &r) == 0);
        double p = rtj_num(rtj_get(m, "p"), NAN);
        bool is_exact = strcmp(rtj_str(rtj_get(m, "method"), ""), "exact") == 0;
        exact += is_exact;
        asymptotic += !is_exact;
        if (!close_to(r.p, p, 1e-9) || r.u != rtj_num(rtj_get(m, "u1"), NAN) || (r.method == RTB_MWU_EXACT) != is_exact)
            fprintf(stderr, "  case %zu (%zu v %zu): p %.17g u %g, scipy %.17g u %g (%s)\n", k, na, nb, r.p, r.u, p,
                    rtj_num(rtj_get(m, "u1"), NAN), is_exact ? "exact" : "asymptotic");
        CHECK(close_to(r.p, p, 1e-9));
        CHECK(r.u == rtj_num(rtj_get(m, "u1"), NAN));
        CHECK((r.method == RTB_MWU_EXACT) == is_exact);
        if (h == NULL)
            continue;
        hl++;
        RtbShift s;
        REQUIRE(rtb_hodges_lehmann(a, na, b, nb, 0.05, &s) == 0);
        bool ok = s.k == (size_t)rtj_int(rtj_get(h, "k"), -1) && s.low == rtj_num(rtj_get(h, "low"), NAN) &&
                  s.high == rtj_num(rtj_get(h, "high"), NAN) && close_to(s.estimate, rtj_num(rtj_get(h, "estimate"), NAN), 1e-15) &&
                  fabs(s.coverage - rtj_num(rtj_get(h, "coverage"), NAN)) < 1e-9;
        if (!ok)
            fprintf(stderr, "  case %zu HL: k %zu [%g, %g] est %g cov %g; R/scipy k %lld [%g, %g] est %g cov %g\n", k, s.k,
                    s.low, s.high, s.estimate, s.coverage, (long long)rtj_int(rtj_get(h, "k"), -1),
                    rtj_num(rtj_get(h, "low"), NAN), rtj_num(rtj_get(h, "high"), NAN),
                    rtj_num(rtj_get(h, "estimate"), NAN), rtj_num(rtj_get(h, "coverage"), NAN));
        CHECK(ok);
    }
    CHECK(exact > 50 && asymptotic > 50 && hl > 100);
    printf("     %zu Mann-Whitney cases (%zu exact, %zu asymptotic), %zu intervals agree with scipy\n",
           rtj_len(cases), exact, asymptotic, hl);
}

TEST(exact_method_at_8_against_1024_is_small_and_right)
{
    const Rtj *large = rtj_get(reference, "large");
    REQUIRE(rtj_len(large) == 2);
    static double a[2048], b[2048];
    for (size_t k = 0; k < 2; k++) {
        const Rtj *c = rtj_at(large, k);
        size_t na = doubles(rtj_get(c, "a"), a), nb = doubles(rtj_get(c, "b"), b);
        RtbMwu r;
        REQUIRE(rtb_mann_whitney(a, na, b, nb, &r) == 0);
        double p = rtj_num(rtj_get(c, "exact_int"), NAN);
        if (!close_to(r.p, p, 1e-9))
            fprintf(stderr, "  %zu v %zu: p %.17g, exact integers %.17g\n", na, nb, r.p, p);
        CHECK(r.method == RTB_MWU_EXACT);
        CHECK(close_to(r.p, p, 1e-9));
    }
}

TEST(median_interval_and_min_p_match_scipy)
{
    const Rtj *med = rtj_get(reference, "median_ci");
    double v[128];
    for (size_t i = 0; i < 128; i++)
        v[i] = (double)((i * 37) % 128);
    for (size_t k = 0; k < rtj_len(med); k++) {
        const Rtj *c = rtj_at(med, k);
        size_t n = (size_t)rtj_int(rtj_get(c, "n"), 0);
        RtbMedianCi m;
        REQUIRE(rtb_median_interval(v, n, 0.05, &m) == 0);
        CHECK_EQ(m.j, rtj_int(rtj_get(c, "j"), -1));
        CHECK(fabs(m.coverage - rtj_num(rtj_get(c, "coverage"), NAN)) < 1e-9);
    }
    /* 9 v 9 separated: scipy's auto goes asymptotic, 4.1e-4, our bound too. */
    CHECK(close_to(rtb_mwu_min_p(9, 9), rtj_num(rtj_get(reference, "min_p_9v9"), NAN), 1e-9));
}

int
main(int argc, char **argv)
{
    if (argc > 2) {
        python = argv[1];
        script = argv[2];
    }
    RUN(smallest_p_values_are_2_over_n_choose_k);
    RUN(null_distribution_is_exact_and_symmetric);
    RUN(hodges_lehmann_k_matches_r);
    RUN(bootstrap_is_seeded_and_brackets_the_estimate);
    RUN(median_interval_edges);
    RUN(normal_quantile);
    reference = load_reference();
    if (reference == NULL) {
        printf("SKIP the scipy cross-checks: %s lacks scipy (apt-get install python3-scipy)\n", python);
        int failed = rt_test_summary();
        return failed ? failed : 77;
    }
    if (reference == (Rtj *)-1) {
        fprintf(stderr, "FAIL: %s %s did not produce reference values\n", python, script);
        return 1;
    }
    RUN(mann_whitney_and_hodges_lehmann_match_scipy);
    RUN(exact_method_at_8_against_1024_is_small_and_right);
    RUN(median_interval_and_min_p_match_scipy);
    rtj_free(reference);
    return rt_test_summary();
}
