/* driver.c -- the one sample driver: run, cpython, sweep and suite all
 * measure through rtb_plan_run.
 *
 * A plan is a list of configurations, grouped into the result files they
 * belong to (one for run, cpython and sweep; one per part for the suite).
 * The driver:
 *
 *   1. checks, before any work, that nothing would be lost: an existing
 *      result needs --force, a journal of an unfinished command needs
 *      --resume (or --force, which starts over), and every path must be
 *      writable -- else exit status 2, nothing touched;
 *   2. takes samples in rounds: each round, every configuration that still
 *      needs samples gets one, in an order shuffled per round from a seed
 *      (splitmix64; recorded in the file), so that drift and bursts of load
 *      hit every configuration alike.  Configurations that are compared
 *      with each other (rtbench and its CPython twin) share a link and
 *      stop together;
 *   3. with --repeat K, stops at K per configuration; with --repeat auto,
 *      keeps a configuration in the rounds until its median's 95% interval
 *      is within --precision, never below --min (5) samples, never above
 *      --max-repeat, and stops adding rounds once --max-time is spent;
 *   4. journals each finished sample (one JSON line, fsync'd) before going
 *      on, so that after Ctrl-C, kill -9 or a reboot the same command with
 *      --resume takes exactly the samples that are missing, in the order
 *      it would have (each round's permutation depends only on the seed and
 *      the round);
 *   5. writes each result file atomically, complete or marked
 *      "complete": false, then its table and its warnings; removes the
 *      journal once every file is complete.
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "stats.h"
#include "rt/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct Driver {
    RtbPlan *p;
    RtbRun *runs;           /* one per configuration, samples in order */
    char **names;
    int64_t seq;            /* samples taken so far, journaled ones included */
    double start;
    RtbProgress pr;
    int journal_fd;
} Driver;

/* ==== plans ============================================================== */

void
rtb_plan_add_output(RtbPlan *p, const char *kind, char *path, const RtbConfig *configs, int n, bool linked)
{
    p->configs = rtb_xrealloc(p->configs, (size_t)(p->n + n) * sizeof *p->configs);
    p->link = rtb_xrealloc(p->link, (size_t)(p->n + n) * sizeof *p->link);
    for (int k = 0; k < n; k++) {
        p->configs[p->n + k] = configs[k];
        /* linked: pairs (k, k+1) share a link -- an rtbench run and its twin */
        p->link[p->n + k] = linked ? p->n + k - k % 2 : p->n + k;
    }
    p->outputs = rtb_xrealloc(p->outputs, (size_t)(p->noutputs + 1) * sizeof *p->outputs);
    p->outputs[p->noutputs++] = (RtbOutput){kind, path, p->n, n, NULL};
    p->n += n;
}

void
rtb_plan_free(RtbPlan *p)
{
    for (int k = 0; k < p->noutputs; k++) {
        free(p->outputs[k].path);
        free(p->outputs[k].git_commit);
    }
    free(p->outputs);
    free(p->configs);
    free(p->link);
    free(p->journal);
    memset(p, 0, sizeof *p);
}

bool
rtb_parse_shard(const char *s, int *index, int *count)
{
    int64_t i, n;
    const char *slash = strchr(s, '/');
    if (slash == NULL)
        return false;
    char *head = rtb_asprintf("%.*s", (int)(slash - s), s);
    bool ok = rtb_parse_int64(head, 1, &i) && rtb_parse_int64(slash + 1, 1, &n) && i <= n && n <= 1000;
    free(head);
    if (ok) {
        *index = (int)i;
        *count = (int)n;
    }
    return ok;
}

/* An estimate of a sample's time, to balance shards: CPython is several
 * times slower, the debug backend about twice, and each size parameter
 * scales the work (depth doubles it per level). */
double
rtb_config_cost(const RtbConfig *c)
{
    double cost = c->impl == RTB_IMPL_CPYTHON ? 4 : c->alloc == RT_ALLOC_DEBUG ? 2 : 1;
    for (int k = 0; k < rt_workload_nparams(c->workload); k++) {
        const RtWorkloadParam *p = &c->workload->params[k];
        if (strcmp(p->name, "depth") == 0)
            cost *= ldexp(1.0, (int)(c->params[k] - p->def));
        else if (strcmp(p->name, "seed") != 0 && p->def >= 2)
            cost *= (double)c->params[k] / (double)p->def;
    }
    return cost;
}

/* Longest-processing-time first over link groups: deterministic (ties go
 * to the lower index), so N shards run anywhere partition the plan. */
void
rtb_plan_shard(RtbPlan *p, int index, int count)
{
    double *load = rtb_xcalloc((size_t)count, sizeof *load), *cost = rtb_xcalloc((size_t)p->n, sizeof *cost);
    int *order = rtb_xcalloc((size_t)p->n, sizeof *order), *shard = rtb_xcalloc((size_t)p->n, sizeof *shard);
    int ngroups = 0;
    for (int k = 0; k < p->n; k++) {
        cost[p->link[k]] += rtb_config_cost(&p->configs[k]);
        if (p->link[k] == k)
            order[ngroups++] = k;
    }
    for (int a = 1; a < ngroups; a++)       /* by cost, descending; stable */
        for (int b = a; b > 0 && cost[order[b]] > cost[order[b - 1]]; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (int g = 0; g < ngroups; g++) {
        int best = 0;
        for (int s = 1; s < count; s++)
            best = load[s] < load[best] ? s : best;
        load[best] += cost[order[g]];
        shard[order[g]] = best;
    }
    /* Keep the shard's configurations in order; a link points at its
     * group's first configuration, which is kept with the group. */
    int kept = 0, nout = 0;
    int *new_index = order;             /* reused: old index -> new */
    for (int o = 0; o < p->noutputs; o++) {
        RtbOutput oo = p->outputs[o];
        int first = kept;
        for (int k = oo.first; k < oo.first + oo.count; k++) {
            new_index[k] = -1;
            if (shard[p->link[k]] != index - 1)
                continue;
            new_index[k] = kept;
            p->configs[kept] = p->configs[k];
            p->link[kept++] = new_index[p->link[k]];
        }
        /* Kept even when empty: merge then knows the shard ran. */
        p->outputs[nout++] = (RtbOutput){oo.kind, oo.path, first, kept - first, oo.git_commit};
    }
    p->noutputs = nout;
    p->n = kept;
    p->shard_index = index;
    p->shard_count = count;
    free(load);
    free(cost);
    free(order);
    free(shard);
}

/* ==== checks before any work ============================================== */

static bool
exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int
rtb_plan_check(RtbPlan *p)
{
    bool journal = exists(p->journal);
    if (p->resume && !journal)
        return rtb_usage_error(p->cmd, "nothing to resume: no journal at %s (the command never started there, or it "
                               "finished)", p->journal);
    if (journal && !p->resume && !p->force)
        return rtb_usage_error(p->cmd, "%s holds an unfinished measurement; add --resume to continue it, --force to "
                               "start over, or choose another --out", p->journal);
    for (int o = 0; o < p->noutputs && !p->resume && !p->force; o++)
        if (exists(p->outputs[o].path))
            return rtb_usage_error(p->cmd, "%s exists; add --force to replace it, or choose another --out",
                                   p->outputs[o].path);
    char err[1024];
    for (int o = 0; o < p->noutputs; o++)
        if (rtb_check_writable(p->outputs[o].path, false, err, sizeof err) != 0)
            return rtb_usage_error(p->cmd, "%s", err);
    return 0;
}

/* ==== the journal ======================================================== */

static int
journal_append(Driver *d, const Rtj *doc)
{
    size_t len;
    char *text = rtj_dump(doc, 0, &len);
    text = rtb_xrealloc(text, len + 1);
    text[len++] = '\n';
    bool ok = write(d->journal_fd, text, len) == (ssize_t)len && fsync(d->journal_fd) == 0;
    free(text);
    if (!ok)
        rtb_say("rtbench %s: cannot write the journal %s: %s", d->p->cmd, d->p->journal, strerror(errno));
    return ok ? 0 : -1;
}

static Rtj *
journal_header(const Driver *d)
{
    Rtj *h = rtj_object(), *names = rtj_array(), *cmd = rtj_array();
    for (int k = 0; k < d->p->n; k++)
        rtj_append(names, rtj_string(d->names[k]));
    for (int i = 0; i < d->p->argc; i++)
        rtj_append(cmd, rtj_string(d->p->argv[i]));
    rtj_set(h, "journal", rtj_string("rtbench/1"));
    rtj_set(h, "command", cmd);
    rtj_set(h, "seed", rtj_integer((int64_t)(d->p->m.seed & INT64_MAX)));
    rtj_set(h, "configs", names);
    return h;
}

static int
config_of(const Driver *d, const char *name)
{
    for (int k = 0; k < d->p->n; k++)
        if (strcmp(d->names[k], name) == 0)
            return k;
    return -1;
}

/* One line of the journal: the header (line 1) or a sample. */
static int
journal_line(Driver *d, const Rtj *doc, int lineno, char *err, size_t errlen)
{
    if (lineno == 1) {
        const Rtj *names = rtj_get(doc, "configs");
        bool same = rtj_len(names) == (size_t)d->p->n;
        for (int k = 0; same && k < d->p->n; k++)
            same = strcmp(rtj_str(rtj_at(names, (size_t)k), ""), d->names[k]) == 0;
        if (!same) {
            snprintf(err, errlen, "the journal %s belongs to another command (its configurations differ); rerun its "
                                  "own command, or choose another --out", d->p->journal);
            return -1;
        }
        d->p->m.seed = (uint64_t)rtj_int(rtj_get(doc, "seed"), 0);
        return 0;
    }
    int k = config_of(d, rtj_str(rtj_get(doc, "config"), ""));
    if (k < 0)
        return 0;
    RtbSample *s = rtb_run_add_sample(&d->runs[k]);
    int index = s->index;
    if (!rtb_sample_from_json(rtj_get(doc, "sample"), s, err, errlen)) {
        d->runs[k].nsamples--;
        rtb_sample_free(s);
        return -1;
    }
    s->index = index;
    d->seq = s->seq + 1 > d->seq ? s->seq + 1 : d->seq;
    return 1;
}

static int
journal_load(Driver *d, char *err, size_t errlen)
{
    FILE *f = fopen(d->p->journal, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read the journal %s: %s", d->p->journal, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, kept = 0, status = 0;
    while (status == 0 && (len = getline(&line, &cap, f)) > 0) {
        char why[200];
        Rtj *doc = rtj_parse(line, (size_t)len, why, sizeof why);
        lineno++;
        if (doc == NULL) {
            if (fgetc(f) == EOF && lineno > 1) {
                rtb_say("rtbench %s: ignoring a truncated last line in the journal (killed while writing it)", d->p->cmd);
            } else {
                snprintf(err, errlen, "%s: line %d is corrupt (%s)", d->p->journal, lineno, why);
                status = -1;
            }
            break;
        }
        int r = journal_line(d, doc, lineno, err, errlen);
        rtj_free(doc);
        if (r < 0)
            status = -1;
        kept += r > 0;
    }
    free(line);
    fclose(f);
    if (status == 0)
        rtb_say("rtbench %s: resuming: %d sample(s) already done", d->p->cmd, kept);
    return status;
}

/* ==== scheduling ========================================================= */

/* The permutation of every configuration for one round: a function of the
 * seed and the round alone (Fisher-Yates). */
static void
round_order(uint64_t seed, int round, int *perm, int n)
{
    uint64_t state = seed ^ (0x5851f42d4c957f2dULL * (uint64_t)(round + 1));
    for (int k = 0; k < n; k++)
        perm[k] = k;
    for (int k = n - 1; k > 0; k--) {
        int j = (int)(rtb_splitmix64(&state) % (uint64_t)(k + 1));
        int t = perm[k];
        perm[k] = perm[j];
        perm[j] = t;
    }
}

/* The figure --repeat auto judges: the instruction count when counting,
 * else the workload's wall time; NAN when the sample has none. */
static double
judged(const RtbMeasure *m, const RtbSample *s)
{
    if (s->status != RTB_OK)
        return NAN;
    if (m->counter != RTB_COUNTER_NONE)
        return s->instructions == RTB_NONE ? NAN : (double)s->instructions;
    return s->wall_s;
}

/* Does configuration k want another sample, on its own account? */
static bool
wants(const Driver *d, int k, bool budget_left)
{
    const RtbMeasure *m = &d->p->m;
    const RtbRun *r = &d->runs[k];
    int n = (int)r->nsamples;
    if (!m->auto_repeat)
        return n < m->repeat;
    if (n < m->min_repeat)
        return true;
    if (n >= m->max_repeat || !budget_left)
        return false;
    size_t ok = rtb_run_ok(r);
    if (ok * 2 < r->nsamples)           /* failing: more samples will not help */
        return false;
    double *v = rtb_xcalloc(r->nsamples + 1, sizeof *v);
    size_t nv = 0;
    for (size_t i = 0; i < r->nsamples; i++)
        if (isfinite(judged(m, &r->samples[i])))
            v[nv++] = judged(m, &r->samples[i]);
    RtbStat st = {(int)nv, rtb_median(v, nv), NAN, NAN, NAN, NAN, NAN, NAN};
    if (nv >= 2)
        rtb_median_ci(v, nv, 0.95, &st.ci_low, &st.ci_high);
    free(v);
    return rtb_stat_precision(&st) > m->precision;
}

/* Which configurations take part in the next round (linked ones together,
 * up to their own maximum); returns how many. */
static int
next_round(const Driver *d, bool *active)
{
    const RtbMeasure *m = &d->p->m;
    bool budget_left = m->max_time_s <= 0 || rt_monotonic_s() - d->start < m->max_time_s;
    int n = d->p->n, count = 0;
    for (int k = 0; k < n; k++)
        active[k] = false;
    for (int k = 0; k < n; k++)
        if (wants(d, k, budget_left))
            active[d->p->link[k]] = true;
    for (int k = 0; k < n; k++) {
        int cap = m->auto_repeat ? m->max_repeat : m->repeat;
        active[k] = active[d->p->link[k]] && (int)d->runs[k].nsamples < cap;
        count += active[k];
    }
    return count;
}

static int
planned_total(const Driver *d)
{
    const RtbMeasure *m = &d->p->m;
    int total = 0, want = m->auto_repeat ? m->min_repeat : m->repeat;
    for (int k = 0; k < d->p->n; k++)
        total += (int)d->runs[k].nsamples > want ? (int)d->runs[k].nsamples : want;
    return total;
}

static int
taken(const Driver *d)
{
    int n = 0;
    for (int k = 0; k < d->p->n; k++)
        n += (int)d->runs[k].nsamples;
    return n;
}

static void
label(const Driver *d, int k, int round, bool warm, char *buf, size_t n)
{
    const char *name = d->names[k] + strlen(d->p->configs[k].workload->name) + 1;
    const char *t0 = strstr(name, "t0:");
    snprintf(buf, n, "%s %s%d %s %s", d->p->configs[k].workload->name, warm ? "warmup " : "r", round + 1,
             t0 ? t0 : name, d->p->configs[k].impl == RTB_IMPL_CPYTHON ? "" : "");
}

/* Take one sample of configuration k; false when the command must stop. */
static bool
take(Driver *d, int k, int round)
{
    char text[200];
    label(d, k, round, false, text, sizeof text);
    rtb_progress_update(&d->pr, taken(d), planned_total(d), text);
    RtbRun *r = &d->runs[k];
    RtbSample *s = rtb_run_add_sample(r);
    int index = s->index;
    rtb_run_sample(&d->p->configs[k], &d->p->m, s);
    if (s->status == RTB_INTERRUPTED || rtb_interrupted) {
        r->nsamples--;
        rtb_sample_free(s);
        return false;
    }
    s->index = index;
    s->round = round;
    s->seq = d->seq++;
    Rtj *line = rtj_object();
    rtj_set(line, "config", rtj_string(d->names[k]));
    rtj_set(line, "sample", rtb_sample_to_json(s, false));
    int w = journal_append(d, line);
    rtj_free(line);
    return w == 0;
}

static bool
warm_up(Driver *d, int *perm)
{
    for (int w = 0; w < d->p->m.warmup; w++) {
        round_order(d->p->m.seed ^ 0xabcdefULL, w, perm, d->p->n);
        for (int i = 0; i < d->p->n; i++) {
            char text[200];
            label(d, perm[i], w, true, text, sizeof text);
            rtb_progress_update(&d->pr, 0, planned_total(d), text);
            RtbSample s;
            rtb_sample_init(&s);
            rtb_run_sample(&d->p->configs[perm[i]], &d->p->m, &s);
            rtb_sample_free(&s);
            if (rtb_interrupted)
                return false;
        }
    }
    return true;
}

static bool
take_rounds(Driver *d)
{
    int n = d->p->n;
    int *perm = rtb_xcalloc((size_t)n, sizeof *perm);
    bool *active = rtb_xcalloc((size_t)n, sizeof *active);
    bool ok = d->seq > 0 || warm_up(d, perm);
    while (ok && next_round(d, active) > 0) {
        int round = -1;                 /* the least-sampled active configuration's count */
        for (int k = 0; k < n; k++)
            if (active[k] && (round < 0 || (int)d->runs[k].nsamples < round))
                round = (int)d->runs[k].nsamples;
        round_order(d->p->m.seed, round, perm, n);
        for (int i = 0; ok && i < n; i++) {
            int k = perm[i];
            if (active[k] && (int)d->runs[k].nsamples == round)
                ok = take(d, k, round);
        }
    }
    free(perm);
    free(active);
    return ok && !rtb_interrupted;
}

/* ==== writing ============================================================ */

static void
fill_result(const Driver *d, const RtbOutput *o, RtbResult *res, bool finished)
{
    const RtbPlan *p = d->p;
    rtb_result_init(res, o->kind, p->argc, p->argv);
    res->complete = finished;
    if (o->git_commit != NULL) {
        free(res->machine.git_commit);
        res->machine.git_commit = rtb_strdup(o->git_commit);
    }
    res->nenv = p->env.n;
    res->env = rtb_xcalloc((size_t)p->env.n + 1, sizeof *res->env);
    for (int i = 0; i < p->env.n; i++)
        res->env[i] = (RtbEnvVar){rtb_strdup(p->env.vars[i].name), rtb_strdup(p->env.vars[i].value)};
    res->cpu_list = rtb_strdup(p->m.cpu_list);
    res->shard_index = p->shard_index;
    res->shard_count = p->shard_count;
    RtbSchedule *sc = &res->schedule;
    sc->seed = p->m.seed;
    sc->interleaved = p->n > 1;
    sc->auto_repeat = p->m.auto_repeat;
    sc->precision = p->m.precision;
    sc->min_repeat = p->m.auto_repeat ? p->m.min_repeat : p->m.repeat;
    sc->max_repeat = p->m.auto_repeat ? p->m.max_repeat : p->m.repeat;
    sc->max_time_s = p->m.auto_repeat ? p->m.max_time_s : 0;
    size_t total = 0;
    for (int k = o->first; k < o->first + o->count; k++)
        total += d->runs[k].nsamples;
    sc->order = rtb_xcalloc(total + 1, sizeof *sc->order);
    /* Every sample of this file, in the order taken (by seq). */
    for (int64_t seq = 0; seq < d->seq && sc->norder < total; seq++)
        for (int k = o->first; k < o->first + o->count; k++)
            for (size_t i = 0; i < d->runs[k].nsamples; i++)
                if (d->runs[k].samples[i].seq == seq)
                    sc->order[sc->norder++] = (RtbOrder){k - o->first, (int)i};
    for (int k = o->first; k < o->first + o->count; k++) {
        RtbRun *r = rtb_result_add_run(res);
        *r = d->runs[k];                /* moved: the driver's copy is cleared */
        memset(&d->runs[k], 0, sizeof d->runs[k]);
        rtb_run_summarize(r, res);
    }
}

static void
init_runs(Driver *d)
{
    const RtbPlan *p = d->p;
    d->runs = rtb_xcalloc((size_t)p->n + 1, sizeof *d->runs);
    d->names = rtb_xcalloc((size_t)p->n + 1, sizeof *d->names);
    for (int k = 0; k < p->n; k++) {
        const RtbConfig *c = &p->configs[k];
        RtbRun *r = &d->runs[k];
        r->name = rtb_config_name(c);
        /* The journal's name: a baseline's configuration has the same name
         * as its head twin in the result files (compare pairs on it). */
        d->names[k] = c->build ? rtb_asprintf("baseline:%s", r->name) : rtb_strdup(r->name);
        r->workload = rtb_strdup(c->workload->name);
        r->cpython = c->impl == RTB_IMPL_CPYTHON;
        r->nparams = rt_workload_nparams(c->workload);
        for (int i = 0; i < r->nparams; i++)
            r->params[i] = (RtbParam){rtb_strdup(c->workload->params[i].name), c->params[i]};
        memcpy(r->threshold, c->threshold, sizeof r->threshold);
        r->gc = c->gc;
        r->rc = r->cpython ? NULL : rtb_strdup(rtb_rc_name(c->rc));
        r->alloc = r->cpython ? NULL : rtb_strdup(rt_alloc_name(c->alloc));
        r->arena_decay_ms = r->cpython ? RTB_NONE : c->arena_decay_ms;
        r->python = r->cpython ? rtb_strdup(c->python) : NULL;
        r->gc_timing = c->gc_timing;
        r->gc_parallel = r->cpython || c->rc == RTB_RC_NONATOMIC ? -1 : c->gc_parallel;
        if (c->program != NULL)
            rtb_program_to_run(c, r);
        r->repeat = p->m.auto_repeat ? p->m.min_repeat : p->m.repeat;
    }
}

static int
open_journal(Driver *d)
{
    char err[1024];
    RtbPlan *p = d->p;
    if (!p->resume && p->force)
        unlink(p->journal);
    if (p->resume && journal_load(d, err, sizeof err) != 0) {
        rtb_say("rtbench %s: %s", p->cmd, err);
        return RTB_EXIT_USAGE;
    }
    d->journal_fd = open(p->journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (d->journal_fd < 0) {
        rtb_say("rtbench %s: cannot write the journal %s: %s", p->cmd, p->journal, strerror(errno));
        return 1;
    }
    if (!p->resume) {
        Rtj *h = journal_header(d);
        int r = journal_append(d, h);
        rtj_free(h);
        if (r != 0)
            return 1;
    }
    return 0;
}

int
rtb_plan_run(RtbPlan *p, RtbDriveStatus *st)
{
    Driver d = {.p = p, .journal_fd = -1};
    memset(st, 0, sizeof *st);
    if (!p->m.seed_given && !p->resume) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        p->m.seed = ((uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid()) & INT64_MAX;
    }
    init_runs(&d);
    int status = open_journal(&d);
    if (status == 0) {
        rtb_install_signal_handlers();
        d.start = rt_monotonic_s();
        rtb_progress_start(&d.pr, p->cmd, planned_total(&d), p->m.quiet, p->m.heartbeat_s);
        d.pr.budget_s = p->m.auto_repeat ? p->m.max_time_s : 0;
        st->finished = take_rounds(&d);
        rtb_progress_end(&d.pr);
        for (int o = 0; o < p->noutputs; o++) {
            RtbResult res;
            char err[1024];
            fill_result(&d, &p->outputs[o], &res, st->finished);
            for (size_t k = 0; k < res.nruns; k++)
                st->failures += rtb_run_ok(&res.runs[k]) != res.runs[k].nsamples;
            if (rtb_result_write(p->outputs[o].path, &res, err, sizeof err) != 0) {
                rtb_say("rtbench %s: %s", p->cmd, err);
                st->write_errors++;
            }
            if (!p->quiet_tables)
                rtb_print_summary(&res, stdout);
            rtb_print_warnings(&res);
            rtb_result_free(&res);
        }
        if (st->finished && st->write_errors == 0)
            unlink(p->journal);
        status = st->write_errors ? 1 : !st->finished ? RTB_EXIT_INTERRUPTED : st->failures ? 1 : 0;
    }
    if (d.journal_fd >= 0)
        close(d.journal_fd);
    for (int k = 0; k < p->n; k++) {
        rtb_run_free(&d.runs[k]);
        free(d.names[k]);
    }
    free(d.runs);
    free(d.names);
    return status;
}
