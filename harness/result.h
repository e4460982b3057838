/* result.h -- the typed result: a sample, a run, a result file.
 *
 * Everything the harness measures lives in these structs from the moment
 * it is read off the child's pipe until the file is written, and again from
 * the moment a result file is read (compare, export, merge).  JSON exists
 * only at the edges: result_json.c turns a struct into JSON and back, and
 * results/schema.json describes that JSON for every other reader.
 *
 * Conventions:
 *   - a double that was not measured is NAN (written as null);
 *   - an integer that was not measured is RTB_NONE (written as null);
 *   - every string and array is malloc'd and owned by its struct; the
 *     rtb_*_free functions release a struct's members, not the struct.
 */
#ifndef RTB_RESULT_H
#define RTB_RESULT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTB_NONE INT64_MIN

typedef enum RtbStatus { RTB_OK, RTB_FAILED, RTB_CRASHED, RTB_TIMEOUT, RTB_INTERRUPTED, RTB_STATUS_COUNT } RtbStatus;
const char *rtb_status_name(RtbStatus s);
int rtb_status_parse(const char *s);            /* -1 when unknown */

typedef struct RtbTimeline {
    double interval_s;      /* the parent's sampling step; 0: no timeline */
    size_t n;
    double *t_s;            /* strictly increasing, from 0 to wall_s */
    int64_t *rss_bytes;     /* each <= the sample's peak_rss_bytes */
    bool short_run;         /* shorter than RTB_SHORT_INTERVALS steps: the
                             * child's own start and end readings only */
} RtbTimeline;

/* Pauses summed up, without the per-pause lists. */
typedef struct RtbPauseStats {
    int64_t count;
    double total_s, p50_s, p90_s, p99_s, max_s;
} RtbPauseStats;

typedef struct RtbPauses {
    int64_t count;
    double total_s, p50_s, p90_s, p99_s, max_s;
    /* Threaded variants: the time the other threads took to reach a
     * safepoint, over all collections and at most (NAN: not recorded). */
    double safepoint_total_s, safepoint_max_s;
    /* Threaded variants: the time the threads spent parked, waiting out
     * other threads' stops, summed over the threads (NAN: not recorded). */
    double parked_total_s;
    size_t n;               /* kept pauses (all, or a uniform subsample) */
    double *seconds, *t_s;
    int *generation;
    bool subsampled;
    bool has_by_generation; /* a program's: the pauses of each generation */
    RtbPauseStats by_generation[3];
} RtbPauses;

typedef struct RtbGc {
    bool present;
    int64_t collections[3], collected[3], uncollectable[3];
    RtbPauses pauses;
} RtbGc;

typedef struct RtbAllocStats {
    bool present;           /* false for CPython: not our allocator */
    char *backend;
    int64_t blocks_allocated, blocks_peak, small_peak, large_peak, pools_peak;
    int64_t arenas_allocated, arenas_peak, arenas_released, arenas_current, faults_injected;
    /* The pool's arena retention: retained arenas taken back into use, and
     * wholly free arenas kept mapped at the end (RTB_NONE: an older file). */
    int64_t arenas_reused, arenas_retained;
} RtbAllocStats;

typedef struct RtbTypeRow {
    char *name;
    int64_t live, bytes, live_peak, bytes_peak, allocated;
} RtbTypeRow;

typedef struct RtbClassRow {
    int64_t size, blocks, pools;
} RtbClassRow;

typedef struct RtbProfile {
    bool present;
    double t_s;
    int64_t blocks_in_use;
    size_t ntypes, nclasses;
    RtbTypeRow *types;
    RtbClassRow *classes;
} RtbProfile;

typedef struct RtbMark {
    char *name;
    double t_s;
    int64_t rss_bytes, live_bytes;      /* RTB_NONE: unknown */
} RtbMark;

/* ---- what a Python program's sample adds (rtbench cpython --script) ---- */

/* The collector's settings as the program's first line found them, or as
 * it left them. */
typedef struct RtbGcSettings {
    bool present;
    long threshold[3];
    bool enabled;
    int64_t frozen;         /* gc.get_freeze_count() */
} RtbGcSettings;

/* A process's memory from /proc/PID/smaps_rollup. */
typedef struct RtbMemory {
    bool present;
    int64_t rss_bytes, pss_bytes, uss_bytes, shared_bytes, pss_anon_bytes;
} RtbMemory;

/* One forked worker (--fork-workers), at the synchronisation point. */
typedef struct RtbForkWorker {
    int64_t index, pid, exit_status, signal;    /* RTB_NONE: none */
    char *error;
    double wall_s;
    int64_t peak_rss_bytes;
    RtbMemory memory;
    bool has_gc;
    int64_t collections[3], collected[3], uncollectable[3];
    bool has_pauses;        /* false: not timed */
    RtbPauseStats pauses, by_generation[3];
    RtbGcSettings at_end;   /* its thresholds and switch when it finished */
} RtbForkWorker;

typedef struct RtbForkWorkers {
    bool present;
    int64_t count, frozen_at_fork;
    double fork_at_s;       /* from the measured window's start */
    RtbGcSettings at_fork;
    RtbMemory main;         /* the main process at the synchronisation point */
    size_t nworkers;
    RtbForkWorker *workers;
    /* means over the workers; the main process and every worker together */
    int64_t rss_bytes_mean, pss_bytes_mean, uss_bytes_mean, pss_bytes_total;
} RtbForkWorkers;

/* One value of the workload's "result" object (its checksum and others). */
typedef struct RtbValue {
    char *key;
    bool is_int;
    int64_t i;
    double d;
} RtbValue;

typedef struct RtbSample {
    int index;              /* 0.. within its run */
    int round;              /* the round of the schedule that took it */
    int64_t seq;            /* its place in the whole command's order */
    RtbStatus status;
    char *error;            /* NULL when ok */
    double wall_s;          /* the workload, timed inside the child */
    double cpu_s;           /* the workload's CPU time, inside the child */
    double process_wall_s, user_s, sys_s, startup_s;
    int64_t peak_rss_bytes, final_rss_bytes, minflt, majflt;
    double load_before, load_after;     /* 1-minute load average */
    int64_t instructions;               /* RTB_NONE unless --metric instructions */
    char *instructions_counter;         /* "perf" | "callgrind" | NULL */
    RtbTimeline timeline;
    RtbGc gc;
    RtbAllocStats alloc;
    RtbProfile profile;
    size_t nmarks, nresult;
    RtbMark *marks;
    RtbValue *result;
    int heap_clean;         /* 1, 0, or -1 (not reported: CPython) */
    char *rc;               /* the worker's refcount variant */
    char *python_version, *python_executable, *python_implementation;
    int64_t exit_status;    /* the program's (or the child's) exit status; RTB_NONE: killed */
    char *stderr_tail;      /* a sample not ok: the last lines of the child's stderr */
    /* A Python program's (NULL/false otherwise): */
    RtbGcSettings gc_settings, gc_settings_at_end;
    size_t nwarnings;
    struct RtbWarning *warnings;        /* what the program did to its settings */
    RtbForkWorkers fork;
    /* Only in the child's report, never in a result file: */
    double t0_monotonic, t_exec_monotonic;
    int64_t rss_at_start_bytes;
} RtbSample;

void rtb_sample_init(RtbSample *s);
void rtb_sample_free(RtbSample *s);
/* Set status and error (formatted; NULL fmt: none). */
void rtb_sample_fail(RtbSample *s, RtbStatus status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Median and range of the ok samples' values of one metric; ci_low/high
 * is the distribution-free 95% interval of the median (NAN under 2). */
typedef struct RtbStat {
    int n;
    double median, min, max, mean, stdev, ci_low, ci_high;
} RtbStat;

typedef struct RtbSummary {
    RtbStat wall_s, cpu_s, process_wall_s, user_s, sys_s, peak_rss_bytes, final_rss_bytes;
    RtbStat gc_pause_p99_s, gc_pause_max_s, gc_pause_total_s, gc_collections[3], instructions;
    /* --fork-workers: the means over the workers, and the whole server */
    RtbStat worker_rss_bytes, worker_pss_bytes, worker_uss_bytes, total_pss_bytes;
} RtbSummary;

/* A warning's kind is a word a program can match; the message is for people. */
typedef enum RtbWarnKind {
    RTB_W_FAILED, RTB_W_INCOMPLETE, RTB_W_NOT_RUN, RTB_W_NOISY, RTB_W_SHORT, RTB_W_LOAD, RTB_W_IMPRECISE,
    /* a Python program's own doing, said by run.py in its samples */
    RTB_W_THRESHOLD_CHANGED, RTB_W_GC_SWITCHED, RTB_W_CALLBACKS_CLEARED, RTB_W_NO_SMAPS,
    RTB_W_KIND_COUNT
} RtbWarnKind;
#define RTB_W_FIRST_PROGRAM RTB_W_THRESHOLD_CHANGED
int rtb_warn_kind_parse(const char *s);         /* -1 when unknown */
const char *rtb_warn_kind_name(RtbWarnKind k);

typedef struct RtbWarning {
    RtbWarnKind kind;
    char *message;
} RtbWarning;

typedef struct RtbParam {
    char *name;
    int64_t value;
} RtbParam;

#define RTB_MAX_PARAMS 8

typedef struct RtbRun {
    char *name, *workload;
    bool cpython;
    int nparams;
    RtbParam params[RTB_MAX_PARAMS];
    long threshold[3];
    bool gc;
    char *rc, *alloc, *python;          /* rc, alloc NULL for CPython; python NULL for rtbench */
    int64_t arena_decay_ms;             /* RTB_NONE for CPython (and in files from before the option) */
    /* A Python program (rtbench cpython --script): */
    char *program_kind;                 /* "script" | "module"; NULL: a workload */
    char *program_target;               /* the path or the module, as given */
    int nargs;
    char **program_args;
    int nfreeze;
    char **freeze;                      /* --freeze-after-import, when on here */
    int64_t fork_workers;               /* 0: none */
    bool gc_timing;                     /* collections timed */
    int gc_parallel;                    /* RtbConfig.gc_parallel; -1: CPython */
    int repeat;                         /* planned samples (the minimum with --repeat auto) */
    size_t nsamples, cap;
    RtbSample *samples;                 /* in the order they ran, failed ones included */
    RtbSummary summary;
    size_t nwarnings;
    RtbWarning *warnings;
} RtbRun;

void rtb_run_free(RtbRun *r);
RtbSample *rtb_run_add_sample(RtbRun *r);       /* an initialized slot at the end */
size_t rtb_run_ok(const RtbRun *r);
void rtb_run_add_warning(RtbRun *r, RtbWarnKind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

typedef struct RtbMachine {
    char *hostname, *cpu_model, *kernel, *compiler, *cflags, *build_type, *git_commit;
    char *governor;                     /* NULL: no cpufreq (a VM, usually) */
    int64_t cores, aslr;                /* aslr RTB_NONE: unreadable */
    int nload;
    double load_avg[3];                 /* when the command started */
} RtbMachine;

void rtb_machine_read(RtbMachine *m);
void rtb_machine_free(RtbMachine *m);

typedef struct RtbEnvVar {
    char *name, *value;
} RtbEnvVar;

/* How the samples were scheduled: the seed of the per-round shuffles, and
 * the order the samples ran in (run index, sample index). */
typedef struct RtbOrder {
    int run, sample;
} RtbOrder;

typedef struct RtbSchedule {
    uint64_t seed;
    bool interleaved;
    bool auto_repeat;
    double precision;                   /* auto: target half-width of the median's CI, fraction */
    int min_repeat, max_repeat;
    double max_time_s;                  /* 0: none */
    size_t norder;
    RtbOrder *order;
} RtbSchedule;

typedef struct RtbResult {
    char *kind, *created, *tool;
    int ncommand;
    char **command;
    bool complete;
    RtbMachine machine;
    int nenv;
    RtbEnvVar *env;                     /* the RT_* variables the samples ran under */
    char *cpu_list;                     /* --cpu, or NULL */
    int shard_index, shard_count;       /* 0, 0 when not sharded */
    RtbSchedule schedule;
    size_t nruns;
    RtbRun *runs;
} RtbResult;

void rtb_result_free(RtbResult *r);
RtbRun *rtb_result_add_run(RtbResult *r);

/* ---- result.c: summaries, warnings ---- */
/* (Re)compute the summary and the warnings of a run of that result. */
void rtb_run_summarize(RtbRun *r, const RtbResult *in);
/* The value of a metric in a sample; NAN when it has none.  Names as in the
 * summary (wall_s, cpu_s, ..., gc_pause_p99_s, instructions). */
double rtb_sample_metric(const RtbSample *s, const char *metric);
bool rtb_metric_known(const char *metric);

/* ---- result_json.c: the edges ---- */
#include "json.h"
Rtj *rtb_sample_to_json(const RtbSample *s, bool report);
/* Fill s from JSON (a result file's sample, or a child's report); false
 * with a message when a field has the wrong type. */
bool rtb_sample_from_json(const Rtj *j, RtbSample *s, char *err, size_t errlen);
Rtj *rtb_run_to_json(const RtbRun *r);
Rtj *rtb_result_to_json(const RtbResult *r);
/* False with a message (r then holds nothing to free). */
bool rtb_result_from_json(const Rtj *j, RtbResult *r, char *err, size_t errlen);

#endif /* RTB_RESULT_H */
