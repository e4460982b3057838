/* main.c -- rtbench: the command-line tool.  One table of commands;
 * 'rtbench __worker' is the child side of a sample (worker.c). */
#define _GNU_SOURCE
#include "rtbench.h"
#include "rt/bench.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *summary;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"list", "workloads, refcount variants and allocator backends of this build", rtb_cmd_list},
    {"run", "run one workload in one configuration, K samples (or --repeat auto)", rtb_cmd_run},
    {"sweep", "the cross product of GC thresholds, variants, backends, parameters", rtb_cmd_sweep},
    {"suite", "the main job: every workload, variant, backend, sweep, CPython, chart", rtb_cmd_suite},
    {"cpython", "run a workload's Python twin under CPython, same metrics", rtb_cmd_cpython},
    {"compare", "compare two result files (medians, Mann-Whitney U, geometric mean)", rtb_cmd_compare},
    {"tune", "recommend GC thresholds for a Python program (--script PATH)", rtb_cmd_tune},
    {"export", "a result file as Google Benchmark JSON, hyperfine JSON or Markdown", rtb_cmd_export},
    {"merge", "join the folders of a sharded suite or sweep into one", rtb_cmd_merge},
    {"micro", "run the Google Benchmark microbenchmarks", rtb_cmd_micro},
    {"plot", "draw the charts of a results folder (matplotlib)", rtb_cmd_plot},
    {"system", "what on this machine disturbs measurements, what to do", rtb_cmd_system},
};

static void
help(void)
{
    printf("usage: rtbench COMMAND [ARGS]     (rtbench --version)\n\n"
           "rtbench measures a CPython-style runtime core (pooled allocator, reference\n"
           "counting, generational cycle collector) on synthetic workloads, side by side\n"
           "with CPython and with other allocators.\n\nCommands:\n");
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        printf("  %-8s %s\n", commands[k].name, commands[k].summary);
    printf("\n'rtbench COMMAND --help' describes a command.  Results are JSON (schema\n"
           "rtbench/1, results/schema.json) and CSV, written atomically; an existing result\n"
           "is replaced only with --force.\n\n"
           "The runtime inside each sample reads these environment variables; run, sweep\n"
           "and suite take them as the defaults of their options, record them in the result,\n"
           "and refuse a bad value (exit 2):\n");
    rt_options_help(stdout);
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
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("rtbench %s (refcount variant of this binary: %s)\n", RTB_VERSION, RT_RC_VARIANT);
        return 0;
    }
    /* jemalloc needs room in static TLS from the start (alloc_dl.c); rtbench
     * checks backends itself and starts children that load them. */
    rt_dl_reexec_with_static_tls(argv);
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(argv[1], commands[k].name) == 0)
            return commands[k].run(argc - 1, argv + 1);
    char names[256] = "";
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", commands[k].name);
    fprintf(stderr, "rtbench: unknown command '%s' (commands: %s; see 'rtbench --help')\n", argv[1], names);
    return RTB_EXIT_USAGE;
}
