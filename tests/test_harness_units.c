/* test_harness_units.c -- the harness's building blocks: the JSON model
 * (parsing with located errors, exact integers, round trips, writing), the
 * statistics (quantiles; Mann-Whitney U against scipy 1.10's values; the
 * median's interval), the list syntax of sweeps, the typed result's round
 * trip through JSON, the shards' partition, and allocation failure.
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
    /* Values and log ranges together: the suite's axis, written by hand. */
    CHECK_EQ(rtb_parse_list("100:100000:log4,700", 0, v, 64), 5);
    CHECK(v[0] == 100 && v[1] == 700 && v[2] == 1000 && v[4] == 100000);
    CHECK_EQ(rtb_parse_list("1:4:log4,2,3", 0, v, 64), 4);         /* duplicates across items dropped */
    CHECK_EQ(rtb_parse_list("1,2,3,4,5", 0, v, 4), -1);             /* more than max */
    const char *bad[] = {"", ",", "1,", "1,,2", "a", "-1", "10:1:log3", "0:10:log3", "1:10:3", "1:10:log0", "1:10:logx",
                         "1:10:log3,x"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        if (rtb_parse_list(bad[k], 0, v, 64) != -1)
            fprintf(stderr, "  accepted '%s'\n", bad[k]);
        CHECK_EQ(rtb_parse_list(bad[k], 0, v, 64), -1);
    }
}

/* The order-statistic interval of the median: ranks and coverage as in
 * the binomial tables (n = 20: ranks 6 and 15, coverage 0.9586). */
TEST(median_interval_from_order_statistics)
{
    double v[20], lo, hi;
    for (int i = 0; i < 20; i++)
        v[i] = 20 - i;                  /* 20 .. 1, unsorted on purpose */
    double cov = rtb_median_ci(v, 20, 0.95, &lo, &hi);
    CHECK(lo == 6 && hi == 15);
    CHECK(fabs(cov - 0.9586105346679688) < 1e-9);
    cov = rtb_median_ci(v, 5, 0.95, &lo, &hi);      /* 20..16: too few for 95%: the range */
    CHECK(lo == 16 && hi == 20);
    CHECK(fabs(cov - 0.9375) < 1e-12);
    cov = rtb_median_ci(v, 9, 0.95, &lo, &hi);      /* 20..12: ranks 2 and 8 */
    CHECK(lo == 13 && hi == 19);
    CHECK(fabs(cov - (1 - 2 * 10.0 / 512)) < 1e-12);
    RtbStat st = {9, 16, 12, 20, 16, 0, 13, 19};
    CHECK(fabs(rtb_stat_precision(&st) - 3.0 / 16) < 1e-12);
}

/* A sample and a run through JSON and back: the typed result is what the
 * file holds. */
TEST(typed_result_round_trip)
{
    RtbResult r;
    char *argv[] = {"run", "x"};
    rtb_result_init(&r, "run", 2, argv);
    RtbRun *run = rtb_result_add_run(&r);
    run->name = rtb_strdup("w/n:3/t0:700/t1:10/t2:10/gc:on/rc:nonatomic/alloc:pool");
    run->workload = rtb_strdup("w");
    run->nparams = 1;
    run->params[0] = (RtbParam){rtb_strdup("n"), 3};
    run->threshold[0] = 700, run->threshold[1] = 10, run->threshold[2] = 10;
    run->rc = rtb_strdup("nonatomic");
    run->alloc = rtb_strdup("pool");
    run->repeat = 2;
    for (int k = 0; k < 2; k++) {
        RtbSample *s = rtb_run_add_sample(run);
        s->wall_s = 0.5 + k;
        s->cpu_s = 0.25;
        s->peak_rss_bytes = 9007199254740993LL;     /* 2^53 + 1: exact */
        s->gc.present = true;
        s->gc.collections[0] = 7;
        s->round = k;
        s->seq = k;
    }
    run->samples[1].status = RTB_TIMEOUT;
    run->samples[1].error = rtb_strdup("killed");
    rtb_run_summarize(run, &r);
    Rtj *j = rtb_result_to_json(&r);
    RtbResult back;
    char err[256];
    CHECK(rtb_result_from_json(j, &back, err, sizeof err));
    REQUIRE(back.nruns == 1 && back.runs[0].nsamples == 2);
    const RtbSample *s0 = &back.runs[0].samples[0], *s1 = &back.runs[0].samples[1];
    CHECK(s0->wall_s == 0.5 && s0->cpu_s == 0.25 && s0->peak_rss_bytes == 9007199254740993LL);
    CHECK(s0->gc.collections[0] == 7 && s0->instructions == RTB_NONE && isnan(s0->load_before));
    CHECK(s1->status == RTB_TIMEOUT && strcmp(s1->error, "killed") == 0 && s1->round == 1);
    CHECK(back.runs[0].summary.wall_s.n == 1);
    bool failed = false;
    for (size_t k = 0; k < back.runs[0].nwarnings; k++)
        failed |= back.runs[0].warnings[k].kind == RTB_W_FAILED;
    CHECK(failed);
    /* A field of the wrong type is refused, by name. */
    rtj_set(rtj_at(rtj_get(rtj_at(rtj_get(j, "runs"), 0), "samples"), 0), "wall_s", rtj_string("fast"));
    RtbResult bad;
    CHECK(!rtb_result_from_json(j, &bad, err, sizeof err));
    CHECK(strstr(err, "wall_s is not a number") != NULL);
    rtj_free(j);
    rtb_result_free(&back);
    rtb_result_free(&r);
}

/* N shards partition the plan: nothing lost, nothing doubled, a linked
 * pair (rtbench and its twin) in one shard. */
TEST(shards_partition_the_plan)
{
    RtbConfig c[12];
    for (int k = 0; k < 12; k++) {
        rtb_config_defaults(&c[k], rt_workloads[k % 8]);
        c[k].threshold[0] = 100 + k;
        c[k].impl = k >= 8 && k % 2 ? RTB_IMPL_CPYTHON : RTB_IMPL_RTBENCH;
    }
    int seen[12] = {0};
    for (int shard = 1; shard <= 3; shard++) {
        RtbPlan p = {0};
        rtb_plan_add_output(&p, "run", rtb_strdup("a.json"), c, 8, false);
        rtb_plan_add_output(&p, "cpython", rtb_strdup("b.json"), c + 8, 4, true);
        rtb_plan_shard(&p, shard, 3);
        CHECK(p.n > 0);
        for (int k = 0; k < p.n; k++) {
            int orig = (int)(p.configs[k].threshold[0] - 100);
            seen[orig]++;
            if (orig >= 8) {
                int partner = orig % 2 ? orig - 1 : orig + 1;
                bool with = false;
                for (int j = 0; j < p.n; j++)
                    with |= p.configs[j].threshold[0] - 100 == partner;
                CHECK(with);
                CHECK(p.link[k] <= k && p.configs[p.link[k]].threshold[0] - 100 == (orig & ~1));
            }
        }
        rtb_plan_free(&p);
    }
    for (int k = 0; k < 12; k++)
        CHECK_EQ(seen[k], 1);
    int i, n;
    CHECK(rtb_parse_shard("2/3", &i, &n) && i == 2 && n == 3);
    CHECK(!rtb_parse_shard("4/3", &i, &n) && !rtb_parse_shard("0/3", &i, &n) && !rtb_parse_shard("3", &i, &n));
}

static void
fail_an_allocation(void)
{
    rtb_alloc_fail_after = 1;
    free(rtb_strdup("x"));
}

/* Running out of memory is a clean exit with a message, never a crash or
 * a half-written file. */
TEST(allocation_failure_exits_cleanly)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd[2];
        if (pipe(fd) == 0) {
            dup2(fd[1], 2);
            fail_an_allocation();
        }
        _exit(99);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

/* The defaults shared with Python (results/schema.json) are the runtime's. */
TEST(schema_defaults_are_the_runtimes)
{
    RtConfig cfg;
    rt_config_default(&cfg);
    CHECK(cfg.gc_threshold[0] == RTB_DEFAULT_T0 && cfg.gc_threshold[1] == RTB_DEFAULT_T1
          && cfg.gc_threshold[2] == RTB_DEFAULT_T2);
    RtbConfig c;
    rtb_config_defaults(&c, rt_workloads[0]);
    CHECK(c.threshold[0] == cfg.gc_threshold[0]);
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
    RUN(median_interval_from_order_statistics);
    RUN(typed_result_round_trip);
    RUN(shards_partition_the_plan);
    RUN(allocation_failure_exits_cleanly);
    RUN(schema_defaults_are_the_runtimes);
    return rt_test_summary();
}
