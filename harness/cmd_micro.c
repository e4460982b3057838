/* cmd_micro.c -- rtbench micro: the Google Benchmark microbenchmarks
 * (rtbench-micro, beside this binary), their JSON written atomically, and
 * only when it holds at least one benchmark: a filter that matches nothing
 * is an error, not an empty file. */
#define _GNU_SOURCE
#include "rtbench.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
help(void)
{
    printf("usage: rtbench micro [--filter REGEX] [--out FILE] [--force] [--repetitions N]\n"
           "                     [--min-time S] [-- GOOGLE-BENCHMARK-FLAGS...]\n\n"
           "Run the microbenchmarks (Google Benchmark 1.7.1) and write Google Benchmark's\n"
           "own JSON to FILE (default results/micro-TIMESTAMP.json), which its compare.py\n"
           "reads.\n"
           "Families: alloc_free/<backend>/<size> (LIFO pair, one block of the size live),\n"
           "alloc_free_empty/..., alloc_free_random/<backend>/<size> (1M live blocks),\n"
           "incref_decref/<variant>, incref_decref_private|shared/.../threads:N,\n"
           "incref_decref_perthread/biased/threads:N (an object counted per thread),\n"
           "gc_collect_live/<n>, gc_collect_cycles/<n>, gc_young/<threshold0>,\n"
           "ceiling_walk/threads:N and ceiling_stream/threads:N (the machine's own scaling:\n"
           "each thread around 512 KiB of its own nodes, in its caches, or through 64 MiB\n"
           "of them in address order, from memory).\n\n"
           "  --filter REGEX     which benchmarks (Google Benchmark's --benchmark_filter)\n"
           "  --repetitions N    repetitions of each (default 3; medians are reported)\n"
           "  --min-time S       seconds per repetition (default 0.2)\n"
           "  --force            replace an existing FILE (else refused: exit 2)\n"
           "Flags after -- go to rtbench-micro unchanged (give --benchmark_min_time a bare\n"
           "number: 1.7.1 does not take '0.5s').  A filter that matches no benchmark writes\n"
           "nothing and exits 1.\n");
}

static const RtbOptDef options[] = {
    {"filter", true, RTB_OPT_FILTER}, {"out", true, RTB_OPT_OUT}, {"repetitions", true, RTB_OPT_REPETITIONS},
    {"min-time", true, RTB_OPT_MIN_TIME}, {"force", false, RTB_OPT_FORCE}, {NULL, false, 0},
};

typedef struct MicroArgs {
    const char *filter, *out, *reps, *min_time;
    bool force;
    int extra;                  /* first argument after -- */
} MicroArgs;

static int
parse(int argc, char **argv, MicroArgs *a)
{
    RtbGetopt g = {"micro", argc, argv, NULL, 0, NULL, NULL};
    int r;
    int64_t v;
    double d;
    while ((r = rtb_getopt(&g, options, NULL)) == 1) {
        if (g.positional != NULL)
            r = rtb_usage_error("micro", "unexpected argument '%s' (Google Benchmark's own flags go after --)", g.positional);
        else if (g.id == RTB_OPT_HELP)
            help(), r = -1;
        else if (g.id == RTB_OPT_FILTER)
            a->filter = g.value;
        else if (g.id == RTB_OPT_OUT)
            a->out = g.value;
        else if (g.id == RTB_OPT_FORCE)
            a->force = true;
        else if (g.id == RTB_OPT_REPETITIONS && !rtb_parse_int64(g.value, 1, &v))
            r = rtb_usage_error("micro", "--repetitions expects an integer >= 1; got '%s'", g.value);
        else if (g.id == RTB_OPT_REPETITIONS)
            a->reps = g.value;
        else if (g.id == RTB_OPT_MIN_TIME && !rtb_parse_double(g.value, 0.001, &d))
            r = rtb_usage_error("micro", "--min-time expects seconds (a bare number); got '%s'", g.value);
        else if (g.id == RTB_OPT_MIN_TIME)
            a->min_time = g.value;
        if (r != 1)
            break;
    }
    a->extra = optind;
    rtb_getopt_free(&g);
    return r;
}

/* The file Google Benchmark wrote: JSON with at least one benchmark. */
static bool
has_benchmarks(const char *path)
{
    char why[256];
    Rtj *doc = rtj_parse_file(path, why, sizeof why);
    bool ok = doc != NULL && rtj_len(rtj_get(doc, "benchmarks")) > 0;
    rtj_free(doc);
    return ok;
}

int
rtb_cmd_micro(int argc, char **argv)
{
    MicroArgs a = {".", NULL, "3", "0.2", false, argc};
    int r = parse(argc, argv, &a);
    if (r != 0)
        return r < 0 ? 0 : r;
    char *defout = NULL, err[1024];
    if (a.out == NULL) {
        char *ts = rtb_timestamp();
        a.out = defout = rtb_asprintf("results/micro-%s.json", ts);
        free(ts);
    }
    struct stat st;
    int status = 0;
    if (!a.force && stat(a.out, &st) == 0)
        status = rtb_usage_error("micro", "%s exists; add --force to replace it, or choose another --out", a.out);
    else if (rtb_check_writable(a.out, false, err, sizeof err) != 0)
        status = rtb_usage_error("micro", "%s", err);
    char *exe = rtb_asprintf("%s/rtbench-micro", rtb_self_dir());
    if (status == 0 && access(exe, X_OK) != 0) {
        rtb_say("rtbench micro: %s is missing (build it: cmake --build --preset release)", exe);
        status = 1;
    }
    if (status == 0) {
        char *tmp = rtb_asprintf("%s.tmp.%d", a.out, (int)getpid());
        char *args[] = {exe, rtb_asprintf("--benchmark_filter=%s", a.filter), rtb_asprintf("--benchmark_out=%s", tmp),
                        "--benchmark_out_format=json", rtb_asprintf("--benchmark_repetitions=%s", a.reps),
                        rtb_asprintf("--benchmark_min_time=%s", a.min_time), "--benchmark_report_aggregates_only=false",
                        /* the commit in the file's context, as rtbench's own results carry it */
                        rtb_asprintf("--benchmark_context=git_commit=%s", rtb_build_commit())};
        int nfixed = (int)(sizeof args / sizeof args[0]);
        char **all = rtb_xcalloc((size_t)(nfixed + argc + 1), sizeof *all);
        memcpy(all, args, sizeof args);
        int n = nfixed;
        for (int i = a.extra; i < argc; i++)
            all[n++] = argv[i];
        status = rtb_spawn(all, false);
        if (status == 0 && !has_benchmarks(tmp)) {
            rtb_say("rtbench micro: no benchmark matches --filter '%s'; nothing written ('rtbench micro --help' "
                    "lists the families)", a.filter);
            status = 1;
            unlink(tmp);
        } else if (status == 0 && rename(tmp, a.out) == 0) {
            printf("wrote %s\n", a.out);
            fflush(stdout);
        } else {
            unlink(tmp);
            rtb_say("rtbench micro: rtbench-micro failed (status %d); nothing written", status);
            status = status ? status : 1;
        }
        for (int k = 1; k < nfixed; k++)
            if (k != 3 && k != 6)
                free(args[k]);
        free(all);
        free(tmp);
    }
    free(exe);
    free(defout);
    return status;
}
