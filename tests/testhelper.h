/* testhelper.h -- a small test harness for the runtime's C tests.
 *
 *   TEST(name) { CHECK(cond); CHECK_EQ(a, b); ... }
 *   int main(void) { RUN(name); ...; return rt_test_summary(); }
 *
 * A failed check prints file, line, the expression and (for CHECK_EQ) both
 * values, and the test goes on; the exit status is the number of failed
 * tests (capped at 125), so ctest sees any failure.  rt_test_dies() runs a
 * function in a forked child and checks that it aborts with a given message
 * on stderr: the way to test the debug allocator's reports.
 */
#ifndef RT_TESTHELPER_H
#define RT_TESTHELPER_H

#define _GNU_SOURCE
#include "rt/rt.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int rt_test_failed_checks, rt_test_failed_tests, rt_test_count;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            rt_test_failed_checks++;                                                    \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                               \
    } while (0)

#define CHECK_EQ(a, b)                                                                              \
    do {                                                                                            \
        intmax_t va_ = (intmax_t)(a), vb_ = (intmax_t)(b);                                          \
        if (va_ != vb_) {                                                                           \
            rt_test_failed_checks++;                                                                \
            fprintf(stderr, "  %s:%d: CHECK_EQ failed: %s == %s (%jd != %jd)\n", __FILE__, __LINE__, \
                    #a, #b, va_, vb_);                                                              \
        }                                                                                           \
    } while (0)

/* A check whose failure makes the rest of the test meaningless. */
#define REQUIRE(cond)                                                                     \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            rt_test_failed_checks++;                                                      \
            fprintf(stderr, "  %s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
            return;                                                                       \
        }                                                                                 \
    } while (0)

#define TEST(name) static void name(void)
#define RUN(name) rt_test_run(#name, name)

static inline void
rt_test_run(const char *name, void (*fn)(void))
{
    int before = rt_test_failed_checks;
    rt_test_count++;
    fn();
    if (rt_test_failed_checks != before) {
        rt_test_failed_tests++;
        fprintf(stderr, "FAIL %s\n", name);
    } else {
        printf("ok   %s\n", name);
    }
}

static inline int
rt_test_summary(void)
{
    printf("%d test(s), %d failed\n", rt_test_count, rt_test_failed_tests);
    return rt_test_failed_tests > 125 ? 125 : rt_test_failed_tests;
}

/* Start a runtime with the defaults and the given backend. */
static inline int
rt_test_init(RtAllocKind backend)
{
    RtConfig cfg;
    rt_config_default(&cfg);
    cfg.alloc = backend;
    return rt_init_ex(&cfg);
}

/* Start a runtime configured from the environment (RT_MALLOC=malloc under
 * valgrind), with the given thresholds and automatic collection on or off;
 * abort when it cannot start. */
static inline void
rt_test_start(long t0, long t1, long t2, bool gc_enabled)
{
    RtConfig cfg;
    rt_config_default(&cfg);
    rt_config_from_env(&cfg, stderr);
    cfg.gc_threshold[0] = t0;
    cfg.gc_threshold[1] = t1;
    cfg.gc_threshold[2] = t2;
    cfg.gc_enabled = gc_enabled;
    if (rt_init_ex(&cfg) != 0)
        abort();
}

/* The number of live blocks and objects, to compare before and after. */
typedef struct RtTestMark {
    int64_t blocks;
    int64_t objects;
} RtTestMark;

static inline RtTestMark
rt_test_mark(void)
{
    RtAllocStats st;
    RtTypeStats ts[RT_MAX_TYPES];
    RtTestMark m = {0, 0};
    rt_alloc_stats(&st);
    m.blocks = st.blocks.current;
    size_t n = rt_type_stats(ts, RT_MAX_TYPES);
    for (size_t i = 0; i < n && i < RT_MAX_TYPES; i++)
        m.objects += ts[i].live;
    return m;
}

/* The statistics row of the type named name (rt_type_stats) into *out:
 * false when no object of that name was ever allocated. */
static inline bool
rt_test_type_stats(const char *name, RtTypeStats *out)
{
    RtTypeStats ts[RT_MAX_TYPES];
    size_t n = rt_type_stats(ts, RT_MAX_TYPES);
    for (size_t i = 0; i < n && i < RT_MAX_TYPES; i++) {
        if (strcmp(ts[i].name, name) == 0) {
            *out = ts[i];
            return true;
        }
    }
    return false;
}

#define CHECK_NO_LEAK(mark)                        \
    do {                                           \
        RtTestMark now_ = rt_test_mark();          \
        CHECK_EQ(now_.blocks, (mark).blocks);      \
        CHECK_EQ(now_.objects, (mark).objects);    \
    } while (0)

/* Read fd to its end into buf (at most cap - 1 bytes, then '\0'), close
 * it; the length read. */
static inline size_t
rt_test_read_fd(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t r;
    while ((r = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd);
    return len;
}

/* bottom (a reference the caller gives away) in depth nested lists,
 * [[...[bottom]...]]: the outermost list. */
static inline RtObject *
rt_test_nest(RtObject *bottom, long depth)
{
    for (long i = 0; i < depth; i++) {
        RtObject *outer = rt_list_new(0);
        rt_list_append(outer, bottom);
        rt_decref(bottom);
        bottom = outer;
    }
    return bottom;
}

/* The start of a reference-counting test: a runtime with automatic
 * collection off (thresholds 700,10,10, as CPython's), and the mark of
 * what is live then. */
static inline RtTestMark
rt_test_begin_counting(void)
{
    rt_test_start(700, 10, 10, false);
    return rt_test_mark();
}

/* Check that exactly what was live at mark is live, and stop the runtime. */
static inline void
rt_test_finish(RtTestMark mark)
{
    CHECK_NO_LEAK(mark);
    rt_fini();
}

/* Collect everything, then rt_test_finish: the end of a collector test. */
static inline void
rt_test_collect_and_finish(RtTestMark mark)
{
    rt_gc_collect(2);
    rt_test_finish(mark);
}

/* Run fn in a child; true when it died of signal sig after writing a line
 * containing 'expect' to stderr ("" for any). */
static inline bool
rt_test_dies_of(void (*fn)(void), int sig, const char *expect)
{
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    char buf[4096];
    rt_test_read_fd(fds[0], buf, sizeof buf);
    int status = 0;
    waitpid(pid, &status, 0);
    bool ok = WIFSIGNALED(status) && WTERMSIG(status) == sig && strstr(buf, expect) != NULL;
    if (!ok)
        fprintf(stderr, "  child status %d, stderr: %s\n", status, buf);
    return ok;
}

/* rt_test_dies_of for an abort(): a failed check, a report. */
static inline bool
rt_test_dies(void (*fn)(void), const char *expect)
{
    return rt_test_dies_of(fn, SIGABRT, expect);
}

#endif /* RT_TESTHELPER_H */
