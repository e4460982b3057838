/* result_io.c -- result files on disk: written atomically as JSON with a
 * CSV beside it (one row per sample), and read back into the typed result
 * with an error that names the file and the problem.
 *
 * Every file is written to a temporary name in the same directory, flushed
 * to disk and renamed, so a result file is complete or absent.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

char *
rtb_timestamp(void)
{
    char buf[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return rtb_strdup(buf);
}

void
rtb_result_init(RtbResult *r, const char *kind, int argc, char **argv)
{
    memset(r, 0, sizeof *r);
    char created[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    r->kind = rtb_strdup(kind);
    r->created = rtb_strdup(created);
    r->tool = rtb_strdup("rtbench " RTB_VERSION);
    r->ncommand = argc + 1;
    r->command = rtb_xcalloc((size_t)argc + 2, sizeof *r->command);
    r->command[0] = rtb_strdup("rtbench");
    for (int i = 0; i < argc; i++)
        r->command[i + 1] = rtb_strdup(argv[i]);
    r->complete = true;
    rtb_machine_read(&r->machine);
}

/* ==== CSV ================================================================ */

static void
csv_field(FILE *f, const char *s)
{
    fputc(',', f);
    if (s == NULL)
        return;
    if (strpbrk(s, ",\"\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void
csv_num(FILE *f, double v)
{
    char buf[40];
    fputc(',', f);
    if (isfinite(v)) {
        rtj_format_double(v, buf, sizeof buf);
        fputs(buf, f);
    }
}

static void
csv_int(FILE *f, int64_t v)
{
    fputc(',', f);
    if (v != RTB_NONE)
        fprintf(f, "%lld", (long long)v);
}

static const char csv_header[] =
    "name,implementation,workload,params,t0,t1,t2,gc,rc,alloc,arena_decay_ms,sample,round,status,wall_s,cpu_s,"
    "process_wall_s,"
    "user_s,sys_s,peak_rss_bytes,final_rss_bytes,minflt,majflt,load_before,load_after,instructions,"
    "gc_collections_0,gc_collections_1,gc_collections_2,gc_collected_0,gc_collected_1,gc_collected_2,"
    "gc_uncollectable_0,gc_uncollectable_1,gc_uncollectable_2,gc_pauses_count,gc_pauses_total_s,gc_pauses_p50_s,"
    "gc_pauses_p90_s,gc_pauses_p99_s,gc_pauses_max_s,gc_pauses_safepoint_total_s,gc_pauses_safepoint_max_s,"
    "gc_pauses_parked_total_s,arenas_allocated,arenas_reused,arenas_released,error\n";

static void
csv_sample(FILE *f, const RtbRun *r, const char *params, const RtbSample *s)
{
    fputs(r->name + 0, f);  /* names hold no comma, quote or newline */
    fprintf(f, ",%s,%s", r->cpython ? "cpython" : "rtbench", r->workload);
    csv_field(f, params);
    fprintf(f, ",%ld,%ld,%ld,%s", r->threshold[0], r->threshold[1], r->threshold[2], r->gc ? "on" : "off");
    csv_field(f, r->rc);
    csv_field(f, r->alloc);
    csv_int(f, r->arena_decay_ms);
    fprintf(f, ",%d,%d,%s", s->index, s->round, rtb_status_name(s->status));
    double nums[] = {s->wall_s, s->cpu_s, s->process_wall_s, s->user_s, s->sys_s};
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
        csv_num(f, nums[k]);
    int64_t ints[] = {s->peak_rss_bytes, s->final_rss_bytes, s->minflt, s->majflt};
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        csv_int(f, ints[k]);
    csv_num(f, s->load_before);
    csv_num(f, s->load_after);
    csv_int(f, s->instructions);
    const RtbGc *g = &s->gc;
    for (int k = 0; k < 9; k++) {
        const int64_t *row = k < 3 ? g->collections : k < 6 ? g->collected : g->uncollectable;
        csv_int(f, g->present ? row[k % 3] : RTB_NONE);
    }
    csv_int(f, g->present ? g->pauses.count : RTB_NONE);
    double pz[] = {g->pauses.total_s, g->pauses.p50_s, g->pauses.p90_s, g->pauses.p99_s, g->pauses.max_s,
                   g->pauses.safepoint_total_s, g->pauses.safepoint_max_s, g->pauses.parked_total_s};
    for (size_t k = 0; k < sizeof pz / sizeof pz[0]; k++)
        csv_num(f, g->present ? pz[k] : NAN);      /* empty: not recorded (one thread's variant) */
    const RtbAllocStats *a = &s->alloc;
    csv_int(f, a->present ? a->arenas_allocated : RTB_NONE);
    csv_int(f, a->present ? a->arenas_reused : RTB_NONE);
    csv_int(f, a->present ? a->arenas_released : RTB_NONE);
    csv_field(f, s->error);
    fputc('\n', f);
}

char *
rtb_csv(const RtbResult *res)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        rtb_xmalloc(SIZE_MAX);          /* reports out of memory */
    fputs(csv_header, f);
    for (size_t k = 0; k < res->nruns; k++) {
        const RtbRun *r = &res->runs[k];
        char *params = NULL;
        size_t plen = 0;
        FILE *p = open_memstream(&params, &plen);
        for (int i = 0; i < r->nparams; i++)
            fprintf(p, "%s%s=%lld", i ? ";" : "", r->params[i].name, (long long)r->params[i].value);
        fclose(p);
        for (size_t i = 0; i < r->nsamples; i++)
            csv_sample(f, r, params, &r->samples[i]);
        free(params);
    }
    fclose(f);
    return buf;
}

/* ==== files ============================================================== */

char *
rtb_csv_path(const char *json_path)
{
    size_t n = strlen(json_path);
    if (n > 5 && strcmp(json_path + n - 5, ".json") == 0)
        return rtb_asprintf("%.*s.csv", (int)(n - 5), json_path);
    return rtb_asprintf("%s.csv", json_path);
}

int
rtb_result_write(const char *path, const RtbResult *res, char *err, size_t errlen)
{
    Rtj *doc = rtb_result_to_json(res);
    size_t len;
    char *text = rtj_dump(doc, 1, &len);
    rtj_free(doc);
    int r = rtb_write_file_atomic(path, text, len, err, errlen);
    free(text);
    if (r != 0)
        return r;
    char *csv_path = rtb_csv_path(path), *csv = rtb_csv(res);
    r = rtb_write_file_atomic(csv_path, csv, strlen(csv), err, errlen);
    free(csv);
    free(csv_path);
    return r;
}

int
rtb_result_read(const char *path, RtbResult *res, char *err, size_t errlen)
{
    char why[512];
    memset(res, 0, sizeof *res);
    Rtj *doc = rtj_parse_file(path, why, sizeof why);
    if (doc == NULL) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    bool ok = rtb_result_from_json(doc, res, why, sizeof why);
    rtj_free(doc);
    if (!ok) {
        snprintf(err, errlen, "%s: %s", path, why);
        rtb_result_free(res);
        return -1;
    }
    return 0;
}
