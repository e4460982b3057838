/* args.c -- the command line: numbers, lists, the options that fix a
 * configuration, and the cross product of a sweep's axes.
 *
 * Every error is one line naming what was wrong and what is accepted, and
 * the command exits with status 2 before any work starts (nothing written).
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int
rtb_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "rtbench %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'rtbench %s --help')\n", cmd);
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
 * rounded to integers; duplicates (small ranges) dropped. */
static int
parse_log_range(const char *s, int64_t min, int64_t *out, int max)
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
    if (!rtb_parse_int64(buf, min, &from) || !rtb_parse_int64(b + 1, min, &to)
        || !rtb_parse_int64(c + 4, 1, &n) || from <= 0 || to < from || n > max)
        return -1;
    int count = 0;
    for (int64_t k = 0; k < n; k++) {
        double t = n == 1 ? 0 : (double)k / (double)(n - 1);
        int64_t v = (int64_t)llround(exp(log((double)from) + t * (log((double)to) - log((double)from))));
        if (count == 0 || out[count - 1] != v)
            out[count++] = v;
    }
    return count;
}

int
rtb_parse_list(const char *s, int64_t min, int64_t *out, int max)
{
    if (strchr(s, ':') != NULL)
        return parse_log_range(s, min, out, max);
    int count = 0;
    char buf[1024];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (count == max || !rtb_parse_int64(tok, min, &out[count]))
            return -1;
        count++;
    }
    if (count == 0 || s[strlen(s) - 1] == ',' || s[0] == ',' || strstr(s, ",,") != NULL)
        return -1;
    /* Sorted and unique: axes read in order. */
    qsort(out, (size_t)count, sizeof *out, cmp_i64);
    int unique = 0;
    for (int k = 0; k < count; k++)
        if (unique == 0 || out[unique - 1] != out[k])
            out[unique++] = out[k];
    return unique;
}

const char *rtb_rc_name(RtbRc rc) { return rc == RTB_RC_ATOMIC ? "atomic" : "nonatomic"; }

bool
rtb_parse_rc(const char *s, RtbRc *rc)
{
    if (strcmp(s, "nonatomic") == 0)
        *rc = RTB_RC_NONATOMIC;
    else if (strcmp(s, "atomic") == 0)
        *rc = RTB_RC_ATOMIC;
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
    c->threshold[0] = 700;
    c->threshold[1] = 10;
    c->threshold[2] = 10;
    c->gc = true;
    c->rc = RTB_RC_NONATOMIC;
    c->alloc = RT_ALLOC_POOL;
    c->python = RTB_DEFAULT_PYTHON;
}

char *
rtb_config_name(const RtbConfig *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fputs(c->workload->name, f);
    for (int p = 0; p < rt_workload_nparams(c->workload); p++)
        fprintf(f, "/%s:%lld", c->workload->params[p].name, (long long)c->params[p]);
    fprintf(f, "/t0:%ld/t1:%ld/t2:%ld/gc:%s", c->threshold[0], c->threshold[1], c->threshold[2],
            c->gc ? "on" : "off");
    if (c->impl == RTB_IMPL_CPYTHON)
        fputs("/impl:cpython", f);
    else
        fprintf(f, "/rc:%s/alloc:%s", rtb_rc_name(c->rc), rt_alloc_name(c->alloc));
    fclose(f);
    return buf;
}

Rtj *
rtb_params_json(const RtbConfig *c)
{
    Rtj *p = rtj_object();
    for (int k = 0; k < rt_workload_nparams(c->workload); k++)
        rtj_set(p, c->workload->params[k].name, rtj_integer(c->params[k]));
    return p;
}

Rtj *
rtb_config_json(const RtbConfig *c)
{
    Rtj *o = rtj_object(), *t = rtj_array();
    for (int i = 0; i < 3; i++)
        rtj_append(t, rtj_integer(c->threshold[i]));
    rtj_set(o, "threshold", t);
    rtj_set(o, "gc", rtj_boolean(c->gc));
    bool cpy = c->impl == RTB_IMPL_CPYTHON;
    rtj_set(o, "rc", cpy ? rtj_null() : rtj_string(rtb_rc_name(c->rc)));
    rtj_set(o, "alloc", cpy ? rtj_null() : rtj_string(rt_alloc_name(c->alloc)));
    rtj_set(o, "python", cpy ? rtj_string(c->python) : rtj_null());
    return o;
}

/* ==== the shared options ================================================= */

void
rtb_measure_defaults(RtbMeasure *m)
{
    m->repeat = 5;
    m->warmup = 0;
    m->rss_interval_s = 0.005;
    m->gc_timing = true;
    m->timeout_s = 0;
    m->quiet = false;
}

void
rtb_axes_init(RtbAxes *ax, const RtWorkload *w, RtbImpl impl)
{
    memset(ax, 0, sizeof *ax);
    rtb_config_defaults(&ax->base, w);
    ax->base.impl = impl;
}

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

/* Split "a,b" into items for the enumerated axes. */
static int
split(const char *s, char items[][32], int max)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= 32 || n == max)
            return -1;
        memcpy(items[n], p, len);
        items[n++][len] = '\0';
        p += len + (p[len] == ',');
        if (p[-1] == ',' && *p == '\0')
            return -1;
    }
    return n;
}

static int
parse_threshold_axis(RtbAxes *ax, const char *cmd, const char *opt, const char *val, bool lists)
{
    long t[3] = {-1, -1, -1};
    if (strcmp(opt, "--threshold") == 0) {
        int n = rt_parse_threshold(val, t);
        if (n < 0)
            return rtb_usage_error(cmd, "--threshold expects T0[,T1[,T2]], non-negative integers; got '%s'", val);
        for (int i = 0; i < n; i++)
            ax->base.threshold[i] = t[i];
        return 1;
    }
    int gen = opt[strlen(opt) - 1] - '0';
    int64_t *dst = gen == 0 ? ax->t0 : gen == 1 ? ax->t1 : ax->t2;
    int *n = gen == 0 ? &ax->nt0 : gen == 1 ? &ax->nt1 : &ax->nt2;
    int count = rtb_parse_list(val, 0, dst, 64);
    if (count < 0 || (!lists && count != 1))
        return rtb_usage_error(cmd, "%s expects %s; got '%s'", opt,
                               lists ? "a list A,B,C or a range FROM:TO:logN (up to 64 values, >= 0)"
                                     : "one non-negative integer", val);
    *n = count;
    return 1;
}

static int
parse_enum_axis(RtbAxes *ax, const char *cmd, const char *opt, const char *val, bool lists)
{
    char items[8][32];
    int n = split(val, items, 8);
    if (n <= 0 || (!lists && n != 1))
        return rtb_usage_error(cmd, "%s expects %s; got '%s'", opt, lists ? "a comma-separated list" : "one value", val);
    for (int k = 0; k < n; k++) {
        if (strcmp(opt, "--rc") == 0) {
            if (!rtb_parse_rc(items[k], &ax->rc[ax->nrc]))
                return rtb_usage_error(cmd, "unknown refcount variant '%s' (accepted: nonatomic, atomic)", items[k]);
            ax->nrc += ax->nrc < 2;
        } else if (strcmp(opt, "--alloc") == 0) {
            RtAllocKind kind;
            if (rt_alloc_parse(items[k], &kind) != 0)
                return rtb_usage_error(cmd, "unknown allocator backend '%s' (accepted: pool, malloc, debug, mimalloc, jemalloc)", items[k]);
            if (!rt_alloc_available(kind))
                return rtb_usage_error(cmd, "allocator backend '%s' is not available: %s", items[k],
                                       rt_alloc_unavailable_reason(kind));
            if (ax->nalloc < RT_ALLOC_KIND_COUNT)
                ax->alloc[ax->nalloc++] = kind;
        } else {
            if (!parse_on_off(items[k], &ax->gc[ax->ngc]))
                return rtb_usage_error(cmd, "--gc expects on or off; got '%s'", items[k]);
            ax->ngc += ax->ngc < 2;
        }
    }
    return 1;
}

static int
parse_param(RtbArgs *a, RtbAxes *ax, const char *name, const char *val, bool lists)
{
    const RtWorkload *w = ax->base.workload;
    int p = rtb_param_index(w, name);
    if (p < 0) {
        char names[256] = "";
        for (int k = 0; k < rt_workload_nparams(w); k++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s--%s", k ? ", " : "", w->params[k].name);
        return rtb_usage_error(a->cmd, "unknown option --%s for %s (its parameters: %s)", name, w->name, names);
    }
    int64_t min = w->params[p].min;
    int n = rtb_parse_list(val, min, ax->pvals[p], lists ? 16 : 1);
    if (n < 0 || (!lists && n != 1))
        return rtb_usage_error(a->cmd, "--%s expects %s >= %lld; got '%s'", name,
                               lists ? "an integer or a list of integers" : "an integer", (long long)min, val);
    ax->npvals[p] = n;
    ax->base.params[p] = ax->pvals[p][0];
    return 1;
}

int
rtb_parse_common(RtbArgs *a, RtbAxes *ax, RtbMeasure *m, bool lists)
{
    const char *arg = a->argv[a->i];
    if (strncmp(arg, "--", 2) != 0)
        return 0;
    char opt[64];
    const char *eq = strchr(arg, '='), *val;
    size_t olen = eq ? (size_t)(eq - arg) : strlen(arg);
    if (olen >= sizeof opt)
        return 0;
    memcpy(opt, arg, olen);
    opt[olen] = '\0';
    static const char *const flags[] = {"--quiet", "--no-rss", "--no-gc-timing", NULL};
    for (int k = 0; flags[k]; k++) {
        if (strcmp(opt, flags[k]) == 0) {
            if (k == 0)
                m->quiet = true;
            else if (k == 1)
                m->rss_interval_s = 0;
            else
                m->gc_timing = false;
            a->i++;
            return 1;
        }
    }
    if (eq) {
        val = eq + 1;
    } else {
        if (a->i + 1 >= a->argc) {
            bool known = ax->base.workload && rtb_param_index(ax->base.workload, opt + 2) >= 0;
            static const char *const valued[] = {"--threshold", "--threshold0", "--threshold1", "--threshold2", "--gc",
                                                 "--rc", "--alloc", "--repeat", "--runs", "--warmup",
                                                 "--rss-interval", "--timeout", "--python", NULL};
            for (int k = 0; valued[k] && !known; k++)
                known = strcmp(opt, valued[k]) == 0;
            if (known)
                return rtb_usage_error(a->cmd, "%s needs a value", opt);
            return 0;
        }
        val = a->argv[a->i + 1];
    }
    int r = 0;
    int64_t v;
    double d;
    if (strcmp(opt, "--threshold") == 0 || (lists && strncmp(opt, "--threshold", 11) == 0 && strlen(opt) == 12
                                             && opt[11] >= '0' && opt[11] <= '2'))
        r = parse_threshold_axis(ax, a->cmd, opt, val, lists);
    else if (strcmp(opt, "--rc") == 0 || strcmp(opt, "--alloc") == 0 || strcmp(opt, "--gc") == 0)
        r = parse_enum_axis(ax, a->cmd, opt, val, lists);
    else if (strcmp(opt, "--repeat") == 0 || strcmp(opt, "--runs") == 0)
        r = rtb_parse_int64(val, 1, &v) && v <= 10000 ? (m->repeat = (int)v, 1)
                                     : rtb_usage_error(a->cmd, "%s expects an integer from 1 to 10000; got '%s'", opt, val);
    else if (strcmp(opt, "--warmup") == 0)
        r = rtb_parse_int64(val, 0, &v) && v <= 100 ? (m->warmup = (int)v, 1)
                                     : rtb_usage_error(a->cmd, "--warmup expects an integer from 0 to 100; got '%s'", val);
    else if (strcmp(opt, "--rss-interval") == 0)
        r = rtb_parse_double(val, 0, &d) ? (m->rss_interval_s = d / 1000.0, 1)
                                     : rtb_usage_error(a->cmd, "--rss-interval expects milliseconds >= 0 (0: no timeline); got '%s'", val);
    else if (strcmp(opt, "--timeout") == 0)
        r = rtb_parse_double(val, 0, &d) ? (m->timeout_s = d, 1)
                                     : rtb_usage_error(a->cmd, "--timeout expects seconds >= 0 (0: none); got '%s'", val);
    else if (strcmp(opt, "--python") == 0 && ax->base.impl == RTB_IMPL_CPYTHON)
        r = (ax->base.python = val, 1);
    else if (ax->base.workload != NULL && rtb_param_index(ax->base.workload, opt + 2) >= 0)
        r = parse_param(a, ax, opt + 2, val, lists);
    if (r == 1)
        a->i += eq ? 1 : 2;
    return r;
}

/* ==== the cross product ================================================== */

RtbConfig *
rtb_axes_expand(const RtbAxes *ax, int *count)
{
    const RtWorkload *w = ax->base.workload;
    int np = rt_workload_nparams(w);
    int n0 = ax->nt0 ? ax->nt0 : 1, n1 = ax->nt1 ? ax->nt1 : 1, n2 = ax->nt2 ? ax->nt2 : 1;
    int nrc = ax->nrc ? ax->nrc : 1, nal = ax->nalloc ? ax->nalloc : 1, ngc = ax->ngc ? ax->ngc : 1;
    long total = (long)n0 * n1 * n2 * nrc * nal * ngc;
    for (int p = 0; p < np; p++)
        total *= ax->npvals[p] ? ax->npvals[p] : 1;
    RtbConfig *out = calloc((size_t)total, sizeof *out);
    if (out == NULL)
        return NULL;
    for (long k = 0; k < total; k++) {
        RtbConfig c = ax->base;
        long r = k;
        /* Innermost axis first: threshold0 varies fastest. */
        if (ax->nt0) c.threshold[0] = (long)ax->t0[r % n0];
        r /= n0;
        if (ax->nt1) c.threshold[1] = (long)ax->t1[r % n1];
        r /= n1;
        if (ax->nt2) c.threshold[2] = (long)ax->t2[r % n2];
        r /= n2;
        if (ax->ngc) c.gc = ax->gc[r % ngc];
        r /= ngc;
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
        out[k] = c;
    }
    *count = (int)total;
    return out;
}
