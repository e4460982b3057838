/* rtbench.h -- what the harness's files share.
 *
 * Data flow of a measurement:
 *
 *   command line --options.c--> configurations (RtbConfig), one per point
 *   of the axes given, grouped into the result files they belong to (an
 *   RtbPlan) --driver.c--> rounds of samples, each round every unfinished
 *   configuration once, in a seeded random order; each sample a fresh child
 *   (runner.c: the worker, worker.c, or the Python twin) that reports one
 *   JSON object on a pipe; the parent adds what only it can see (rusage
 *   from wait4, an RSS timeline sampled from /proc, the load average),
 *   journals the sample, and at the end writes each result file atomically
 *   (result_io.c), JSON and CSV.  Inside, a sample and a run are typed
 *   structs (result.h); JSON exists only at the edges (result_json.c).
 *   compare, export, merge and plot read only result files.
 *
 * Names: rtb_* / Rtb* are the harness's own (rt_* belong to the runtime).
 */
#ifndef RTB_RTBENCH_H
#define RTB_RTBENCH_H

#include "counter.h"
#include "json.h"
#include "result.h"
#include "stats.h"
#include "workload.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define RTB_VERSION "0.1.0"
#define RTB_EXIT_USAGE 2
#define RTB_EXIT_INTERRUPTED 130
#define RTB_MAX_PAUSE_SAMPLES 20000
#define RTB_DEFAULT_PYTHON "/usr/bin/python3"
#define RTB_DEFAULT_GC_PARALLEL RT_GC_PARALLEL_DEFAULT
#define RTB_SHORT_INTERVALS 3       /* a timeline of fewer steps says so */
#define RTB_MAX_CPUS 1024

/* Defaults shared with the Python side: results/schema.json's
 * "x-rtbench-defaults", passed in by CMake (harness/CMakeLists.txt). */
#ifndef RTB_NOISE_CI
#error "RTB_NOISE_CI comes from results/schema.json through CMake"
#endif

typedef enum RtbRc { RTB_RC_NONATOMIC, RTB_RC_ATOMIC, RTB_RC_BIASED, RTB_RC_COUNT } RtbRc;
typedef enum RtbImpl { RTB_IMPL_RTBENCH, RTB_IMPL_CPYTHON } RtbImpl;

/* A Python program measured by run.py (rtbench cpython/sweep/tune --script
 * PATH or -m MODULE): what it is, and the settings that stay fixed for a
 * command.  Owned by the command; configurations point at it. */
typedef struct RtbProgram {
    bool module;                /* -m MODULE, else --script PATH */
    const char *target;         /* the path or the module, as given */
    int nargs;
    char **args;                /* after '--' (borrowed from argv) */
    const char *freeze;         /* --freeze-after-import M1,M2, or NULL */
    int fork_workers;           /* --fork-workers N, or 0 */
    char name[128];             /* its name in results: the file's or the module's */
    RtWorkload workload;        /* a descriptor of that name, no parameters */
} RtbProgram;

/* One configuration: a point of the axes. */
typedef struct RtbConfig {
    RtbImpl impl;
    const RtWorkload *workload;
    int64_t params[RT_WORKLOAD_MAX_PARAMS];
    long threshold[3];
    bool gc;
    RtbRc rc;
    RtAllocKind alloc;
    int64_t arena_decay_ms;     /* the pool's arena retention (RT_ARENA_DECAY_MS) */
    const char *python;         /* interpreter, for CPython */
    const char *build;          /* another build folder whose worker runs this
                                 * configuration (suite --baseline); NULL: ours */
    bool gc_timing;             /* time every collection */
    int gc_parallel;            /* threaded variants: the youngest generation whose
                                 * collections share their passes (RT_GC_PARALLEL;
                                 * 3: none) */
    const RtbProgram *program;  /* a Python program instead of a twin, or NULL */
    bool freeze;                /* the program's --freeze-after-import applied */
    const char *python_label;   /* in the name when interpreters are compared */
} RtbConfig;

/* How samples are taken. */
typedef struct RtbMeasure {
    int repeat;                 /* samples per configuration (fixed) */
    bool auto_repeat;           /* --repeat auto: until precise or out of budget */
    double precision;           /* auto: target half-width of the median's 95% CI (fraction) */
    int min_repeat, max_repeat; /* auto: bounds per configuration */
    double max_time_s;          /* auto: budget of the whole command (0: none) */
    int warmup;                 /* samples run first and not kept */
    double rss_interval_s;      /* RSS timeline step; 0: no timeline */
    double timeout_s;           /* per sample; 0: none */
    bool quiet;
    double heartbeat_s;         /* a progress line in logs this often (0: none) */
    bool seed_given;
    uint64_t seed;
    int ncpus;                  /* --cpu: pin each child to these */
    int cpus[RTB_MAX_CPUS];
    const char *cpu_list;
    RtbCounterKind counter;     /* --metric instructions: each sample counted by
                                 * this counter, and judged by its count (auto);
                                 * RTB_COUNTER_NONE: --metric time */
} RtbMeasure;

/* ---- util.c ---- */
extern long rtb_alloc_fail_after;
void *rtb_xmalloc(size_t n);
void *rtb_xcalloc(size_t count, size_t size);
void *rtb_xrealloc(void *p, size_t n);
char *rtb_strdup(const char *s);
char *rtb_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *rtb_vasprintf(const char *fmt, va_list ap);
char *rtb_dirname(const char *path);
int rtb_mkdirs(const char *dir);
/* Check a path can take the output before any work starts. */
int rtb_check_writable(const char *path, bool is_dir, char *err, size_t errlen);
int rtb_write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);

/* ---- options.c: the command line ---- */
/* Report a usage error (one line, after clearing any progress line) and
 * return RTB_EXIT_USAGE. */
int rtb_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool rtb_parse_int64(const char *s, int64_t min, int64_t *out);
/* --help or -h among argv[1..], before any '--' (a program's arguments). */
bool rtb_asks_help(int argc, char **argv);
bool rtb_parse_double(const char *s, double min, double *out);
/* A list of items "A,B,FROM:TO:logN,..." (a log range is N points,
 * log-spaced, rounded); sorted, duplicates dropped; the count or -1. */
int rtb_parse_list(const char *s, int64_t min, int64_t *out, int max);
const char *rtb_rc_name(RtbRc rc);
/* RtbConfig.gc_parallel from its name as the harness writes it
 * (rt_gc_parallel_name: "0".."2", "off"); false for anything else, the
 * environment's other spellings of off included. */
bool rtb_parse_gc_parallel(const char *s, int *generation);
const char *rtb_rc_binary(RtbRc rc);
bool rtb_parse_rc(const char *s, RtbRc *rc);
int rtb_param_index(const RtWorkload *w, const char *name);
void rtb_config_defaults(RtbConfig *c, const RtWorkload *w);
/* "cycle_storm/n:100000/ring:8/rounds:3/t0:700/t1:10/t2:10/gc:on/rc:nonatomic/alloc:pool",
 * then "/decay:MS" when the arena decay is not the runtime's default (so
 * that names of runs without the axis stay as they were). */
char *rtb_config_name(const RtbConfig *c);
void rtb_measure_defaults(RtbMeasure *m);
void rtb_measure_help(void);              /* the measuring options, for --help */

/* Options of a command: one table each (getopt_long), the workload's
 * parameters added at run time. */
enum {
    RTB_OPT_HELP = 1000, RTB_OPT_THRESHOLD, RTB_OPT_THRESHOLD0, RTB_OPT_THRESHOLD1, RTB_OPT_THRESHOLD2, RTB_OPT_GC,
    RTB_OPT_RC, RTB_OPT_ALLOC, RTB_OPT_REPEAT, RTB_OPT_WARMUP, RTB_OPT_RSS_INTERVAL, RTB_OPT_NO_RSS,
    RTB_OPT_NO_GC_TIMING, RTB_OPT_TIMEOUT, RTB_OPT_QUIET, RTB_OPT_PYTHON, RTB_OPT_OUT, RTB_OPT_FORCE, RTB_OPT_RESUME,
    RTB_OPT_SEED, RTB_OPT_PRECISION, RTB_OPT_MAX_REPEAT, RTB_OPT_MAX_TIME, RTB_OPT_CPU, RTB_OPT_HEARTBEAT,
    RTB_OPT_SHARD, RTB_OPT_QUICK, RTB_OPT_TINY, RTB_OPT_NO_CPYTHON, RTB_OPT_NO_MICRO, RTB_OPT_NO_HYPERFINE,
    RTB_OPT_NO_PLOTS, RTB_OPT_METRIC, RTB_OPT_ALPHA, RTB_OPT_TABLE_FORMAT, RTB_OPT_TO, RTB_OPT_FILTER,
    RTB_OPT_REPETITIONS, RTB_OPT_MIN_TIME, RTB_OPT_JSON, RTB_OPT_ALLOW_MIXED, RTB_OPT_FAIL_ABOVE, RTB_OPT_CI,
    RTB_OPT_BASELINE, RTB_OPT_ARENA_DECAY,
    RTB_OPT_GC_TIMING, RTB_OPT_FREEZE, RTB_OPT_FREEZE_AFTER_IMPORT, RTB_OPT_FORK_WORKERS, RTB_OPT_OBJECTIVE,
    RTB_OPT_BUDGET,
    RTB_OPT_PARAM = 2000        /* + the parameter's index */
};
typedef struct RtbOptDef {
    const char *name;
    bool has_arg;
    int id;
} RtbOptDef;
typedef struct RtbGetopt {
    const char *cmd;
    int argc;
    char **argv;
    struct option *table;       /* built on the first call */
    int id;                     /* the option found */
    const char *value;
    const char *positional;     /* id 0: a non-option argument */
} RtbGetopt;
/* The next option: 1 (id, value set), 0 at the end, RTB_EXIT_USAGE after
 * an error was reported.  w may be NULL (no workload parameters). */
int rtb_getopt(RtbGetopt *g, const RtbOptDef *defs, const RtWorkload *w);
void rtb_getopt_free(RtbGetopt *g);

/* The options that fix configurations and how they are measured, shared
 * by run, cpython, sweep and suite. */
#define RTB_MAX_PYTHONS 8
typedef struct RtbAxes {
    RtbConfig base;
    int64_t t0[64], t1[64], t2[64];
    int nt0, nt1, nt2;
    RtbRc rc[RTB_RC_COUNT];
    int nrc;
    RtAllocKind alloc[RT_ALLOC_KIND_COUNT];
    int nalloc;
    bool gc[2], freeze[2], timing[2];
    int ngc, nfreeze, ntiming;
    int64_t decay[64];
    int ndecay;
    int64_t pvals[RT_WORKLOAD_MAX_PARAMS][64];
    int npvals[RT_WORKLOAD_MAX_PARAMS];
    /* --python A,B (sweep); each one's own default thresholds for a
     * program (probed), used where --threshold did not set them */
    const char *python[RTB_MAX_PYTHONS];
    char *python_label[RTB_MAX_PYTHONS];
    long python_threshold[RTB_MAX_PYTHONS][3];
    int npython;
    bool threshold_set[3];      /* by --threshold or RT_GC_THRESHOLD */
    RtbProgram *program;        /* a Python program, or NULL */
} RtbAxes;
void rtb_axes_init(RtbAxes *ax, const RtWorkload *w, RtbImpl impl);
/* Apply an option of the shared set: 1 applied, 0 not one of them,
 * RTB_EXIT_USAGE after an error.  lists: axes take lists (sweep). */
int rtb_apply_option(const RtbGetopt *g, RtbAxes *ax, RtbMeasure *m, bool lists);
/* The configurations of the cross product, in a fixed order. */
RtbConfig *rtb_axes_expand(const RtbAxes *ax, int *count);
/* Leave out of c[0..n) the configurations that cannot run -- more than one
 * thread on the nonatomic variant, which has one -- saying so on stderr;
 * returns how many are left, or -1 after a usage error when none is. */
int rtb_configs_runnable(const char *cmd, RtbConfig *c, int n);
/* Resolve each interpreter of --python (a NAME in PATH), check it runs
 * run.py, label them when there are several, and for a program take each
 * one's default thresholds and check the program's modules are there.  0,
 * or RTB_EXIT_USAGE after the message. */
int rtb_axes_resolve_pythons(const char *cmd, RtbAxes *ax);
void rtb_axes_free(RtbAxes *ax);

/* ---- program.c: a Python program as the thing measured ---- */
/* Take --script PATH / -m MODULE and the program's arguments (after '--')
 * out of argv[1..]; the rest (rtbench's own options, argv[0] first) goes to
 * *rest (malloc'd, its strings borrowed).  0: a program was given; 1: none
 * (rest untouched); RTB_EXIT_USAGE after the message.  defs: the command's
 * options, so that an option's value is never taken for --script. */
int rtb_program_take(const char *cmd, int argc, char **argv, const RtbOptDef *defs, RtbProgram *prog, int *rest_argc,
                     char ***rest);
bool rtb_module_name_ok(const char *m);     /* "json.tool": dotted identifiers */
/* A script that is not there, or a bad module name: RTB_EXIT_USAGE after
 * one line; else 0. */
int rtb_program_check(const char *cmd, const RtbProgram *prog);
/* What an interpreter says of itself and of the program: its default
 * thresholds, its version, and the modules it cannot find (the program's
 * and --freeze-after-import's, from where run.py will look).  0, or -1
 * with a message. */
typedef struct RtbPythonProbe {
    long threshold[3];
    char version[64];
    char missing[256];          /* "" when every module is there */
} RtbPythonProbe;
int rtb_python_probe(const char *python, const RtbProgram *prog, RtbPythonProbe *out, char *err, size_t errlen);
/* A program configuration's fields of its run in a result file. */
void rtb_program_to_run(const RtbConfig *c, RtbRun *r);
/* The run.py options of a program (after its common ones). */
void rtb_program_help(const char *cmd);

/* The RT_* variables: each honoured (as the default of its option) and
 * recorded, or refused with exit status 2 (a bad value; one that does not
 * apply to CPython). */
typedef struct RtbEnv {
    int n;
    RtbEnvVar vars[8];
} RtbEnv;
int rtb_env_apply(const char *cmd, RtbAxes *ax, RtbMeasure *m, bool cpython, RtbEnv *env);

/* ---- driver.c: the one sample driver ---- */
typedef struct RtbOutput {
    const char *kind;           /* run | sweep | cpython */
    char *path;
    int first, count;           /* its configurations in the plan */
    char *git_commit;           /* another build's commit, recorded instead of
                                 * ours (suite --baseline); NULL: ours */
} RtbOutput;

typedef struct RtbPlan {
    const char *cmd;            /* for messages */
    int argc;
    char **argv;
    RtbConfig *configs;
    int *link;                  /* configurations with one link stop together (auto) */
    int n;
    RtbOutput *outputs;
    int noutputs;
    RtbMeasure m;
    RtbEnv env;
    char *journal;
    bool resume, force;
    bool quiet_tables;          /* warnings only (the suite: summary.md has the tables) */
    int shard_index, shard_count;
} RtbPlan;

typedef struct RtbDriveStatus {
    bool finished;              /* every sample taken (not interrupted) */
    int failures;               /* configurations with a sample not ok */
    int write_errors;
} RtbDriveStatus;

/* Before any work: refuse what would lose data (an existing result without
 * --force, a journal without --resume) and paths that cannot be written.
 * 0, or RTB_EXIT_USAGE after the message. */
int rtb_plan_check(RtbPlan *p);
/* Take the samples, write the outputs; the exit status of the command. */
int rtb_plan_run(RtbPlan *p, RtbDriveStatus *st);
void rtb_plan_add_output(RtbPlan *p, const char *kind, char *path, const RtbConfig *configs, int n, bool linked);
void rtb_plan_free(RtbPlan *p);
/* Keep only the configurations of shard index/count (1-based), balanced by
 * expected time; an output left empty is still written (no runs), so that
 * merge sees every shard of every file. */
void rtb_plan_shard(RtbPlan *p, int index, int count);
double rtb_config_cost(const RtbConfig *c);
/* "2/3" -> 2, 3 */
bool rtb_parse_shard(const char *s, int *index, int *count);

/* ---- runner.c: the parent side of one sample ---- */
extern volatile sig_atomic_t rtb_interrupted;   /* SIGINT/SIGTERM seen */
void rtb_install_signal_handlers(void);
/* Run one sample into s (initialized): its status says how it ended. */
void rtb_run_sample(const RtbConfig *c, const RtbMeasure *m, RtbSample *s);
/* The directory this binary lives in (for rtbench-atomic, rtbench-micro). */
const char *rtb_self_dir(void);
/* Where the Python twins and plots live (RTBENCH_HOME, else the source
 * tree the build came from). */
const char *rtb_home(void);

/* ---- worker.c: the child ---- */
int rtb_worker_main(int argc, char **argv);

/* ---- machine.c ---- */
double rtb_load1(void);         /* the 1-minute load average; NAN when unreadable */
const char *rtb_build_commit(void); /* the git commit this binary was built from */
/* --baseline BUILD_DIR: 0 when it holds the workers (rtbench, rtbench-atomic),
 * else RTB_EXIT_USAGE after saying what is missing. */
int rtb_check_build_dir(const char *cmd, const char *build);
/* The git commit another build folder was made from (its build_info.h), or
 * "unknown"; the caller frees it. */
char *rtb_build_dir_commit(const char *build);
/* The one load threshold: a load average above RTB_LOAD_PER_CORE runnable
 * tasks per core means other work competes with the samples.  'rtbench
 * system' warns about it, and a sample that starts or ends under it is
 * flagged (the 'load' warning). */
#define RTB_LOAD_PER_CORE 1.0
bool rtb_load_high(double load, long cores);

/* ---- stats.c: stats.h; and result.c: ---- */
/* The half-width of a stat's median interval as a fraction of the median
 * (the larger side); INFINITY when there is none. */
double rtb_stat_precision(const RtbStat *st);

/* ---- result_io.c ---- */
void rtb_result_init(RtbResult *r, const char *kind, int argc, char **argv);
int rtb_result_write(const char *path, const RtbResult *res, char *err, size_t errlen);
/* Read a result file and check it is one: -1 with "PATH: problem". */
int rtb_result_read(const char *path, RtbResult *res, char *err, size_t errlen);
char *rtb_csv(const RtbResult *res);
char *rtb_csv_path(const char *json_path);
char *rtb_timestamp(void);                  /* 20261123T120000Z (malloc'd) */

/* ---- output.c: what a person reads ---- */
typedef struct RtbProgress {
    const char *cmd;
    int done, total;
    double start, last_beat;
    bool tty, quiet;
    double heartbeat_s;
    double budget_s;            /* --repeat auto's --max-time: past the planned
                                 * total, what is left of it is the estimate */
    char label[160];
    bool drawn;
} RtbProgress;
void rtb_progress_start(RtbProgress *p, const char *cmd, int total, bool quiet, double heartbeat_s);
void rtb_progress_update(RtbProgress *p, int done, int total, const char *label);
void rtb_progress_tick(void);               /* redraw the clock; heartbeat in logs */
void rtb_progress_end(RtbProgress *p);
/* A message on stderr: the progress line is cleared first and redrawn after. */
void rtb_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A table of the runs' medians, then each kind of warning once. */
void rtb_print_summary(const RtbResult *res, FILE *out);
void rtb_print_warnings(const RtbResult *res);
int rtb_term_width(void);                   /* stderr's columns, at most 80 */
void rtb_format_duration(double s, char *buf, size_t n);

/* ---- spawn.c ---- */
/* Run a program and wait: its exit status, 128+signal, or -1. */
int rtb_spawn(char *const argv[], bool quiet);
/* The same, its stdout kept in out (up to outlen - 1 bytes, NUL-ended),
 * stderr to /dev/null. */
int rtb_capture(char *const argv[], char *out, size_t outlen);
const char *rtb_find_python(const char *module, char *tried, size_t triedlen);
/* NAME looked up in PATH (a NAME with a slash is taken as is); NULL when
 * there is no such executable. */
char *rtb_which(const char *name);

/* ---- commands (a table in main.c) ---- */
int rtb_cmd_list(int argc, char **argv);
int rtb_cmd_run(int argc, char **argv);
int rtb_cmd_cpython(int argc, char **argv);
int rtb_cmd_sweep(int argc, char **argv);
int rtb_cmd_compare(int argc, char **argv);
int rtb_cmd_export(int argc, char **argv);
int rtb_cmd_micro(int argc, char **argv);
int rtb_cmd_plot(int argc, char **argv);
int rtb_cmd_system(int argc, char **argv);
int rtb_cmd_suite(int argc, char **argv);
int rtb_cmd_merge(int argc, char **argv);
int rtb_cmd_tune(int argc, char **argv);

#endif /* RTB_RTBENCH_H */
