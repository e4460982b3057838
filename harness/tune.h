/* tune.h -- rtbench tune's search (cmd_tune.c) and its judgement, answer
 * and tune.json (tune_judge.c). */
#ifndef RTB_TUNE_H
#define RTB_TUNE_H

#include "compare.h"
#include "rtbench.h"

typedef enum RtbObjective { RTB_OBJ_TIME, RTB_OBJ_RSS, RTB_OBJ_P99, RTB_OBJ_BALANCED } RtbObjective;

/* The metrics every candidate is judged on, in this order. */
#define RTB_TUNE_METRICS 3
extern const char *const rtb_tune_metric[RTB_TUNE_METRICS];    /* wall_s, peak_rss_bytes, gc_pause_p99_s */

#define RTB_TUNE_MAX_CANDIDATES 8
#define RTB_TUNE_ALPHA 0.05         /* shared by the candidates of a stage */
#define RTB_TUNE_MIN_REPEAT 7       /* samples per setting at least (--repeat auto) */

/* One stage: its settings (the control first), their runs once measured,
 * each candidate against the control. */
typedef struct RtbStage {
    const char *what;                   /* coarse | fine | generations */
    int n;
    long t[RTB_TUNE_MAX_CANDIDATES][3];
    char *path;                         /* its result file */
    RtbResult result;                   /* read back: runs in the order of t */
    bool read;
    RtbCompareRow row[RTB_TUNE_MAX_CANDIDATES][RTB_TUNE_METRICS];
    bool eligible[RTB_TUNE_MAX_CANDIDATES];
    double score[RTB_TUNE_MAX_CANDIDATES];  /* lower is better */
    int best_index;                     /* 0: the control */
    long best[3];
} RtbStage;

typedef struct RtbTune {
    int argc;
    char **argv;
    RtbMeasure m;
    RtbEnv env;
    RtbConfig base;                     /* the program's configuration; thresholds vary */
    long control[3];                    /* the interpreter's defaults, or --threshold */
    RtbObjective objective;
    double budget_s, start, elapsed_s;
    const char *dir;
    char *own_dir, *out;
    bool force, failed;
    RtbStage stages[3];
    int nstages;
    /* rtb_tune_recommend: */
    const RtbStage *final;              /* the stage the answer's figures come from */
    int final_index;                    /* in it; 0: keep the defaults */
} RtbTune;

const char *rtb_objective_name(RtbObjective o);
/* Compare each candidate of s with its control; pick the stage's best. */
void rtb_tune_judge(const RtbTune *t, RtbStage *s);
/* Does a threshold1/threshold2 stage pay: stage s's best still runs full
 * collections (a median of one or more per sample)? */
bool rtb_tune_generations_pay(const RtbTune *t, const RtbStage *s);
void rtb_tune_recommend(RtbTune *t);
void rtb_tune_print(const RtbTune *t, FILE *out);
/* DIR/tune.json, atomically: 0, or 1 after a message. */
int rtb_tune_write(const RtbTune *t, const RtbProgram *prog);

#endif /* RTB_TUNE_H */
