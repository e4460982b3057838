/* program_json.c -- the JSON of what a Python program's sample adds to a
 * twin's (rtbench cpython --script / -m): the exit status, the tail of
 * stderr, the collector's settings at the program's first line and at its
 * end, run.py's warnings about them, and the forked workers' memory and
 * collections (--fork-workers).  workloads/python/run.py's docstring
 * defines the report; results/schema.json the same fields in a result file.
 *
 * Every sample carries the fields (null or [] where they do not apply: a
 * C workload has no program settings), so that one schema describes them.
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "result_json.h"

#include <stdlib.h>
#include <string.h>

/* ==== writing ============================================================ */

Rtj *
rtb_pause_stats_json(const RtbPauseStats *p)
{
    Rtj *o = rtj_object();
    rtb_put_int(o, "count", p->count);
    rtb_put_num(o, "total_s", p->total_s);
    rtb_put_num(o, "p50_s", p->p50_s);
    rtb_put_num(o, "p90_s", p->p90_s);
    rtb_put_num(o, "p99_s", p->p99_s);
    rtb_put_num(o, "max_s", p->max_s);
    return o;
}

static Rtj *
by_generation_json(const RtbPauseStats g[3])
{
    Rtj *a = rtj_array();
    for (int k = 0; k < 3; k++)
        rtj_append(a, rtb_pause_stats_json(&g[k]));
    return a;
}

Rtj *
rtb_threshold_json(const long t[3])
{
    int64_t v[3] = {t[0], t[1], t[2]};
    return rtb_int3_json(v);
}

static Rtj *
settings_json(const RtbGcSettings *g)
{
    if (!g->present)
        return rtj_null();
    Rtj *o = rtj_object();
    rtj_set(o, "threshold", rtb_threshold_json(g->threshold));
    rtj_set(o, "enabled", rtj_boolean(g->enabled));
    rtb_put_int(o, "frozen", g->frozen);
    return o;
}

static Rtj *
memory_json(const RtbMemory *m)
{
    if (!m->present)
        return rtj_null();
    Rtj *o = rtj_object();
    rtb_put_int(o, "rss_bytes", m->rss_bytes);
    rtb_put_int(o, "pss_bytes", m->pss_bytes);
    rtb_put_int(o, "uss_bytes", m->uss_bytes);
    rtb_put_int(o, "shared_bytes", m->shared_bytes);
    rtb_put_int(o, "pss_anon_bytes", m->pss_anon_bytes);
    return o;
}

static Rtj *
worker_gc_json(const RtbForkWorker *w)
{
    if (!w->has_gc)
        return rtj_null();
    Rtj *o = rtj_object();
    rtj_set(o, "collections", rtb_int3_json(w->collections));
    rtj_set(o, "collected", rtb_int3_json(w->collected));
    rtj_set(o, "uncollectable", rtb_int3_json(w->uncollectable));
    if (w->has_pauses) {
        Rtj *p = rtj_set(o, "pauses", rtb_pause_stats_json(&w->pauses));
        rtj_set(p, "by_generation", by_generation_json(w->by_generation));
    } else {
        rtj_set(o, "pauses", rtj_null());
    }
    rtj_set(o, "threshold", rtb_threshold_json(w->at_end.threshold));
    rtj_set(o, "enabled", rtj_boolean(w->at_end.enabled));
    return o;
}

static Rtj *
fork_json(const RtbForkWorkers *f)
{
    if (!f->present)
        return rtj_null();
    Rtj *o = rtj_object(), *ws = rtj_array();
    rtb_put_int(o, "count", f->count);
    rtb_put_num(o, "fork_at_s", f->fork_at_s);
    rtb_put_int(o, "frozen_at_fork", f->frozen_at_fork);
    rtj_set(o, "gc_settings_at_fork", settings_json(&f->at_fork));
    rtj_set(o, "main", memory_json(&f->main));
    for (size_t k = 0; k < f->nworkers; k++) {
        const RtbForkWorker *w = &f->workers[k];
        Rtj *e = rtj_append(ws, rtj_object());
        rtb_put_int(e, "index", w->index);
        rtb_put_int(e, "pid", w->pid);
        rtb_put_int(e, "exit_status", w->exit_status);
        rtb_put_int(e, "signal", w->signal);
        rtb_put_str(e, "error", w->error);
        rtb_put_num(e, "wall_s", w->wall_s);
        rtb_put_int(e, "peak_rss_bytes", w->peak_rss_bytes);
        rtj_set(e, "memory", memory_json(&w->memory));
        rtj_set(e, "gc", worker_gc_json(w));
    }
    rtj_set(o, "workers", ws);
    rtb_put_int(o, "rss_bytes_mean", f->rss_bytes_mean);
    rtb_put_int(o, "pss_bytes_mean", f->pss_bytes_mean);
    rtb_put_int(o, "uss_bytes_mean", f->uss_bytes_mean);
    rtb_put_int(o, "pss_bytes_total", f->pss_bytes_total);
    return o;
}

void
rtb_program_sample_to_json(Rtj *o, const RtbSample *s)
{
    rtb_put_int(o, "exit_status", s->exit_status);
    rtb_put_str(o, "stderr_tail", s->stderr_tail);
    rtj_set(o, "gc_settings", settings_json(&s->gc_settings));
    rtj_set(o, "gc_settings_at_end", settings_json(&s->gc_settings_at_end));
    Rtj *w = rtj_set(o, "warnings", rtj_array());
    for (size_t k = 0; k < s->nwarnings; k++) {
        Rtj *e = rtj_append(w, rtj_object());
        rtj_set(e, "kind", rtj_string(rtb_warn_kind_name(s->warnings[k].kind)));
        rtj_set(e, "message", rtj_string(s->warnings[k].message));
    }
    rtj_set(o, "fork_workers", fork_json(&s->fork));
}

void
rtb_program_config_to_json(Rtj *c, const RtbRun *r)
{
    if (r->program_kind != NULL) {
        Rtj *prog = rtj_set(c, "program", rtj_object()), *args = rtj_array();
        rtj_set(prog, "kind", rtj_string(r->program_kind));
        rtb_put_str(prog, "target", r->program_target);
        for (int k = 0; k < r->nargs; k++)
            rtj_append(args, rtj_string(r->program_args[k]));
        rtj_set(prog, "args", args);
        Rtj *fr = rtj_set(c, "freeze_after_import", rtj_array());
        for (int k = 0; k < r->nfreeze; k++)
            rtj_append(fr, rtj_string(r->freeze[k]));
        rtj_set(c, "fork_workers", rtj_integer(r->fork_workers));
    } else {
        rtj_set(c, "program", rtj_null());
    }
}

/* ==== reading ============================================================ */

void
rtb_rd_pause_stats(RtbReader *rd, const Rtj *o, RtbPauseStats *p)
{
    p->count = rtb_rd_int(rd, o, "count");
    p->total_s = rtb_rd_num(rd, o, "total_s");
    p->p50_s = rtb_rd_num(rd, o, "p50_s");
    p->p90_s = rtb_rd_num(rd, o, "p90_s");
    p->p99_s = rtb_rd_num(rd, o, "p99_s");
    p->max_s = rtb_rd_num(rd, o, "max_s");
}

/* by_generation: three pause summaries; false when absent. */
static bool
read_by_generation(RtbReader *rd, const Rtj *o, RtbPauseStats g[3])
{
    const Rtj *a = rtb_rd_kind(rd, o, "by_generation", RTJ_ARRAY);
    if (a == NULL)
        return false;
    if (rtj_len(a) != 3)
        rtb_rd_bad(rd, "by_generation", "a list of 3 pause summaries");
    for (size_t k = 0; k < 3 && k < rtj_len(a); k++)
        rtb_rd_pause_stats(rd, rtj_at(a, k), &g[k]);
    return rd->ok;
}

static void
read_threshold(RtbReader *rd, const Rtj *o, long t[3])
{
    int64_t v[3] = {0, 0, 0};
    rtb_rd_int3(rd, o, "threshold", v);
    for (int k = 0; k < 3; k++)
        t[k] = (long)v[k];
}

static void
read_settings(RtbReader *rd, const Rtj *o, RtbGcSettings *g)
{
    if (o == NULL)
        return;
    g->present = true;
    read_threshold(rd, o, g->threshold);
    g->enabled = rtj_bool(rtj_get(o, "enabled"), true);
    g->frozen = rtb_rd_int(rd, o, "frozen");
}

static void
read_memory(RtbReader *rd, const Rtj *o, RtbMemory *m)
{
    if (o == NULL)
        return;
    m->present = true;
    m->rss_bytes = rtb_rd_int(rd, o, "rss_bytes");
    m->pss_bytes = rtb_rd_int(rd, o, "pss_bytes");
    m->uss_bytes = rtb_rd_int(rd, o, "uss_bytes");
    m->shared_bytes = rtb_rd_int(rd, o, "shared_bytes");
    m->pss_anon_bytes = rtb_rd_int(rd, o, "pss_anon_bytes");
}

static void
read_worker(RtbReader *rd, const Rtj *o, RtbForkWorker *w)
{
    w->index = rtb_rd_int(rd, o, "index");
    w->pid = rtb_rd_int(rd, o, "pid");
    w->exit_status = rtb_rd_int(rd, o, "exit_status");
    w->signal = rtb_rd_int(rd, o, "signal");
    w->error = rtb_rd_str(rd, o, "error");
    w->wall_s = rtb_rd_num(rd, o, "wall_s");
    w->peak_rss_bytes = rtb_rd_int(rd, o, "peak_rss_bytes");
    read_memory(rd, rtb_rd_kind(rd, o, "memory", RTJ_OBJECT), &w->memory);
    const Rtj *g = rtb_rd_kind(rd, o, "gc", RTJ_OBJECT);
    if (g == NULL)
        return;
    w->has_gc = true;
    rtb_rd_int3(rd, g, "collections", w->collections);
    rtb_rd_int3(rd, g, "collected", w->collected);
    rtb_rd_int3(rd, g, "uncollectable", w->uncollectable);
    const Rtj *p = rtb_rd_kind(rd, g, "pauses", RTJ_OBJECT);
    if (p != NULL) {
        w->has_pauses = true;
        rtb_rd_pause_stats(rd, p, &w->pauses);
        read_by_generation(rd, p, w->by_generation);
    }
    w->at_end.present = true;
    read_threshold(rd, g, w->at_end.threshold);
    w->at_end.enabled = rtj_bool(rtj_get(g, "enabled"), true);
    w->at_end.frozen = RTB_NONE;
}

static void
read_fork(RtbReader *rd, const Rtj *o, RtbForkWorkers *f)
{
    if (o == NULL)
        return;
    f->present = true;
    f->count = rtb_rd_int(rd, o, "count");
    f->fork_at_s = rtb_rd_num(rd, o, "fork_at_s");
    f->frozen_at_fork = rtb_rd_int(rd, o, "frozen_at_fork");
    read_settings(rd, rtb_rd_kind(rd, o, "gc_settings_at_fork", RTJ_OBJECT), &f->at_fork);
    read_memory(rd, rtb_rd_kind(rd, o, "main", RTJ_OBJECT), &f->main);
    const Rtj *ws = rtb_rd_kind(rd, o, "workers", RTJ_ARRAY);
    f->nworkers = rtj_len(ws);
    f->workers = rtb_xcalloc(f->nworkers + 1, sizeof *f->workers);
    for (size_t k = 0; k < f->nworkers; k++) {
        if (!rtj_is(rtj_at(ws, k), RTJ_OBJECT))
            rtb_rd_bad(rd, "fork_workers.workers", "a list of objects");
        else
            read_worker(rd, rtj_at(ws, k), &f->workers[k]);
    }
    f->rss_bytes_mean = rtb_rd_int(rd, o, "rss_bytes_mean");
    f->pss_bytes_mean = rtb_rd_int(rd, o, "pss_bytes_mean");
    f->uss_bytes_mean = rtb_rd_int(rd, o, "uss_bytes_mean");
    f->pss_bytes_total = rtb_rd_int(rd, o, "pss_bytes_total");
}

static void
read_warnings(RtbReader *rd, const Rtj *a, RtbSample *s)
{
    s->warnings = rtb_xcalloc(rtj_len(a) + 1, sizeof *s->warnings);
    for (size_t k = 0; k < rtj_len(a); k++) {
        const Rtj *e = rtj_at(a, k);
        int kind = rtb_warn_kind_parse(rtj_str(rtj_get(e, "kind"), ""));
        const char *message = rtj_str(rtj_get(e, "message"), NULL);
        if (kind < RTB_W_FIRST_PROGRAM || message == NULL) {
            rtb_rd_bad(rd, "warnings", "a list of {kind, message} (kinds threshold-changed, gc-switched, "
                                       "callbacks-cleared, no-smaps)");
            return;
        }
        s->warnings[s->nwarnings++] = (RtbWarning){(RtbWarnKind)kind, rtb_strdup(message)};
    }
}

void
rtb_program_sample_from_json(RtbReader *rd, const Rtj *j, RtbSample *s)
{
    s->exit_status = rtb_rd_int(rd, j, "exit_status");
    s->stderr_tail = rtb_rd_str(rd, j, "stderr_tail");
    read_settings(rd, rtb_rd_kind(rd, j, "gc_settings", RTJ_OBJECT), &s->gc_settings);
    read_settings(rd, rtb_rd_kind(rd, j, "gc_settings_at_end", RTJ_OBJECT), &s->gc_settings_at_end);
    read_warnings(rd, rtb_rd_kind(rd, j, "warnings", RTJ_ARRAY), s);
    read_fork(rd, rtb_rd_kind(rd, j, "fork_workers", RTJ_OBJECT), &s->fork);
}

/* A list of strings into a malloc'd array; its length. */
static int
read_strings(RtbReader *rd, const Rtj *a, const char *key, char ***out)
{
    int n = (int)rtj_len(a);
    *out = rtb_xcalloc((size_t)n + 1, sizeof **out);
    for (int k = 0; k < n; k++) {
        if (!rtj_is(rtj_at(a, (size_t)k), RTJ_STRING)) {
            rtb_rd_bad(rd, key, "a list of strings");
            return k;
        }
        (*out)[k] = rtb_strdup(rtj_str(rtj_at(a, (size_t)k), ""));
    }
    return n;
}

/* config.program, freeze_after_import, fork_workers: a Python program's. */
void
rtb_program_config_from_json(RtbReader *rd, const Rtj *c, RtbRun *r)
{
    const Rtj *prog = rtb_rd_kind(rd, c, "program", RTJ_OBJECT);
    if (prog == NULL)
        return;
    r->program_kind = rtb_rd_str(rd, prog, "kind");
    r->program_target = rtb_rd_str(rd, prog, "target");
    if (r->program_kind == NULL)
        rtb_rd_bad(rd, "config.program.kind", "\"script\" or \"module\"");
    r->nargs = read_strings(rd, rtb_rd_kind(rd, prog, "args", RTJ_ARRAY), "config.program.args", &r->program_args);
    r->nfreeze = read_strings(rd, rtb_rd_kind(rd, c, "freeze_after_import", RTJ_ARRAY), "config.freeze_after_import",
                              &r->freeze);
    int64_t n = rtb_rd_int(rd, c, "fork_workers");
    r->fork_workers = n == RTB_NONE ? 0 : n;
}

