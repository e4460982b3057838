/* counter.h -- exact instruction counts of a workload.
 *
 * Two counters, chosen at run time:
 *   perf       the CPU's retired-instructions counter through
 *              perf_event_open (PERF_TYPE_HARDWARE/INSTRUCTIONS, user space
 *              only), opened by the child itself around its workload: exact
 *              and as fast as the workload, where the machine exposes a PMU
 *              (not in most VMs: the open fails with ENOENT);
 *   callgrind  valgrind's callgrind runs the child with instrumentation and
 *              collection off (--instr-atstart=no --collect-atstart=no);
 *              the child switches both on around its workload with
 *              callgrind.h's client requests, and the parent reads the
 *              'totals:' line of the output file.  Exact and repeatable
 *              (the same binary and configuration give the same count),
 *              about 70x slower while counting.
 *
 * The two halves:
 *   - the child (region.c): rtb_region_begin/rtb_region_end bracket the
 *     workload; the environment variable RTBENCH_COUNT (perf | callgrind,
 *     set by the parent) says which counter.  The C worker links region.c;
 *     the Python twins load the same code as librtb_count.so with ctypes
 *     (RTBENCH_COUNT_LIB names it).  Without RTBENCH_COUNT both do nothing.
 *   - the parent (counter.c): rtb_counter_probe says which counter this
 *     machine has and why not the other; rtb_counted_prepare turns a
 *     child's command line and environment into a counted one;
 *     rtb_counted_child_setup runs in the child between fork and exec
 *     (ASLR off); rtb_counted_finish reads the count once the child exited.
 *
 * Counted children run with ASLR off (personality ADDR_NO_RANDOMIZE) and
 * PYTHONHASHSEED=0, so that addresses and hashes, and with them the paths
 * through the allocator and dicts, are the same every time.
 */
#ifndef RTB_COUNTER_H
#define RTB_COUNTER_H

#include <limits.h>
#include <linux/limits.h>      /* PATH_MAX without _GNU_SOURCE */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum RtbCounterKind { RTB_COUNTER_NONE, RTB_COUNTER_PERF, RTB_COUNTER_CALLGRIND } RtbCounterKind;

/* "perf", "callgrind", or NULL for none (the sample's instructions_counter). */
const char *rtb_counter_name(RtbCounterKind k);

/* ---- the child: region.c ------------------------------------------------ */
#define RTB_COUNT_ENV "RTBENCH_COUNT"           /* perf | callgrind */
#define RTB_COUNT_LIB_ENV "RTBENCH_COUNT_LIB"   /* librtb_count.so, for the twins */

/* Start counting (per RTBENCH_COUNT).  0, or -1 with a message in err:
 * perf could not be opened, or callgrind was asked for outside valgrind.
 * Nothing to do (0) when RTBENCH_COUNT is unset. */
int rtb_region_begin(char *err, size_t errlen);
/* Stop counting.  The count for perf; -1 for callgrind (the parent reads
 * it from the output file) and when not counting. */
long long rtb_region_end(void);
/* On a thread the workload starts, as its part begins and ends: callgrind
 * counts it too (its counting is switched per thread). */
void rtb_region_thread(bool begin);
/* The same for the Python twins through ctypes: no message buffer. */
int rtb_region_begin_simple(void);

/* A perf counter of this process and the threads it starts, user space
 * only, disabled: the file descriptor, or -1 with errno.  Any type/config
 * (tests use a software event where the machine has no PMU). */
int rtb_perf_open(uint32_t type, uint64_t config);

/* ---- the parent: counter.c ------------------------------------------------ */
typedef struct RtbCounterProbe {
    bool perf;                  /* a hardware instruction counter is readable */
    int perf_errno;             /* why not (0 when readable) */
    char perf_why[200];         /* ... in words, with what to do */
    bool valgrind;              /* valgrind runs */
    char valgrind_version[64];  /* "valgrind-3.19.0" */
    RtbCounterKind best;        /* perf, else callgrind, else none */
} RtbCounterProbe;

/* Try both counters: open the hardware counter on a known loop (a count of
 * 0 is refused too), run 'valgrind --version'. */
void rtb_counter_probe(RtbCounterProbe *p);

typedef struct RtbCounted {
    RtbCounterKind kind;
    char out_path[PATH_MAX];    /* callgrind's output file */
    char **argv;                /* what to exec */
    char **envp;                /* the environment to exec it with */
} RtbCounted;

/* A counted version of argv (run with the environment env): for callgrind
 * argv behind valgrind's, its output file named out_path (a unique name
 * the caller chooses, in a folder it cleans up); for both, RTBENCH_COUNT,
 * RTBENCH_COUNT_LIB = lib (for the twins; may be NULL for the C worker) and
 * PYTHONHASHSEED=0 added to the environment.  0, or -1 with a message (no
 * memory, no counter, valgrind missing). */
int rtb_counted_prepare(RtbCounted *c, RtbCounterKind kind, char *const argv[], char *const env[], const char *out_path,
                        const char *lib, char *err, size_t errlen);
/* In the child, between fork and exec: ASLR off.  Async-signal-safe. */
void rtb_counted_child_setup(const RtbCounted *c);
/* ASLR off for the programs this process execs from now on (personality
 * ADDR_NO_RANDOMIZE; this process's own layout was fixed at its exec): the
 * previous personality, for rtb_aslr_restore, or -1. */
int rtb_aslr_off(void);
void rtb_aslr_restore(int persona);
/* After the child exited: its count.  perf: what the child reported
 * (reported, -1 when it reported none: an error); callgrind: the totals:
 * line of the output file, which is then removed.  0, or -1 with a
 * message. */
int rtb_counted_finish(RtbCounted *c, long long reported, int64_t *count, char *err, size_t errlen);
void rtb_counted_free(RtbCounted *c);

/* The totals: line of a callgrind output file (the summary: line is 0 when
 * collection starts off).  0, or -1 with a message. */
int rtb_callgrind_totals(const char *path, int64_t *count, char *err, size_t errlen);

#endif /* RTB_COUNTER_H */
