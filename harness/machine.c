/* machine.c -- the machine block of a result file: what ran the numbers.
 *
 * Besides the CPU, cores, kernel and build, it records what makes timings
 * move (pyperf's checklist): the CPU frequency governor (null where the
 * kernel has no cpufreq, as in most VMs), ASLR, and the load average when
 * the command started.  Each sample records the load before and after it
 * (runner.c), since load is what changes during a run.
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "build_info.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef RTB_CFLAGS
#define RTB_CFLAGS ""
#endif
#ifndef RTB_BUILD_TYPE
#define RTB_BUILD_TYPE ""
#endif

/* The first line of a file, trimmed; NULL when unreadable. */
static char *
read_line(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char buf[256];
    char *line = fgets(buf, sizeof buf, f);
    fclose(f);
    if (line == NULL)
        return NULL;
    buf[strcspn(buf, "\n")] = '\0';
    return rtb_strdup(buf);
}

static char *
cpu_model(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    char *model = NULL;
    while (f != NULL && model == NULL && fgets(line, sizeof line, f) != NULL) {
        char *v = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && v != NULL) {
            v += 1 + strspn(v + 1, " \t");
            v[strcspn(v, "\n")] = '\0';
            model = rtb_strdup(v);
        }
    }
    if (f != NULL)
        fclose(f);
    return model;
}

const char *
rtb_build_commit(void)
{
    return RTB_GIT_COMMIT;
}

int
rtb_check_build_dir(const char *cmd, const char *build)
{
    const char *exes[] = {"rtbench", "rtbench-atomic"};
    for (size_t k = 0; k < sizeof exes / sizeof exes[0]; k++) {
        char *path = rtb_asprintf("%s/%s", build, exes[k]);
        bool ok = access(path, X_OK) == 0;
        free(path);
        if (!ok)
            return rtb_usage_error(cmd, "--baseline %s: no %s there (give a build folder of the base, such as "
                                   "its build/release)", build, exes[k]);
    }
    return 0;
}

char *
rtb_build_dir_commit(const char *build)
{
    char *path = rtb_asprintf("%s/harness/build_info.h", build), line[256], commit[128] = "unknown";
    FILE *f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "#define RTB_GIT_COMMIT \"%127[^\"]\"", commit) == 1)
            break;
    if (f != NULL)
        fclose(f);
    free(path);
    return rtb_strdup(commit);
}

double
rtb_load1(void)
{
    double load[1];
    return getloadavg(load, 1) == 1 ? load[0] : NAN;
}

bool
rtb_load_high(double load, long cores)
{
    return cores > 0 && isfinite(load) && load > RTB_LOAD_PER_CORE * (double)cores;
}

void
rtb_machine_read(RtbMachine *m)
{
    memset(m, 0, sizeof *m);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    struct utsname u;
    uname(&u);
    m->hostname = rtb_strdup(host);
    m->cpu_model = cpu_model();
    m->cores = sysconf(_SC_NPROCESSORS_ONLN);
    m->kernel = rtb_strdup(u.release);
#if defined(__clang__)
    m->compiler = rtb_asprintf("clang %s", __clang_version__);
#elif defined(__GNUC__)
    m->compiler = rtb_asprintf("gcc %s", __VERSION__);
#endif
    m->cflags = rtb_strdup(RTB_CFLAGS);
    m->build_type = rtb_strdup(RTB_BUILD_TYPE);
    m->git_commit = rtb_strdup(rtb_build_commit());
    m->governor = read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
    char *aslr = read_line("/proc/sys/kernel/randomize_va_space");
    m->aslr = aslr ? atoi(aslr) : RTB_NONE;
    free(aslr);
    if (getloadavg(m->load_avg, 3) == 3)
        m->nload = 3;
}

void
rtb_machine_free(RtbMachine *m)
{
    free(m->hostname);
    free(m->cpu_model);
    free(m->kernel);
    free(m->compiler);
    free(m->cflags);
    free(m->build_type);
    free(m->git_commit);
    free(m->governor);
    memset(m, 0, sizeof *m);
}
