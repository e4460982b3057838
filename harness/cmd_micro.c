/* cmd_micro.c -- rtbench micro: the Google Benchmark microbenchmarks
 * (rtbench-micro, beside this binary), their JSON written atomically. */
#define _GNU_SOURCE
#include "rtbench.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
help(void)
{
    printf("usage: rtbench micro [--filter REGEX] [--out FILE] [--repetitions N] [--min-time S]\n"
           "                     [-- GOOGLE-BENCHMARK-FLAGS...]\n\n"
           "Run the microbenchmarks (Google Benchmark 1.7.1) and write Google Benchmark's own\n"
           "JSON to FILE (default results/micro-TIMESTAMP.json), which its compare.py reads.\n"
           "Families: alloc_free/<backend>/<size> (LIFO pair, one block of the size live),\n"
           "alloc_free_empty/..., alloc_free_random/<backend>/<size> (1M live blocks),\n"
           "incref_decref/<variant>, incref_decref_private|shared/.../threads:N,\n"
           "gc_collect_live/<n>, gc_collect_cycles/<n>, gc_young/<threshold0>.\n\n"
           "  --filter REGEX     which benchmarks (Google Benchmark's --benchmark_filter)\n"
           "  --repetitions N    repetitions of each (default 3; medians are reported)\n"
           "  --min-time S       seconds per repetition (default 0.2)\n"
           "Flags after -- go to rtbench-micro unchanged (give --benchmark_min_time a bare\n"
           "number: 1.7.1 does not take '0.5s').\n");
}

int
rtb_cmd_micro(int argc, char **argv)
{
    const char *filter = ".", *out = NULL, *reps = "3", *min_time = "0.2";
    int extra = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help();
            return 0;
        } else if (strcmp(argv[i], "--") == 0) {
            extra = i + 1;
            break;
        } else if (i + 1 < argc && strcmp(argv[i], "--filter") == 0) {
            filter = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--out") == 0) {
            out = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--repetitions") == 0) {
            int64_t v;
            if (!rtb_parse_int64(argv[++i], 1, &v))
                return rtb_usage_error("micro", "--repetitions expects an integer >= 1; got '%s'", argv[i]);
            reps = argv[i];
        } else if (i + 1 < argc && strcmp(argv[i], "--min-time") == 0) {
            double d;
            if (!rtb_parse_double(argv[++i], 0.001, &d))
                return rtb_usage_error("micro", "--min-time expects seconds (a bare number); got '%s'", argv[i]);
            min_time = argv[i];
        } else {
            return rtb_usage_error("micro", "unknown option '%s'", argv[i]);
        }
    }
    char *ts = rtb_timestamp(), defout[256], err[600], exe[4200], tmp[4300];
    snprintf(defout, sizeof defout, "results/micro-%s.json", ts);
    free(ts);
    if (out == NULL)
        out = defout;
    if (rtb_check_writable(out, false, err, sizeof err) != 0)
        return rtb_usage_error("micro", "%s", err);
    snprintf(exe, sizeof exe, "%s/rtbench-micro", rtb_self_dir());
    if (access(exe, X_OK) != 0) {
        fprintf(stderr, "rtbench micro: %s is missing (build it: cmake --build --preset release)\n", exe);
        return 1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", out, (int)getpid());
    char filter_arg[512], out_arg[4400], reps_arg[64], time_arg[64];
    snprintf(filter_arg, sizeof filter_arg, "--benchmark_filter=%s", filter);
    snprintf(out_arg, sizeof out_arg, "--benchmark_out=%s", tmp);
    snprintf(reps_arg, sizeof reps_arg, "--benchmark_repetitions=%s", reps);
    snprintf(time_arg, sizeof time_arg, "--benchmark_min_time=%s", min_time);
    char *args[64] = {exe, filter_arg, out_arg, "--benchmark_out_format=json", reps_arg, time_arg,
                      "--benchmark_report_aggregates_only=false"};
    int n = 7;
    for (int i = extra; i < argc && n < 62; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    int status = rtb_spawn(args, false);
    if (status == 0 && rename(tmp, out) == 0) {
        printf("wrote %s\n", out);
        fflush(stdout);
    } else {
        unlink(tmp);
        fprintf(stderr, "rtbench micro: rtbench-micro failed (status %d); nothing written\n", status);
        status = status ? status : 1;
    }
    return status;
}
