/* main.c -- rtbench: the command-line tool.  Dispatches to the commands;
 * 'rtbench __worker' is the child side of a sample (worker.c). */
#define _GNU_SOURCE
#include "rtbench.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *summary;
} commands[] = {
    {"list", "workloads, refcount variants and allocator backends of this build"},
    {"run", "run one workload in one configuration, K samples"},
    {"sweep", "run the cross product of GC thresholds, variants and backends"},
    {"suite", "the main job: every workload, variant, backend, sweep, CPython, charts"},
    {"cpython", "run a workload's Python twin under CPython, same metrics"},
    {"compare", "compare two result files (medians, Mann-Whitney U, geometric mean)"},
    {"export", "convert a result file to Google Benchmark JSON, hyperfine JSON or Markdown"},
    {"micro", "run the Google Benchmark microbenchmarks"},
    {"plot", "draw the charts of a results folder (matplotlib)"},
};

static void
help(void)
{
    printf("usage: rtbench COMMAND [ARGS]\n\n"
           "rtbench measures a CPython-style runtime core (pooled allocator, reference\n"
           "counting, generational cycle collector) on synthetic workloads, side by side\n"
           "with CPython and with other allocators.\n\nCommands:\n");
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        printf("  %-9s %s\n", commands[k].name, commands[k].summary);
    printf("\n'rtbench COMMAND --help' describes a command.  Results are JSON (schema\n"
           "rtbench/1, results/README.md) and CSV, written atomically.\n\n"
           "The runtime inside each sample also reads these environment variables:\n");
    rt_options_help(stdout);
    printf("(the command line's --threshold, --gc and --alloc override them.)\n");
}

int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "__worker") == 0)
        return rtb_worker_main(argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        help();
        return argc < 2 ? RTB_EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("rtbench %s (refcount variant of this binary: %s)\n", RTB_VERSION, RT_RC_VARIANT);
        return 0;
    }
    /* jemalloc needs room in static TLS from the start (alloc_dl.c); rtbench
     * checks backends itself and starts children that load them. */
    rt_dl_reexec_with_static_tls(argv);
    const char *cmd = argv[1];
    int n = argc - 1;
    char **v = argv + 1;
    if (strcmp(cmd, "list") == 0)
        return rtb_cmd_list(n, v);
    if (strcmp(cmd, "run") == 0)
        return rtb_cmd_run(n, v, RTB_IMPL_RTBENCH);
    if (strcmp(cmd, "cpython") == 0)
        return rtb_cmd_run(n, v, RTB_IMPL_CPYTHON);
    if (strcmp(cmd, "sweep") == 0)
        return rtb_cmd_sweep(n, v);
    if (strcmp(cmd, "suite") == 0)
        return rtb_cmd_suite(n, v);
    if (strcmp(cmd, "compare") == 0)
        return rtb_cmd_compare(n, v);
    if (strcmp(cmd, "export") == 0)
        return rtb_cmd_export(n, v);
    if (strcmp(cmd, "micro") == 0)
        return rtb_cmd_micro(n, v);
    if (strcmp(cmd, "plot") == 0)
        return rtb_cmd_plot(n, v);
    fprintf(stderr, "rtbench: unknown command '%s' (commands: list, run, sweep, suite, cpython, compare, "
                    "export, micro, plot; see 'rtbench --help')\n", cmd);
    return RTB_EXIT_USAGE;
}
