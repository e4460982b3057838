/* cmd_plot.c -- rtbench plot DIR: the charts and summary.md of a results
 * folder, by the matplotlib scripts in plots/ under a Python that has
 * matplotlib (Debian's python3-matplotlib installs for /usr/bin/python3). */
#define _GNU_SOURCE
#include "rtbench.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
help(void)
{
    printf("usage: rtbench plot DIR [--out CHARTDIR]\n\n"
           "Draw every chart the result files in DIR allow (PNG and SVG, in DIR/charts by\n"
           "default) and write DIR/summary.md.  Runs plots/plot.py and plots/summary.py under\n"
           "the first of $RTBENCH_PYTHON, /usr/bin/python3, python3 that has matplotlib\n"
           "(on Debian: apt-get install python3-matplotlib).\n");
}

int
rtb_cmd_plot(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help();
            return 0;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] == '-') {
            return rtb_usage_error("plot", "unknown option '%s'", argv[i]);
        } else if (dir == NULL) {
            dir = argv[i];
        } else {
            return rtb_usage_error("plot", "give one results folder");
        }
    }
    struct stat st;
    if (dir == NULL)
        return rtb_usage_error("plot", "which results folder? (e.g. rtbench plot results/latest)");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return rtb_usage_error("plot", "%s is not a folder", dir);
    char tried[1024], script[4200], summary[4200];
    const char *py = rtb_find_python("matplotlib", tried, sizeof tried);
    if (py == NULL) {
        fprintf(stderr, "rtbench plot: no Python with matplotlib (tried %s); install Debian's python3-matplotlib "
                        "(apt-get install python3-matplotlib) or set RTBENCH_PYTHON to an interpreter that has it\n", tried);
        return 1;
    }
    snprintf(script, sizeof script, "%s/plots/plot.py", rtb_home());
    snprintf(summary, sizeof summary, "%s/plots/summary.py", rtb_home());
    char *pargs[] = {(char *)py, script, (char *)dir, out ? "--out" : NULL, (char *)out, NULL};
    int status = rtb_spawn(pargs, false);
    char *sargs[] = {(char *)py, summary, (char *)dir, NULL};
    int s2 = rtb_spawn(sargs, false);
    return status != 0 ? status : s2;
}
