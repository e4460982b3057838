/* output.c -- what a person reads: progress, messages, tables, warnings.
 *
 * On a terminal, progress is one line on stderr redrawn in place
 * ("[12/40] cycle_storm t0:700 rc:atomic  0:42, ~2:08 left"), never wider
 * than the terminal or 80 columns, and cleared before any other message
 * (rtb_say), so that a warning never lands at the end of it.  When stderr
 * is not a terminal (a CI log), a heartbeat line every --heartbeat seconds
 * (30) says the command is alive.  --quiet silences both.
 *
 * Tables go to stdout before the warnings go to stderr; a configuration
 * with no ok sample says so in words ("no ok samples", "not run"), never
 * as nan.
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "rt/bench.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static RtbProgress *current;    /* the line on screen, if any */

int
rtb_term_width(void)
{
    struct winsize ws;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 && ws.ws_col < 80)
        return ws.ws_col;
    return 80;
}

void
rtb_format_duration(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/* --repeat auto has taken its minimum and adds rounds: no total to count to. */
static bool
past_plan(const RtbProgress *p)
{
    return p->budget_s > 0 && p->done > 0 && p->done >= p->total;
}

static void
status_text(const RtbProgress *p, char *buf, size_t n)
{
    double elapsed = rt_monotonic_s() - p->start;
    char el[32], left[64] = "";
    rtb_format_duration(elapsed, el, sizeof el);
    if (p->done > 0 && p->done < p->total) {
        char rem[32];
        rtb_format_duration(elapsed / p->done * (p->total - p->done), rem, sizeof rem);
        snprintf(left, sizeof left, ", ~%s left", rem);
    } else if (past_plan(p)) {
        /* --repeat auto past its minimum: rounds go on until each median is
         * precise enough, within the time budget */
        char rem[32];
        rtb_format_duration(elapsed < p->budget_s ? p->budget_s - elapsed : 0, rem, sizeof rem);
        snprintf(left, sizeof left, ", auto: at most ~%s more", rem);
    }
    snprintf(buf, n, "%s%s", el, left);
}

static void
draw(RtbProgress *p)
{
    if (!p->tty)
        return;
    char clock[80], line[512];
    status_text(p, clock, sizeof clock);
    int width = rtb_term_width() - 1;
    int head = past_plan(p) ? snprintf(line, sizeof line, "[%d] ", p->done)
                            : snprintf(line, sizeof line, "[%d/%d] ", p->done, p->total);
    int room = width - head - (int)strlen(clock) - 2;
    if (room < 0)
        room = 0;
    snprintf(line + head, sizeof line - (size_t)head, "%-*.*s  %s", room, room, p->label, clock);
    line[width] = '\0';
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    p->drawn = true;
}

static void
clear(RtbProgress *p)
{
    if (p != NULL && p->tty && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->drawn = false;
    }
}

void
rtb_progress_start(RtbProgress *p, const char *cmd, int total, bool quiet, double heartbeat_s)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->total = total;
    p->start = p->last_beat = rt_monotonic_s();
    p->quiet = quiet;
    p->tty = !quiet && isatty(2);
    p->heartbeat_s = heartbeat_s;
    current = p;
}

void
rtb_progress_update(RtbProgress *p, int done, int total, const char *label)
{
    p->done = done;
    p->total = total;
    snprintf(p->label, sizeof p->label, "%s", label);
    draw(p);
    rtb_progress_tick();
}

void
rtb_progress_tick(void)
{
    RtbProgress *p = current;
    if (p == NULL || p->quiet)
        return;
    double now = rt_monotonic_s();
    if (p->tty) {
        if (now - p->last_beat >= 1) {      /* the clock, once a second */
            p->last_beat = now;
            draw(p);
        }
        return;
    }
    if (p->heartbeat_s > 0 && now - p->last_beat >= p->heartbeat_s) {
        p->last_beat = now;
        char clock[80];
        status_text(p, clock, sizeof clock);
        if (past_plan(p))
            fprintf(stderr, "rtbench %s: %d samples, %s\n", p->cmd, p->done, clock);
        else
            fprintf(stderr, "rtbench %s: %d of %d samples, %s\n", p->cmd, p->done, p->total, clock);
        fflush(stderr);
    }
}

void
rtb_progress_end(RtbProgress *p)
{
    clear(p);
    if (current == p)
        current = NULL;
}

void
rtb_say(const char *fmt, ...)
{
    clear(current);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    if (current != NULL)
        draw(current);
}

/* ==== tables and warnings ================================================ */

/* The configuration without its workload and parameters, the default
 * t1, t2 and gc left out: "t0:700 nonatomic/pool". */
static void
short_name(const RtbRun *r, char *buf, size_t n)
{
    int len = snprintf(buf, n, "t0:%ld", r->threshold[0]);
    if (r->threshold[1] != RTB_DEFAULT_T1 || r->threshold[2] != RTB_DEFAULT_T2)
        len += snprintf(buf + len, n - (size_t)len, " t1:%ld t2:%ld", r->threshold[1], r->threshold[2]);
    if (!r->gc)
        len += snprintf(buf + len, n - (size_t)len, " gc:off");
    if (r->cpython) {
        /* a program's parts after it: freeze:on, timing:off, python:LABEL */
        const char *rest = strstr(r->name, "/impl:cpython/");
        snprintf(buf + len, n - (size_t)len, " cpython%s", rest ? rest + strlen("/impl:cpython") : "");
        for (char *c = buf + len; *c; c++)
            if (*c == '/')
                *c = ' ';
    } else
        snprintf(buf + len, n - (size_t)len, " %s/%s", r->rc ? r->rc : "?", r->alloc ? r->alloc : "?");
}

/* A number, or "-" where there is none: never nan. */
static const char *
cell(double v, double scale, const char *fmt, char *buf, size_t n)
{
    if (!isfinite(v))
        return "-";
    snprintf(buf, n, fmt, v * scale);
    return buf;
}

/* The length of a run's "workload/params" part, before "/t0:". */
static int
params_len(const RtbRun *r)
{
    const char *t0 = strstr(r->name, "/t0:");
    return t0 ? (int)(t0 - r->name) : (int)strlen(r->name);
}

void
rtb_print_summary(const RtbResult *res, FILE *out)
{
    /* One header per workload and parameters: a sweep over a parameter
     * (--n 20000,21000) shows each size above its own rows. */
    for (size_t k = 0; k < res->nruns; k++) {
        const RtbRun *r = &res->runs[k];
        int len = params_len(r);
        const RtbRun *prev = k ? &res->runs[k - 1] : NULL;
        if (prev == NULL || params_len(prev) != len || strncmp(prev->name, r->name, (size_t)len) != 0) {
            fprintf(out, "%s%.*s\n", k ? "\n" : "", len < 78 ? len : 78, r->name);
            fprintf(out, "  %-33s %7s %8s %8s %8s %9s\n", "configuration", "samples", "wall ms", "cpu ms", "peak MiB",
                    "p99 pause");
        }
        const RtbSummary *s = &r->summary;
        char samples[32], label[128], a[32], b[32];
        snprintf(samples, sizeof samples, "%d/%zu", s->wall_s.n, r->nsamples);
        short_name(r, label, sizeof label);
        fprintf(out, "  %-33.33s %7s", label, samples);
        if (r->nsamples == 0)
            fprintf(out, "  not run\n");
        else if (s->wall_s.n == 0)
            fprintf(out, "  no ok samples\n");
        else
            fprintf(out, " %8.2f %8s %8.1f %9s\n", s->wall_s.median * 1e3, cell(s->cpu_s.median, 1e3, "%.2f", a, sizeof a),
                    s->peak_rss_bytes.median / 1048576.0, cell(s->gc_pause_p99_s.median, 1e3, "%.3fms", b, sizeof b));
    }
    fflush(out);
}

/* A configuration's name on lines of at most 80 columns, broken after a
 * slash: "  cycle_storm/n:100000/.../t0:700/\n    t1:10/.../alloc:pool". */
static char *
wrapped_name(const char *name)
{
    size_t len = strlen(name), cap = len + 64, at = 0, col = 2;
    char *out = rtb_xmalloc(cap);
    out[at++] = ' ';
    out[at++] = ' ';
    for (const char *p = name; *p;) {
        size_t part = strcspn(p, "/") + (p[strcspn(p, "/")] == '/');
        if (col + part > 80 && col > 4) {
            memcpy(out + at, "\n    ", 5);
            at += 5;
            col = 4;
        }
        memcpy(out + at, p, part);
        at += part;
        col += part;
        p += part;
    }
    out[at] = '\0';
    return out;
}

/* One line each, under 76 columns. */
static const char *const advice[RTB_W_KIND_COUNT] = {
    [RTB_W_FAILED] = "the summary uses the samples that finished; errors are in the file",
    [RTB_W_INCOMPLETE] = "the run stopped early; the file keeps the samples that finished",
    [RTB_W_NOT_RUN] = "the command stopped first; --resume runs what is missing",
    [RTB_W_NOISY] = "a noisy machine: quote medians and ratios, or add samples",
    [RTB_W_SHORT] = "timer resolution and start-up dominate: use larger parameters",
    [RTB_W_LOAD] = "other work competed for the cores: use a quieter machine",
    [RTB_W_IMPRECISE] = "out of budget first: raise --max-repeat or --max-time",
    [RTB_W_THRESHOLD_CHANGED] = "the program sets its own: remove its gc.set_threshold to compare",
    [RTB_W_GC_SWITCHED] = "the program switches the collector itself: --gc cannot hold",
    [RTB_W_CALLBACKS_CLEARED] = "pauses after that were not timed: keep gc.callbacks' entries",
    [RTB_W_NO_SMAPS] = "no PSS or USS without smaps_rollup (Linux 4.14 or later)",
};

void
rtb_print_warnings(const RtbResult *res)
{
    for (int k = 0; k < RTB_W_KIND_COUNT; k++) {
        size_t count = 0;
        const RtbRun *first = NULL;
        const RtbWarning *example = NULL;
        for (size_t r = 0; r < res->nruns; r++)
            for (size_t i = 0; i < res->runs[r].nwarnings; i++)
                if ((int)res->runs[r].warnings[i].kind == k && count++ == 0) {
                    first = &res->runs[r];
                    example = &res->runs[r].warnings[i];
                }
        if (count == 0)
            continue;
        char *name = wrapped_name(first->name);
        if (count == 1)
            rtb_say("warning: %s:\n%s\n  %s\n  (%s)", rtb_warn_kind_name((RtbWarnKind)k), name, example->message,
                    advice[k]);
        else
            rtb_say("warning: %s: %zu of %zu configurations, e.g.\n%s\n  %s\n  (%s)",
                    rtb_warn_kind_name((RtbWarnKind)k), count, res->nruns, name, example->message, advice[k]);
        free(name);
    }
}
