/* test_harness_units.c -- the harness's building blocks: the JSON model
 * (parsing with located errors, exact integers, round trips, writing) and
 * the statistics (quantiles; Mann-Whitney U against scipy 1.10's values),
 * and the list syntax of sweeps.
 */
#include "testhelper.h"
#include "rtbench.h"

#include <math.h>

static Rtj *
parse(const char *text, char *err)
{
    return rtj_parse(text, strlen(text), err, 200);
}

TEST(json_parses_values_and_keeps_integers_exact)
{
    char err[200];
    Rtj *v = parse("{\"a\": 9007199254740993, \"b\": [1.5, -2e3, true, null, \"x\\u00e9\\n\"], \"c\": {}}", err);
    REQUIRE(v != NULL);
    CHECK_EQ(rtj_int(rtj_get(v, "a"), 0), 9007199254740993LL);    /* 2^53 + 1: not a double */
    CHECK(rtj_is_int(rtj_get(v, "a")));
    const Rtj *b = rtj_get(v, "b");
    CHECK_EQ(rtj_len(b), 5);
    CHECK(rtj_num(rtj_at(b, 0), 0) == 1.5);
    CHECK(rtj_num(rtj_at(b, 1), 0) == -2000);
    CHECK(rtj_bool(rtj_at(b, 2), false));
    CHECK(rtj_is(rtj_at(b, 3), RTJ_NULL));
    CHECK(strcmp(rtj_str(rtj_at(b, 4), ""), "x\xc3\xa9\n") == 0);
    CHECK(rtj_is(rtj_get(v, "c"), RTJ_OBJECT));
    CHECK(rtj_path(v, "c.missing") == NULL);
    /* Round trip. */
    char *text = rtj_dump(v, 2, NULL);
    Rtj *w = parse(text, err);
    REQUIRE(w != NULL);
    char *again = rtj_dump(w, 0, NULL), *once = rtj_dump(v, 0, NULL);
    CHECK(strcmp(again, once) == 0);
    free(text);
    free(again);
    free(once);
    rtj_free(v);
    rtj_free(w);
}

TEST(json_errors_say_where)
{
    char err[200];
    CHECK(parse("{\"a\": 1,\n \"b\" 2}", err) == NULL);
    CHECK(strstr(err, "line 2, column 6") != NULL);
    CHECK(parse("[1, 2", err) == NULL);
    CHECK(strstr(err, "truncated") != NULL);
    CHECK(parse("hello", err) == NULL);
    CHECK(strstr(err, "not JSON") != NULL);
    CHECK(parse("{} {}", err) == NULL);
    CHECK(strstr(err, "extra text") != NULL);
    CHECK(parse("\"bad \\q escape\"", err) == NULL);
    CHECK(parse("", err) == NULL);
    /* Nesting deeper than the limit is refused, not a stack overflow. */
    char deep[2000];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    CHECK(parse(deep, err) == NULL);
    CHECK(strstr(err, "nested too deeply") != NULL);
}

TEST(json_builds_and_replaces)
{
    Rtj *o = rtj_object();
    rtj_set(o, "x", rtj_integer(1));
    rtj_set(o, "y", rtj_string("two"));
    rtj_set(o, "x", rtj_number(0.25));     /* replaces, keeps the order */
    char *text = rtj_dump(o, 0, NULL);
    CHECK(strcmp(text, "{\"x\":0.25,\"y\":\"two\"}") == 0);
    free(text);
    Rtj *y = rtj_take(o, "y");
    CHECK(strcmp(rtj_str(y, ""), "two") == 0);
    CHECK_EQ(rtj_len(o), 1);
    rtj_free(y);
    rtj_free(o);
    char buf[40];
    rtj_format_double(0.1, buf, sizeof buf);
    CHECK(strcmp(buf, "0.1") == 0);
    rtj_format_double(1.0 / 3.0, buf, sizeof buf);
    CHECK(strtod(buf, NULL) == 1.0 / 3.0);
    rtj_format_double(NAN, buf, sizeof buf);
    CHECK(strcmp(buf, "null") == 0);
}

TEST(quantiles_and_medians)
{
    double v[] = {5, 1, 4, 2, 3};
    CHECK(rtb_median(v, 5) == 3);
    CHECK(rtb_median(v, 4) == 3);   /* 1 2 4 5 -> 3 */
    double sorted[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CHECK(rtb_quantile_sorted(sorted, 10, 0.5) == 5);
    CHECK(rtb_quantile_sorted(sorted, 10, 0.9) == 9);
    CHECK(rtb_quantile_sorted(sorted, 10, 0.99) == 10);
    CHECK(rtb_quantile_sorted(sorted, 0, 0.5) == 0);
    CHECK(fabs(rtb_stdev(sorted, 10) - 3.0276503540974917) < 1e-12);
}

/* Reference p-values: scipy.stats.mannwhitneyu(a, b, alternative="two-sided")
 * with scipy 1.10.1 (Debian 12's python3-scipy). */
TEST(mann_whitney_matches_scipy)
{
    static const struct {
        double a[10], b[10];
        size_t na, nb;
        double p;
    } cases[] = {
        {{1, 2, 3}, {4, 5, 6}, 3, 3, 0.1},
        {{1, 2, 3, 4, 5}, {2.5, 6, 7, 8, 9}, 5, 5, 0.05555555555555555},
        {{1, 2, 2, 3}, {2, 3, 4, 5}, 4, 4, 0.1366582477381475},
        {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5}, 10, 10, 0.031209012771740218},
        {{0.41, 0.39, 0.45, 0.40, 0.42, 0.43, 0.38, 0.44, 0.41}, {0.46, 0.47, 0.45, 0.48, 0.50, 0.44, 0.49, 0.47, 0.46}, 9, 9,
         0.0007677348782510443},
        {{1, 1, 1}, {1, 1, 1}, 3, 3, 1.0},
        {{5}, {1, 2, 3}, 1, 3, 0.5},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double p = rtb_mann_whitney_p(cases[k].a, cases[k].na, cases[k].b, cases[k].nb);
        if (fabs(p - cases[k].p) > 1e-9)
            fprintf(stderr, "  case %zu: p = %.17g, scipy %.17g\n", k, p, cases[k].p);
        CHECK(fabs(p - cases[k].p) <= 1e-9);
    }
}

TEST(sweep_lists_and_log_ranges)
{
    int64_t v[64];
    CHECK_EQ(rtb_parse_list("100:100000:log4", 0, v, 64), 4);
    CHECK(v[0] == 100 && v[1] == 1000 && v[2] == 10000 && v[3] == 100000);
    CHECK_EQ(rtb_parse_list("100:100000:log7", 0, v, 64), 7);
    CHECK(v[1] == 316 && v[6] == 100000);
    CHECK_EQ(rtb_parse_list("1:3:log10", 0, v, 64), 3);  /* duplicates after rounding dropped */
    CHECK_EQ(rtb_parse_list("700,100,700,5000", 0, v, 64), 3);
    CHECK(v[0] == 100 && v[1] == 700 && v[2] == 5000);
    const char *bad[] = {"", ",", "1,", "1,,2", "a", "-1", "10:1:log3", "0:10:log3", "1:10:3", "1:10:log0", "1:10:logx"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        if (rtb_parse_list(bad[k], 0, v, 64) != -1)
            fprintf(stderr, "  accepted '%s'\n", bad[k]);
        CHECK_EQ(rtb_parse_list(bad[k], 0, v, 64), -1);
    }
}

int
main(void)
{
    RUN(json_parses_values_and_keeps_integers_exact);
    RUN(json_errors_say_where);
    RUN(json_builds_and_replaces);
    RUN(quantiles_and_medians);
    RUN(mann_whitney_matches_scipy);
    RUN(sweep_lists_and_log_ranges);
    return rt_test_summary();
}
