/* test_counter.c -- exact instruction counts (harness/counter.h).
 *
 * A tiny workload counted twice gives the same count, for the C worker and
 * for its Python twin, under whichever counter this machine has (here
 * callgrind: the VM has no PMU); a larger size counts more; and every way
 * counting can fail says so.  The children are started the way the sample
 * driver starts them: rtb_counted_prepare, fork, rtb_counted_child_setup,
 * execve, then rtb_counted_finish.
 *
 *   test_counter BUILD_DIR SOURCE_DIR PYTHON [yes|no]
 *
 * The last argument says whether the counted runs can happen at all (no in
 * sanitizer builds: valgrind cannot run them).  Exit 77 (skipped) after the
 * other checks when they cannot, or when neither counter is available.
 */
#include "testhelper.h"
#include "counter.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <math.h>

extern char **environ;
static const char *build, *source, *python;
static RtbCounterProbe probe;
static char tmpdir[] = "/tmp/rtb-counter-XXXXXX";

/* Run argv counted by kind; the count, or -1 with the problem printed.
 * The C worker reports on descriptor 3, the twin on stdout. */
static int64_t
count_once(RtbCounterKind kind, char *const argv[], bool twin)
{
    static int seq;
    char out[PATH_MAX], lib[PATH_MAX], err[512];
    snprintf(out, sizeof out, "%s/callgrind.%d", tmpdir, seq++);
    snprintf(lib, sizeof lib, "%s/librtb_count.so", build);
    RtbCounted c;
    if (rtb_counted_prepare(&c, kind, argv, environ, out, twin ? lib : NULL, err, sizeof err) != 0) {
        fprintf(stderr, "  prepare: %s\n", err);
        return -1;
    }
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        int target = twin ? 1 : 3;
        close(p[0]);            /* first: the read end may be the target */
        dup2(p[1], target);
        if (p[1] != target)
            close(p[1]);
        rtb_counted_child_setup(&c);
        execve(c.argv[0], c.argv, c.envp);
        _exit(127);
    }
    close(p[1]);
    char report[1 << 16];
    size_t len = rt_test_read_fd(p[0], report, sizeof report);
    int status;
    waitpid(pid, &status, 0);
    Rtj *j = rtj_parse(report, len, err, sizeof err);
    long long reported = (long long)rtj_int(rtj_get(j, "instructions"), -1);
    const char *failed = rtj_str(rtj_get(j, "error"), NULL);
    int64_t count = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || failed != NULL)
        fprintf(stderr, "  child exited with %d: %s\n", status, failed ? failed : report);
    else if (rtb_counted_finish(&c, reported, &count, err, sizeof err) != 0)
        fprintf(stderr, "  finish: %s\n", err);
    rtj_free(j);
    rtb_counted_free(&c);
    return count;
}

static int64_t
count_worker(const char *n)
{
    char exe[PATH_MAX];
    snprintf(exe, sizeof exe, "%s/rtbench", build);
    char *argv[] = {exe, "__worker", "list_append", "--result-fd", "3", "--n", (char *)n, "--rounds", "2", NULL};
    return count_once(probe.best, argv, false);
}

static int64_t
count_twin(const char *n)
{
    char run[PATH_MAX];
    snprintf(run, sizeof run, "%s/workloads/python/run.py", source);
    char *argv[] = {(char *)python, run, "list_append", "--n", (char *)n, "--rounds", "2", NULL};
    return count_once(probe.best, argv, true);
}

TEST(probe_says_which_counter_and_why)
{
    printf("     counter: %s; perf: %s; valgrind: %s\n", rtb_counter_name(probe.best) ? rtb_counter_name(probe.best) : "none",
           probe.perf ? "readable" : probe.perf_why, probe.valgrind ? probe.valgrind_version : "missing");
    CHECK(probe.perf || probe.perf_why[0] != '\0');
    if (!probe.perf && probe.perf_errno != 0)
        CHECK(strstr(probe.perf_why, strerror(probe.perf_errno)) != NULL);
    /* This VM: no PMU ("PMU not available due to virtualization"): ENOENT. */
    if (access("/sys/bus/event_source/devices/cpu", F_OK) != 0 && access("/sys/bus/event_source/devices/cpu_core", F_OK) != 0)
        CHECK(!probe.perf);
    CHECK(probe.best == (probe.perf ? RTB_COUNTER_PERF : probe.valgrind ? RTB_COUNTER_CALLGRIND : RTB_COUNTER_NONE));
    /* The perf path itself opens (a software event exists everywhere). */
    int fd = rtb_perf_open(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
}

TEST(c_worker_counts_repeat_exactly)
{
    int64_t a = count_worker("2000"), b = count_worker("2000"), c = count_worker("2200");
    printf("     C worker, list_append n=2000 rounds=2: %lld and %lld instructions (%s); n=2200: %lld\n", (long long)a,
           (long long)b, rtb_counter_name(probe.best), (long long)c);
    CHECK(a > 0 && b > 0 && c > 0);
    if (probe.best == RTB_COUNTER_CALLGRIND)
        CHECK(a == b);                          /* exact */
    CHECK(llabs(a - b) * 1000 <= a);            /* within 0.1% under any counter */
    CHECK(c > a);                               /* more work counts more */
}

TEST(python_twin_counts_repeat)
{
    int64_t a = count_twin("2000"), b = count_twin("2000"), c = count_twin("2200");
    printf("     Python twin, list_append n=2000 rounds=2: %lld and %lld instructions (spread %.4f%%); n=2200: %lld\n",
           (long long)a, (long long)b, a > 0 ? 100.0 * (double)llabs(a - b) / (double)a : NAN, (long long)c);
    CHECK(a > 0 && b > 0 && c > 0);
    CHECK(llabs(a - b) * 1000 <= a);            /* within 0.1% */
    CHECK(c > a);
}

TEST(every_failure_says_what)
{
    char err[512];
    RtbCounted c;
    char *argv[] = {"/bin/true", NULL};
    CHECK(rtb_counted_prepare(&c, RTB_COUNTER_NONE, argv, environ, "x", NULL, err, sizeof err) == -1);
    CHECK(strstr(err, "no instruction counter") != NULL);
    CHECK(rtb_counted_prepare(&c, RTB_COUNTER_CALLGRIND, argv, environ, NULL, NULL, err, sizeof err) == -1);
    CHECK(strstr(err, "output file") != NULL);
    /* valgrind not on PATH */
    char *saved = strdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", "/nonexistent", 1);
    CHECK(rtb_counted_prepare(&c, RTB_COUNTER_CALLGRIND, argv, environ, "x", NULL, err, sizeof err) == -1);
    CHECK(strstr(err, "valgrind is not on PATH") != NULL);
    setenv("PATH", saved, 1);
    free(saved);
    /* The environment it builds: ours replaced, not doubled. */
    char *env[] = {"RTBENCH_COUNT=perf", "PYTHONHASHSEED=7", "KEEP=1", NULL};
    REQUIRE(rtb_counted_prepare(&c, RTB_COUNTER_PERF, argv, env, NULL, "/lib.so", err, sizeof err) == 0);
    int ours = 0;
    for (char **e = c.envp; *e; e++)
        ours += strcmp(*e, "RTBENCH_COUNT=perf") == 0 || strcmp(*e, "PYTHONHASHSEED=0") == 0 ||
                strcmp(*e, "RTBENCH_COUNT_LIB=/lib.so") == 0 || strcmp(*e, "KEEP=1") == 0;
    CHECK_EQ(ours, 4);
    CHECK(strcmp(c.argv[0], "/bin/true") == 0 && c.argv[1] == NULL);
    int64_t n;
    CHECK(rtb_counted_finish(&c, -1, &n, err, sizeof err) == -1);       /* perf: the child reported nothing */
    CHECK(strstr(err, "reported no instruction count") != NULL);
    rtb_counted_free(&c);
    /* Output files: missing, and without a totals: line. */
    CHECK(rtb_callgrind_totals("/nonexistent/callgrind.out", &n, err, sizeof err) == -1);
    CHECK(strstr(err, "no callgrind output") != NULL);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/no-totals", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("events: Ir\nsummary: 0\n", f);
    fclose(f);
    CHECK(rtb_callgrind_totals(path, &n, err, sizeof err) == -1);
    CHECK(strstr(err, "no 'totals:' line") != NULL);
    f = fopen(path, "w");
    fputs("events: Ir\nsummary: 0\nfn=x\n0 5\ntotals: 27971425\n", f);
    fclose(f);
    CHECK(rtb_callgrind_totals(path, &n, err, sizeof err) == 0 && n == 27971425);
    unlink(path);
    /* The child's half: a bad mode, and callgrind outside valgrind. */
    setenv(RTB_COUNT_ENV, "bogus", 1);
    CHECK(rtb_region_begin(err, sizeof err) == -1 && strstr(err, "expected perf or callgrind") != NULL);
    setenv(RTB_COUNT_ENV, "callgrind", 1);
    CHECK(rtb_region_begin(err, sizeof err) == -1 && strstr(err, "does not run under valgrind") != NULL);
    unsetenv(RTB_COUNT_ENV);
    CHECK(rtb_region_begin(err, sizeof err) == 0 && rtb_region_end() == -1);   /* not asked: nothing */
}

TEST(worker_refuses_a_count_it_cannot_make)
{
    /* RTBENCH_COUNT=callgrind but no valgrind: the worker reports an
     * error rather than a count of nothing. */
    char exe[PATH_MAX];
    snprintf(exe, sizeof exe, "%s/rtbench", build);
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 3);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        setenv(RTB_COUNT_ENV, "callgrind", 1);
        execl(exe, exe, "__worker", "list_append", "--result-fd", "3", "--n", "100", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[8192];
    rt_test_read_fd(p[0], buf, sizeof buf);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    CHECK(strstr(buf, "does not run under valgrind") != NULL);
}

int
main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_counter BUILD_DIR SOURCE_DIR PYTHON [yes|no]\n");
        return 2;
    }
    build = argv[1];
    source = argv[2];
    python = argv[3];
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    rtb_counter_probe(&probe);
    RUN(probe_says_which_counter_and_why);
    RUN(every_failure_says_what);
    RUN(worker_refuses_a_count_it_cannot_make);
    bool sanitized = argc > 4 && strcmp(argv[4], "no") == 0;
    if (probe.best == RTB_COUNTER_NONE || sanitized) {
        printf("SKIP the counted runs: %s\n", sanitized ? "a sanitizer build cannot run under valgrind"
                                                        : "no hardware counter and no valgrind (apt-get install valgrind)");
        rmdir(tmpdir);
        int failed = rt_test_summary();
        return failed ? failed : 77;
    }
    RUN(c_worker_counts_repeat_exactly);
    RUN(python_twin_counts_repeat);
    rmdir(tmpdir);
    return rt_test_summary();
}
