/* region.c -- the child's half of an instruction count (counter.h): switch
 * the counter chosen by RTBENCH_COUNT on just before the workload and off
 * just after it, so that start-up, argument parsing and the report are not
 * counted.
 *
 * Built twice from this one file: into the harness (the C worker calls it
 * around its workload) and as librtb_count.so, which the Python twins load
 * with ctypes.  It uses nothing of the runtime or the harness.
 *
 * callgrind: CALLGRIND_START_INSTRUMENTATION then CALLGRIND_TOGGLE_COLLECT
 * on, and the reverse at the end (valgrind's callgrind.h, Debian package
 * valgrind; without the header callgrind is refused at run time).  Outside
 * valgrind the client requests do nothing, so begin checks
 * RUNNING_ON_VALGRIND first: a count of the wrong thing is worse than none.
 *
 * perf: one counter for this process (inherited by threads started
 * later), disabled at open, reset and enabled at begin, disabled and read
 * at end.
 */
#define _GNU_SOURCE
#include "counter.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define RTB_HAVE_CALLGRIND 1
#endif
#endif

static int perf_fd = -1;
static RtbCounterKind counting = RTB_COUNTER_NONE;

int
rtb_perf_open(uint32_t type, uint64_t config)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    attr.disabled = 1;
    attr.exclude_kernel = 1;        /* needed at perf_event_paranoid 2, the default */
    attr.exclude_hv = 1;
    attr.inherit = 1;
    return (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

int
rtb_region_begin(char *err, size_t errlen)
{
    const char *mode = getenv(RTB_COUNT_ENV);
    if (mode == NULL || *mode == '\0')
        return 0;
    if (strcmp(mode, "perf") == 0) {
        if (perf_fd < 0 && (perf_fd = rtb_perf_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS)) < 0) {
            snprintf(err, errlen, "cannot open the instruction counter: %s", strerror(errno));
            return -1;
        }
        counting = RTB_COUNTER_PERF;
        ioctl(perf_fd, PERF_EVENT_IOC_RESET, 0);
        ioctl(perf_fd, PERF_EVENT_IOC_ENABLE, 0);
        return 0;
    }
    if (strcmp(mode, "callgrind") == 0) {
#ifdef RTB_HAVE_CALLGRIND
        if (!RUNNING_ON_VALGRIND) {
            snprintf(err, errlen, "%s=callgrind, but this process does not run under valgrind", RTB_COUNT_ENV);
            return -1;
        }
        counting = RTB_COUNTER_CALLGRIND;
        CALLGRIND_START_INSTRUMENTATION;
        CALLGRIND_TOGGLE_COLLECT;
        return 0;
#else
        snprintf(err, errlen, "built without valgrind/callgrind.h (apt-get install valgrind, then rebuild)");
        return -1;
#endif
    }
    snprintf(err, errlen, "%s=%s: expected perf or callgrind", RTB_COUNT_ENV, mode);
    return -1;
}

long long
rtb_region_end(void)
{
    RtbCounterKind was = counting;
    counting = RTB_COUNTER_NONE;
    if (was == RTB_COUNTER_PERF) {
        ioctl(perf_fd, PERF_EVENT_IOC_DISABLE, 0);
        long long count = -1;
        if (read(perf_fd, &count, sizeof count) != (ssize_t)sizeof count)
            count = -1;
        return count;
    }
#ifdef RTB_HAVE_CALLGRIND
    if (was == RTB_COUNTER_CALLGRIND) {
        CALLGRIND_TOGGLE_COLLECT;
        CALLGRIND_STOP_INSTRUMENTATION;
    }
#endif
    return -1;
}

/* A thread of the workload's own starts (begin) or ends its part:
 * callgrind's collection state is per thread, and a new thread starts with
 * it off (--collect-atstart=no), so switch it as begin switched the
 * calling thread's.  A perf counter with inherit counts the thread by
 * itself. */
void
rtb_region_thread(bool begin)
{
    (void)begin;
#ifdef RTB_HAVE_CALLGRIND
    if (counting == RTB_COUNTER_CALLGRIND)
        CALLGRIND_TOGGLE_COLLECT;
#endif
}

int
rtb_region_begin_simple(void)
{
    char err[256];
    int r = rtb_region_begin(err, sizeof err);
    if (r != 0)
        fprintf(stderr, "librtb_count: %s\n", err);
    return r;
}
