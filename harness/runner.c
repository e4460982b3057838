/* runner.c -- run one sample in a fresh child and gather what it measured.
 *
 * The child is the worker (rtbench or rtbench-atomic, for the refcount
 * variant asked for) or the workload's Python twin under an interpreter.
 * It reports one JSON object on a pipe (descriptor 3 for the worker, stdout
 * for the twin).  Meanwhile the parent samples the child's resident set
 * from /proc/PID/statm at a fixed interval -- from another process, so the
 * timeline costs the workload nothing but the other core's attention -- and
 * keeps the tail of the child's stderr for error messages.  When the child
 * exits, wait4 gives its CPU times, peak RSS and page faults.
 *
 * A sample ends as: ok; failed (the workload reported an error, or exited
 * non-zero); crashed (killed by a signal); timeout (killed after
 * --timeout); interrupted (the user pressed Ctrl-C or sent SIGTERM: the
 * child is stopped and the sample is not kept).
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define STDERR_TAIL 4096

volatile sig_atomic_t rtb_interrupted;

static void
on_signal(int sig)
{
    rtb_interrupted = sig;
}

void
rtb_install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;     /* no SA_RESTART: poll() returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

const char *
rtb_self_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0] == '\0') {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            return ".";
        exe[n] = '\0';
        snprintf(dir, sizeof dir, "%s", dirname(exe));
    }
    return dir;
}

const char *
rtb_home(void)
{
    const char *h = getenv("RTBENCH_HOME");
#ifdef RTBENCH_SOURCE_DIR
    return h && *h ? h : RTBENCH_SOURCE_DIR;
#else
    return h && *h ? h : ".";
#endif
}

/* ==== the child's command line =========================================== */

typedef struct Argv {
    char *v[64];
    int n;
} Argv;

static void
arg_add(Argv *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (a->n < 63 && vasprintf(&a->v[a->n], fmt, ap) >= 0)
        a->n++;
    va_end(ap);
    a->v[a->n] = NULL;
}

static void
arg_free(Argv *a)
{
    for (int k = 0; k < a->n; k++)
        free(a->v[k]);
    a->n = 0;
}

static void
add_config_args(Argv *a, const RtbConfig *c)
{
    for (int p = 0; p < rt_workload_nparams(c->workload); p++) {
        arg_add(a, "--%s", c->workload->params[p].name);
        arg_add(a, "%lld", (long long)c->params[p]);
    }
    arg_add(a, "--threshold");
    arg_add(a, "%ld,%ld,%ld", c->threshold[0], c->threshold[1], c->threshold[2]);
    arg_add(a, "--gc");
    arg_add(a, "%s", c->gc ? "on" : "off");
}

static void
build_argv(Argv *a, const RtbConfig *c, const RtbMeasure *m)
{
    if (c->impl == RTB_IMPL_CPYTHON) {
        arg_add(a, "%s", c->python);
        arg_add(a, "%s/workloads/python/run.py", rtb_home());
        arg_add(a, "%s", c->workload->name);
        add_config_args(a, c);
        return;
    }
    arg_add(a, "%s/%s", rtb_self_dir(), c->rc == RTB_RC_ATOMIC ? "rtbench-atomic" : "rtbench");
    arg_add(a, "__worker");
    arg_add(a, "%s", c->workload->name);
    arg_add(a, "--result-fd");
    arg_add(a, "3");
    add_config_args(a, c);
    arg_add(a, "--alloc");
    arg_add(a, "%s", rt_alloc_name(c->alloc));
    arg_add(a, "--gc-timing");
    arg_add(a, "%s", m->gc_timing ? "on" : "off");
}

/* In the child: wire the pipes and exec.  Only async-signal-safe calls. */
static void
exec_child(const Argv *a, int result_w, int err_w, bool result_on_stdout)
{
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    if (result_on_stdout) {
        dup2(result_w, 1);
    } else {
        dup2(result_w, 3);
        dup2(err_w, 1);     /* the worker prints nothing; keep any text */
    }
    dup2(err_w, 2);
    execv(a->v[0], a->v);
    dprintf(2, "cannot run %s: %s\n", a->v[0], strerror(errno));
    _exit(127);
}

/* ==== reading pipes and sampling RSS ===================================== */

typedef struct Buf {
    char *data;
    size_t len, cap;
    bool tail;      /* keep only the last STDERR_TAIL bytes */
} Buf;

static void
buf_add(Buf *b, const char *s, size_t n)
{
    if (b->tail && n >= STDERR_TAIL) {
        s += n - STDERR_TAIL;
        n = STDERR_TAIL;
    }
    if (b->tail && b->len + n > STDERR_TAIL) {
        size_t drop = b->len + n - STDERR_TAIL;
        memmove(b->data, b->data + drop, b->len - drop);
        b->len -= drop;
    }
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
        if (b->data == NULL)
            abort();
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Read what is there; false at end of file. */
static bool
drain(int fd, Buf *b)
{
    char chunk[65536];
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r > 0) {
        buf_add(b, chunk, (size_t)r);
        return true;
    }
    return r < 0 && (errno == EINTR || errno == EAGAIN);
}

typedef struct Child {
    pid_t pid;
    int result_fd, err_fd;
    Buf result, err;
    Rtj *t, *rss;
    double start;
    bool timed_out, interrupted;
} Child;

static void
stop_child(Child *ch, int sig)
{
    kill(ch->pid, sig);
    if (sig != SIGKILL) {
        /* Give it half a second to finish on SIGTERM, then insist.  WNOWAIT
         * leaves the exit status for wait4. */
        for (int k = 0; k < 50; k++) {
            siginfo_t info;
            memset(&info, 0, sizeof info);
            if (waitid(P_PID, (id_t)ch->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == ch->pid)
                return;
            usleep(10000);
        }
        kill(ch->pid, SIGKILL);
    }
}

static void
supervise(Child *ch, const RtbMeasure *m)
{
    double next_rss = ch->start;
    bool result_open = true, err_open = true;
    while (result_open || err_open) {
        double now = rt_monotonic_s();
        if (m->rss_interval_s > 0 && now >= next_rss) {
            int64_t rss = rtb_rss_bytes(ch->pid);
            if (rss > 0) {
                rtj_append(ch->t, rtj_number(now - ch->start));
                rtj_append(ch->rss, rtj_integer(rss));
            }
            while (next_rss <= now)
                next_rss += m->rss_interval_s;
        }
        if (rtb_interrupted && !ch->interrupted) {
            ch->interrupted = true;
            stop_child(ch, SIGTERM);
        }
        if (m->timeout_s > 0 && now - ch->start > m->timeout_s && !ch->timed_out) {
            ch->timed_out = true;
            stop_child(ch, SIGKILL);
        }
        int wait_ms = 100;
        if (m->rss_interval_s > 0)
            wait_ms = (int)((next_rss - now) * 1000.0) + 1;
        struct pollfd fds[2] = {{result_open ? ch->result_fd : -1, POLLIN, 0}, {err_open ? ch->err_fd : -1, POLLIN, 0}};
        int r = poll(fds, 2, wait_ms < 1 ? 1 : wait_ms);
        if (r <= 0)
            continue;
        if (fds[0].revents && !drain(ch->result_fd, &ch->result))
            result_open = false;
        if (fds[1].revents && !drain(ch->err_fd, &ch->err))
            err_open = false;
    }
}

/* ==== the sample ========================================================= */

/* The last non-empty line of the child's stderr, for error messages. */
static const char *
last_line(Buf *b)
{
    if (b->data == NULL)
        return "";
    size_t n = b->len;
    while (n > 0 && (b->data[n - 1] == '\n' || b->data[n - 1] == ' '))
        b->data[--n] = '\0';
    char *nl = strrchr(b->data, '\n');
    return nl ? nl + 1 : b->data;
}

static void
set_status(Rtj *s, const char *status, Rtj *error)
{
    rtj_set(s, "status", rtj_string(status));
    rtj_set(s, "error", error ? error : rtj_null());
}

/* Judge how the child ended; the report's fields join the sample. */
static void
judge(Rtj *s, Child *ch, int wstatus, const RtbMeasure *m)
{
    char err[256];
    Rtj *report = ch->result.len ? rtj_parse(ch->result.data, ch->result.len, err, sizeof err) : NULL;
    if (rtj_is(report, RTJ_OBJECT)) {
        for (size_t k = 0; k < rtj_len(report); k++)
            if (strcmp(rtj_key_at(report, k), "error") != 0)
                rtj_set(s, rtj_key_at(report, k), rtj_copy(rtj_at(report, k)));
    }
    const char *reported = rtj_str(rtj_get(report, "error"), NULL);
    if (ch->interrupted)
        set_status(s, "interrupted", rtj_string("interrupted by the user"));
    else if (ch->timed_out)
        set_status(s, "timeout", rtj_stringf("killed after the %g s timeout", m->timeout_s));
    else if (WIFSIGNALED(wstatus))
        set_status(s, "crashed", rtj_stringf("killed by signal %d (%s)%s%s", WTERMSIG(wstatus),
                                             strsignal(WTERMSIG(wstatus)), ch->err.len ? ": " : "", last_line(&ch->err)));
    else if (reported != NULL)
        set_status(s, "failed", rtj_string(reported));
    else if (WEXITSTATUS(wstatus) != 0)
        set_status(s, "failed", rtj_stringf("exit status %d%s%s", WEXITSTATUS(wstatus), ch->err.len ? ": " : "",
                                            last_line(&ch->err)));
    else if (!rtj_is(report, RTJ_OBJECT) || rtj_get(report, "wall_s") == NULL)
        set_status(s, "failed", rtj_stringf("unreadable report: %s", report ? "no wall_s" : err));
    else
        set_status(s, "ok", NULL);
    rtj_free(report);
}

Rtj *
rtb_run_sample(const RtbConfig *c, const RtbMeasure *m, int index)
{
    Argv a = {0};
    build_argv(&a, c, m);
    int rp[2], ep[2];
    if (pipe2(rp, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0) {
        arg_free(&a);
        return NULL;
    }
    fflush(NULL);
    Child ch = {.result.tail = false, .err.tail = true};
    ch.t = rtj_array();
    ch.rss = rtj_array();
    ch.start = rt_monotonic_s();
    ch.pid = fork();
    if (ch.pid == 0)
        exec_child(&a, rp[1], ep[1], c->impl == RTB_IMPL_CPYTHON);
    close(rp[1]);
    close(ep[1]);
    ch.result_fd = rp[0];
    ch.err_fd = ep[0];
    Rtj *s = rtj_object();
    rtj_set(s, "index", rtj_integer(index));
    if (ch.pid > 0) {
        supervise(&ch, m);
    }
    int wstatus = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    if (ch.pid > 0)
        while (wait4(ch.pid, &wstatus, 0, &ru) < 0 && errno == EINTR)
            ;
    double process_wall = rt_monotonic_s() - ch.start;
    close(rp[0]);
    close(ep[0]);
    if (ch.pid < 0) {
        set_status(s, "failed", rtj_stringf("cannot start a child process: %s", strerror(errno)));
    } else {
        judge(s, &ch, wstatus, m);
        rtj_set(s, "process_wall_s", rtj_number(process_wall));
        rtj_set(s, "user_s", rtj_number((double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6));
        rtj_set(s, "sys_s", rtj_number((double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6));
        /* The child's own VmHWM when it reported one: ru_maxrss counts the
         * parent's size, copied at fork, into the child (procfs.h). */
        if (!rtj_is(rtj_get(s, "peak_rss_bytes"), RTJ_NUMBER) || rtj_int(rtj_get(s, "peak_rss_bytes"), -1) <= 0)
            rtj_set(s, "peak_rss_bytes", rtj_integer((int64_t)ru.ru_maxrss * 1024));
        rtj_set(s, "minflt", rtj_integer(ru.ru_minflt));
        rtj_set(s, "majflt", rtj_integer(ru.ru_majflt));
    }
    /* The child said when its workload started (the same monotonic clock):
     * count the timeline from there, as marks and pauses are; the start-up
     * before it gets negative times. */
    Rtj *t0 = rtj_take(s, "t0_monotonic"), *texec = rtj_take(s, "t_exec_monotonic");
    if (rtj_is(t0, RTJ_NUMBER)) {
        double shift = ch.start - rtj_num(t0, 0);
        /* Points sampled before the exec show the parent's copied pages. */
        double first = rtj_is(texec, RTJ_NUMBER) ? rtj_num(texec, 0) - rtj_num(t0, 0) : -1e9;
        Rtj *t = rtj_array(), *rss = rtj_array();
        /* The child's own readings at the workload's start and end bound
         * the timeline, so that even a run shorter than the sampling step
         * has one. */
        Rtj *at_start = rtj_take(s, "rss_at_start_bytes");
        bool started = !rtj_is(at_start, RTJ_NUMBER);
        for (size_t k = 0; k < rtj_len(ch.t); k++) {
            double at = rtj_num(rtj_at(ch.t, k), 0) + shift;
            if (!started && at >= 0) {
                rtj_append(t, rtj_number(0));
                rtj_append(rss, rtj_copy(at_start));
                started = true;
            }
            if (at >= first) {
                rtj_append(t, rtj_number(at));
                rtj_append(rss, rtj_copy(rtj_at(ch.rss, k)));
            }
        }
        if (!started) {
            rtj_append(t, rtj_number(0));
            rtj_append(rss, rtj_copy(at_start));
        }
        rtj_free(at_start);
        const Rtj *wall = rtj_get(s, "wall_s"), *final_rss = rtj_get(s, "final_rss_bytes");
        if (rtj_is(wall, RTJ_NUMBER) && rtj_is(final_rss, RTJ_NUMBER)) {
            rtj_append(t, rtj_number(rtj_num(wall, 0)));
            rtj_append(rss, rtj_copy(final_rss));
        }
        rtj_free(ch.t);
        rtj_free(ch.rss);
        ch.t = t;
        ch.rss = rss;
        rtj_set(s, "startup_s", rtj_number(-shift));
    }
    rtj_free(t0);
    rtj_free(texec);
    Rtj *timeline = rtj_object();
    rtj_set(timeline, "interval_s", rtj_number(m->rss_interval_s));
    rtj_set(timeline, "t_s", ch.t);
    rtj_set(timeline, "rss_bytes", ch.rss);
    rtj_set(s, "rss_timeline", timeline);
    free(ch.result.data);
    free(ch.err.data);
    arg_free(&a);
    return s;
}
