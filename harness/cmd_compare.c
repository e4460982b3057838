/* cmd_compare.c -- rtbench compare A B: the command line around the
 * comparison engine (compare.h), and the reader that turns result files
 * into the engine's typed inputs.
 *
 * A and B are result files or results folders.  A folder contributes every
 * rtbench/1 file in it (not its subfolders), each configuration grouped by
 * the file's name, so that runs.json pairs with runs.json and
 * sweep-cycle_storm.json with sweep-cycle_storm.json; files of other tools
 * there (micro.json, hyperfine-*.json) are passed over.  Samples that did
 * not finish are left out; a sample without the metric (instructions in a
 * run that did not count them) too.
 *
 * The reader (load_side) turns typed results (result.h) into the engine's
 * inputs; JSON is touched only to pass over other tools' files in a folder.
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "compare.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
help(void)
{
    printf("usage: rtbench compare A B [--metric NAME] [--fail-above PCT] [--alpha P]\n"
           "                           [--ci hl|bootstrap] [--seed N]\n"
           "                           [--table-format text|md]\n\n"
           "Compare two result files, or two results folders, configuration by\n"
           "configuration.  For each pair: both medians; the ratio B/A with its 95%%\n"
           "confidence interval (the Hodges-Lehmann estimate on the logarithms of the\n"
           "samples, i.e. the median of all ratios b/a, with R's exact interval below 50\n"
           "samples a side; or a seeded percentile bootstrap of the ratio of medians); the\n"
           "p-value of a two-sided Mann-Whitney U test (as scipy 1.10 and Google\n"
           "Benchmark's compare.py); and a verdict:\n"
           "  1.05x slower, 1.11x faster   time, instructions: p < alpha and the interval\n"
           "                               excludes 1\n"
           "  1.05x larger, 1.11x smaller  memory metrics, likewise\n"
           "  not significant              p >= alpha, or the interval contains 1\n"
           "  too few samples              no difference could be significant at alpha\n"
           "                               (3 against 3: p >= 0.1); at 0.05 take 4 against\n"
           "                               4, 3 against 5 or 2 against 8 at least\n"
           "The ratio may differ from the ratio of the two medians on noisy samples.  No\n"
           "spread is printed: the interval says how sure the ratio is.  The geometric\n"
           "mean counts the significant rows only.\n\n"
           "Pairing: by configuration name, then by workload and parameters where that is\n"
           "unambiguous (--rc nonatomic against --rc atomic); two files of one\n"
           "configuration each always pair; between two folders, only within files of\n"
           "the same name (other tools' files are passed over).  Both names are shown\n"
           "when they differ; configurations without a counterpart are listed.\n\n"
           "Options:\n"
           "  --metric NAME          the figure compared (default wall_s):\n");
    for (size_t k = 0; k < rtb_metric_count; k++)
        printf("      %-17s %s\n", rtb_metrics[k].name, rtb_metrics[k].doc);
    printf("  --fail-above PCT       exit status 1 when a configuration is significantly\n"
           "                         worse (slower; larger for memory) with a ratio above\n"
           "                         1 + PCT/100, listing them (CI: 1 for instructions,\n"
           "                         5 for time)\n"
           "  --alpha P              significance level (default 0.05)\n"
           "  --ci hl|bootstrap      the ratio's interval (default hl)\n"
           "  --seed N               the bootstrap's seed (default 1)\n"
           "  --table-format text|md plain text (default), or GitHub Markdown for a step\n"
           "                         summary (kept under 512 KiB)\n\n"
           "Exit status: 0; 1 when --fail-above found a regression or nothing paired;\n"
           "2 for bad arguments or unreadable files.\n");
}

/* ==== the reader of result files ============================================= */

typedef struct Side {
    const char *label;
    size_t nresults, n, cap;
    RtbResult *results;     /* kept: the ids borrow their strings */
    size_t ngroups;
    char **groups;          /* a folder's file names, owned */
    RtbConfigId *ids;
    char **params;          /* owned canonical parameter texts */
    double **values;
    size_t *nvalues;
} Side;

static void
side_free(Side *s)
{
    for (size_t k = 0; k < s->nresults; k++)
        rtb_result_free(&s->results[k]);
    for (size_t k = 0; k < s->ngroups; k++)
        free(s->groups[k]);
    for (size_t k = 0; k < s->n; k++) {
        free(s->params[k]);
        free(s->values[k]);
    }
    free(s->results);
    free(s->groups);
    free(s->ids);
    free(s->params);
    free(s->values);
    free(s->nvalues);
    memset(s, 0, sizeof *s);
}

/* "n=100000,ring=8": the parameters as one comparable text. */
static char *
params_text(const RtbRun *run)
{
    size_t len = 1;
    for (int k = 0; k < run->nparams; k++)
        len += strlen(run->params[k].name) + 24;
    char *t = rtb_xmalloc(len);
    t[0] = '\0';
    for (int k = 0; k < run->nparams; k++)
        snprintf(t + strlen(t), len - strlen(t), "%s%s=%lld", k ? "," : "", run->params[k].name,
                 (long long)run->params[k].value);
    return t;
}

/* Add the runs of one result (moved into s). */
static void
add_result(Side *s, RtbResult *res, const char *group, const RtbMetric *m)
{
    s->results = rtb_xrealloc(s->results, (s->nresults + 1) * sizeof *s->results);
    s->results[s->nresults] = *res;
    RtbResult *r = &s->results[s->nresults++];
    for (size_t k = 0; k < r->nruns; k++) {
        const RtbRun *run = &r->runs[k];
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 64;
            s->ids = rtb_xrealloc(s->ids, s->cap * sizeof *s->ids);
            s->params = rtb_xrealloc(s->params, s->cap * sizeof *s->params);
            s->values = rtb_xrealloc(s->values, s->cap * sizeof *s->values);
            s->nvalues = rtb_xrealloc(s->nvalues, s->cap * sizeof *s->nvalues);
        }
        double *v = rtb_xcalloc(run->nsamples + 1, sizeof *v);
        size_t nv = 0;
        for (size_t i = 0; i < run->nsamples; i++) {
            double x = run->samples[i].status == RTB_OK ? rtb_sample_metric(&run->samples[i], m->name) : NAN;
            if (isfinite(x))
                v[nv++] = x;
        }
        s->params[s->n] = params_text(run);
        s->ids[s->n] = (RtbConfigId){group, run->name, run->workload, s->params[s->n]};
        s->values[s->n] = v;
        s->nvalues[s->n++] = nv;
    }
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a JSON file says it is an rtbench result ("schema" at the top);
 * -1 when it is not JSON at all (the message in err). */
static int
has_schema(const char *path, char *err, size_t errlen)
{
    char why[256];
    Rtj *peek = rtj_parse_file(path, why, sizeof why);
    if (peek == NULL) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    int ours = rtj_get(peek, "schema") != NULL;
    rtj_free(peek);
    return ours;
}

/* The rtbench/1 files of a folder, sorted; a file of another tool (no
 * "schema") is passed over.  The sorted names become the groups. */
static int
load_folder(Side *s, const char *dir, const RtbMetric *m, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: cannot read the folder: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        s->groups = rtb_xrealloc(s->groups, (s->ngroups + 1) * sizeof *s->groups);
        s->groups[s->ngroups++] = rtb_strdup(e->d_name);
    }
    closedir(d);
    if (s->ngroups > 1)     /* qsort's base must not be NULL, even for none */
        qsort(s->groups, s->ngroups, sizeof *s->groups, cmp_str);
    for (size_t k = 0; k < s->ngroups; k++) {
        char *path = rtb_asprintf("%s/%s", dir, s->groups[k]);
        int ours = has_schema(path, err, errlen);
        RtbResult res;
        if (ours == 1 && rtb_result_read(path, &res, err, errlen) != 0)
            ours = -1;
        else if (ours == 1)
            add_result(s, &res, s->groups[k], m);
        free(path);
        if (ours < 0)
            return -1;
    }
    if (s->nresults == 0) {
        snprintf(err, errlen, "%s: no rtbench result file (schema rtbench/1) in this folder", dir);
        return -1;
    }
    return 0;
}

/* A result file or a results folder into s. */
static int
load_side(Side *s, const char *path, const RtbMetric *m, char *err, size_t errlen)
{
    s->label = path;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return load_folder(s, path, m, err, errlen);
    RtbResult res;
    if (rtb_result_read(path, &res, err, errlen) != 0)
        return -1;
    add_result(s, &res, "", m);
    return 0;
}

/* Forget which file of a folder each configuration came from. */
static void
ungroup(Side *s)
{
    for (size_t k = 0; k < s->n; k++)
        s->ids[k].group = "";
}

/* ==== the command =========================================================== */

typedef struct CompareArgs {
    const char *paths[2];
    const RtbMetric *metric;
    RtbCompareOptions opt;
    RtbTableFormat fmt;
} CompareArgs;

static const RtbOptDef options[] = {
    {"metric", true, RTB_OPT_METRIC}, {"alpha", true, RTB_OPT_ALPHA}, {"table-format", true, RTB_OPT_TABLE_FORMAT},
    {"fail-above", true, RTB_OPT_FAIL_ABOVE}, {"ci", true, RTB_OPT_CI}, {"seed", true, RTB_OPT_SEED},
    {NULL, false, 0},
};

/* One option into ca: 1, or RTB_EXIT_USAGE after a message. */
static int
apply(const RtbGetopt *g, CompareArgs *ca)
{
    const char *val = g->value;
    int64_t seed;
    switch (g->id) {
    case RTB_OPT_METRIC:
        if ((ca->metric = rtb_metric_find(val)) == NULL)
            return rtb_usage_error("compare", "unknown metric '%s' (see --help for the list)", val);
        return 1;
    case RTB_OPT_ALPHA:
        if (!rtb_parse_double(val, 0, &ca->opt.alpha) || ca->opt.alpha <= 0 || ca->opt.alpha >= 1)
            return rtb_usage_error("compare", "--alpha expects a probability between 0 and 1; got '%s'", val);
        return 1;
    case RTB_OPT_FAIL_ABOVE:
        if (!rtb_parse_double(val, 0, &ca->opt.fail_above))
            return rtb_usage_error("compare", "--fail-above expects a percentage >= 0 (5 for 5%%); got '%s'", val);
        return 1;
    case RTB_OPT_CI:
        if (strcmp(val, "hl") != 0 && strcmp(val, "bootstrap") != 0)
            return rtb_usage_error("compare", "--ci expects hl or bootstrap; got '%s'", val);
        ca->opt.ci = strcmp(val, "hl") == 0 ? RTB_CI_HODGES_LEHMANN : RTB_CI_BOOTSTRAP;
        return 1;
    case RTB_OPT_SEED:
        if (!rtb_parse_int64(val, 0, &seed))
            return rtb_usage_error("compare", "--seed expects an integer >= 0; got '%s'", val);
        ca->opt.seed = (uint64_t)seed;
        return 1;
    case RTB_OPT_TABLE_FORMAT:
        if (strcmp(val, "md") != 0 && strcmp(val, "text") != 0)
            return rtb_usage_error("compare", "--table-format expects text or md; got '%s'", val);
        ca->fmt = strcmp(val, "md") == 0 ? RTB_TABLE_MD : RTB_TABLE_TEXT;
        return 1;
    }
    return rtb_usage_error("compare", "unexpected option (see rtbench compare --help)");
}

/* 0 to go on, -1 after --help, or RTB_EXIT_USAGE after a message. */
static int
parse_args(int argc, char **argv, CompareArgs *ca)
{
    int npaths = 0, r;
    ca->metric = rtb_metric_find("wall_s");
    rtb_compare_options_default(&ca->opt);
    ca->fmt = RTB_TABLE_TEXT;
    RtbGetopt g = {"compare", argc, argv, NULL, 0, NULL, NULL};
    while ((r = rtb_getopt(&g, options, NULL)) == 1) {
        if (g.id == RTB_OPT_HELP) {
            help();
            r = -1;
        } else if (g.positional != NULL && npaths < 2) {
            ca->paths[npaths++] = g.positional;
        } else if (g.positional != NULL) {
            r = rtb_usage_error("compare", "give exactly two result files or folders; got a third: '%s'", g.positional);
        } else {
            r = apply(&g, ca);
        }
        if (r != 1)
            break;
    }
    rtb_getopt_free(&g);
    if (r == 0 && npaths != 2)
        r = rtb_usage_error("compare", "give two result files or folders: rtbench compare A B");
    return r;
}

/* Pair, judge, print; the exit status. */
static int
compare_sides(const CompareArgs *ca, const Side *a, const Side *b)
{
    RtbPairing pr;
    if (rtb_pair_configs(a->ids, a->n, b->ids, b->n, &pr) != 0) {
        fprintf(stderr, "rtbench compare: out of memory pairing the configurations\n");
        return RTB_EXIT_USAGE;
    }
    RtbComparison c = {.metric = ca->metric, .opt = ca->opt, .label_a = a->label, .label_b = b->label};
    c.rows = calloc(pr.npairs + 1, sizeof *c.rows);
    c.lone_a = calloc(pr.nlone_a + 1, sizeof *c.lone_a);
    c.lone_b = calloc(pr.nlone_b + 1, sizeof *c.lone_b);
    int status = c.rows && c.lone_a && c.lone_b ? 0 : RTB_EXIT_USAGE;
    for (size_t k = 0; k < pr.npairs && status == 0; k++) {
        size_t i = pr.pairs[k][0], j = pr.pairs[k][1];
        RtbCompareSide sa = {a->ids[i].name, a->values[i], a->nvalues[i]};
        RtbCompareSide sb = {b->ids[j].name, b->values[j], b->nvalues[j]};
        if (rtb_compare_row(ca->metric, &sa, &sb, &ca->opt, &c.rows[c.nrows++]) != 0)
            status = RTB_EXIT_USAGE;
    }
    if (status != 0) {
        fprintf(stderr, "rtbench compare: out of memory comparing the samples\n");
    } else if (pr.npairs == 0) {
        fprintf(stderr, "rtbench compare: no configuration of %s matches one of %s (by name, or by workload and "
                        "parameters)\n", a->label, b->label);
        status = 1;
    } else {
        for (size_t k = 0; k < pr.nlone_a; k++)
            c.lone_a[c.nlone_a++] = a->ids[pr.lone_a[k]].name;
        for (size_t k = 0; k < pr.nlone_b; k++)
            c.lone_b[c.nlone_b++] = b->ids[pr.lone_b[k]].name;
        rtb_comparison_summarize(&c);
        rtb_comparison_print(&c, ca->fmt, stdout);
        status = c.ngate_failed ? 1 : 0;
    }
    free(c.rows);
    free(c.lone_a);
    free(c.lone_b);
    rtb_pairing_free(&pr);
    return status;
}

int
rtb_cmd_compare(int argc, char **argv)
{
    CompareArgs ca;
    int r = parse_args(argc, argv, &ca);
    if (r != 0)
        return r < 0 ? 0 : r;
    Side a = {0}, b = {0};
    char err[600];
    int status;
    if (load_side(&a, ca.paths[0], ca.metric, err, sizeof err) != 0 ||
        load_side(&b, ca.paths[1], ca.metric, err, sizeof err) != 0) {
        rtb_say("rtbench compare: %s", err);
        status = RTB_EXIT_USAGE;
    } else {
        /* A file against a folder: the folder's file names cannot match, so
         * pair on names alone. */
        if ((a.ngroups == 0) != (b.ngroups == 0)) {
            ungroup(&a);
            ungroup(&b);
        }
        status = compare_sides(&ca, &a, &b);
    }
    side_free(&a);
    side_free(&b);
    return status;
}
