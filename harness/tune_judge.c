/* tune_judge.c -- rtbench tune's judgement: each candidate against the
 * control of its stage (compare.c), the stage's best for the objective,
 * the answer with its effects and intervals, the Pareto front, tune.json.
 *
 * A candidate is eligible when it is significantly better than the
 * defaults on the objective's metric (balanced: better on at least one of
 * wall time, peak RSS and p99 pause, and worse on none); the best eligible
 * one has the lowest log ratio on that metric (balanced: the sum of the
 * three log ratios).  With none eligible the stage's best is the control:
 * keeping the defaults is an answer, and a change within noise never is.
 * The candidates of a stage share a 5% chance of a false "better"
 * (Bonferroni: alpha / candidates), and a winner of the coarse stage is
 * measured again, on fresh samples, before it is recommended.
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "tune.h"
#include "result_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const rtb_tune_metric[RTB_TUNE_METRICS] = {"wall_s", "peak_rss_bytes", "gc_pause_p99_s"};
static const char *const metric_label[RTB_TUNE_METRICS] = {"wall time", "peak RSS", "p99 pause"};

const char *
rtb_objective_name(RtbObjective o)
{
    static const char *const names[] = {"time", "rss", "p99-pause", "balanced"};
    return names[o];
}

/* ==== judging ================================================================ */

/* The ok samples' values of a metric (NaN left out); their count. */
static size_t
values(const RtbRun *r, const char *metric, double *out)
{
    size_t n = 0;
    for (size_t k = 0; k < r->nsamples; k++) {
        const RtbSample *s = &r->samples[k];
        double v = s->status == RTB_OK ? rtb_sample_metric(s, metric) : NAN;
        if (isfinite(v))
            out[n++] = v;
    }
    return n;
}

static void
compare_runs(const RtbRun *a, const RtbRun *b, double alpha, RtbCompareRow row[RTB_TUNE_METRICS])
{
    RtbCompareOptions o;
    rtb_compare_options_default(&o);
    o.alpha = alpha;
    size_t cap = (a->nsamples > b->nsamples ? a->nsamples : b->nsamples) + 1;
    double *va = rtb_xcalloc(cap, sizeof *va), *vb = rtb_xcalloc(cap, sizeof *vb);
    for (int m = 0; m < RTB_TUNE_METRICS; m++) {
        RtbCompareSide sa = {a->name, va, values(a, rtb_tune_metric[m], va)};
        RtbCompareSide sb = {b->name, vb, values(b, rtb_tune_metric[m], vb)};
        memset(&row[m], 0, sizeof row[m]);
        row[m].ratio = row[m].low = row[m].high = row[m].p = NAN;
        if (rtb_compare_row(rtb_metric_find(rtb_tune_metric[m]), &sa, &sb, &o, &row[m]) != 0)
            row[m].verdict = RTB_V_NO_DATA;
        row[m].name_a = row[m].name_b = NULL;      /* the runs' names are not kept past this stage */
    }
    free(va);
    free(vb);
}

/* Better than the reference on the objective (balanced: on one metric,
 * worse on none). */
static bool
better(RtbObjective obj, const RtbCompareRow row[RTB_TUNE_METRICS])
{
    if (obj != RTB_OBJ_BALANCED)
        return row[obj].verdict == RTB_V_BETTER;
    bool any = false;
    for (int m = 0; m < RTB_TUNE_METRICS; m++) {
        if (row[m].verdict == RTB_V_WORSE)
            return false;
        any |= row[m].verdict == RTB_V_BETTER;
    }
    return any;
}

static double
score(RtbObjective obj, const RtbCompareRow row[RTB_TUNE_METRICS])
{
    if (obj != RTB_OBJ_BALANCED)
        return log(row[obj].ratio);
    double sum = 0;
    for (int m = 0; m < RTB_TUNE_METRICS; m++)
        if (isfinite(row[m].ratio) && row[m].ratio > 0)
            sum += log(row[m].ratio);
    return sum;
}

/* In the generations stage, index of the fine stage's best (the setting the
 * threshold1/2 changes start from), or 0 when that was the control. */
static int
reference(const RtbTune *t, const RtbStage *s)
{
    if (strcmp(s->what, "generations") != 0 || t->nstages < 2)
        return 0;
    for (int k = 1; k < s->n; k++)
        if (memcmp(s->t[k], t->stages[1].best, sizeof s->t[k]) == 0)
            return k;
    return 0;
}

void
rtb_tune_judge(const RtbTune *t, RtbStage *s)
{
    const RtbResult *res = &s->result;
    int ref = reference(t, s);
    /* Bonferroni: a stage of n - 1 candidates keeps its chance of a false
     * "better" at 5% in all */
    double alpha = RTB_TUNE_ALPHA / (s->n > 1 ? s->n - 1 : 1);
    s->best_index = 0;
    for (int k = 1; k < s->n && k < (int)res->nruns; k++) {
        compare_runs(&res->runs[0], &res->runs[k], alpha, s->row[k]);
        s->eligible[k] = better(t->objective, s->row[k]);
        s->score[k] = score(t->objective, s->row[k]);
        if (ref > 0 && k != ref && s->eligible[k]) {
            /* a threshold1/2 change must beat the threshold0 it started from */
            RtbCompareRow vs_ref[RTB_TUNE_METRICS];
            compare_runs(&res->runs[ref], &res->runs[k], alpha, vs_ref);
            s->eligible[k] = better(t->objective, vs_ref);
        }
        if (s->eligible[k] && (s->best_index == 0 || s->score[k] < s->score[s->best_index]))
            s->best_index = k;
    }
    memcpy(s->best, s->t[s->best_index], sizeof s->best);
}

bool
rtb_tune_generations_pay(const RtbTune *t, const RtbStage *s)
{
    if (t->objective == RTB_OBJ_RSS || (size_t)s->best_index >= s->result.nruns)
        return false;
    const RtbStat *full = &s->result.runs[s->best_index].summary.gc_collections[2];
    return full->n > 0 && full->median >= 1;
}

void
rtb_tune_recommend(RtbTune *t)
{
    t->final = t->nstages > 0 ? &t->stages[t->nstages - 1] : NULL;
    t->final_index = t->final ? t->final->best_index : 0;
}

/* ==== the Pareto front ========================================================= */

/* The candidate's ratio on metric m (1 for the control, 1 when unknown). */
static double
ratio_of(const RtbStage *s, int k, int m)
{
    double r = k == 0 ? 1 : s->row[k][m].ratio;
    return isfinite(r) ? r : 1;
}

static bool
dominated(const RtbStage *s, int k)
{
    for (int j = 0; j < s->n && j < (int)s->result.nruns; j++) {
        bool all_le = true, one_lt = false;
        for (int m = 0; m < RTB_TUNE_METRICS; m++) {
            all_le &= ratio_of(s, j, m) <= ratio_of(s, k, m);
            one_lt |= ratio_of(s, j, m) < ratio_of(s, k, m);
        }
        if (j != k && all_le && one_lt)
            return true;
    }
    return false;
}

/* ==== printing ================================================================= */

static void
threshold_text(const long t[3], char *buf, size_t n)
{
    snprintf(buf, n, "%ld, %ld, %ld", t[0], t[1], t[2]);
}

static void
effect_text(int m, const RtbCompareRow *r, char *buf, size_t n)
{
    char verdict[128];
    rtb_verdict_text(rtb_metric_find(rtb_tune_metric[m]), r, verdict, sizeof verdict);
    if (isfinite(r->ratio))
        snprintf(buf, n, "%.3fx [%.3f, %.3f] p=%.2g  %s", r->ratio, r->low, r->high, r->p, verdict);
    else
        snprintf(buf, n, "%s", verdict);
}

static void
print_stage(const RtbTune *t, const RtbStage *s, FILE *out)
{
    char th[64], e[256];
    fprintf(out, "\n%s stage: each setting against the defaults (ratio, 95%% interval, p):\n", s->what);
    for (int k = 0; k < s->n && k < (int)s->result.nruns; k++) {
        threshold_text(s->t[k], th, sizeof th);
        fprintf(out, "  %-22s%s%s\n", th, k == 0 ? "  the defaults (control)" : "",
                k > 0 && k == s->best_index ? "  <- best" : k > 0 && !dominated(s, k) ? "  (Pareto front)" : "");
        for (int m = 0; k > 0 && m < RTB_TUNE_METRICS; m++) {
            effect_text(m, &s->row[k][m], e, sizeof e);
            fprintf(out, "      %-10s %s\n", metric_label[m], e);
        }
    }
}

void
rtb_tune_print(const RtbTune *t, FILE *out)
{
    for (int k = 0; k < t->nstages; k++)
        print_stage(t, &t->stages[k], out);
    char th[64], dur[32], e[256];
    rtb_format_duration(t->elapsed_s, dur, sizeof dur);
    fprintf(out, "\nrtbench tune: objective %s, %d stage(s), searched in %s\n", rtb_objective_name(t->objective),
            t->nstages, dur);
    if (t->final == NULL)
        return;
    if (t->final_index == 0) {
        threshold_text(t->control, th, sizeof th);
        fprintf(out, "keep the defaults: no setting was significantly better on %s than\n    gc.set_threshold(%s)\n",
                t->objective == RTB_OBJ_BALANCED ? "time, peak RSS or p99 pause without a loss" :
                metric_label[t->objective], th);
        return;
    }
    threshold_text(t->final->best, th, sizeof th);
    fprintf(out, "recommended:\n    gc.set_threshold(%s)\n", th);
    for (int m = 0; m < RTB_TUNE_METRICS; m++) {
        effect_text(m, &t->final->row[t->final_index][m], e, sizeof e);
        fprintf(out, "  %-10s %s\n", metric_label[m], e);
    }
    threshold_text(t->control, th, sizeof th);
    fprintf(out, "(against the defaults gc.set_threshold(%s), measured interleaved in the %s stage)\n", th,
            t->final->what);
}

/* ==== tune.json ================================================================ */

static Rtj *
effects_json(const RtbCompareRow row[RTB_TUNE_METRICS])
{
    Rtj *o = rtj_object();
    for (int m = 0; m < RTB_TUNE_METRICS; m++) {
        const RtbCompareRow *r = &row[m];
        char verdict[128];
        rtb_verdict_text(rtb_metric_find(rtb_tune_metric[m]), r, verdict, sizeof verdict);
        Rtj *e = rtj_set(o, rtb_tune_metric[m], rtj_object());
        rtb_put_num(e, "median_default", r->median_a);
        rtb_put_num(e, "median", r->median_b);
        rtb_put_num(e, "ratio", r->ratio);
        rtb_put_num(e, "ci95_low", r->low);
        rtb_put_num(e, "ci95_high", r->high);
        rtb_put_num(e, "p", r->p);
        rtj_set(e, "significant", rtj_boolean(r->verdict == RTB_V_BETTER || r->verdict == RTB_V_WORSE));
        rtj_set(e, "verdict", rtj_string(verdict));
    }
    return o;
}

static Rtj *
stage_json(const RtbStage *s)
{
    Rtj *o = rtj_object(), *c = rtj_array();
    rtj_set(o, "stage", rtj_string(s->what));
    rtj_set(o, "result", rtj_string(strrchr(s->path, '/') ? strrchr(s->path, '/') + 1 : s->path));
    for (int k = 0; k < s->n && k < (int)s->result.nruns; k++) {
        Rtj *e = rtj_append(c, rtj_object());
        rtj_set(e, "threshold", rtb_threshold_json(s->t[k]));
        rtj_set(e, "control", rtj_boolean(k == 0));
        rtj_set(e, "samples", rtj_integer((int64_t)s->result.runs[k].nsamples));
        rtj_set(e, "effects", k == 0 ? rtj_null() : effects_json(s->row[k]));
        rtj_set(e, "eligible", rtj_boolean(k > 0 && s->eligible[k]));
        rtj_set(e, "pareto", rtj_boolean(!dominated(s, k)));
    }
    rtj_set(o, "candidates", c);
    rtj_set(o, "best", rtb_threshold_json(s->best));
    return o;
}

static Rtj *
answer_json(const RtbTune *t)
{
    Rtj *o = rtj_object();
    bool keep = t->final == NULL || t->final_index == 0;
    const long *th = keep ? t->control : t->final->best;
    rtj_set(o, "keep_defaults", rtj_boolean(keep));
    rtj_set(o, "threshold", rtb_threshold_json(th));
    rtj_set(o, "line", rtj_stringf("gc.set_threshold(%ld, %ld, %ld)", th[0], th[1], th[2]));
    rtj_set(o, "effects", keep ? rtj_null() : effects_json(t->final->row[t->final_index]));
    rtj_set(o, "from_stage", t->final ? rtj_string(t->final->what) : rtj_null());
    return o;
}

int
rtb_tune_write(const RtbTune *t, const RtbProgram *prog)
{
    Rtj *o = rtj_object();
    rtj_set(o, "schema", rtj_string("rtbench-tune/1"));
    Rtj *p = rtj_set(o, "program", rtj_object()), *args = rtj_array();
    rtj_set(p, "kind", rtj_string(prog->module ? "module" : "script"));
    rtj_set(p, "target", rtj_string(prog->target));
    for (int k = 0; k < prog->nargs; k++)
        rtj_append(args, rtj_string(prog->args[k]));
    rtj_set(p, "args", args);
    rtj_set(o, "python", rtj_string(t->base.python));
    rtj_set(o, "objective", rtj_string(rtb_objective_name(t->objective)));
    rtj_set(o, "budget_s", rtj_number(t->budget_s));
    rtj_set(o, "elapsed_s", rtj_number(t->elapsed_s));
    rtj_set(o, "defaults", rtb_threshold_json(t->control));
    rtj_set(o, "recommendation", answer_json(t));
    Rtj *st = rtj_set(o, "stages", rtj_array());
    for (int k = 0; k < t->nstages; k++)
        rtj_append(st, stage_json(&t->stages[k]));
    size_t len;
    char *text = rtj_dump(o, 1, &len), err[1024];
    rtj_free(o);
    int r = rtb_write_file_atomic(t->out, text, len, err, sizeof err);
    free(text);
    if (r != 0) {
        rtb_say("rtbench tune: %s", err);
        return 1;
    }
    printf("wrote %s\n", t->out);
    return 0;
}
