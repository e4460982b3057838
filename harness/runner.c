/* runner.c -- one sample: a fresh child, watched, judged, its timeline made.
 *
 * rtb_run_sample is four steps, each a function below:
 *
 *   spawn      posix_spawn the child -- the worker (rtbench or
 *              rtbench-atomic, for the refcount variant asked for) or the
 *              workload's Python twin -- with its report pipe on descriptor
 *              3 (the worker) or stdout (the twin), stderr on a second pipe,
 *              stdin on /dev/null; pin it to --cpu; note the load average.
 *              No code of ours runs between fork and exec.
 *   supervise  until both pipes close: sample the child's RSS from
 *              /proc/PID/statm every --rss-interval (from another process,
 *              so the timeline costs the workload nothing but the other
 *              core's attention), keep the report and the tail of stderr,
 *              stop the child on --timeout or Ctrl-C; then wait4 for its
 *              rusage.
 *   judge      ok, failed (the workload said so, or a non-zero exit, or an
 *              unreadable report), crashed (a signal), timeout, interrupted
 *              (the user: the sample is not kept).
 *   timeline   the parent's readings placed on the workload's clock, kept
 *              between its start and its end, bounded by the child's own
 *              readings at both ends: times strictly increase from 0 to
 *              wall_s, and no point exceeds the sample's peak (a reading
 *              taken after the peak was read is dropped).
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "procfs.h"
#include "rt/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define STDERR_TAIL 4096
#define STDERR_TAIL_LINES 20

extern char **environ;
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
    char **v;
    int n, cap;
} Argv;

static void
arg_add(Argv *a, const char *fmt, ...)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? 2 * a->cap : 32;
        a->v = rtb_xrealloc(a->v, (size_t)a->cap * sizeof *a->v);
    }
    va_list ap;
    va_start(ap, fmt);
    a->v[a->n++] = rtb_vasprintf(fmt, ap);
    va_end(ap);
    a->v[a->n] = NULL;
}

static void
arg_free(Argv *a)
{
    for (int k = 0; k < a->n; k++)
        free(a->v[k]);
    free(a->v);
    memset(a, 0, sizeof *a);
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

/* A Python program under run.py: the settings, the report on descriptor 3,
 * then the program and its arguments. */
static void
program_argv(Argv *a, const RtbConfig *c)
{
    const RtbProgram *prog = c->program;
    arg_add(a, "%s", c->python);
    arg_add(a, "%s/workloads/python/run.py", rtb_home());
    add_config_args(a, c);
    arg_add(a, "--gc-timing");
    arg_add(a, "%s", c->gc_timing ? "on" : "off");
    arg_add(a, "--result-fd");
    arg_add(a, "3");
    if (c->freeze && prog->freeze != NULL) {
        arg_add(a, "--freeze-after-import");
        arg_add(a, "%s", prog->freeze);
    }
    if (prog->fork_workers > 0) {
        arg_add(a, "--fork-workers");
        arg_add(a, "%d", prog->fork_workers);
    }
    arg_add(a, "%s", prog->module ? "-m" : "--script");
    arg_add(a, "%s", prog->target);
    arg_add(a, "--");
    for (int k = 0; k < prog->nargs; k++)
        arg_add(a, "%s", prog->args[k]);
}

static void
build_argv(Argv *a, const RtbConfig *c)
{
    if (c->program != NULL) {
        program_argv(a, c);
        return;
    }
    if (c->impl == RTB_IMPL_CPYTHON) {
        arg_add(a, "%s", c->python);
        arg_add(a, "%s/workloads/python/run.py", rtb_home());
        arg_add(a, "%s", c->workload->name);
        add_config_args(a, c);
        if (!c->gc_timing) {
            arg_add(a, "--gc-timing");
            arg_add(a, "off");
        }
        return;
    }
    arg_add(a, "%s/%s", c->build ? c->build : rtb_self_dir(), rtb_rc_binary(c->rc));
    arg_add(a, "__worker");
    arg_add(a, "%s", c->workload->name);
    arg_add(a, "--result-fd");
    arg_add(a, "3");
    add_config_args(a, c);
    arg_add(a, "--alloc");
    arg_add(a, "%s", rt_alloc_name(c->alloc));
    arg_add(a, "--arena-decay");
    arg_add(a, "%lld", (long long)c->arena_decay_ms);
    arg_add(a, "--gc-timing");
    arg_add(a, "%s", c->gc_timing ? "on" : "off");
    /* Only when it is not the default: a --baseline build from before the
     * option runs the default, and would refuse the option. */
    if (c->gc_parallel != RTB_DEFAULT_GC_PARALLEL) {
        arg_add(a, "--gc-parallel");
        arg_add(a, "%s", rt_gc_parallel_name(c->gc_parallel));
    }
}

/* ==== spawn ============================================================== */

typedef struct Buf {
    char *data;
    size_t len, cap;
    bool tail;      /* keep only the last STDERR_TAIL bytes */
} Buf;

typedef struct Child {
    pid_t pid;
    int result_fd, err_fd;
    Buf result, err;
    size_t npoints, cap;
    double *t;              /* the parent's readings: time since spawn */
    int64_t *rss;
    double start;
    bool timed_out, interrupted;
    int spawn_errno;
} Child;

/* A pipe whose ends sit at 10 or above, so that the child's dup2s onto 1,
 * 2 and 3 never overwrite one another. */
static int
high_pipe(int fds[2])
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    for (int k = 0; k < 2; k++) {
        fds[k] = fcntl(p[k], F_DUPFD_CLOEXEC, 10);
        close(p[k]);
    }
    return fds[0] >= 0 && fds[1] >= 0 ? 0 : -1;
}

static void
pin(pid_t pid, const RtbMeasure *m)
{
    if (m->ncpus == 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int k = 0; k < m->ncpus; k++)
        CPU_SET(m->cpus[k], &set);
    sched_setaffinity(pid, sizeof set, &set);   /* checked when parsed */
}

/* The report pipe goes to stdout for a twin, to descriptor 3 for the
 * worker and for a program (whose own stdout goes to /dev/null: a chatty
 * program must not fill the stderr tail).  The child leads a process group
 * of its own, so that a timeout or Ctrl-C stops everything it started (a
 * program's forked workers, its subprocesses), and a Ctrl-C at the terminal
 * reaches the parent alone, which stops the child in order. */
static bool
spawn(Child *ch, char *const argv[], char *const envp[], const RtbConfig *c, const RtbMeasure *m)
{
    bool twin = c->impl == RTB_IMPL_CPYTHON && c->program == NULL;
    int rp[2] = {-1, -1}, ep[2] = {-1, -1};
    if (high_pipe(rp) != 0 || high_pipe(ep) != 0) {
        ch->spawn_errno = errno;
        for (int k = 0; k < 2; k++) {
            if (rp[k] >= 0) close(rp[k]);
            if (ep[k] >= 0) close(ep[k]);
        }
        return false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, rp[1], twin ? 1 : 3);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
    if (c->program != NULL)
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    else if (!twin)
        posix_spawn_file_actions_adddup2(&fa, ep[1], 1);   /* the worker prints nothing; keep any text */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    fflush(NULL);
    /* A counted child runs with ASLR off; the personality is inherited
     * through posix_spawn's clone and takes effect at the child's exec
     * only, so the parent's own layout is untouched. */
    int persona = m->counter != RTB_COUNTER_NONE ? rtb_aslr_off() : -1;
    ch->start = rt_monotonic_s();
    int r = posix_spawn(&ch->pid, argv[0], &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    rtb_aslr_restore(persona);
    close(rp[1]);
    close(ep[1]);
    ch->result_fd = rp[0];
    ch->err_fd = ep[0];
    if (r != 0) {
        ch->spawn_errno = r;
        ch->pid = -1;
        return false;
    }
    pin(ch->pid, m);
    return true;
}

/* ==== supervise ========================================================== */

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
        b->data = rtb_xrealloc(b->data, b->cap);
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

static void
add_point(Child *ch, double t, int64_t rss)
{
    if (ch->npoints == ch->cap) {
        ch->cap = ch->cap ? 2 * ch->cap : 256;
        ch->t = rtb_xrealloc(ch->t, ch->cap * sizeof *ch->t);
        ch->rss = rtb_xrealloc(ch->rss, ch->cap * sizeof *ch->rss);
    }
    ch->t[ch->npoints] = t;
    ch->rss[ch->npoints++] = rss;
}

/* Signal the child's whole process group (it leads one: spawn); the group
 * stays valid until wait4 reaps the leader, which happens after this. */
static void
stop_child(Child *ch, int sig)
{
    kill(-ch->pid, sig);
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
        kill(-ch->pid, SIGKILL);
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
            if (rss > 0)
                add_point(ch, now - ch->start, rss);
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
        rtb_progress_tick();
        int wait_ms = 100;
        if (m->rss_interval_s > 0 && (next_rss - now) * 1000.0 < wait_ms)
            wait_ms = (int)((next_rss - now) * 1000.0) + 1;
        struct pollfd fds[2] = {{result_open ? ch->result_fd : -1, POLLIN, 0}, {err_open ? ch->err_fd : -1, POLLIN, 0}};
        if (poll(fds, 2, wait_ms < 1 ? 1 : wait_ms) <= 0)
            continue;
        if (fds[0].revents && !drain(ch->result_fd, &ch->result))
            result_open = false;
        if (fds[1].revents && !drain(ch->err_fd, &ch->err))
            err_open = false;
    }
}

/* ==== judge ============================================================== */

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

/* The last STDERR_TAIL_LINES lines of stderr, for a failed sample's record. */
static const char *
stderr_tail(const Buf *b)
{
    const char *start = b->data + b->len;
    for (int lines = 0; start > b->data && lines <= STDERR_TAIL_LINES; start--)
        if (start[-1] == '\n')
            lines++;
    while (*start == '\n')
        start++;
    return start;
}

static void
judge(RtbSample *s, Child *ch, int wstatus, const RtbMeasure *m)
{
    char err[256] = "empty report";
    Rtj *report = ch->result.len ? rtj_parse(ch->result.data, ch->result.len, err, sizeof err) : NULL;
    bool readable = report != NULL && rtb_sample_from_json(report, s, err, sizeof err);
    rtj_free(report);
    char *reported = s->error;      /* the workload's own error, if any */
    s->error = NULL;
    const char *sep = ch->err.len ? ": " : "";
    if (ch->interrupted)
        rtb_sample_fail(s, RTB_INTERRUPTED, "interrupted by the user");
    else if (ch->timed_out)
        rtb_sample_fail(s, RTB_TIMEOUT, "killed after the %g s timeout (--timeout)", m->timeout_s);
    else if (WIFSIGNALED(wstatus))
        rtb_sample_fail(s, RTB_CRASHED, "killed by signal %d (%s)%s%s", WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)),
                        sep, last_line(&ch->err));
    else if (reported != NULL)
        rtb_sample_fail(s, RTB_FAILED, "%s", reported);
    else if (WEXITSTATUS(wstatus) != 0)
        rtb_sample_fail(s, RTB_FAILED, "exit status %d%s%s", WEXITSTATUS(wstatus), sep, last_line(&ch->err));
    else if (!readable || !isfinite(s->wall_s))
        rtb_sample_fail(s, RTB_FAILED, "unreadable report: %s", readable ? "no wall_s" : err);
    else
        rtb_sample_fail(s, RTB_OK, NULL);
    free(reported);
    /* The program's own status when run.py reported it, else the child's. */
    if (s->exit_status == RTB_NONE && WIFEXITED(wstatus) && !ch->timed_out && !ch->interrupted)
        s->exit_status = WEXITSTATUS(wstatus);
    if (s->status != RTB_OK && ch->err.len > 0)
        s->stderr_tail = rtb_strdup(stderr_tail(&ch->err));
}

/* ==== timeline =========================================================== */

static void
timeline_add(RtbTimeline *t, double at, int64_t rss)
{
    t->t_s[t->n] = at;
    t->rss_bytes[t->n++] = rss;
}

static void
make_timeline(RtbSample *s, const Child *ch, const RtbMeasure *m)
{
    RtbTimeline *t = &s->timeline;
    t->interval_s = m->rss_interval_s;
    t->t_s = rtb_xcalloc(ch->npoints + 2, sizeof *t->t_s);
    t->rss_bytes = rtb_xcalloc(ch->npoints + 2, sizeof *t->rss_bytes);
    if (!isfinite(s->t0_monotonic) || !isfinite(s->wall_s))
        return;
    double shift = ch->start - s->t0_monotonic;     /* spawn, on the workload's clock */
    s->startup_s = -shift;
    int64_t peak = s->peak_rss_bytes;
    if (s->rss_at_start_bytes != RTB_NONE)
        timeline_add(t, 0, s->rss_at_start_bytes);
    for (size_t k = 0; k < ch->npoints; k++) {
        double at = ch->t[k] + shift;
        bool after_last = t->n == 0 || at > t->t_s[t->n - 1];
        if (at > 0 && at < s->wall_s && after_last && (peak == RTB_NONE || ch->rss[k] <= peak))
            timeline_add(t, at, ch->rss[k]);
    }
    if (s->final_rss_bytes != RTB_NONE && (t->n == 0 || s->wall_s > t->t_s[t->n - 1]))
        timeline_add(t, s->wall_s, s->final_rss_bytes);
    t->short_run = m->rss_interval_s > 0 && s->wall_s < RTB_SHORT_INTERVALS * m->rss_interval_s;
}

static double
seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* ==== counting =========================================================== */

/* The counted command line and environment of a sample (counter.h):
 * callgrind's output in a file of our own, the twins' counting library
 * from the build that runs the sample.  0, or -1 with the sample failed. */
static int
count_prepare(RtbCounted *cnt, const RtbConfig *c, const RtbMeasure *m, char *const argv[], RtbSample *s)
{
    static unsigned seq;
    const char *tmp = getenv("TMPDIR");
    char out[PATH_MAX], err[512];
    snprintf(out, sizeof out, "%s/rtb-count-%d-%u.out", tmp && *tmp ? tmp : "/tmp", (int)getpid(), seq++);
    char *lib = rtb_asprintf("%s/librtb_count.so", c->build ? c->build : rtb_self_dir());
    int r = rtb_counted_prepare(cnt, m->counter, argv, environ, out, c->impl == RTB_IMPL_CPYTHON ? lib : NULL, err,
                                sizeof err);
    free(lib);
    if (r != 0)
        rtb_sample_fail(s, RTB_FAILED, "cannot count instructions: %s", err);
    return r;
}

/* After an ok sample: its count, or the sample failed.  A count of 0 means
 * the worker never switched counting on (a build without the counted
 * region), not a workload of no instructions. */
static void
count_finish(RtbCounted *cnt, RtbSample *s)
{
    char err[512];
    int64_t count = 0;
    long long reported = s->instructions == RTB_NONE ? -1 : s->instructions;
    int r = rtb_counted_finish(cnt, reported, &count, err, sizeof err);
    if (s->status != RTB_OK)
        return;
    if (r != 0)
        rtb_sample_fail(s, RTB_FAILED, "no instruction count: %s", err);
    else if (count <= 0)
        rtb_sample_fail(s, RTB_FAILED, "no instruction count: the child counted nothing (a worker without the "
                                       "counted region: an older build?)");
    else {
        s->instructions = count;
        free(s->instructions_counter);
        s->instructions_counter = rtb_strdup(rtb_counter_name(cnt->kind));
    }
}

/* ==== the sample ========================================================= */

void
rtb_run_sample(const RtbConfig *c, const RtbMeasure *m, RtbSample *s)
{
    Argv a = {0};
    build_argv(&a, c);
    Child ch = {.result.tail = false, .err.tail = true, .result_fd = -1, .err_fd = -1};
    RtbCounted cnt = {.kind = RTB_COUNTER_NONE};
    bool counted = m->counter != RTB_COUNTER_NONE;
    double load_before = rtb_load1();
    if (counted && count_prepare(&cnt, c, m, a.v, s) != 0) {
        /* the sample says why */
    } else if (!spawn(&ch, counted ? cnt.argv : a.v, counted ? cnt.envp : environ, c, m)) {
        rtb_sample_fail(s, RTB_FAILED, "cannot start %s: %s", a.v[0], strerror(ch.spawn_errno));
    } else {
        supervise(&ch, m);
        int wstatus = 0;
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        while (wait4(ch.pid, &wstatus, 0, &ru) < 0 && errno == EINTR)
            ;
        double process_wall = rt_monotonic_s() - ch.start;
        judge(s, &ch, wstatus, m);      /* reads the report into s: the parent's own figures after it */
        s->process_wall_s = process_wall;
        s->user_s = seconds(ru.ru_utime);
        s->sys_s = seconds(ru.ru_stime);
        /* The child's own VmHWM when it reported one: ru_maxrss counts the
         * parent's size, copied at fork, into the child (procfs.h). */
        if (s->peak_rss_bytes == RTB_NONE || s->peak_rss_bytes <= 0)
            s->peak_rss_bytes = (int64_t)ru.ru_maxrss * 1024;
        s->minflt = ru.ru_minflt;
        s->majflt = ru.ru_majflt;
        make_timeline(s, &ch, m);
        if (counted)
            count_finish(&cnt, s);
    }
    rtb_counted_free(&cnt);
    s->load_before = load_before;       /* after judge, which reads the report into s */
    s->load_after = rtb_load1();
    if (ch.result_fd >= 0)
        close(ch.result_fd);
    if (ch.err_fd >= 0)
        close(ch.err_fd);
    free(ch.result.data);
    free(ch.err.data);
    free(ch.t);
    free(ch.rss);
    arg_free(&a);
}
