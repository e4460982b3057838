/* rtbench.h -- what the harness's files share.
 *
 * Data flow of a measurement (DESIGN.md, "Harness"):
 *
 *   command line --args.c--> configurations (RtbConfig), one per point of
 *   the axes given --runner.c--> for each sample, a fresh child process:
 *   the worker (worker.c) for rtbench, or the Python twin for CPython; it
 *   reports one JSON object on a pipe, the parent adds what only it can see
 *   (rusage from wait4, an RSS timeline sampled from /proc) --results.c-->
 *   runs with a summary and warnings, written atomically as JSON and CSV.
 *   compare, export and plot read only result files.
 *
 * Names: rtb_* are the harness's own (rt_* belong to the runtime).
 */
#ifndef RTB_RTBENCH_H
#define RTB_RTBENCH_H

#include "json.h"
#include "workload.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#define RTB_VERSION "0.1.0"
#define RTB_EXIT_USAGE 2
#define RTB_EXIT_INTERRUPTED 130
#define RTB_MAX_PAUSE_SAMPLES 20000
#define RTB_DEFAULT_PYTHON "/usr/bin/python3"

typedef enum RtbRc { RTB_RC_NONATOMIC, RTB_RC_ATOMIC } RtbRc;
typedef enum RtbImpl { RTB_IMPL_RTBENCH, RTB_IMPL_CPYTHON } RtbImpl;

/* One configuration: a point of the axes. */
typedef struct RtbConfig {
    RtbImpl impl;
    const RtWorkload *workload;
    int64_t params[RT_WORKLOAD_MAX_PARAMS];
    long threshold[3];
    bool gc;
    RtbRc rc;
    RtAllocKind alloc;
    const char *python;         /* interpreter, for CPython */
} RtbConfig;

/* How samples are taken. */
typedef struct RtbMeasure {
    int repeat;
    int warmup;                 /* samples run first and not kept */
    double rss_interval_s;      /* RSS timeline step; 0: no timeline */
    bool gc_timing;             /* time every collection in the worker */
    double timeout_s;           /* per sample; 0: none */
    bool quiet;
} RtbMeasure;

/* ---- args.c: parsing ---- */
typedef struct RtbArgs {
    int argc;
    char **argv;
    int i;
    const char *cmd;            /* for messages */
} RtbArgs;
/* Report a usage error (one line) and return RTB_EXIT_USAGE. */
int rtb_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool rtb_parse_int64(const char *s, int64_t min, int64_t *out);
bool rtb_parse_double(const char *s, double min, double *out);
/* A list "A,B,C" or a log range "FROM:TO:logN" (N points, log-spaced,
 * rounded, de-duplicated); returns the count or -1. */
int rtb_parse_list(const char *s, int64_t min, int64_t *out, int max);
const char *rtb_rc_name(RtbRc rc);
bool rtb_parse_rc(const char *s, RtbRc *rc);

/* ---- workloads ---- */
int rtb_param_index(const RtWorkload *w, const char *name);
void rtb_config_defaults(RtbConfig *c, const RtWorkload *w);
/* "cycle_storm/n:100000/ring:8/rounds:3/t0:700/t1:10/t2:10/gc:on/rc:nonatomic/alloc:pool" */
char *rtb_config_name(const RtbConfig *c);
Rtj *rtb_config_json(const RtbConfig *c);       /* the run's "config" object */
Rtj *rtb_params_json(const RtbConfig *c);

/* ---- worker.c: the child ---- */
int rtb_worker_main(int argc, char **argv);

/* ---- runner.c: the parent side of one sample ---- */
extern volatile sig_atomic_t rtb_interrupted;   /* SIGINT/SIGTERM seen */
void rtb_install_signal_handlers(void);
/* Run one sample; returns the SAMPLE object (status ok or not), or NULL
 * when interrupted before it finished. */
Rtj *rtb_run_sample(const RtbConfig *c, const RtbMeasure *m, int index);
/* The directory this binary lives in (for rtbench-atomic, rtbench-micro). */
const char *rtb_self_dir(void);
/* Where the Python twins and plots live (RTBENCH_HOME, else the source
 * tree the build came from). */
const char *rtb_home(void);

/* ---- machine.c ---- */
Rtj *rtb_machine_json(void);

/* ---- stats.c ---- */
double rtb_median(const double *v, size_t n);
double rtb_quantile_sorted(const double *sorted, size_t n, double q);   /* nearest rank */
double rtb_mean(const double *v, size_t n);
double rtb_stdev(const double *v, size_t n);
/* Mann-Whitney U, two-sided, as scipy.stats.mannwhitneyu(method="auto"):
 * exact for small samples without ties, else normal with tie and
 * continuity corrections.  Returns the p-value (1 when undefined). */
double rtb_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb);

/* ---- results.c ---- */
Rtj *rtb_result_new(const char *kind, int argc, char **argv);  /* schema, machine, command */
/* A RUN object for a configuration, with its samples, summary, warnings. */
Rtj *rtb_run_json(const RtbConfig *c, int repeat, Rtj *samples);
void rtb_run_summarize(Rtj *run);           /* (re)compute summary and warnings */
/* Check a directory can take the output before any work starts. */
int rtb_check_writable(const char *path, bool is_dir, char *err, size_t errlen);
int rtb_mkdirs(const char *dir);
/* Write JSON (and the CSV beside it, same base name) atomically. */
int rtb_write_result(const char *path, const Rtj *result, char *err, size_t errlen);
char *rtb_csv(const Rtj *result);
/* Read a result file and check it is one: NULL with "PATH: problem". */
Rtj *rtb_read_result(const char *path, char *err, size_t errlen);
/* Print the warnings of every run once, concisely, to stderr. */
void rtb_print_warnings(const Rtj *result);
/* A short table of the runs' medians for the terminal. */
void rtb_print_summary(const Rtj *result, FILE *out);
char *rtb_timestamp(void);                  /* 20261123T120000Z (malloc'd) */
int rtb_write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);

/* ---- progress.c ---- */
typedef struct RtbProgress {
    int done, total;
    double start;
    bool tty;
    char label[160];
} RtbProgress;
void rtb_progress_start(RtbProgress *p, int total, bool quiet);
void rtb_progress_update(RtbProgress *p, const char *label);
void rtb_progress_step(RtbProgress *p);
void rtb_progress_end(RtbProgress *p);

/* ---- cmd_run.c ---- */
/* Run the warmup and the samples of one configuration, appending the kept
 * samples; false when interrupted (the finished samples stay). */
bool rtb_take_samples(const RtbConfig *c, const RtbMeasure *m, Rtj *samples, RtbProgress *pr, const char *label);

/* ---- spawn.c ---- */
/* Run a program and wait: its exit status, 128+signal, or -1. */
int rtb_spawn(char *const argv[], bool quiet);
const char *rtb_find_python(const char *module, char *tried, size_t triedlen);

/* ---- commands ---- */
int rtb_cmd_list(int argc, char **argv);
int rtb_cmd_run(int argc, char **argv, RtbImpl impl);
int rtb_cmd_sweep(int argc, char **argv);
int rtb_cmd_compare(int argc, char **argv);
int rtb_cmd_export(int argc, char **argv);
int rtb_cmd_micro(int argc, char **argv);
int rtb_cmd_plot(int argc, char **argv);
int rtb_cmd_suite(int argc, char **argv);

/* Shared by run, cpython and sweep: the options that fix a configuration
 * and how it is measured.  Returns 1 when argv[a->i] was one of them (and
 * consumes it with its value), 0 when not, or RTB_EXIT_USAGE after an
 * error was reported. */
typedef struct RtbAxes {
    RtbConfig base;
    /* axes (sweep): values per axis; run uses count 1 */
    int64_t t0[64], t1[64], t2[64];
    int nt0, nt1, nt2;
    RtbRc rc[2];
    int nrc;
    RtAllocKind alloc[RT_ALLOC_KIND_COUNT];
    int nalloc;
    bool gc[2];
    int ngc;
    int64_t pvals[RT_WORKLOAD_MAX_PARAMS][16];
    int npvals[RT_WORKLOAD_MAX_PARAMS];
} RtbAxes;
int rtb_parse_common(RtbArgs *a, RtbAxes *ax, RtbMeasure *m, bool lists);
void rtb_axes_init(RtbAxes *ax, const RtWorkload *w, RtbImpl impl);
/* The configurations of the cross product, in a fixed order. */
RtbConfig *rtb_axes_expand(const RtbAxes *ax, int *count);
void rtb_measure_defaults(RtbMeasure *m);

#endif /* RTB_RTBENCH_H */
