/* result_json.c -- the typed result to JSON and back: the only place that
 * knows the field names of a result file (results/schema.json describes
 * them; results/README.md explains them).
 *
 * Writing: NAN and RTB_NONE become null.  Reading: a missing field keeps
 * its "not measured" value; a field of the wrong type is an error that
 * names it, so that a corrupt file is refused rather than half read.
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "result_json.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ==== writing ============================================================ */

void
rtb_put_num(Rtj *o, const char *key, double v)
{
    rtj_set(o, key, isfinite(v) ? rtj_number(v) : rtj_null());
}

void
rtb_put_int(Rtj *o, const char *key, int64_t v)
{
    rtj_set(o, key, v == RTB_NONE ? rtj_null() : rtj_integer(v));
}

void
rtb_put_str(Rtj *o, const char *key, const char *v)
{
    rtj_set(o, key, v ? rtj_string(v) : rtj_null());
}

Rtj *
rtb_int3_json(const int64_t v[3])
{
    Rtj *a = rtj_array();
    for (int i = 0; i < 3; i++)
        rtj_append(a, rtj_integer(v[i]));
    return a;
}

static Rtj *
timeline_json(const RtbTimeline *t)
{
    Rtj *o = rtj_object(), *ts = rtj_array(), *rss = rtj_array();
    for (size_t k = 0; k < t->n; k++) {
        rtj_append(ts, rtj_number(t->t_s[k]));
        rtj_append(rss, rtj_integer(t->rss_bytes[k]));
    }
    rtj_set(o, "interval_s", rtj_number(t->interval_s));
    rtj_set(o, "t_s", ts);
    rtj_set(o, "rss_bytes", rss);
    rtj_set(o, "short", rtj_boolean(t->short_run));
    return o;
}

static Rtj *
gc_json(const RtbGc *g)
{
    if (!g->present)
        return rtj_null();
    Rtj *o = rtj_object(), *p = rtj_object();
    rtj_set(o, "collections", rtb_int3_json(g->collections));
    rtj_set(o, "collected", rtb_int3_json(g->collected));
    rtj_set(o, "uncollectable", rtb_int3_json(g->uncollectable));
    const RtbPauses *ps = &g->pauses;
    rtj_set(p, "count", rtj_integer(ps->count));
    rtb_put_num(p, "total_s", ps->total_s);
    rtb_put_num(p, "p50_s", ps->p50_s);
    rtb_put_num(p, "p90_s", ps->p90_s);
    rtb_put_num(p, "p99_s", ps->p99_s);
    rtb_put_num(p, "max_s", ps->max_s);
    Rtj *sec = rtj_set(p, "seconds", rtj_array()), *gen = rtj_set(p, "generation", rtj_array());
    Rtj *at = rtj_set(p, "t_s", rtj_array());
    for (size_t k = 0; k < ps->n; k++) {
        rtj_append(sec, rtj_number(ps->seconds[k]));
        rtj_append(gen, rtj_integer(ps->generation[k]));
        rtj_append(at, rtj_number(ps->t_s[k]));
    }
    if (ps->subsampled)
        rtj_set(p, "subsampled", rtj_boolean(true));
    if (ps->has_by_generation) {
        Rtj *bg = rtj_set(p, "by_generation", rtj_array());
        for (int k = 0; k < 3; k++)
            rtj_append(bg, rtb_pause_stats_json(&ps->by_generation[k]));
    }
    if (!isnan(ps->safepoint_total_s)) {
        rtb_put_num(p, "safepoint_total_s", ps->safepoint_total_s);
        rtb_put_num(p, "safepoint_max_s", ps->safepoint_max_s);
    }
    if (!isnan(ps->parked_total_s))
        rtb_put_num(p, "parked_total_s", ps->parked_total_s);
    rtj_set(o, "pauses", p);
    return o;
}

static Rtj *
alloc_json(const RtbAllocStats *a)
{
    if (!a->present)
        return rtj_null();
    Rtj *o = rtj_object();
    rtb_put_str(o, "backend", a->backend);
    rtb_put_int(o, "blocks_allocated", a->blocks_allocated);
    rtb_put_int(o, "blocks_peak", a->blocks_peak);
    rtb_put_int(o, "small_peak", a->small_peak);
    rtb_put_int(o, "large_peak", a->large_peak);
    rtb_put_int(o, "pools_peak", a->pools_peak);
    rtb_put_int(o, "arenas_allocated", a->arenas_allocated);
    rtb_put_int(o, "arenas_peak", a->arenas_peak);
    rtb_put_int(o, "arenas_released", a->arenas_released);
    rtb_put_int(o, "arenas_current", a->arenas_current);
    rtb_put_int(o, "faults_injected", a->faults_injected);
    rtb_put_int(o, "arenas_reused", a->arenas_reused);
    rtb_put_int(o, "arenas_retained", a->arenas_retained);
    return o;
}

static Rtj *
profile_json(const RtbProfile *p)
{
    if (!p->present)
        return rtj_null();
    Rtj *o = rtj_object(), *types = rtj_array(), *classes = rtj_array();
    for (size_t k = 0; k < p->ntypes; k++) {
        const RtbTypeRow *t = &p->types[k];
        Rtj *r = rtj_append(types, rtj_object());
        rtb_put_str(r, "name", t->name);
        rtb_put_int(r, "live", t->live);
        rtb_put_int(r, "bytes", t->bytes);
        rtb_put_int(r, "live_peak", t->live_peak);
        rtb_put_int(r, "bytes_peak", t->bytes_peak);
        rtb_put_int(r, "allocated", t->allocated);
    }
    for (size_t k = 0; k < p->nclasses; k++) {
        Rtj *r = rtj_append(classes, rtj_object());
        rtb_put_int(r, "size", p->classes[k].size);
        rtb_put_int(r, "blocks", p->classes[k].blocks);
        rtb_put_int(r, "pools", p->classes[k].pools);
    }
    rtb_put_num(o, "t_s", p->t_s);
    rtb_put_int(o, "blocks_in_use", p->blocks_in_use);
    rtj_set(o, "types", types);
    rtj_set(o, "size_classes", classes);
    return o;
}

Rtj *
rtb_sample_to_json(const RtbSample *s, bool report)
{
    Rtj *o = rtj_object();
    if (!report) {
        rtj_set(o, "index", rtj_integer(s->index));
        rtj_set(o, "round", rtj_integer(s->round));
        rtj_set(o, "seq", rtj_integer(s->seq));
        rtj_set(o, "status", rtj_string(rtb_status_name(s->status)));
    }
    rtb_put_str(o, "error", s->error);
    rtb_put_num(o, "wall_s", s->wall_s);
    rtb_put_num(o, "cpu_s", s->cpu_s);
    if (!report) {
        rtb_put_num(o, "process_wall_s", s->process_wall_s);
        rtb_put_num(o, "user_s", s->user_s);
        rtb_put_num(o, "sys_s", s->sys_s);
    }
    rtb_put_int(o, "peak_rss_bytes", s->peak_rss_bytes);
    rtb_put_int(o, "final_rss_bytes", s->final_rss_bytes);
    if (!report) {
        rtb_put_int(o, "minflt", s->minflt);
        rtb_put_int(o, "majflt", s->majflt);
        rtb_put_num(o, "startup_s", s->startup_s);
        rtb_put_num(o, "load_before", s->load_before);
        rtb_put_num(o, "load_after", s->load_after);
    }
    rtb_put_int(o, "instructions", s->instructions);
    rtb_put_str(o, "instructions_counter", s->instructions_counter);
    if (!report)
        rtj_set(o, "rss_timeline", timeline_json(&s->timeline));
    rtj_set(o, "gc", gc_json(&s->gc));
    rtj_set(o, "alloc", alloc_json(&s->alloc));
    rtj_set(o, "profile", profile_json(&s->profile));
    Rtj *marks = rtj_set(o, "marks", rtj_array());
    for (size_t k = 0; k < s->nmarks; k++) {
        Rtj *m = rtj_append(marks, rtj_object());
        rtb_put_str(m, "name", s->marks[k].name);
        rtb_put_num(m, "t_s", s->marks[k].t_s);
        rtb_put_int(m, "rss_bytes", s->marks[k].rss_bytes);
        rtb_put_int(m, "live_bytes", s->marks[k].live_bytes);
    }
    Rtj *res = rtj_set(o, "result", rtj_object());
    for (size_t k = 0; k < s->nresult; k++)
        rtj_set(res, s->result[k].key, s->result[k].is_int ? rtj_integer(s->result[k].i) : rtj_number(s->result[k].d));
    rtj_set(o, "heap_clean", s->heap_clean < 0 ? rtj_null() : rtj_boolean(s->heap_clean));
    rtb_put_str(o, "rc", s->rc);
    rtb_program_sample_to_json(o, s);
    if (s->python_version != NULL) {
        Rtj *py = rtj_set(o, "python", rtj_object());
        rtb_put_str(py, "version", s->python_version);
        rtb_put_str(py, "executable", s->python_executable);
        rtb_put_str(py, "implementation", s->python_implementation);
    }
    if (report) {
        rtb_put_num(o, "t0_monotonic", s->t0_monotonic);
        rtb_put_num(o, "t_exec_monotonic", s->t_exec_monotonic);
        rtb_put_int(o, "rss_at_start_bytes", s->rss_at_start_bytes);
    }
    return o;
}

static Rtj *
stat_json(const RtbStat *st)
{
    Rtj *o = rtj_object();
    rtj_set(o, "n", rtj_integer(st->n));
    rtb_put_num(o, "median", st->median);
    rtb_put_num(o, "min", st->min);
    rtb_put_num(o, "max", st->max);
    rtb_put_num(o, "mean", st->mean);
    rtb_put_num(o, "stdev", st->stdev);
    if (isfinite(st->ci_low) && isfinite(st->ci_high)) {
        Rtj *ci = rtj_set(o, "ci95", rtj_array());
        rtj_append(ci, rtj_number(st->ci_low));
        rtj_append(ci, rtj_number(st->ci_high));
    } else {
        rtj_set(o, "ci95", rtj_null());
    }
    return o;
}

static Rtj *
summary_json(const RtbSummary *s)
{
    Rtj *o = rtj_object();
    rtj_set(o, "wall_s", stat_json(&s->wall_s));
    rtj_set(o, "cpu_s", stat_json(&s->cpu_s));
    rtj_set(o, "process_wall_s", stat_json(&s->process_wall_s));
    rtj_set(o, "user_s", stat_json(&s->user_s));
    rtj_set(o, "sys_s", stat_json(&s->sys_s));
    rtj_set(o, "peak_rss_bytes", stat_json(&s->peak_rss_bytes));
    rtj_set(o, "final_rss_bytes", stat_json(&s->final_rss_bytes));
    rtj_set(o, "gc_pause_p99_s", stat_json(&s->gc_pause_p99_s));
    rtj_set(o, "gc_pause_max_s", stat_json(&s->gc_pause_max_s));
    rtj_set(o, "gc_pause_total_s", stat_json(&s->gc_pause_total_s));
    Rtj *c = rtj_set(o, "gc_collections", rtj_array());
    for (int g = 0; g < 3; g++)
        rtj_append(c, stat_json(&s->gc_collections[g]));
    rtj_set(o, "instructions", stat_json(&s->instructions));
    if (s->total_pss_bytes.n > 0 || s->worker_pss_bytes.n > 0) {     /* --fork-workers */
        rtj_set(o, "worker_rss_bytes", stat_json(&s->worker_rss_bytes));
        rtj_set(o, "worker_pss_bytes", stat_json(&s->worker_pss_bytes));
        rtj_set(o, "worker_uss_bytes", stat_json(&s->worker_uss_bytes));
        rtj_set(o, "total_pss_bytes", stat_json(&s->total_pss_bytes));
    }
    return o;
}

Rtj *
rtb_run_to_json(const RtbRun *r)
{
    Rtj *o = rtj_object();
    rtb_put_str(o, "name", r->name);
    rtj_set(o, "implementation", rtj_string(r->cpython ? "cpython" : "rtbench"));
    rtb_put_str(o, "workload", r->workload);
    Rtj *p = rtj_set(o, "params", rtj_object());
    for (int k = 0; k < r->nparams; k++)
        rtj_set(p, r->params[k].name, rtj_integer(r->params[k].value));
    Rtj *c = rtj_set(o, "config", rtj_object());
    Rtj *t = rtj_set(c, "threshold", rtj_array());
    for (int i = 0; i < 3; i++)
        rtj_append(t, rtj_integer(r->threshold[i]));
    rtj_set(c, "gc", rtj_boolean(r->gc));
    rtb_put_str(c, "rc", r->rc);
    rtb_put_str(c, "alloc", r->alloc);
    rtb_put_int(c, "arena_decay_ms", r->arena_decay_ms);
    rtb_put_str(c, "python", r->python);
    rtj_set(c, "gc_timing", rtj_boolean(r->gc_timing));
    rtb_put_str(c, "gc_parallel", r->gc_parallel < 0 ? NULL : rt_gc_parallel_name(r->gc_parallel));
    rtb_program_config_to_json(c, r);
    rtj_set(o, "repeat", rtj_integer(r->repeat));
    Rtj *ss = rtj_set(o, "samples", rtj_array());
    for (size_t k = 0; k < r->nsamples; k++)
        rtj_append(ss, rtb_sample_to_json(&r->samples[k], false));
    rtj_set(o, "summary", summary_json(&r->summary));
    Rtj *w = rtj_set(o, "warnings", rtj_array());
    for (size_t k = 0; k < r->nwarnings; k++) {
        Rtj *e = rtj_append(w, rtj_object());
        rtj_set(e, "kind", rtj_string(rtb_warn_kind_name(r->warnings[k].kind)));
        rtj_set(e, "message", rtj_string(r->warnings[k].message));
    }
    return o;
}

static Rtj *
machine_json(const RtbMachine *m)
{
    Rtj *o = rtj_object();
    rtb_put_str(o, "hostname", m->hostname);
    rtb_put_str(o, "cpu_model", m->cpu_model);
    rtb_put_int(o, "cores", m->cores);
    rtb_put_str(o, "kernel", m->kernel);
    rtb_put_str(o, "compiler", m->compiler);
    rtb_put_str(o, "cflags", m->cflags);
    rtb_put_str(o, "build_type", m->build_type);
    rtb_put_str(o, "git_commit", m->git_commit);
    rtb_put_str(o, "governor", m->governor);
    rtb_put_int(o, "aslr", m->aslr);
    Rtj *l = rtj_set(o, "load_avg", rtj_array());
    for (int i = 0; i < m->nload; i++)
        rtj_append(l, rtj_number(m->load_avg[i]));
    return o;
}

Rtj *
rtb_result_to_json(const RtbResult *r)
{
    Rtj *o = rtj_object();
    rtj_set(o, "schema", rtj_string("rtbench/1"));
    rtb_put_str(o, "tool", r->tool);
    rtb_put_str(o, "kind", r->kind);
    rtb_put_str(o, "created", r->created);
    Rtj *cmd = rtj_set(o, "command", rtj_array());
    for (int i = 0; i < r->ncommand; i++)
        rtj_append(cmd, rtj_string(r->command[i]));
    rtj_set(o, "complete", rtj_boolean(r->complete));
    rtj_set(o, "machine", machine_json(&r->machine));
    Rtj *env = rtj_set(o, "environment", rtj_object());
    for (int i = 0; i < r->nenv; i++)
        rtj_set(env, r->env[i].name, rtj_string(r->env[i].value));
    rtb_put_str(o, "cpu_list", r->cpu_list);
    if (r->shard_count > 0) {
        Rtj *sh = rtj_set(o, "shard", rtj_object());
        rtj_set(sh, "index", rtj_integer(r->shard_index));
        rtj_set(sh, "count", rtj_integer(r->shard_count));
    } else {
        rtj_set(o, "shard", rtj_null());
    }
    const RtbSchedule *s = &r->schedule;
    Rtj *sc = rtj_set(o, "schedule", rtj_object());
    rtj_set(sc, "seed", rtj_integer((int64_t)(s->seed & INT64_MAX)));
    rtj_set(sc, "interleaved", rtj_boolean(s->interleaved));
    rtj_set(sc, "repeat", rtj_string(s->auto_repeat ? "auto" : "fixed"));
    rtb_put_num(sc, "precision", s->auto_repeat ? s->precision : NAN);
    rtj_set(sc, "min_repeat", rtj_integer(s->min_repeat));
    rtj_set(sc, "max_repeat", rtj_integer(s->max_repeat));
    rtb_put_num(sc, "max_time_s", s->max_time_s > 0 ? s->max_time_s : NAN);
    Rtj *ord = rtj_set(sc, "order", rtj_array());
    for (size_t k = 0; k < s->norder; k++) {
        Rtj *pair = rtj_append(ord, rtj_array());
        rtj_append(pair, rtj_integer(s->order[k].run));
        rtj_append(pair, rtj_integer(s->order[k].sample));
    }
    Rtj *runs = rtj_set(o, "runs", rtj_array());
    for (size_t k = 0; k < r->nruns; k++)
        rtj_append(runs, rtb_run_to_json(&r->runs[k]));
    return o;
}

/* ==== reading ============================================================ */

void
rtb_rd_bad(RtbReader *rd, const char *key, const char *want)
{
    if (rd->ok)
        snprintf(rd->err, rd->errlen, "%s%s%s is not %s", rd->where, *rd->where ? "." : "", key, want);
    rd->ok = false;
}

double
rtb_rd_num(RtbReader *rd, const Rtj *o, const char *key)
{
    const Rtj *v = rtj_get(o, key);
    if (v == NULL || rtj_is(v, RTJ_NULL))
        return NAN;
    if (!rtj_is(v, RTJ_NUMBER))
        rtb_rd_bad(rd, key, "a number");
    return rtj_num(v, NAN);
}

int64_t
rtb_rd_int(RtbReader *rd, const Rtj *o, const char *key)
{
    const Rtj *v = rtj_get(o, key);
    if (v == NULL || rtj_is(v, RTJ_NULL))
        return RTB_NONE;
    if (!rtj_is(v, RTJ_NUMBER)) {
        rtb_rd_bad(rd, key, "an integer");
        return RTB_NONE;
    }
    return rtj_is_int(v) ? rtj_int(v, RTB_NONE) : (int64_t)rtj_num(v, 0);
}

char *
rtb_rd_str(RtbReader *rd, const Rtj *o, const char *key)
{
    const Rtj *v = rtj_get(o, key);
    if (v == NULL || rtj_is(v, RTJ_NULL))
        return NULL;
    if (!rtj_is(v, RTJ_STRING)) {
        rtb_rd_bad(rd, key, "a string");
        return NULL;
    }
    return rtb_strdup(rtj_str(v, ""));
}

const Rtj *
rtb_rd_kind(RtbReader *rd, const Rtj *o, const char *key, RtjType t)
{
    const Rtj *v = rtj_get(o, key);
    if (v == NULL || rtj_is(v, RTJ_NULL))
        return NULL;
    if (!rtj_is(v, t)) {
        rtb_rd_bad(rd, key, t == RTJ_ARRAY ? "a list" : "an object");
        return NULL;
    }
    return v;
}

void
rtb_rd_int3(RtbReader *rd, const Rtj *o, const char *key, int64_t out[3])
{
    const Rtj *a = rtb_rd_kind(rd, o, key, RTJ_ARRAY);
    if (a != NULL && rtj_len(a) != 3)
        rtb_rd_bad(rd, key, "a list of 3 integers");
    for (size_t i = 0; i < 3; i++)
        out[i] = a ? rtj_int(rtj_at(a, i), 0) : 0;
}

static void
read_timeline(RtbReader *rd, const Rtj *o, RtbTimeline *t)
{
    if (o == NULL)
        return;
    t->interval_s = rtb_rd_num(rd, o, "interval_s");
    const Rtj *ts = rtb_rd_kind(rd, o, "t_s", RTJ_ARRAY), *rss = rtb_rd_kind(rd, o, "rss_bytes", RTJ_ARRAY);
    if (rtj_len(ts) != rtj_len(rss))
        rtb_rd_bad(rd, "rss_timeline", "two lists of the same length");
    t->n = rd->ok ? rtj_len(ts) : 0;
    t->t_s = rtb_xcalloc(t->n + 1, sizeof *t->t_s);
    t->rss_bytes = rtb_xcalloc(t->n + 1, sizeof *t->rss_bytes);
    for (size_t k = 0; k < t->n; k++) {
        t->t_s[k] = rtj_num(rtj_at(ts, k), NAN);
        t->rss_bytes[k] = rtj_int(rtj_at(rss, k), 0);
    }
    t->short_run = rtj_bool(rtj_get(o, "short"), false);
}

static void
read_gc(RtbReader *rd, const Rtj *o, RtbGc *g)
{
    if (o == NULL)
        return;
    g->present = true;
    rtb_rd_int3(rd, o, "collections", g->collections);
    rtb_rd_int3(rd, o, "collected", g->collected);
    rtb_rd_int3(rd, o, "uncollectable", g->uncollectable);
    const Rtj *p = rtb_rd_kind(rd, o, "pauses", RTJ_OBJECT);
    RtbPauses *ps = &g->pauses;
    ps->count = rtb_rd_int(rd, p, "count");
    ps->count = ps->count == RTB_NONE ? 0 : ps->count;
    ps->total_s = rtb_rd_num(rd, p, "total_s");
    ps->p50_s = rtb_rd_num(rd, p, "p50_s");
    ps->p90_s = rtb_rd_num(rd, p, "p90_s");
    ps->p99_s = rtb_rd_num(rd, p, "p99_s");
    ps->max_s = rtb_rd_num(rd, p, "max_s");
    ps->safepoint_total_s = rtb_rd_num(rd, p, "safepoint_total_s");
    ps->safepoint_max_s = rtb_rd_num(rd, p, "safepoint_max_s");
    ps->parked_total_s = rtb_rd_num(rd, p, "parked_total_s");
    const Rtj *sec = rtb_rd_kind(rd, p, "seconds", RTJ_ARRAY), *gen = rtb_rd_kind(rd, p, "generation", RTJ_ARRAY);
    const Rtj *at = rtb_rd_kind(rd, p, "t_s", RTJ_ARRAY);
    ps->n = rtj_len(sec);
    ps->seconds = rtb_xcalloc(ps->n + 1, sizeof *ps->seconds);
    ps->t_s = rtb_xcalloc(ps->n + 1, sizeof *ps->t_s);
    ps->generation = rtb_xcalloc(ps->n + 1, sizeof *ps->generation);
    for (size_t k = 0; k < ps->n; k++) {
        ps->seconds[k] = rtj_num(rtj_at(sec, k), NAN);
        ps->t_s[k] = rtj_num(rtj_at(at, k), NAN);
        ps->generation[k] = (int)rtj_int(rtj_at(gen, k), 0);
    }
    ps->subsampled = rtj_bool(rtj_get(p, "subsampled"), false);
    const Rtj *bg = rtb_rd_kind(rd, p, "by_generation", RTJ_ARRAY);
    if (bg != NULL && rtj_len(bg) != 3)
        rtb_rd_bad(rd, "by_generation", "a list of 3 pause summaries");
    ps->has_by_generation = bg != NULL && rd->ok;
    for (size_t k = 0; ps->has_by_generation && k < 3; k++)
        rtb_rd_pause_stats(rd, rtj_at(bg, k), &ps->by_generation[k]);
}

static void
read_alloc(RtbReader *rd, const Rtj *o, RtbAllocStats *a)
{
    if (o == NULL)
        return;
    a->present = true;
    a->backend = rtb_rd_str(rd, o, "backend");
    a->blocks_allocated = rtb_rd_int(rd, o, "blocks_allocated");
    a->blocks_peak = rtb_rd_int(rd, o, "blocks_peak");
    a->small_peak = rtb_rd_int(rd, o, "small_peak");
    a->large_peak = rtb_rd_int(rd, o, "large_peak");
    a->pools_peak = rtb_rd_int(rd, o, "pools_peak");
    a->arenas_allocated = rtb_rd_int(rd, o, "arenas_allocated");
    a->arenas_peak = rtb_rd_int(rd, o, "arenas_peak");
    a->arenas_released = rtb_rd_int(rd, o, "arenas_released");
    a->arenas_current = rtb_rd_int(rd, o, "arenas_current");
    a->faults_injected = rtb_rd_int(rd, o, "faults_injected");
    a->arenas_reused = rtb_rd_int(rd, o, "arenas_reused");
    a->arenas_retained = rtb_rd_int(rd, o, "arenas_retained");
}

static void
read_profile(RtbReader *rd, const Rtj *o, RtbProfile *p)
{
    if (o == NULL)
        return;
    p->present = true;
    p->t_s = rtb_rd_num(rd, o, "t_s");
    p->blocks_in_use = rtb_rd_int(rd, o, "blocks_in_use");
    const Rtj *types = rtb_rd_kind(rd, o, "types", RTJ_ARRAY), *classes = rtb_rd_kind(rd, o, "size_classes", RTJ_ARRAY);
    p->ntypes = rtj_len(types);
    p->types = rtb_xcalloc(p->ntypes + 1, sizeof *p->types);
    for (size_t k = 0; k < p->ntypes; k++) {
        const Rtj *t = rtj_at(types, k);
        p->types[k] = (RtbTypeRow){rtb_rd_str(rd, t, "name"), rtb_rd_int(rd, t, "live"), rtb_rd_int(rd, t, "bytes"),
                                   rtb_rd_int(rd, t, "live_peak"), rtb_rd_int(rd, t, "bytes_peak"), rtb_rd_int(rd, t, "allocated")};
    }
    p->nclasses = rtj_len(classes);
    p->classes = rtb_xcalloc(p->nclasses + 1, sizeof *p->classes);
    for (size_t k = 0; k < p->nclasses; k++) {
        const Rtj *c = rtj_at(classes, k);
        p->classes[k] = (RtbClassRow){rtb_rd_int(rd, c, "size"), rtb_rd_int(rd, c, "blocks"), rtb_rd_int(rd, c, "pools")};
    }
}

bool
rtb_sample_from_json(const Rtj *j, RtbSample *s, char *err, size_t errlen)
{
    RtbReader rd = {err, errlen, "sample", true};
    if (!rtj_is(j, RTJ_OBJECT)) {
        snprintf(err, errlen, "a sample is not an object");
        return false;
    }
    int64_t v = rtb_rd_int(&rd, j, "index");
    s->index = v == RTB_NONE ? s->index : (int)v;
    v = rtb_rd_int(&rd, j, "round");
    s->round = v == RTB_NONE ? s->round : (int)v;
    v = rtb_rd_int(&rd, j, "seq");
    s->seq = v == RTB_NONE ? s->seq : v;
    char *status = rtb_rd_str(&rd, j, "status");
    if (status != NULL) {
        int st = rtb_status_parse(status);
        if (st < 0)
            rtb_rd_bad(&rd, "status", "one of ok, failed, crashed, timeout, interrupted");
        else
            s->status = (RtbStatus)st;
        free(status);
    }
    s->error = rtb_rd_str(&rd, j, "error");
    s->wall_s = rtb_rd_num(&rd, j, "wall_s");
    s->cpu_s = rtb_rd_num(&rd, j, "cpu_s");
    s->process_wall_s = rtb_rd_num(&rd, j, "process_wall_s");
    s->user_s = rtb_rd_num(&rd, j, "user_s");
    s->sys_s = rtb_rd_num(&rd, j, "sys_s");
    s->startup_s = rtb_rd_num(&rd, j, "startup_s");
    s->peak_rss_bytes = rtb_rd_int(&rd, j, "peak_rss_bytes");
    s->final_rss_bytes = rtb_rd_int(&rd, j, "final_rss_bytes");
    s->minflt = rtb_rd_int(&rd, j, "minflt");
    s->majflt = rtb_rd_int(&rd, j, "majflt");
    s->load_before = rtb_rd_num(&rd, j, "load_before");
    s->load_after = rtb_rd_num(&rd, j, "load_after");
    s->instructions = rtb_rd_int(&rd, j, "instructions");
    s->instructions_counter = rtb_rd_str(&rd, j, "instructions_counter");
    read_timeline(&rd, rtb_rd_kind(&rd, j, "rss_timeline", RTJ_OBJECT), &s->timeline);
    read_gc(&rd, rtb_rd_kind(&rd, j, "gc", RTJ_OBJECT), &s->gc);
    read_alloc(&rd, rtb_rd_kind(&rd, j, "alloc", RTJ_OBJECT), &s->alloc);
    read_profile(&rd, rtb_rd_kind(&rd, j, "profile", RTJ_OBJECT), &s->profile);
    const Rtj *marks = rtb_rd_kind(&rd, j, "marks", RTJ_ARRAY);
    s->nmarks = rtj_len(marks);
    s->marks = rtb_xcalloc(s->nmarks + 1, sizeof *s->marks);
    for (size_t k = 0; k < s->nmarks; k++) {
        const Rtj *m = rtj_at(marks, k);
        s->marks[k] = (RtbMark){rtb_rd_str(&rd, m, "name"), rtb_rd_num(&rd, m, "t_s"), rtb_rd_int(&rd, m, "rss_bytes"),
                                rtb_rd_int(&rd, m, "live_bytes")};
    }
    const Rtj *res = rtb_rd_kind(&rd, j, "result", RTJ_OBJECT);
    s->nresult = rtj_len(res);
    s->result = rtb_xcalloc(s->nresult + 1, sizeof *s->result);
    for (size_t k = 0; k < s->nresult; k++) {
        const Rtj *x = rtj_at(res, k);
        s->result[k] = (RtbValue){rtb_strdup(rtj_key_at(res, k)), rtj_is_int(x), rtj_int(x, 0), rtj_num(x, NAN)};
    }
    const Rtj *hc = rtj_get(j, "heap_clean");
    s->heap_clean = rtj_is(hc, RTJ_BOOL) ? rtj_bool(hc, false) : -1;
    s->rc = rtb_rd_str(&rd, j, "rc");
    const Rtj *py = rtb_rd_kind(&rd, j, "python", RTJ_OBJECT);
    if (py != NULL) {
        s->python_version = rtb_rd_str(&rd, py, "version");
        s->python_executable = rtb_rd_str(&rd, py, "executable");
        s->python_implementation = rtb_rd_str(&rd, py, "implementation");
    }
    rtb_program_sample_from_json(&rd, j, s);
    s->t0_monotonic = rtb_rd_num(&rd, j, "t0_monotonic");
    s->t_exec_monotonic = rtb_rd_num(&rd, j, "t_exec_monotonic");
    s->rss_at_start_bytes = rtb_rd_int(&rd, j, "rss_at_start_bytes");
    return rd.ok;
}

/* config.gc_parallel: "0".."2" or "off"; absent (a file from before it):
 * the default in a threaded variant; null for CPython and nonatomic. */
static int
read_gc_parallel(RtbReader *rd, const Rtj *c, const RtbRun *r)
{
    char *s = rtb_rd_str(rd, c, "gc_parallel");
    bool threaded = !r->cpython && r->rc != NULL && strcmp(r->rc, "nonatomic") != 0;
    int g = threaded ? RTB_DEFAULT_GC_PARALLEL : -1;
    if (s != NULL && !rtb_parse_gc_parallel(s, &g))
        rtb_rd_bad(rd, "gc_parallel", "\"0\", \"1\", \"2\" or \"off\"");
    free(s);
    return g;
}

static bool
read_run(RtbReader *rd, const Rtj *j, RtbRun *r)
{
    r->name = rtb_rd_str(rd, j, "name");
    r->workload = rtb_rd_str(rd, j, "workload");
    if (r->name == NULL || r->workload == NULL) {
        rtb_rd_bad(rd, r->name ? "workload" : "name", "a string");
        return false;
    }
    r->cpython = strcmp(rtj_str(rtj_get(j, "implementation"), "rtbench"), "cpython") == 0;
    const Rtj *p = rtb_rd_kind(rd, j, "params", RTJ_OBJECT);
    if (rtj_len(p) > RTB_MAX_PARAMS)
        rtb_rd_bad(rd, "params", "at most 8 parameters");
    for (size_t k = 0; rd->ok && k < rtj_len(p); k++) {
        if (!rtj_is(rtj_at(p, k), RTJ_NUMBER))
            rtb_rd_bad(rd, "params", "an object of integers");
        r->params[r->nparams++] = (RtbParam){rtb_strdup(rtj_key_at(p, k)), rtj_int(rtj_at(p, k), 0)};
    }
    const Rtj *c = rtb_rd_kind(rd, j, "config", RTJ_OBJECT);
    int64_t th[3] = {700, 10, 10};
    if (rtj_get(c, "threshold") != NULL && !rtj_is(rtj_get(c, "threshold"), RTJ_NULL))
        rtb_rd_int3(rd, c, "threshold", th);
    for (int i = 0; i < 3; i++)
        r->threshold[i] = (long)th[i];
    r->gc = rtj_bool(rtj_get(c, "gc"), true);
    r->rc = rtb_rd_str(rd, c, "rc");
    r->alloc = rtb_rd_str(rd, c, "alloc");
    r->arena_decay_ms = rtb_rd_int(rd, c, "arena_decay_ms");
    r->python = rtb_rd_str(rd, c, "python");
    r->gc_timing = rtj_bool(rtj_get(c, "gc_timing"), true);
    r->gc_parallel = read_gc_parallel(rd, c, r);
    rtb_program_config_from_json(rd, c, r);
    int64_t rep = rtb_rd_int(rd, j, "repeat");
    r->repeat = rep == RTB_NONE ? 0 : (int)rep;
    const Rtj *ss = rtb_rd_kind(rd, j, "samples", RTJ_ARRAY);
    if (ss == NULL)
        rtb_rd_bad(rd, "samples", "a list");
    for (size_t k = 0; rd->ok && k < rtj_len(ss); k++) {
        RtbSample *s = rtb_run_add_sample(r);
        s->index = (int)k;
        if (!rtb_sample_from_json(rtj_at(ss, k), s, rd->err, rd->errlen))
            rd->ok = false;
    }
    return rd->ok;
}

static void
read_machine(RtbReader *rd, const Rtj *o, RtbMachine *m)
{
    m->hostname = rtb_rd_str(rd, o, "hostname");
    m->cpu_model = rtb_rd_str(rd, o, "cpu_model");
    m->cores = rtb_rd_int(rd, o, "cores");
    m->kernel = rtb_rd_str(rd, o, "kernel");
    m->compiler = rtb_rd_str(rd, o, "compiler");
    m->cflags = rtb_rd_str(rd, o, "cflags");
    m->build_type = rtb_rd_str(rd, o, "build_type");
    m->git_commit = rtb_rd_str(rd, o, "git_commit");
    m->governor = rtb_rd_str(rd, o, "governor");
    m->aslr = rtb_rd_int(rd, o, "aslr");
    const Rtj *l = rtb_rd_kind(rd, o, "load_avg", RTJ_ARRAY);
    for (size_t i = 0; i < rtj_len(l) && i < 3; i++)
        m->load_avg[m->nload++] = rtj_num(rtj_at(l, i), 0);
}

static void
read_schedule(RtbReader *rd, const Rtj *o, RtbSchedule *s)
{
    if (o == NULL)
        return;
    int64_t seed = rtb_rd_int(rd, o, "seed");
    s->seed = seed == RTB_NONE ? 0 : (uint64_t)seed;
    s->interleaved = rtj_bool(rtj_get(o, "interleaved"), false);
    s->auto_repeat = strcmp(rtj_str(rtj_get(o, "repeat"), "fixed"), "auto") == 0;
    s->precision = rtb_rd_num(rd, o, "precision");
    int64_t v = rtb_rd_int(rd, o, "min_repeat");
    s->min_repeat = v == RTB_NONE ? 0 : (int)v;
    v = rtb_rd_int(rd, o, "max_repeat");
    s->max_repeat = v == RTB_NONE ? 0 : (int)v;
    s->max_time_s = rtb_rd_num(rd, o, "max_time_s");
    s->max_time_s = isfinite(s->max_time_s) ? s->max_time_s : 0;
    const Rtj *ord = rtb_rd_kind(rd, o, "order", RTJ_ARRAY);
    s->norder = rtj_len(ord);
    s->order = rtb_xcalloc(s->norder + 1, sizeof *s->order);
    for (size_t k = 0; k < s->norder; k++)
        s->order[k] = (RtbOrder){(int)rtj_int(rtj_at(rtj_at(ord, k), 0), 0), (int)rtj_int(rtj_at(rtj_at(ord, k), 1), 0)};
}

bool
rtb_result_from_json(const Rtj *j, RtbResult *r, char *err, size_t errlen)
{
    RtbReader rd = {err, errlen, "", true};
    memset(r, 0, sizeof *r);
    if (!rtj_is(j, RTJ_OBJECT)) {
        snprintf(err, errlen, "not a result file (the top level is not an object)");
        return false;
    }
    const char *schema = rtj_str(rtj_get(j, "schema"), NULL);
    if (schema == NULL) {
        snprintf(err, errlen, "not a result file (no \"schema\"; rtbench writes \"rtbench/1\")");
        return false;
    }
    if (strcmp(schema, "rtbench/1") != 0) {
        snprintf(err, errlen, "unknown schema '%s' (this rtbench reads \"rtbench/1\")", schema);
        return false;
    }
    const Rtj *runs = rtj_get(j, "runs");
    if (!rtj_is(runs, RTJ_ARRAY)) {
        snprintf(err, errlen, "malformed result file (\"runs\" is not a list)");
        return false;
    }
    r->kind = rtb_rd_str(&rd, j, "kind");
    r->created = rtb_rd_str(&rd, j, "created");
    r->tool = rtb_rd_str(&rd, j, "tool");
    const Rtj *cmd = rtb_rd_kind(&rd, j, "command", RTJ_ARRAY);
    r->ncommand = (int)rtj_len(cmd);
    r->command = rtb_xcalloc((size_t)r->ncommand + 1, sizeof *r->command);
    for (int i = 0; i < r->ncommand; i++)
        r->command[i] = rtb_strdup(rtj_str(rtj_at(cmd, (size_t)i), ""));
    r->complete = rtj_bool(rtj_get(j, "complete"), true);
    read_machine(&rd, rtb_rd_kind(&rd, j, "machine", RTJ_OBJECT), &r->machine);
    const Rtj *env = rtb_rd_kind(&rd, j, "environment", RTJ_OBJECT);
    r->nenv = (int)rtj_len(env);
    r->env = rtb_xcalloc((size_t)r->nenv + 1, sizeof *r->env);
    for (int i = 0; i < r->nenv; i++)
        r->env[i] = (RtbEnvVar){rtb_strdup(rtj_key_at(env, (size_t)i)), rtb_strdup(rtj_str(rtj_at(env, (size_t)i), ""))};
    r->cpu_list = rtb_rd_str(&rd, j, "cpu_list");
    const Rtj *sh = rtb_rd_kind(&rd, j, "shard", RTJ_OBJECT);
    if (sh != NULL) {
        r->shard_index = (int)rtj_int(rtj_get(sh, "index"), 0);
        r->shard_count = (int)rtj_int(rtj_get(sh, "count"), 0);
    }
    read_schedule(&rd, rtb_rd_kind(&rd, j, "schedule", RTJ_OBJECT), &r->schedule);
    for (size_t k = 0; rd.ok && k < rtj_len(runs); k++) {
        char where[32];
        snprintf(where, sizeof where, "runs[%zu]", k);
        rd.where = where;
        RtbRun *run = rtb_result_add_run(r);
        if (!rtj_is(rtj_at(runs, k), RTJ_OBJECT)) {
            snprintf(err, errlen, "malformed result file (%s is not an object)", where);
            rd.ok = false;
        } else if (!read_run(&rd, rtj_at(runs, k), run)) {
            char detail[512];
            snprintf(detail, sizeof detail, "%s", err);
            snprintf(err, errlen, "malformed result file (%s)", detail);
        } else {
            rtb_run_summarize(run, r);
        }
    }
    if (!rd.ok)
        rtb_result_free(r);     /* nothing half read is left to the caller */
    return rd.ok;
}
