/* cmd_sweep.c -- rtbench sweep: the cross product of the axes given.
 *
 * Axes: --threshold0/1/2 (lists or log ranges), --rc, --alloc, --gc, and
 * any workload parameter given as a list.  Every sample is appended to a
 * journal (DIR/.journal.jsonl, one JSON line, flushed to disk) as soon as
 * it finishes, so a sweep killed in any way -- Ctrl-C, kill -9, a reboot --
 * is continued by the same command with --resume, which runs only the
 * samples the journal lacks.  The journal's first line lists the sweep's
 * configurations; --resume refuses a journal of another sweep.  When every
 * sample is done, DIR/sweep.json and sweep.csv are written (atomically)
 * and the journal is removed.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
help(void)
{
    printf("usage: rtbench sweep WORKLOAD --threshold0 LIST|FROM:TO:logN [--threshold1 LIST]\n"
           "                     [--threshold2 LIST] [--rc LIST] [--alloc LIST] [--gc LIST]\n"
           "                     [--PARAM V|LIST ...] [--repeat K] [--out DIR] [--resume] [options]\n\n"
           "Run the workload over the cross product of the axes given, K samples each, and\n"
           "write DIR/sweep.json and DIR/sweep.csv (default DIR: results/sweep-WORKLOAD-TIMESTAMP).\n"
           "A LIST is A,B,C; FROM:TO:logN is N values from FROM to TO, log-spaced\n"
           "(e.g. 100:100000:log7).  --rc, --alloc and --gc take comma lists of names.\n\n"
           "Each finished sample is journaled in DIR at once: after an interruption (Ctrl-C,\n"
           "kill -9), the same command with --resume runs only what is missing.\n\n"
           "Options (as 'rtbench run'): --repeat K, --warmup K, --rss-interval MS, --no-rss,\n"
           "--no-gc-timing, --timeout S, --quiet; --threshold T0[,T1[,T2]] sets the base.\n\n"
           "Exit status: 0 all samples ok, 1 a sample failed, 2 bad arguments (nothing run),\n"
           "130 interrupted (resume with --resume).\n");
}

typedef struct Sweep {
    RtbConfig *configs;
    char **names;
    Rtj **samples;          /* per configuration, in index order */
    int n;
    const char *dir;
    char journal[4200];
} Sweep;

static int
config_of(const Sweep *sw, const char *name)
{
    for (int k = 0; k < sw->n; k++)
        if (strcmp(sw->names[k], name) == 0)
            return k;
    return -1;
}

static int
append_line(const char *path, const Rtj *doc, char *err, size_t errlen)
{
    size_t len;
    char *text = rtj_dump(doc, 0, &len);
    text = realloc(text, len + 2);
    text[len++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666);
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    if (!ok)
        snprintf(err, errlen, "cannot write the journal %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(text);
    return ok ? 0 : -1;
}

static Rtj *
journal_header(const Sweep *sw, int argc, char **argv)
{
    Rtj *h = rtj_object(), *names = rtj_array(), *cmd = rtj_array();
    for (int k = 0; k < sw->n; k++)
        rtj_append(names, rtj_string(sw->names[k]));
    for (int i = 0; i < argc; i++)
        rtj_append(cmd, rtj_string(argv[i]));
    rtj_set(h, "journal", rtj_string("rtbench/1"));
    rtj_set(h, "command", cmd);
    rtj_set(h, "configs", names);
    return h;
}

/* Load a journal: check it belongs to this sweep, and take its samples.
 * A truncated last line (killed while writing it) is ignored. */
static int
load_journal(Sweep *sw, char *err, size_t errlen)
{
    FILE *f = fopen(sw->journal, "r");
    if (f == NULL) {
        snprintf(err, errlen, "nothing to resume in %s (no journal: the sweep never started there, or it finished)", sw->dir);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, kept = 0, status = 0;
    while (status == 0 && (len = getline(&line, &cap, f)) > 0) {
        lineno++;
        char why[200];
        Rtj *doc = rtj_parse(line, (size_t)len, why, sizeof why);
        if (doc == NULL) {
            bool last = fgetc(f) == EOF;
            if (last)
                fprintf(stderr, "rtbench sweep: ignoring a truncated last line in the journal (the run was killed while writing it)\n");
            else {
                snprintf(err, errlen, "%s: line %d is corrupt (%s)", sw->journal, lineno, why);
                status = -1;
            }
            break;
        }
        if (lineno == 1) {
            const Rtj *names = rtj_get(doc, "configs");
            bool same = rtj_len(names) == (size_t)sw->n;
            for (int k = 0; same && k < sw->n; k++)
                same = strcmp(rtj_str(rtj_at(names, (size_t)k), ""), sw->names[k]) == 0;
            if (!same) {
                snprintf(err, errlen, "the journal in %s belongs to another sweep (its configurations differ); "
                                      "rerun its own command, or choose another --out", sw->dir);
                status = -1;
            }
        } else {
            int k = config_of(sw, rtj_str(rtj_get(doc, "config"), ""));
            Rtj *s = rtj_take(doc, "sample");
            if (k >= 0 && s != NULL) {
                rtj_append(sw->samples[k], s);
                kept++;
            } else {
                rtj_free(s);
            }
        }
        rtj_free(doc);
    }
    free(line);
    fclose(f);
    if (status == 0)
        fprintf(stderr, "rtbench sweep: resuming %s: %d sample(s) already done\n", sw->dir, kept);
    return status;
}

static int
parse(int argc, char **argv, RtbAxes *ax, RtbMeasure *m, const char **dir, bool *resume)
{
    RtbArgs a = {argc, argv, 2, "sweep"};
    while (a.i < argc) {
        int r = rtb_parse_common(&a, ax, m, true);
        if (r == RTB_EXIT_USAGE)
            return r;
        if (r == 1)
            continue;
        if (strcmp(argv[a.i], "--resume") == 0) {
            *resume = true;
            a.i++;
        } else if (strcmp(argv[a.i], "--out") == 0 && a.i + 1 < argc) {
            *dir = argv[a.i + 1];
            a.i += 2;
        } else if (strncmp(argv[a.i], "--out=", 6) == 0) {
            *dir = argv[a.i++] + 6;
        } else {
            return rtb_usage_error("sweep", "unknown option '%s'", argv[a.i]);
        }
    }
    return 0;
}

static bool
run_missing(Sweep *sw, const RtbMeasure *m, RtbProgress *pr, char *err, size_t errlen)
{
    for (int k = 0; k < sw->n && !rtb_interrupted; k++) {
        for (int i = (int)rtj_len(sw->samples[k]); i < m->repeat; i++) {
            char label[200];
            snprintf(label, sizeof label, "%.150s sample %d/%d", sw->names[k] + strlen(sw->configs[k].workload->name) + 1,
                     i + 1, m->repeat);
            rtb_progress_update(pr, label);
            Rtj *s = rtb_run_sample(&sw->configs[k], m, i);
            if (s == NULL || rtb_interrupted || strcmp(rtj_str(rtj_get(s, "status"), ""), "interrupted") == 0) {
                rtj_free(s);
                return false;
            }
            Rtj *line = rtj_object();
            rtj_set(line, "config", rtj_string(sw->names[k]));
            rtj_set(line, "sample", rtj_copy(s));
            int w = append_line(sw->journal, line, err, errlen);
            rtj_free(line);
            rtj_append(sw->samples[k], s);
            if (w != 0)
                return false;
            rtb_progress_step(pr);
        }
    }
    return !rtb_interrupted;
}

int
rtb_cmd_sweep(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help();
            return 0;
        }
    if (argc < 2 || argv[1][0] == '-')
        return rtb_usage_error("sweep", "which workload? ('rtbench list' shows them)");
    const RtWorkload *w = rt_workload_find(argv[1]);
    if (w == NULL)
        return rtb_usage_error("sweep", "unknown workload '%s' ('rtbench list' shows them)", argv[1]);
    RtbAxes ax;
    RtbMeasure m;
    rtb_axes_init(&ax, w, RTB_IMPL_RTBENCH);
    rtb_measure_defaults(&m);
    const char *dir = NULL;
    bool resume = false;
    int r = parse(argc, argv, &ax, &m, &dir, &resume);
    if (r != 0)
        return r;
    if (m.warmup > 0 && resume)
        m.warmup = 0;
    char *ts = rtb_timestamp(), defdir[256];
    snprintf(defdir, sizeof defdir, "results/sweep-%s-%s", w->name, ts);
    free(ts);
    if (dir == NULL) {
        if (resume)
            return rtb_usage_error("sweep", "--resume needs the --out DIR of the sweep to continue");
        dir = defdir;
    }
    Sweep sw = {0};
    sw.dir = dir;
    snprintf(sw.journal, sizeof sw.journal, "%s/.journal.jsonl", dir);
    char err[4800];
    if (!resume && access(sw.journal, F_OK) == 0)
        return rtb_usage_error("sweep", "%s holds an unfinished sweep; add --resume to continue it, or choose another --out", dir);
    if (rtb_check_writable(dir, true, err, sizeof err) != 0)
        return rtb_usage_error("sweep", "%s", err);
    sw.configs = rtb_axes_expand(&ax, &sw.n);
    sw.names = calloc((size_t)sw.n, sizeof *sw.names);
    sw.samples = calloc((size_t)sw.n, sizeof *sw.samples);
    for (int k = 0; k < sw.n; k++) {
        sw.names[k] = rtb_config_name(&sw.configs[k]);
        sw.samples[k] = rtj_array();
    }
    int status = 0;
    if (resume && load_journal(&sw, err, sizeof err) != 0) {
        fprintf(stderr, "rtbench sweep: %s\n", err);
        status = RTB_EXIT_USAGE;
    } else if (!resume) {
        Rtj *h = journal_header(&sw, argc, argv);
        if (append_line(sw.journal, h, err, sizeof err) != 0) {
            fprintf(stderr, "rtbench sweep: %s\n", err);
            status = 1;
        }
        rtj_free(h);
    }
    if (status == 0) {
        rtb_install_signal_handlers();
        int todo = 0;
        for (int k = 0; k < sw.n; k++)
            todo += m.repeat > (int)rtj_len(sw.samples[k]) ? m.repeat - (int)rtj_len(sw.samples[k]) : 0;
        RtbProgress pr;
        rtb_progress_start(&pr, todo, m.quiet);
        bool finished = run_missing(&sw, &m, &pr, err, sizeof err);
        rtb_progress_end(&pr);
        Rtj *result = rtb_result_new("sweep", argc, argv);
        rtj_set(result, "complete", rtj_boolean(finished));
        bool all_ok = true;
        for (int k = 0; k < sw.n; k++) {
            Rtj *run = rtj_append(rtj_get(result, "runs"), rtb_run_json(&sw.configs[k], m.repeat, sw.samples[k]));
            sw.samples[k] = NULL;
            all_ok = all_ok && rtj_int(rtj_path(run, "summary.wall_s.n"), 0) == m.repeat;
        }
        char path[4200];
        snprintf(path, sizeof path, "%s/sweep.json", dir);
        rtb_print_summary(result, stdout);
        rtb_print_warnings(result);
        if (rtb_write_result(path, result, err, sizeof err) != 0) {
            fprintf(stderr, "rtbench sweep: %s\n", err);
            status = 1;
        } else if (!finished) {
            fprintf(stderr, "rtbench sweep: interrupted; the finished samples are in %s; continue with the same command and --resume\n", dir);
            status = RTB_EXIT_INTERRUPTED;
        } else {
            unlink(sw.journal);
            printf("wrote %s\n", path);
            status = all_ok ? 0 : 1;
        }
        rtj_free(result);
    }
    for (int k = 0; k < sw.n; k++) {
        free(sw.names[k]);
        rtj_free(sw.samples[k]);
    }
    free(sw.names);
    free(sw.samples);
    free(sw.configs);
    return status;
}
