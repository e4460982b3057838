/* result.c -- the typed result's life: creating and freeing samples, runs
 * and results, and a run's summary and warnings.
 *
 * A summary covers the samples whose status is ok.  Warnings are typed
 * (RtbWarnKind, written as {"kind", "message"}) and computed from the
 * samples alone, so that a result file read back gets the same ones:
 *   not-run     the command stopped before the configuration's first sample
 *   failed      some samples did not finish (crash, failure, timeout)
 *   incomplete  fewer samples than planned
 *   noisy       the wall time's median is known no better than
 *               +-RTB_NOISE_CI: its 95% interval (stats.c,
 *               rtb_median_interval) reaches further than that from it
 *   short       median wall time under RTB_SHORT_SAMPLE_S
 *   load        a sample started or ended under a high load average
 *               (rtb_load_high: above RTB_LOAD_PER_CORE per core)
 *   imprecise   --repeat auto ended on its budget, the median's interval
 *               still wider than --precision
 * and, for a Python program, what run.py said of its samples, one warning
 * per kind (threshold-changed, gc-switched, callbacks-cleared, no-smaps).
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {"ok", "failed", "crashed", "timeout", "interrupted"};
static const char *const warn_names[] = {"failed", "incomplete", "not-run", "noisy", "short", "load", "imprecise",
                                         "threshold-changed", "gc-switched", "callbacks-cleared", "no-smaps"};
_Static_assert(sizeof status_names / sizeof status_names[0] == RTB_STATUS_COUNT, "a name per status");
_Static_assert(sizeof warn_names / sizeof warn_names[0] == RTB_W_KIND_COUNT, "a name per warning kind");

const char *rtb_status_name(RtbStatus s) { return (unsigned)s < RTB_STATUS_COUNT ? status_names[s] : "?"; }
const char *rtb_warn_kind_name(RtbWarnKind k) { return (unsigned)k < RTB_W_KIND_COUNT ? warn_names[k] : "?"; }

int
rtb_status_parse(const char *s)
{
    for (int k = 0; k < RTB_STATUS_COUNT; k++)
        if (strcmp(s, status_names[k]) == 0)
            return k;
    return -1;
}

int
rtb_warn_kind_parse(const char *s)
{
    for (int k = 0; k < RTB_W_KIND_COUNT; k++)
        if (strcmp(s, warn_names[k]) == 0)
            return k;
    return -1;
}

/* ==== samples ============================================================ */

void
rtb_sample_init(RtbSample *s)
{
    memset(s, 0, sizeof *s);
    s->wall_s = s->cpu_s = s->process_wall_s = s->user_s = s->sys_s = s->startup_s = NAN;
    s->load_before = s->load_after = s->t0_monotonic = s->t_exec_monotonic = NAN;
    s->peak_rss_bytes = s->final_rss_bytes = s->minflt = s->majflt = RTB_NONE;
    s->instructions = s->rss_at_start_bytes = s->exit_status = RTB_NONE;
    s->heap_clean = -1;
    s->status = RTB_OK;
}

void
rtb_sample_free(RtbSample *s)
{
    free(s->error);
    free(s->instructions_counter);
    free(s->timeline.t_s);
    free(s->timeline.rss_bytes);
    free(s->gc.pauses.seconds);
    free(s->gc.pauses.t_s);
    free(s->gc.pauses.generation);
    free(s->alloc.backend);
    for (size_t k = 0; k < s->profile.ntypes; k++)
        free(s->profile.types[k].name);
    free(s->profile.types);
    free(s->profile.classes);
    for (size_t k = 0; k < s->nmarks; k++)
        free(s->marks[k].name);
    free(s->marks);
    for (size_t k = 0; k < s->nresult; k++)
        free(s->result[k].key);
    free(s->result);
    free(s->rc);
    free(s->python_version);
    free(s->python_executable);
    free(s->python_implementation);
    free(s->stderr_tail);
    for (size_t k = 0; k < s->nwarnings; k++)
        free(s->warnings[k].message);
    free(s->warnings);
    for (size_t k = 0; k < s->fork.nworkers; k++)
        free(s->fork.workers[k].error);
    free(s->fork.workers);
    rtb_sample_init(s);
}

void
rtb_sample_fail(RtbSample *s, RtbStatus status, const char *fmt, ...)
{
    s->status = status;
    free(s->error);
    s->error = NULL;
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        s->error = rtb_vasprintf(fmt, ap);
        va_end(ap);
    }
}

/* ==== runs and results =================================================== */

RtbSample *
rtb_run_add_sample(RtbRun *r)
{
    if (r->nsamples == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 8;
        r->samples = rtb_xrealloc(r->samples, r->cap * sizeof *r->samples);
    }
    RtbSample *s = &r->samples[r->nsamples++];
    rtb_sample_init(s);
    s->index = (int)r->nsamples - 1;
    return s;
}

size_t
rtb_run_ok(const RtbRun *r)
{
    size_t n = 0;
    for (size_t k = 0; k < r->nsamples; k++)
        n += r->samples[k].status == RTB_OK;
    return n;
}

void
rtb_run_add_warning(RtbRun *r, RtbWarnKind kind, const char *fmt, ...)
{
    r->warnings = rtb_xrealloc(r->warnings, (r->nwarnings + 1) * sizeof *r->warnings);
    va_list ap;
    va_start(ap, fmt);
    r->warnings[r->nwarnings++] = (RtbWarning){kind, rtb_vasprintf(fmt, ap)};
    va_end(ap);
}

static void
clear_warnings(RtbRun *r)
{
    for (size_t k = 0; k < r->nwarnings; k++)
        free(r->warnings[k].message);
    free(r->warnings);
    r->warnings = NULL;
    r->nwarnings = 0;
}

void
rtb_run_free(RtbRun *r)
{
    free(r->name);
    free(r->workload);
    for (int k = 0; k < r->nparams; k++)
        free(r->params[k].name);
    free(r->rc);
    free(r->alloc);
    free(r->python);
    free(r->program_kind);
    free(r->program_target);
    for (int k = 0; k < r->nargs; k++)
        free(r->program_args[k]);
    free(r->program_args);
    for (int k = 0; k < r->nfreeze; k++)
        free(r->freeze[k]);
    free(r->freeze);
    for (size_t k = 0; k < r->nsamples; k++)
        rtb_sample_free(&r->samples[k]);
    free(r->samples);
    clear_warnings(r);
    memset(r, 0, sizeof *r);
}

RtbRun *
rtb_result_add_run(RtbResult *r)
{
    r->runs = rtb_xrealloc(r->runs, (r->nruns + 1) * sizeof *r->runs);
    RtbRun *run = &r->runs[r->nruns++];
    memset(run, 0, sizeof *run);
    run->gc = true;
    run->gc_timing = true;
    return run;
}

void
rtb_result_free(RtbResult *r)
{
    free(r->kind);
    free(r->created);
    free(r->tool);
    for (int i = 0; i < r->ncommand; i++)
        free(r->command[i]);
    free(r->command);
    rtb_machine_free(&r->machine);
    for (int i = 0; i < r->nenv; i++) {
        free(r->env[i].name);
        free(r->env[i].value);
    }
    free(r->env);
    free(r->cpu_list);
    free(r->schedule.order);
    for (size_t k = 0; k < r->nruns; k++)
        rtb_run_free(&r->runs[k]);
    free(r->runs);
    memset(r, 0, sizeof *r);
}

/* ==== metrics and summaries ============================================== */

static const char *const metric_names[] = {"wall_s", "cpu_s", "process_wall_s", "user_s", "sys_s",
                                           "peak_rss_bytes", "final_rss_bytes", "gc_pause_p99_s",
                                           "gc_pause_max_s", "gc_pause_total_s", "instructions",
                                           "worker_rss_bytes", "worker_pss_bytes", "worker_uss_bytes",
                                           "total_pss_bytes"};

bool
rtb_metric_known(const char *metric)
{
    for (size_t k = 0; k < sizeof metric_names / sizeof metric_names[0]; k++)
        if (strcmp(metric, metric_names[k]) == 0)
            return true;
    return false;
}

static double
int_or_nan(int64_t v)
{
    return v == RTB_NONE ? NAN : (double)v;
}

double
rtb_sample_metric(const RtbSample *s, const char *m)
{
    if (strcmp(m, "wall_s") == 0) return s->wall_s;
    if (strcmp(m, "cpu_s") == 0) return s->cpu_s;
    if (strcmp(m, "process_wall_s") == 0) return s->process_wall_s;
    if (strcmp(m, "user_s") == 0) return s->user_s;
    if (strcmp(m, "sys_s") == 0) return s->sys_s;
    if (strcmp(m, "peak_rss_bytes") == 0) return int_or_nan(s->peak_rss_bytes);
    if (strcmp(m, "final_rss_bytes") == 0) return int_or_nan(s->final_rss_bytes);
    if (strcmp(m, "instructions") == 0) return int_or_nan(s->instructions);
    if (strncmp(m, "worker_", 7) == 0 || strcmp(m, "total_pss_bytes") == 0) {
        const RtbForkWorkers *f = &s->fork;
        if (!f->present) return NAN;
        if (strcmp(m, "worker_rss_bytes") == 0) return int_or_nan(f->rss_bytes_mean);
        if (strcmp(m, "worker_pss_bytes") == 0) return int_or_nan(f->pss_bytes_mean);
        if (strcmp(m, "worker_uss_bytes") == 0) return int_or_nan(f->uss_bytes_mean);
        return int_or_nan(f->pss_bytes_total);
    }
    if (!s->gc.present) return NAN;
    if (strcmp(m, "gc_pause_p99_s") == 0) return s->gc.pauses.p99_s;
    if (strcmp(m, "gc_pause_max_s") == 0) return s->gc.pauses.max_s;
    if (strcmp(m, "gc_pause_total_s") == 0) return s->gc.pauses.total_s;
    return NAN;
}

/* The ok samples' finite values of a metric (gen >= 0: collections[gen]). */
static size_t
values_of(const RtbRun *r, const char *metric, int gen, double *out)
{
    size_t n = 0;
    for (size_t k = 0; k < r->nsamples; k++) {
        const RtbSample *s = &r->samples[k];
        if (s->status != RTB_OK)
            continue;
        double v = gen >= 0 ? (s->gc.present ? (double)s->gc.collections[gen] : NAN) : rtb_sample_metric(s, metric);
        if (isfinite(v))
            out[n++] = v;
    }
    return n;
}

static RtbStat
stat_of(const double *v, size_t n)
{
    RtbStat st = {(int)n, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    if (n == 0)
        return st;
    st.min = st.max = v[0];
    for (size_t i = 1; i < n; i++) {
        st.min = v[i] < st.min ? v[i] : st.min;
        st.max = v[i] > st.max ? v[i] : st.max;
    }
    st.median = rtb_median(v, n);
    st.mean = rtb_mean(v, n);
    st.stdev = rtb_stdev(v, n);
    if (n >= 2)
        rtb_median_ci(v, n, 0.95, &st.ci_low, &st.ci_high);
    return st;
}

static void
summarize(RtbRun *r, double *buf)
{
    RtbSummary *s = &r->summary;
    struct {
        RtbStat *st;
        const char *metric;
    } fields[] = {
        {&s->wall_s, "wall_s"}, {&s->cpu_s, "cpu_s"}, {&s->process_wall_s, "process_wall_s"}, {&s->user_s, "user_s"},
        {&s->sys_s, "sys_s"}, {&s->peak_rss_bytes, "peak_rss_bytes"}, {&s->final_rss_bytes, "final_rss_bytes"},
        {&s->gc_pause_p99_s, "gc_pause_p99_s"}, {&s->gc_pause_max_s, "gc_pause_max_s"},
        {&s->gc_pause_total_s, "gc_pause_total_s"}, {&s->instructions, "instructions"},
        {&s->worker_rss_bytes, "worker_rss_bytes"}, {&s->worker_pss_bytes, "worker_pss_bytes"},
        {&s->worker_uss_bytes, "worker_uss_bytes"}, {&s->total_pss_bytes, "total_pss_bytes"},
    };
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
        *fields[f].st = stat_of(buf, values_of(r, fields[f].metric, -1, buf));
    for (int g = 0; g < 3; g++)
        s->gc_collections[g] = stat_of(buf, values_of(r, NULL, g, buf));
}

/* The median's 95% interval as a fraction of the median: the larger side. */
double
rtb_stat_precision(const RtbStat *st)
{
    if (st->n < 2 || !(st->median > 0) || !isfinite(st->ci_low))
        return INFINITY;
    double lo = st->median - st->ci_low, hi = st->ci_high - st->median;
    return (lo > hi ? lo : hi) / st->median;
}

static void
warn_failures(RtbRun *r)
{
    size_t bad = r->nsamples - rtb_run_ok(r);
    if (bad == 0)
        return;
    const RtbSample *first = NULL;
    for (size_t k = 0; k < r->nsamples && first == NULL; k++)
        if (r->samples[k].status != RTB_OK)
            first = &r->samples[k];
    rtb_run_add_warning(r, RTB_W_FAILED, "%zu of %zu samples did not finish (%s: %s)", bad, r->nsamples,
                        rtb_status_name(first->status), first->error ? first->error : "no message");
}

static void
warn_load(RtbRun *r, int cores)
{
    size_t loaded = 0;
    double worst = 0;
    for (size_t k = 0; k < r->nsamples && cores > 0; k++) {
        double l = fmax(isfinite(r->samples[k].load_before) ? r->samples[k].load_before : 0,
                        isfinite(r->samples[k].load_after) ? r->samples[k].load_after : 0);
        if (rtb_load_high(l, cores)) {
            loaded++;
            worst = fmax(worst, l);
        }
    }
    if (loaded > 0)
        rtb_run_add_warning(r, RTB_W_LOAD, "%zu of %zu samples ran under a load average above the %d cores (up to %.2f)",
                            loaded, r->nsamples, cores, worst);
}

/* noisy and short: what the wall time says about itself. */
static void
warn_time(RtbRun *r)
{
    const RtbStat *w = &r->summary.wall_s;
    double half = rtb_stat_precision(w);
    if (w->n >= 2 && isfinite(half) && half > RTB_NOISE_CI)
        rtb_run_add_warning(r, RTB_W_NOISY, "wall time median %.4g s, 95%% interval %.4g..%.4g s: +-%.0f%%", w->median,
                            w->ci_low, w->ci_high, 100 * half);
    if (w->median < RTB_SHORT_SAMPLE_S)
        rtb_run_add_warning(r, RTB_W_SHORT, "median wall time %.3g ms is under %g ms", w->median * 1e3,
                            RTB_SHORT_SAMPLE_S * 1e3);
}

/* What run.py said of the program in its samples: one warning per kind,
 * its first message, and in how many samples it was said. */
static void
warn_program(RtbRun *r)
{
    for (int kind = RTB_W_FIRST_PROGRAM; kind < RTB_W_KIND_COUNT; kind++) {
        size_t count = 0;
        const char *first = NULL;
        for (size_t k = 0; k < r->nsamples; k++) {
            const RtbSample *s = &r->samples[k];
            bool said = false;
            for (size_t w = 0; w < s->nwarnings; w++)
                if ((int)s->warnings[w].kind == kind && !said) {
                    said = true;
                    first = first ? first : s->warnings[w].message;
                }
            count += said;
        }
        if (count > 0)
            rtb_run_add_warning(r, (RtbWarnKind)kind, "%s (%zu of %zu samples)", first, count, r->nsamples);
    }
}

void
rtb_run_summarize(RtbRun *r, const RtbResult *in)
{
    double *buf = rtb_xcalloc(r->nsamples + 1, sizeof *buf);
    summarize(r, buf);
    free(buf);
    clear_warnings(r);
    if (r->nsamples == 0) {
        rtb_run_add_warning(r, RTB_W_NOT_RUN, "not run: the command stopped before this configuration's first sample");
        return;
    }
    warn_failures(r);
    warn_program(r);
    if ((int)r->nsamples < r->repeat)
        rtb_run_add_warning(r, RTB_W_INCOMPLETE, "%zu of %d samples ran", r->nsamples, r->repeat);
    int cores = in && in->machine.cores != RTB_NONE ? (int)in->machine.cores : 0;
    warn_load(r, cores);
    /* Counted samples (--metric instructions) are judged by their count;
     * their times are the counter's (valgrind's), so time says nothing. */
    bool counted = r->summary.instructions.n > 0;
    const RtbStat *w = counted ? &r->summary.instructions : &r->summary.wall_s;
    if (w->n == 0)
        return;
    if (!counted)
        warn_time(r);
    if (in && in->schedule.auto_repeat && in->complete && rtb_stat_precision(w) > in->schedule.precision)
        rtb_run_add_warning(r, RTB_W_IMPRECISE, "after %d samples the median's 95%% interval is +-%.1f%%, wider than "
                            "the %.1f%% asked for", w->n, 100 * fmin(rtb_stat_precision(w), 9.99),
                            100 * in->schedule.precision);
}
