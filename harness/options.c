/* options.c -- the command line: one getopt_long table per command (the
 * workload's parameters added at run time), the options that fix
 * configurations and how they are measured, the RT_* environment, and the
 * cross product of a sweep's axes.
 *
 * Every error is one line naming what was wrong and what is accepted, and
 * the command exits with status 2 before any work starts (nothing written).
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The plots tell a run at the default decay by results/schema.json's
 * default; the runtime keeps its own, and the two must agree. */
#if RTB_DEFAULT_ARENA_DECAY_MS != RT_ARENA_DECAY_DEFAULT_MS
#error "results/schema.json's x-rtbench-defaults.arena_decay_ms differs from RT_ARENA_DECAY_DEFAULT_MS"
#endif

int
rtb_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = rtb_vasprintf(fmt, ap);
    va_end(ap);
    rtb_say("rtbench %s: %s (see 'rtbench %s --help')", cmd, msg, cmd);
    free(msg);
    return RTB_EXIT_USAGE;
}

bool
rtb_parse_int64(const char *s, int64_t min, int64_t *out)
{
    if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min)
        return false;
    *out = v;
    return true;
}

bool
rtb_parse_double(const char *s, double min, double *out)
{
    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || v < min)
        return false;
    *out = v;
    return true;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* FROM:TO:logN -- N points from FROM to TO, evenly spaced in log scale,
 * rounded to integers, appended to out; the count added or -1. */
static int
parse_log_range(const char *s, int64_t min, int64_t *out, int room)
{
    char buf[128];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    char *b = strchr(buf, ':'), *c = b ? strchr(b + 1, ':') : NULL;
    if (b == NULL || c == NULL || strncmp(c + 1, "log", 3) != 0)
        return -1;
    *b = *c = '\0';
    int64_t from, to, n;
    if (!rtb_parse_int64(buf, min, &from) || !rtb_parse_int64(b + 1, min, &to) || !rtb_parse_int64(c + 4, 1, &n)
        || from <= 0 || to < from || n > room)
        return -1;
    for (int64_t k = 0; k < n; k++) {
        double t = n == 1 ? 0 : (double)k / (double)(n - 1);
        out[k] = (int64_t)llround(exp(log((double)from) + t * (log((double)to) - log((double)from))));
    }
    return (int)n;
}

int
rtb_parse_list(const char *s, int64_t min, int64_t *out, int max)
{
    size_t len = strlen(s);
    if (len == 0 || s[0] == ',' || s[len - 1] == ',' || strstr(s, ",,") != NULL)
        return -1;
    char *buf = rtb_strdup(s);
    int count = 0;
    int64_t *tmp = rtb_xcalloc((size_t)max + 64, sizeof *tmp);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && count >= 0; tok = strtok_r(NULL, ",", &save)) {
        if (strchr(tok, ':') != NULL) {
            int n = parse_log_range(tok, min, tmp + count, max + 63 - count);
            count = n < 0 ? -1 : count + n;
        } else if (count < max + 63 && rtb_parse_int64(tok, min, &tmp[count])) {
            count++;
        } else {
            count = -1;
        }
    }
    free(buf);
    int unique = 0;
    if (count > 0) {
        /* Sorted and unique: axes read in order. */
        qsort(tmp, (size_t)count, sizeof *tmp, cmp_i64);
        for (int k = 0; k < count; k++)
            if (unique == 0 || tmp[unique - 1] != tmp[k])
                tmp[unique++] = tmp[k];
    }
    if (count > 0 && unique <= max)
        memcpy(out, tmp, (size_t)unique * sizeof *tmp);
    free(tmp);
    return count > 0 && unique <= max ? unique : -1;
}

const char *
rtb_rc_name(RtbRc rc)
{
    return rc == RTB_RC_ATOMIC ? "atomic" : rc == RTB_RC_BIASED ? "biased" : "nonatomic";
}

bool
rtb_parse_gc_parallel(const char *s, int *generation)
{
    int g;
    if (rt_parse_gc_parallel(s, &g) != 0 || strcmp(s, rt_gc_parallel_name(g)) != 0)
        return false;
    *generation = g;
    return true;
}

/* The worker binary of a variant, beside rtbench. */
const char *
rtb_rc_binary(RtbRc rc)
{
    return rc == RTB_RC_ATOMIC ? "rtbench-atomic" : rc == RTB_RC_BIASED ? "rtbench-biased" : "rtbench";
}

bool
rtb_parse_rc(const char *s, RtbRc *rc)
{
    if (strcmp(s, "nonatomic") == 0)
        *rc = RTB_RC_NONATOMIC;
    else if (strcmp(s, "atomic") == 0)
        *rc = RTB_RC_ATOMIC;
    else if (strcmp(s, "biased") == 0)
        *rc = RTB_RC_BIASED;
    else
        return false;
    return true;
}

/* ==== configurations ==================================================== */

int
rtb_param_index(const RtWorkload *w, const char *name)
{
    for (int p = 0; p < rt_workload_nparams(w); p++)
        if (strcmp(w->params[p].name, name) == 0)
            return p;
    return -1;
}

void
rtb_config_defaults(RtbConfig *c, const RtWorkload *w)
{
    memset(c, 0, sizeof *c);
    c->workload = w;
    for (int p = 0; p < rt_workload_nparams(w); p++)
        c->params[p] = w->params[p].def;
    static const long def[3] = {RTB_DEFAULT_T0, RTB_DEFAULT_T1, RTB_DEFAULT_T2};
    memcpy(c->threshold, def, sizeof def);
    c->gc = true;
    c->rc = RTB_RC_NONATOMIC;
    c->alloc = RT_ALLOC_POOL;
    c->arena_decay_ms = RT_ARENA_DECAY_DEFAULT_MS;
    c->python = RTB_DEFAULT_PYTHON;
    c->gc_timing = true;
    c->gc_parallel = RTB_DEFAULT_GC_PARALLEL;
}

char *
rtb_config_name(const RtbConfig *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return rtb_xmalloc(SIZE_MAX);   /* reports out of memory */
    fputs(c->workload->name, f);
    for (int p = 0; p < rt_workload_nparams(c->workload); p++)
        fprintf(f, "/%s:%lld", c->workload->params[p].name, (long long)c->params[p]);
    fprintf(f, "/t0:%ld/t1:%ld/t2:%ld/gc:%s", c->threshold[0], c->threshold[1], c->threshold[2],
            c->gc ? "on" : "off");
    if (c->impl == RTB_IMPL_CPYTHON)
        fputs("/impl:cpython", f);
    else
        fprintf(f, "/rc:%s/alloc:%s", rtb_rc_name(c->rc), rt_alloc_name(c->alloc));
    /* Parts that are there only when they say something, so that the
     * names of the common case stay as they were. */
    if (c->program != NULL && c->program->freeze != NULL)
        fprintf(f, "/freeze:%s", c->freeze ? "on" : "off");
    if (!c->gc_timing)
        fputs("/timing:off", f);
    if (c->python_label != NULL)
        fprintf(f, "/python:%s", c->python_label);
    if (c->impl != RTB_IMPL_CPYTHON && c->arena_decay_ms != RT_ARENA_DECAY_DEFAULT_MS)
        fprintf(f, "/decay:%lld", (long long)c->arena_decay_ms);
    if (c->impl != RTB_IMPL_CPYTHON && c->rc != RTB_RC_NONATOMIC && c->gc_parallel != RTB_DEFAULT_GC_PARALLEL)
        fprintf(f, "/parallel:%s", rt_gc_parallel_name(c->gc_parallel));
    fclose(f);
    return buf;
}

void
rtb_measure_defaults(RtbMeasure *m)
{
    memset(m, 0, sizeof *m);
    m->repeat = 5;
    m->precision = RTB_DEFAULT_PRECISION;
    m->min_repeat = RTB_DEFAULT_MIN_REPEAT;
    m->max_repeat = RTB_DEFAULT_MAX_REPEAT;
    m->rss_interval_s = 0.005;
    m->heartbeat_s = 30;
}

void
rtb_axes_init(RtbAxes *ax, const RtWorkload *w, RtbImpl impl)
{
    memset(ax, 0, sizeof *ax);
    if (w != NULL)
        rtb_config_defaults(&ax->base, w);
    ax->base.impl = impl;
    ax->base.python = RTB_DEFAULT_PYTHON;
    ax->base.gc_timing = true;
    ax->base.gc_parallel = RTB_DEFAULT_GC_PARALLEL;
}

void
rtb_axes_free(RtbAxes *ax)
{
    for (int k = 0; k < ax->npython; k++) {
        free((char *)ax->python[k]);
        free(ax->python_label[k]);
    }
    ax->npython = 0;
}

bool
rtb_asks_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* ==== getopt_long ======================================================== */

int
rtb_getopt(RtbGetopt *g, const RtbOptDef *defs, const RtWorkload *w)
{
    if (g->table == NULL) {
        size_t nd = 0, np = w ? (size_t)rt_workload_nparams(w) : 0;
        while (defs[nd].name != NULL)
            nd++;
        g->table = rtb_xcalloc(nd + np + 2, sizeof *g->table);
        for (size_t k = 0; k < nd; k++)
            g->table[k] = (struct option){defs[k].name, defs[k].has_arg ? required_argument : no_argument, NULL, defs[k].id};
        for (size_t p = 0; p < np; p++)
            g->table[nd + p] = (struct option){w->params[p].name, required_argument, NULL, RTB_OPT_PARAM + (int)p};
        g->table[nd + np] = (struct option){"help", no_argument, NULL, RTB_OPT_HELP};
        optind = 0;             /* GNU: start afresh */
        opterr = 0;
    }
    g->value = g->positional = NULL;
    g->id = 0;
    int c = getopt_long(g->argc, g->argv, "-:h", g->table, NULL);
    const char *arg = optind > 0 && optind <= g->argc ? g->argv[optind - 1] : "?";
    switch (c) {
    case -1:
        return 0;
    case 1:
        g->positional = optarg;
        return 1;
    case 'h':
        g->id = RTB_OPT_HELP;
        return 1;
    case ':':
        return rtb_usage_error(g->cmd, "%s needs a value", arg);
    case '?':
        if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') == NULL)
            return rtb_usage_error(g->cmd, "unknown option '%s'", arg);
        return rtb_usage_error(g->cmd, "unknown option '%s'", arg);
    default:
        g->id = c;
        g->value = optarg;
        return 1;
    }
}

void
rtb_getopt_free(RtbGetopt *g)
{
    free(g->table);
    g->table = NULL;
}

/* ==== the shared options ================================================= */

static bool
parse_on_off(const char *s, bool *out)
{
    if (strcmp(s, "on") == 0)
        *out = true;
    else if (strcmp(s, "off") == 0)
        *out = false;
    else
        return false;
    return true;
}

static int
threshold_axis(RtbAxes *ax, const char *cmd, int id, const char *val, bool lists)
{
    if (id == RTB_OPT_THRESHOLD) {
        long t[3];
        int n = rt_parse_threshold(val, t);
        if (n < 0)
            return rtb_usage_error(cmd, "--threshold expects T0[,T1[,T2]], non-negative integers; got '%s'", val);
        for (int i = 0; i < n; i++) {
            ax->base.threshold[i] = t[i];
            ax->threshold_set[i] = true;
        }
        return 1;
    }
    int gen = id - RTB_OPT_THRESHOLD0;
    int64_t *dst = gen == 0 ? ax->t0 : gen == 1 ? ax->t1 : ax->t2;
    int *n = gen == 0 ? &ax->nt0 : gen == 1 ? &ax->nt1 : &ax->nt2;
    int count = rtb_parse_list(val, 0, dst, 64);
    if (count < 0 || (!lists && count != 1))
        return rtb_usage_error(cmd, "--threshold%d expects %s; got '%s'", gen,
                               lists ? "values and log ranges, e.g. 100:100000:log4,700 (up to 64 values, >= 0)"
                                     : "one non-negative integer", val);
    *n = count;
    return 1;
}

static int
enum_axis(RtbAxes *ax, const char *cmd, int id, const char *val, bool lists)
{
    const char *opt = id == RTB_OPT_RC ? "--rc" : id == RTB_OPT_ALLOC ? "--alloc" : id == RTB_OPT_FREEZE ? "--freeze"
                      : id == RTB_OPT_GC_TIMING ? "--gc-timing" : "--gc";
    bool *onoff = id == RTB_OPT_FREEZE ? ax->freeze : id == RTB_OPT_GC_TIMING ? ax->timing : ax->gc;
    int *nonoff = id == RTB_OPT_FREEZE ? &ax->nfreeze : id == RTB_OPT_GC_TIMING ? &ax->ntiming : &ax->ngc;
    char *buf = rtb_strdup(val);
    int n = 0, status = 1;
    size_t len = strlen(val);
    if (len == 0 || val[0] == ',' || val[len - 1] == ',' || strstr(val, ",,"))
        status = rtb_usage_error(cmd, "%s expects %s; got '%s'", opt, lists ? "a comma-separated list" : "one value", val);
    for (char *save = NULL, *it = status == 1 ? strtok_r(buf, ",", &save) : NULL; it; it = strtok_r(NULL, ",", &save)) {
        if (++n > 1 && !lists) {
            status = rtb_usage_error(cmd, "%s expects one value (a list is for 'rtbench sweep'); got '%s'", opt, val);
        } else if (id == RTB_OPT_RC) {
            if (!rtb_parse_rc(it, &ax->rc[ax->nrc < RTB_RC_COUNT ? ax->nrc : RTB_RC_COUNT - 1]))
                status = rtb_usage_error(cmd, "unknown refcount variant '%s' (accepted: nonatomic, atomic, biased)", it);
            else if (ax->nrc < RTB_RC_COUNT)
                ax->nrc++;
        } else if (id == RTB_OPT_ALLOC) {
            RtAllocKind kind;
            if (rt_alloc_parse(it, &kind) != 0)
                status = rtb_usage_error(cmd, "unknown allocator backend '%s' (accepted: pool, malloc, debug, mimalloc, jemalloc)", it);
            else if (!rt_alloc_available(kind))
                status = rtb_usage_error(cmd, "allocator backend '%s' is not available: %s", it, rt_alloc_unavailable_reason(kind));
            else if (ax->nalloc < RT_ALLOC_KIND_COUNT)
                ax->alloc[ax->nalloc++] = kind;
        } else if (!parse_on_off(it, &onoff[*nonoff < 2 ? *nonoff : 1])) {
            status = rtb_usage_error(cmd, "%s expects on or off; got '%s'", opt, it);
        } else if (*nonoff < 2 && (*nonoff == 0 || onoff[0] != onoff[1])) {
            (*nonoff)++;
        }
        if (status != 1)
            break;
    }
    free(buf);
    return status;
}

static int
param_axis(RtbAxes *ax, const char *cmd, int p, const char *val, bool lists)
{
    const RtWorkload *w = ax->base.workload;
    int64_t min = w->params[p].min, max = w->params[p].max;
    const char *what = lists ? "an integer or a list of integers" : "an integer";
    int n = rtb_parse_list(val, min, ax->pvals[p], lists ? 64 : 1);
    if (n < 0 || (!lists && n != 1))
        return rtb_usage_error(cmd, "--%s expects %s >= %lld; got '%s'", w->params[p].name, what, (long long)min, val);
    for (int k = 0; k < n && max > 0; k++)
        if (ax->pvals[p][k] > max)
            return rtb_usage_error(cmd, "--%s expects %s from %lld to %lld; got '%s'", w->params[p].name, what,
                                   (long long)min, (long long)max, val);
    ax->npvals[p] = n;
    ax->base.params[p] = ax->pvals[p][0];
    return 1;
}

/* --arena-decay MS (a list for sweep): the pool's RT_ARENA_DECAY_MS. */
static int
decay_axis(RtbAxes *ax, const char *cmd, const char *val, bool lists)
{
    int n = rtb_parse_list(val, 0, ax->decay, lists ? 64 : 1);
    if (n < 0 || (!lists && n != 1) || ax->decay[n - 1] > RT_ARENA_DECAY_MAX_MS)
        return rtb_usage_error(cmd, "--arena-decay expects %s from 0 to %d (milliseconds); got '%s'",
                               lists ? "an integer or a list of integers" : "an integer", RT_ARENA_DECAY_MAX_MS, val);
    ax->ndecay = n;
    ax->base.arena_decay_ms = ax->decay[0];
    return 1;
}

/* "0,2-3" -> {0, 2, 3}; each an online CPU of this machine. */
static int
cpu_list(RtbMeasure *m, const char *cmd, const char *val)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    char *buf = rtb_strdup(val);
    int status = 1;
    m->ncpus = 0;
    for (char *save = NULL, *it = strtok_r(buf, ",", &save); it && status == 1; it = strtok_r(NULL, ",", &save)) {
        int64_t a, b;
        char *dash = strchr(it, '-');
        if (dash)
            *dash = '\0';
        if (!rtb_parse_int64(it, 0, &a) || !rtb_parse_int64(dash ? dash + 1 : it, a, &b) || b >= online)
            status = rtb_usage_error(cmd, "--cpu expects CPUs of this machine (0 to %ld) as a list like 0,2-3; got '%s'",
                                     online - 1, val);
        for (int64_t c = a; status == 1 && c <= b && m->ncpus < RTB_MAX_CPUS; c++)
            m->cpus[m->ncpus++] = (int)c;
    }
    free(buf);
    if (status == 1 && m->ncpus == 0)
        status = rtb_usage_error(cmd, "--cpu expects a list like 0,2-3; got '%s'", val);
    m->cpu_list = val;
    return status;
}

/* --metric time|instructions: instructions need a counter on this machine
 * (counter.h), probed once here so that a command without one is refused
 * before any work. */
static int
apply_metric(RtbMeasure *m, const char *cmd, const char *val)
{
    if (strcmp(val, "time") == 0) {
        m->counter = RTB_COUNTER_NONE;
        return 1;
    }
    if (strcmp(val, "instructions") != 0)
        return rtb_usage_error(cmd, "--metric expects time or instructions; got '%s'", val);
    RtbCounterProbe probe;
    rtb_counter_probe(&probe);
    if (probe.best == RTB_COUNTER_NONE)
        return rtb_usage_error(cmd, "--metric instructions: no counter here (%s; and no valgrind: apt-get install "
                               "valgrind)", probe.perf_why);
    m->counter = probe.best;
    return 1;
}

static int
apply_repeat(RtbMeasure *m, const char *cmd, const char *val)
{
    int64_t v;
    if (strcmp(val, "auto") == 0) {
        m->auto_repeat = true;
        return 1;
    }
    if (!rtb_parse_int64(val, 1, &v) || v > 100000)
        return rtb_usage_error(cmd, "--repeat expects 'auto' or an integer from 1 to 100000; got '%s'", val);
    m->auto_repeat = false;
    m->repeat = (int)v;
    return 1;
}

/* --freeze-after-import M1,M2 and --fork-workers N: a program's. */
static int
program_option(RtbAxes *ax, const char *cmd, int id, const char *v)
{
    const char *opt = id == RTB_OPT_FORK_WORKERS ? "--fork-workers" : "--freeze-after-import";
    if (ax->program == NULL)
        return rtb_usage_error(cmd, "%s applies to a Python program (--script PATH or -m MODULE), not to a "
                               "workload", opt);
    int64_t n;
    if (id == RTB_OPT_FORK_WORKERS) {
        if (!rtb_parse_int64(v, 1, &n) || n > 1024)
            return rtb_usage_error(cmd, "--fork-workers expects a number of workers from 1 to 1024; got '%s'", v);
        ax->program->fork_workers = (int)n;
        return 1;
    }
    char *copy = rtb_strdup(v);
    bool ok = *v != '\0';
    for (char *save = NULL, *it = strtok_r(copy, ",", &save); it && ok; it = strtok_r(NULL, ",", &save))
        ok = rtb_module_name_ok(it);
    free(copy);
    if (!ok || v[strlen(v) - 1] == ',' || v[0] == ',' || strstr(v, ",,"))
        return rtb_usage_error(cmd, "--freeze-after-import expects module names separated by commas "
                               "(json,email.parser); got '%s'", v);
    ax->program->freeze = v;
    return 1;
}

/* --python PATH|NAME, or a list of them (sweep: interpreters compared). */
static int
python_axis(RtbAxes *ax, const char *cmd, const char *v, bool lists)
{
    rtb_axes_free(ax);
    ax->base.python = v;        /* the one interpreter of run and cpython */
    if (!lists || strchr(v, ',') == NULL) {
        ax->python[ax->npython++] = rtb_strdup(v);
        return 1;
    }
    char *copy = rtb_strdup(v);
    int status = 1;
    for (char *save = NULL, *it = strtok_r(copy, ",", &save); it && status == 1; it = strtok_r(NULL, ",", &save)) {
        if (ax->npython == RTB_MAX_PYTHONS)
            status = rtb_usage_error(cmd, "--python takes at most %d interpreters; got '%s'", RTB_MAX_PYTHONS, v);
        else
            ax->python[ax->npython++] = rtb_strdup(it);
    }
    free(copy);
    return status;
}

int
rtb_apply_option(const RtbGetopt *g, RtbAxes *ax, RtbMeasure *m, bool lists)
{
    const char *cmd = g->cmd, *v = g->value;
    int64_t i;
    double d;
    if (g->id >= RTB_OPT_PARAM)
        return param_axis(ax, cmd, g->id - RTB_OPT_PARAM, v, lists);
    switch (g->id) {
    case RTB_OPT_THRESHOLD: case RTB_OPT_THRESHOLD0: case RTB_OPT_THRESHOLD1: case RTB_OPT_THRESHOLD2:
        return threshold_axis(ax, cmd, g->id, v, lists);
    case RTB_OPT_RC: case RTB_OPT_ALLOC: case RTB_OPT_GC: case RTB_OPT_FREEZE: case RTB_OPT_GC_TIMING:
        return enum_axis(ax, cmd, g->id, v, lists);
    case RTB_OPT_FREEZE_AFTER_IMPORT: case RTB_OPT_FORK_WORKERS:
        return program_option(ax, cmd, g->id, v);
    case RTB_OPT_ARENA_DECAY:
        return decay_axis(ax, cmd, v, lists);
    case RTB_OPT_REPEAT:
        return apply_repeat(m, cmd, v);
    case RTB_OPT_METRIC:
        return apply_metric(m, cmd, v);
    case RTB_OPT_WARMUP:
        if (!rtb_parse_int64(v, 0, &i) || i > 100)
            return rtb_usage_error(cmd, "--warmup expects an integer from 0 to 100; got '%s'", v);
        m->warmup = (int)i;
        return 1;
    case RTB_OPT_RSS_INTERVAL:
        if (!rtb_parse_double(v, 0, &d))
            return rtb_usage_error(cmd, "--rss-interval expects milliseconds >= 0 (0: no timeline); got '%s'", v);
        m->rss_interval_s = d / 1000.0;
        return 1;
    case RTB_OPT_NO_RSS: m->rss_interval_s = 0; return 1;
    case RTB_OPT_NO_GC_TIMING: ax->base.gc_timing = false; return 1;
    case RTB_OPT_QUIET: m->quiet = true; return 1;
    case RTB_OPT_TIMEOUT:
        if (!rtb_parse_double(v, 0, &d))
            return rtb_usage_error(cmd, "--timeout expects seconds >= 0 (0: none); got '%s'", v);
        m->timeout_s = d;
        return 1;
    case RTB_OPT_HEARTBEAT:
        if (!rtb_parse_double(v, 0, &d))
            return rtb_usage_error(cmd, "--heartbeat expects seconds >= 0 (0: none); got '%s'", v);
        m->heartbeat_s = d;
        return 1;
    case RTB_OPT_SEED:
        if (!rtb_parse_int64(v, 0, &i))
            return rtb_usage_error(cmd, "--seed expects a non-negative integer; got '%s'", v);
        m->seed = (uint64_t)i;
        m->seed_given = true;
        return 1;
    case RTB_OPT_PRECISION:
        if (!rtb_parse_double(v, 0.01, &d) || d > 100)
            return rtb_usage_error(cmd, "--precision expects a percentage from 0.01 to 100; got '%s'", v);
        m->precision = d / 100;
        return 1;
    case RTB_OPT_MAX_REPEAT:
        if (!rtb_parse_int64(v, 1, &i) || i > 100000)
            return rtb_usage_error(cmd, "--max-repeat expects an integer from 1 to 100000; got '%s'", v);
        m->max_repeat = (int)i;
        return 1;
    case RTB_OPT_MAX_TIME:
        if (!rtb_parse_double(v, 0, &d))
            return rtb_usage_error(cmd, "--max-time expects seconds >= 0 (0: no limit); got '%s'", v);
        m->max_time_s = d;
        return 1;
    case RTB_OPT_CPU:
        return cpu_list(m, cmd, v);
    case RTB_OPT_PYTHON:
        return python_axis(ax, cmd, v, lists);
    default:
        return 0;
    }
}

/* ==== the environment ==================================================== */

static const struct {
    const char *name;
    bool for_cpython;       /* the twin takes it too */
} env_vars[] = {
    {"RT_MALLOC", false}, {"RT_GC_THRESHOLD", true}, {"RT_GC", true},
    {"RT_GC_TIMING", false}, {"RT_SHOW_STATS", false}, {"RT_FAIL_AFTER", false},
    {"RT_ARENA_DECAY_MS", false}, {"RT_GC_PARALLEL", false},
};

int
rtb_env_apply(const char *cmd, RtbAxes *ax, RtbMeasure *m, bool cpython, RtbEnv *env)
{
    memset(env, 0, sizeof *env);
    for (size_t k = 0; k < sizeof env_vars / sizeof env_vars[0]; k++) {
        const char *v = getenv(env_vars[k].name);
        if (v == NULL || *v == '\0')
            continue;
        if (cpython && !env_vars[k].for_cpython)
            return rtb_usage_error(cmd, "%s=%s does not apply to CPython (its twin runs CPython's own allocator and "
                                   "collector); unset it", env_vars[k].name, v);
        env->vars[env->n++] = (RtbEnvVar){(char *)env_vars[k].name, (char *)v};
    }
    /* The runtime's own parser judges the values, so that the harness and
     * each sample's runtime agree on what is valid. */
    RtConfig cfg;
    rt_config_default(&cfg);
    char *why = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&why, &len);
    int bad = f ? rt_config_from_env(&cfg, f) : 0;
    if (f)
        fclose(f);
    if (bad > 0) {
        why[strcspn(why, ";\n")] = '\0';
        int r = rtb_usage_error(cmd, "%s; fix or unset it", strncmp(why, "rt: ", 4) == 0 ? why + 4 : why);
        free(why);
        return r;
    }
    free(why);
    if (!cpython && getenv("RT_MALLOC") && *getenv("RT_MALLOC")) {
        if (!rt_alloc_available(cfg.alloc))
            return rtb_usage_error(cmd, "RT_MALLOC=%s: that backend is not available: %s", getenv("RT_MALLOC"),
                                   rt_alloc_unavailable_reason(cfg.alloc));
        ax->base.alloc = cfg.alloc;
    }
    if (!cpython && getenv("RT_ARENA_DECAY_MS") && *getenv("RT_ARENA_DECAY_MS"))
        ax->base.arena_decay_ms = cfg.arena_decay_ms;
    if (getenv("RT_GC_THRESHOLD") && *getenv("RT_GC_THRESHOLD")) {
        memcpy(ax->base.threshold, cfg.gc_threshold, sizeof cfg.gc_threshold);
        ax->threshold_set[0] = ax->threshold_set[1] = ax->threshold_set[2] = true;
    }
    if (getenv("RT_GC") && *getenv("RT_GC"))
        ax->base.gc = cfg.gc_enabled;
    if (!cpython) {
        ax->base.gc_timing = cfg.gc_timing;
        ax->base.gc_parallel = cfg.gc_parallel_min;
    }
    (void)m;
    return 0;
}

/* ==== the cross product ================================================== */

/* The thresholds of a configuration under interpreter pi: a program's
 * start from that interpreter's defaults where --threshold set none. */
static void
base_threshold(const RtbAxes *ax, int pi, long out[3])
{
    for (int g = 0; g < 3; g++)
        out[g] = ax->program != NULL && ax->npython > 0 && !ax->threshold_set[g] ? ax->python_threshold[pi][g]
                                                                                : ax->base.threshold[g];
}

RtbConfig *
rtb_axes_expand(const RtbAxes *ax, int *count)
{
    const RtWorkload *w = ax->base.workload;
    int np = rt_workload_nparams(w);
    int n0 = ax->nt0 ? ax->nt0 : 1, n1 = ax->nt1 ? ax->nt1 : 1, n2 = ax->nt2 ? ax->nt2 : 1;
    int nrc = ax->nrc ? ax->nrc : 1, nal = ax->nalloc ? ax->nalloc : 1, ngc = ax->ngc ? ax->ngc : 1;
    int nfr = ax->nfreeze ? ax->nfreeze : 1, nti = ax->ntiming ? ax->ntiming : 1, npy = ax->npython ? ax->npython : 1;
    int nde = ax->ndecay ? ax->ndecay : 1;
    long total = (long)n0 * n1 * n2 * nrc * nal * nde * ngc * nfr * nti * npy;
    for (int p = 0; p < np; p++)
        total *= ax->npvals[p] ? ax->npvals[p] : 1;
    RtbConfig *out = rtb_xcalloc((size_t)total, sizeof *out);
    for (long k = 0; k < total; k++) {
        RtbConfig c = ax->base;
        long r = k;
        int pi = (int)(k / (total / npy));      /* the outermost axis */
        base_threshold(ax, pi, c.threshold);
        /* Innermost axis first: threshold0 varies fastest. */
        if (ax->nt0) c.threshold[0] = (long)ax->t0[r % n0];
        r /= n0;
        if (ax->nt1) c.threshold[1] = (long)ax->t1[r % n1];
        r /= n1;
        if (ax->nt2) c.threshold[2] = (long)ax->t2[r % n2];
        r /= n2;
        if (ax->ngc) c.gc = ax->gc[r % ngc];
        r /= ngc;
        c.freeze = ax->program != NULL && ax->program->freeze != NULL && (ax->nfreeze == 0 || ax->freeze[r % nfr]);
        r /= nfr;
        if (ax->ntiming) c.gc_timing = ax->timing[r % nti];
        r /= nti;
        if (ax->ndecay) c.arena_decay_ms = ax->decay[r % nde];
        r /= nde;
        if (ax->nalloc) c.alloc = ax->alloc[r % nal];
        r /= nal;
        if (ax->nrc) c.rc = ax->rc[r % nrc];
        r /= nrc;
        for (int p = 0; p < np; p++) {
            int npv = ax->npvals[p] ? ax->npvals[p] : 1;
            if (ax->npvals[p])
                c.params[p] = ax->pvals[p][r % npv];
            r /= npv;
        }
        if (ax->npython) {
            c.python = ax->python[pi];
            c.python_label = ax->python_label[pi];
        }
        c.program = ax->program;
        out[k] = c;
    }
    *count = (int)total;
    return out;
}

static bool
runnable(const RtbConfig *c)
{
    int tp = c->impl == RTB_IMPL_RTBENCH ? rtb_param_index(c->workload, "threads") : -1;
    return tp < 0 || c->rc != RTB_RC_NONATOMIC || c->params[tp] <= 1;
}

int
rtb_configs_runnable(const char *cmd, RtbConfig *c, int n)
{
    int kept = 0;
    for (int k = 0; k < n; k++)
        if (runnable(&c[k]))
            c[kept++] = c[k];
    if (kept == 0) {
        rtb_usage_error(cmd, "--threads above 1 needs a threaded refcount variant: add --rc atomic or --rc biased "
                        "(the nonatomic variant runs one thread)");
        return -1;
    }
    if (kept < n)
        fprintf(stderr, "rtbench %s: leaving out %d configuration%s of --rc nonatomic with --threads above 1 "
                "(the nonatomic variant runs one thread)\n", cmd, n - kept, n - kept == 1 ? "" : "s");
    return kept;
}
