/* machine.c -- the machine block of a result file: what ran the numbers.
 *
 * Besides the CPU, cores, kernel and build, it records what makes timings
 * move (pyperf's checklist): the CPU frequency governor, ASLR, and the load
 * average when the run started.
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
    return strdup(buf);
}

static Rtj *
cpu_model(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            fclose(f);
            if (v == NULL)
                return rtj_null();
            v += 1 + strspn(v + 1, " \t");
            v[strcspn(v, "\n")] = '\0';
            return rtj_string(v);
        }
    }
    if (f != NULL)
        fclose(f);
    return rtj_null();
}

static Rtj *
string_or_null(char *s)
{
    Rtj *v = s ? rtj_string(s) : rtj_string("unknown");
    free(s);
    return v;
}

Rtj *
rtb_machine_json(void)
{
    Rtj *m = rtj_object();
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    struct utsname u;
    uname(&u);
    rtj_set(m, "hostname", rtj_string(host));
    rtj_set(m, "cpu_model", cpu_model());
    rtj_set(m, "cores", rtj_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    rtj_set(m, "kernel", rtj_string(u.release));
#if defined(__clang__)
    rtj_set(m, "compiler", rtj_stringf("clang %s", __clang_version__));
#elif defined(__GNUC__)
    rtj_set(m, "compiler", rtj_stringf("gcc %s", __VERSION__));
#endif
    rtj_set(m, "cflags", rtj_string(RTB_CFLAGS));
    rtj_set(m, "build_type", rtj_string(RTB_BUILD_TYPE));
    rtj_set(m, "git_commit", rtj_string(RTB_GIT_COMMIT));
    rtj_set(m, "governor", string_or_null(read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")));
    char *aslr = read_line("/proc/sys/kernel/randomize_va_space");
    rtj_set(m, "aslr", aslr ? rtj_integer(atoi(aslr)) : rtj_null());
    free(aslr);
    double load[3] = {0, 0, 0};
    Rtj *l = rtj_array();
    if (getloadavg(load, 3) == 3)
        for (int i = 0; i < 3; i++)
            rtj_append(l, rtj_number(load[i]));
    rtj_set(m, "load_avg", l);
    return m;
}
