/* progress.c -- a one-line progress display for long runs, on a terminal
 * only: "[12/40] cycle_storm t0=700 sample 3/5  0:42 elapsed, ~2:08 left".
 * Quiet when stderr is not a terminal (CI logs, pipes) or with --quiet.
 */
#include "rtbench.h"

#include <string.h>
#include <unistd.h>

static void
format_duration(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void
draw(RtbProgress *p)
{
    if (!p->tty)
        return;
    double elapsed = rt_monotonic_s() - p->start;
    char el[32], left[40] = "";
    format_duration(elapsed, el, sizeof el);
    if (p->done > 0 && p->done < p->total) {
        char rem[32];
        format_duration(elapsed / p->done * (p->total - p->done), rem, sizeof rem);
        snprintf(left, sizeof left, ", ~%s left", rem);
    }
    fprintf(stderr, "\r\033[K[%d/%d] %s  %s elapsed%s", p->done, p->total, p->label, el, left);
    fflush(stderr);
}

void
rtb_progress_start(RtbProgress *p, int total, bool quiet)
{
    memset(p, 0, sizeof *p);
    p->total = total;
    p->start = rt_monotonic_s();
    p->tty = !quiet && isatty(2);
}

void
rtb_progress_update(RtbProgress *p, const char *label)
{
    snprintf(p->label, sizeof p->label, "%s", label);
    draw(p);
}

void
rtb_progress_step(RtbProgress *p)
{
    p->done++;
    draw(p);
}

void
rtb_progress_end(RtbProgress *p)
{
    if (p->tty)
        fprintf(stderr, "\r\033[K");
}
