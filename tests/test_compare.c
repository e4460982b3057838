/* test_compare.c -- the comparison engine (harness/compare.h) on typed
 * inputs: verdicts, the --fail-above gate, the geometric mean over the
 * significant rows, pairing, and the Markdown table's size limit.  The
 * command line around it is tested end to end in tests/harness/test_cli.py.
 */
#include "testhelper.h"
#include "compare.h"

#include <math.h>

static RtbCompareRow
judge(const char *metric, const double *a, size_t na, const double *b, size_t nb, double fail_above)
{
    RtbCompareOptions o;
    rtb_compare_options_default(&o);
    o.fail_above = fail_above;
    RtbCompareSide sa = {"x/a", a, na}, sb = {"x/b", b, nb};
    RtbCompareRow r;
    memset(&r, 0, sizeof r);
    if (rtb_compare_row(rtb_metric_find(metric), &sa, &sb, &o, &r) != 0)
        r.verdict = -1;
    return r;
}

static const double base5[] = {100, 101, 99, 102, 98};
static const double slow10[] = {110, 111, 109, 112, 108};

TEST(verdicts)
{
    RtbCompareRow r = judge("wall_s", base5, 5, slow10, 5, -1);
    CHECK(r.verdict == RTB_V_WORSE);
    CHECK(fabs(r.ratio - 1.1) < 0.01 && r.low > 1 && r.high < 1.2);
    CHECK(r.p < 0.01 && !r.gate_failed);
    char v[96];
    rtb_verdict_text(rtb_metric_find("wall_s"), &r, v, sizeof v);
    CHECK(strcmp(v, "1.1x slower") == 0);
    rtb_verdict_text(rtb_metric_find("peak_rss_bytes"), &r, v, sizeof v);
    CHECK(strcmp(v, "1.1x larger") == 0);
    r = judge("wall_s", slow10, 5, base5, 5, -1);
    CHECK(r.verdict == RTB_V_BETTER);
    rtb_verdict_text(rtb_metric_find("wall_s"), &r, v, sizeof v);
    CHECK(strcmp(v, "1.1x faster") == 0);
    /* 3 against 3 can never reach 0.05: too few, not "not significant". */
    r = judge("wall_s", base5, 3, slow10, 3, -1);
    CHECK(r.verdict == RTB_V_TOO_FEW && fabs(r.min_p - 0.1) < 1e-12);
    rtb_verdict_text(rtb_metric_find("wall_s"), &r, v, sizeof v);
    CHECK(strstr(v, "too few samples") != NULL);
    /* Overlapping samples: not significant, and the interval holds 1. */
    static const double mixed[] = {99, 103, 97, 101, 100};
    r = judge("wall_s", base5, 5, mixed, 5, 0);
    CHECK(r.verdict == RTB_V_NOT_SIGNIFICANT && r.low <= 1 && r.high >= 1 && !r.gate_failed);
    /* An empty side. */
    r = judge("wall_s", base5, 0, mixed, 5, -1);
    CHECK(r.verdict == RTB_V_NO_DATA && strstr(r.note, "A") != NULL);
}

TEST(identical_instruction_counts)
{
    /* Counts under callgrind repeat exactly: every value tied within a
     * side.  1% more instructions is significant with 5 against 5 (the
     * tie-corrected normal approximation, p = 0.0039), the interval is the
     * point, and A/A is 1.000 and not significant. */
    static const double a[] = {1e9, 1e9, 1e9, 1e9, 1e9}, b[] = {1.01e9, 1.01e9, 1.01e9, 1.01e9, 1.01e9};
    RtbCompareRow r = judge("instructions", a, 5, b, 5, 1);
    CHECK(r.verdict == RTB_V_WORSE && fabs(r.p - 0.0039) < 0.0002);
    CHECK(fabs(r.ratio - 1.01) < 1e-12 && r.low == r.ratio && r.high == r.ratio);
    CHECK(!r.gate_failed);          /* 1.01 is not above 1 + 1/100 */
    r = judge("instructions", a, 5, b, 5, 0.5);
    CHECK(r.gate_failed);
    r = judge("instructions", a, 5, a, 5, 0);
    CHECK(r.verdict == RTB_V_NOT_SIGNIFICANT && r.ratio == 1 && r.p == 1 && !r.gate_failed);
}

TEST(the_gate_needs_significance_and_size)
{
    RtbCompareRow r = judge("wall_s", base5, 5, slow10, 5, 5);
    CHECK(r.gate_failed);           /* 10% slower, significant, above 5% */
    r = judge("wall_s", base5, 5, slow10, 5, 15);
    CHECK(!r.gate_failed);          /* not above 15% */
    r = judge("wall_s", slow10, 5, base5, 5, 0);
    CHECK(!r.gate_failed);          /* faster never fails */
    r = judge("wall_s", base5, 3, slow10, 3, 0);
    CHECK(!r.gate_failed);          /* too few samples cannot fail it */
}

TEST(values_at_zero_get_a_note_not_an_interval)
{
    static const double z[] = {0, 0, 0, 0, 0}, p[] = {0.001, 0.002, 0.001, 0.003, 0.002};
    RtbCompareRow r = judge("gc_pause_p99_s", z, 5, p, 5, -1);
    CHECK(r.verdict == RTB_V_NO_DATA && r.note != NULL);
    r = judge("gc_pause_p99_s", p, 5, z, 5, -1);
    CHECK(isnan(r.low) && r.ratio == 0 && r.note != NULL && r.verdict == RTB_V_BETTER);
}

TEST(bootstrap_interval)
{
    RtbCompareOptions o;
    rtb_compare_options_default(&o);
    o.ci = RTB_CI_BOOTSTRAP;
    o.resamples = 500;
    RtbCompareSide sa = {"a", base5, 5}, sb = {"b", slow10, 5};
    RtbCompareRow r;
    REQUIRE(rtb_compare_row(rtb_metric_find("wall_s"), &sa, &sb, &o, &r) == 0);
    CHECK(r.ratio == 110.0 / 100.0 && r.low > 1 && isnan(r.coverage) && r.verdict == RTB_V_WORSE);
}

TEST(pairing_by_name_then_shape)
{
    RtbConfigId a[] = {{"runs.json", "w/n:1/rc:nonatomic", "w", "{n:1}"},
                       {"runs.json", "w/n:2/rc:nonatomic", "w", "{n:2}"},
                       {"runs.json", "v/n:1/rc:nonatomic", "v", "{n:1}"},
                       {"sweep.json", "w/n:1/rc:nonatomic", "w", "{n:1}"},
                       {"runs.json", "u/a", "u", "{}"},
                       {"runs.json", "u/b", "u", "{}"}};
    RtbConfigId b[] = {{"runs.json", "w/n:2/rc:nonatomic", "w", "{n:2}"},      /* by name */
                       {"runs.json", "w/n:1/rc:atomic", "w", "{n:1}"},         /* by shape */
                       {"other.json", "v/n:1/rc:nonatomic", "v", "{n:1}"},     /* another group */
                       {"runs.json", "u/c", "u", "{}"}};                       /* ambiguous */
    RtbPairing p;
    REQUIRE(rtb_pair_configs(a, 6, b, 4, &p) == 0);
    CHECK_EQ(p.npairs, 2);
    CHECK(p.pairs[0][0] == 0 && p.pairs[0][1] == 1);
    CHECK(p.pairs[1][0] == 1 && p.pairs[1][1] == 0);
    CHECK_EQ(p.nlone_a, 4);
    CHECK_EQ(p.nlone_b, 2);
    CHECK(p.lone_b[0] == 2 && p.lone_b[1] == 3);
    rtb_pairing_free(&p);
    /* One against one pairs whatever the names. */
    REQUIRE(rtb_pair_configs(&a[0], 1, &b[3], 1, &p) == 0);
    CHECK(p.npairs == 1 && p.nlone_a == 0 && p.nlone_b == 0);
    rtb_pairing_free(&p);
    /* Nothing on one side. */
    REQUIRE(rtb_pair_configs(a, 6, b, 0, &p) == 0);
    CHECK(p.npairs == 0 && p.nlone_a == 6);
    rtb_pairing_free(&p);
}

/* The printed comparison of n rows with long names, into a string. */
static char *
printed(size_t n, RtbTableFormat fmt, size_t *len)
{
    static char names[2][300];
    memset(names[0], 'a', 299);
    memset(names[1], 'b', 299);
    RtbCompareRow *rows = calloc(n, sizeof *rows);
    for (size_t k = 0; k < n; k++)
        rows[k] = judge("wall_s", base5, 5, k % 2 ? slow10 : base5, 5, 5);
    for (size_t k = 0; k < n; k++) {
        rows[k].name_a = names[0];
        rows[k].name_b = names[1];
    }
    RtbComparison c = {.metric = rtb_metric_find("wall_s"), .label_a = "A", .label_b = "B", .nrows = n, .rows = rows};
    rtb_compare_options_default(&c.opt);
    c.opt.fail_above = 5;
    rtb_comparison_summarize(&c);
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    rtb_comparison_print(&c, fmt, f);
    fclose(f);
    CHECK_EQ(c.nsignificant, n / 2);
    CHECK_EQ(c.ngate_failed, n / 2);
    CHECK(fabs(c.geomean - 1.1) < 0.01);   /* the significant rows only, not (1 * 1.1)^(1/2) */
    free(rows);
    return buf;
}

TEST(markdown_stays_under_the_step_summary_limit)
{
    size_t len;
    char *md = printed(10, RTB_TABLE_MD, &len);
    CHECK(strncmp(md, "**wall_s**", 10) == 0);
    CHECK(strstr(md, "| configuration | A median | B median | ratio [95% CI] | p | verdict |") != NULL);
    CHECK(strstr(md, "<br>vs `bbb") != NULL);               /* both names when they differ */
    CHECK(strstr(md, ":x: 1.1x slower") != NULL);
    CHECK(strstr(md, "over the 5 significant row(s) of 10") != NULL);
    CHECK(strstr(md, "left out") == NULL);
    free(md);
    md = printed(5000, RTB_TABLE_MD, &len);
    CHECK(len < RTB_MD_LIMIT + 64 * 1024);                  /* the gate's list comes after the table */
    CHECK(strstr(md, "row(s) left out to stay under") != NULL);
    free(md);
}

int
main(void)
{
    RUN(verdicts);
    RUN(identical_instruction_counts);
    RUN(the_gate_needs_significance_and_size);
    RUN(values_at_zero_get_a_note_not_an_interval);
    RUN(bootstrap_interval);
    RUN(pairing_by_name_then_shape);
    RUN(markdown_stays_under_the_step_summary_limit);
    return rt_test_summary();
}
