/* cmd_plot.c -- rtbench plot DIR: the charts, summary.md and report.html of a
 * results folder, by plots/plot.py under a Python that has matplotlib
 * (Debian's python3-matplotlib installs for /usr/bin/python3). */
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
           "default), and write DIR/summary.md and DIR/report.html (one self-contained\n"
           "page: every chart, its verdicts, the tables, the warnings).  A chart without\n"
           "enough data is not drawn, and the report says why.  With Debian's chromium\n"
           "installed, also pictures of the report in DIR/screenshots.  Runs plots/plot.py\n"
           "under the first of $RTBENCH_PYTHON, /usr/bin/python3, python3 that has\n"
           "matplotlib (on Debian: apt-get install python3-matplotlib).\n");
}

int
rtb_cmd_plot(int argc, char **argv)
{
    static const RtbOptDef options[] = {{"out", true, RTB_OPT_OUT}, {NULL, false, 0}};
    const char *dir = NULL, *out = NULL;
    RtbGetopt g = {"plot", argc, argv, NULL, 0, NULL, NULL};
    int r;
    while ((r = rtb_getopt(&g, options, NULL)) == 1) {
        if (g.id == RTB_OPT_HELP) {
            help();
            r = -1;
            break;
        } else if (g.id == RTB_OPT_OUT) {
            out = g.value;
        } else if (dir == NULL) {
            dir = g.positional;
        } else {
            r = rtb_usage_error("plot", "give one results folder");
            break;
        }
    }
    rtb_getopt_free(&g);
    if (r != 0)
        return r < 0 ? 0 : r;
    struct stat st;
    if (dir == NULL)
        return rtb_usage_error("plot", "which results folder? (e.g. rtbench plot results/latest)");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return rtb_usage_error("plot", "%s is not a folder", dir);
    char tried[1024];
    const char *py = rtb_find_python("matplotlib", tried, sizeof tried);
    if (py == NULL) {
        rtb_say("rtbench plot: no Python with matplotlib (tried %s); install Debian's python3-matplotlib "
                "(apt-get install python3-matplotlib) or set RTBENCH_PYTHON to an interpreter that has it", tried);
        return 1;
    }
    char *script = rtb_asprintf("%s/plots/plot.py", rtb_home());
    char *pargs[] = {(char *)py, script, (char *)dir, "--screenshots", out ? "--out" : NULL, (char *)out, NULL};
    int status = rtb_spawn(pargs, false);
    free(script);
    return status;
}
