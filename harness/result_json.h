/* result_json.h -- what the two halves of the result's JSON edge share:
 * result_json.c (samples, runs, result files) and program_json.c (what a
 * Python program's sample adds: its GC settings, run.py's warnings, the
 * forked workers).  Internal to the harness: nothing else reads JSON.
 *
 * Writing: NAN and RTB_NONE become null.  Reading: a missing field keeps
 * its "not measured" value; a field of the wrong type makes the reader
 * fail with a message naming it (the first problem wins).
 */
#ifndef RTB_RESULT_JSON_H
#define RTB_RESULT_JSON_H

#include "json.h"
#include "result.h"

void rtb_put_num(Rtj *o, const char *key, double v);
void rtb_put_int(Rtj *o, const char *key, int64_t v);
void rtb_put_str(Rtj *o, const char *key, const char *v);
Rtj *rtb_int3_json(const int64_t v[3]);

typedef struct RtbReader {
    char *err;
    size_t errlen;
    const char *where;      /* "runs[3]", for messages */
    bool ok;
} RtbReader;

void rtb_rd_bad(RtbReader *rd, const char *key, const char *want);
double rtb_rd_num(RtbReader *rd, const Rtj *o, const char *key);
int64_t rtb_rd_int(RtbReader *rd, const Rtj *o, const char *key);
char *rtb_rd_str(RtbReader *rd, const Rtj *o, const char *key);
/* The member if it has type t; NULL when absent or null (no error). */
const Rtj *rtb_rd_kind(RtbReader *rd, const Rtj *o, const char *key, RtjType t);
void rtb_rd_int3(RtbReader *rd, const Rtj *o, const char *key, int64_t out[3]);

/* ---- program_json.c ---- */
Rtj *rtb_pause_stats_json(const RtbPauseStats *p);
Rtj *rtb_threshold_json(const long t[3]);
void rtb_rd_pause_stats(RtbReader *rd, const Rtj *o, RtbPauseStats *p);
/* A program's fields of a sample (exit_status, stderr_tail, gc_settings,
 * gc_settings_at_end, warnings, fork_workers), added to o / read from j. */
void rtb_program_sample_to_json(Rtj *o, const RtbSample *s);
void rtb_program_sample_from_json(RtbReader *rd, const Rtj *j, RtbSample *s);
/* A run's config: program (null for a workload), freeze_after_import,
 * fork_workers. */
void rtb_program_config_to_json(Rtj *c, const RtbRun *r);
void rtb_program_config_from_json(RtbReader *rd, const Rtj *c, RtbRun *r);

#endif /* RTB_RESULT_JSON_H */
