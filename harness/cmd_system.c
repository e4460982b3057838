/* cmd_system.c -- rtbench system: what on this machine disturbs
 * measurements, each with a verdict and what to do (in the manner of
 * pyperf's 'system show').
 *
 * Each check is one function that reads what it needs from /proc, /sys
 * or the counter probe (counter.h) and fills one line: a name, a verdict
 * (ok, warning, or info where there is nothing to fix), the value found and
 * the advice.  Nothing is changed: tuning needs root and belongs to the
 * user.
 */
#define _GNU_SOURCE
#include "rtbench.h"
#include "counter.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum Verdict { V_OK, V_WARNING, V_INFO } Verdict;
static const char *const verdict_names[] = {"ok", "warning", "info"};

typedef struct Line {
    const char *name;
    Verdict verdict;
    char value[200];
    char advice[240];       /* empty when there is nothing to say */
} Line;

static void
help(void)
{
    printf("usage: rtbench system\n\n"
           "Print what on this machine disturbs measurements, one line per check, each\n"
           "with a verdict (ok, warning, or info where there is nothing to fix) and what\n"
           "to do:\n"
           "  CPU governor         'performance' keeps the frequency steady (cpufreq)\n"
           "  CPU boost            turbo makes the frequency follow temperature and load\n"
           "  load average         other work competing with the samples\n"
           "  busy processes       processes running right now besides rtbench\n"
           "  ASLR                 randomize_va_space 2, as pyperf wants for timings\n"
           "                       (counted runs turn it off per child themselves)\n"
           "  cores                online CPUs\n"
           "  isolated CPUs        isolcpus= cores for --cpu\n"
           "  hypervisor           a VM shares its cores with neighbours\n"
           "  instruction counter  a readable hardware counter (perf_event_open), or why\n"
           "                       not\n"
           "  valgrind             callgrind counts instructions where no hardware\n"
           "                       counter is readable\n"
           "Nothing is changed.  Exit status 0, or 2 for bad arguments.\n");
}

/* The first line of a file, trimmed, into buf; false when unreadable. */
static bool
read_first_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

static long
cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* ==== the checks ============================================================= */

static void
check_governor(Line *l, const RtbCounterProbe *p)
{
    (void)p;
    char gov[64];
    if (!read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", gov, sizeof gov)) {
        l->verdict = V_INFO;
        snprintf(l->value, sizeof l->value, "no cpufreq (usual in a VM: the host sets the frequency)");
        return;
    }
    snprintf(l->value, sizeof l->value, "%s", gov);
    l->verdict = strcmp(gov, "performance") == 0 ? V_OK : V_WARNING;
    if (l->verdict == V_WARNING)
        snprintf(l->advice, sizeof l->advice, "the frequency follows the load: cpupower frequency-set -g performance (root)");
}

static void
check_boost(Line *l, const RtbCounterProbe *p)
{
    (void)p;
    char v[16];
    if (read_first_line("/sys/devices/system/cpu/intel_pstate/no_turbo", v, sizeof v)) {
        bool on = strcmp(v, "0") == 0;
        snprintf(l->value, sizeof l->value, "intel_pstate turbo %s", on ? "on" : "off");
        l->verdict = on ? V_WARNING : V_OK;
        if (on)
            snprintf(l->advice, sizeof l->advice, "echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo (root)");
    } else if (read_first_line("/sys/devices/system/cpu/cpufreq/boost", v, sizeof v)) {
        bool on = strcmp(v, "1") == 0;
        snprintf(l->value, sizeof l->value, "cpufreq boost %s", on ? "on" : "off");
        l->verdict = on ? V_WARNING : V_OK;
        if (on)
            snprintf(l->advice, sizeof l->advice, "echo 0 > /sys/devices/system/cpu/cpufreq/boost (root)");
    } else {
        l->verdict = V_INFO;
        snprintf(l->value, sizeof l->value, "not exposed (no intel_pstate/no_turbo, no cpufreq/boost)");
    }
}

static void
check_load(Line *l, const RtbCounterProbe *p)
{
    (void)p;
    double load[3];
    if (getloadavg(load, 3) != 3) {
        l->verdict = V_INFO;
        snprintf(l->value, sizeof l->value, "unreadable");
        return;
    }
    long n = cores();
    snprintf(l->value, sizeof l->value, "%.2f %.2f %.2f (1, 5, 15 min) on %ld core(s)", load[0], load[1], load[2], n);
    l->verdict = rtb_load_high(load[0], n) ? V_WARNING : V_OK;
    if (l->verdict == V_WARNING)
        snprintf(l->advice, sizeof l->advice, "every core is busy: samples wait their turn; measure when idle, "
                                              "or compare by --metric instructions");
}

/* Processes in state R other than this one; the first few names. */
static void
check_busy(Line *l, const RtbCounterProbe *p)
{
    (void)p;
    DIR *d = opendir("/proc");
    if (d == NULL) {
        l->verdict = V_INFO;
        snprintf(l->value, sizeof l->value, "/proc unreadable");
        return;
    }
    int running = 0;
    char names[120] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]) || atoi(e->d_name) == getpid())
            continue;
        char path[300], line[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if (!read_first_line(path, line, sizeof line))
            continue;
        char *open = strchr(line, '('), *close = strrchr(line, ')');
        if (open == NULL || close == NULL || close[1] != ' ' || close[2] != 'R')
            continue;
        running++;
        *close = '\0';
        if (strlen(names) + strlen(open + 1) + 3 < sizeof names)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "", open + 1);
    }
    closedir(d);
    snprintf(l->value, sizeof l->value, "%d running now besides rtbench%s%s%s", running, running ? " (" : "", names,
             running ? ")" : "");
    l->verdict = running ? V_WARNING : V_OK;
    if (running)
        snprintf(l->advice, sizeof l->advice, "each takes a core from the samples: stop them, or pin rtbench with "
                                              "--cpu to cores they do not use");
}

static void
check_aslr(Line *l, const RtbCounterProbe *p)
{
    (void)p;
    char v[16];
    if (!read_first_line("/proc/sys/kernel/randomize_va_space", v, sizeof v)) {
        l->verdict = V_INFO;
        snprintf(l->value, sizeof l->value, "unreadable");
        return;
    }
    int level = atoi(v);
    snprintf(l->value, sizeof l->value, "%d (%s)", level,
             level == 2 ? "full randomization" : level == 1 ? "partial: no heap randomization" : "off");
    l->verdict = level == 2 ? V_OK : V_WARNING;
    if (level != 2)
        snprintf(l->advice, sizeof l->advice, "one fixed layout can bias timings for good: sysctl "
                                              "kernel.randomize_va_space=2 (counted runs turn it off per child)");
}

static void
check_cores(Line *l, const RtbCounterProbe *p)
{
    (void)p;
    long n = cores(), conf = sysconf(_SC_NPROCESSORS_CONF);
    snprintf(l->value, sizeof l->value, "%ld online of %ld", n, conf);
    l->verdict = n >= 2 ? V_OK : V_WARNING;
    if (n < 2)
        snprintf(l->advice, sizeof l->advice, "one core: the harness's RSS sampling competes with the workload");
}

static void
check_isolated(Line *l, const RtbCounterProbe *p)
{
    (void)p;
    char v[128] = "";
    read_first_line("/sys/devices/system/cpu/isolated", v, sizeof v);
    l->verdict = V_INFO;
    if (v[0] == '\0') {
        snprintf(l->value, sizeof l->value, "none");
        snprintf(l->advice, sizeof l->advice, "for the quietest cores boot with isolcpus=LIST and run with --cpu LIST");
    } else {
        l->verdict = V_OK;
        snprintf(l->value, sizeof l->value, "%s", v);
        snprintf(l->advice, sizeof l->advice, "run with --cpu %s", v);
    }
}

static void
check_hypervisor(Line *l, const RtbCounterProbe *p)
{
    (void)p;
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    bool vm = false;
    while (f != NULL && !vm && fgets(line, sizeof line, f) != NULL)
        vm = strncmp(line, "flags", 5) == 0 && strstr(line, " hypervisor") != NULL;
    if (f != NULL)
        fclose(f);
    l->verdict = V_INFO;
    snprintf(l->value, sizeof l->value, "%s", vm ? "yes (a virtual machine)" : "no (bare metal, as far as cpuinfo says)");
    if (vm)
        snprintf(l->advice, sizeof l->advice, "neighbours share the host: expect noise in timings; instruction counts "
                                              "are exact");
}

static void
check_counter(Line *l, const RtbCounterProbe *p)
{
    char paranoid[16] = "?";
    read_first_line("/proc/sys/kernel/perf_event_paranoid", paranoid, sizeof paranoid);
    if (p->perf) {
        l->verdict = V_OK;
        snprintf(l->value, sizeof l->value, "readable (perf_event_open, perf_event_paranoid %s)", paranoid);
        return;
    }
    l->verdict = V_WARNING;
    snprintf(l->value, sizeof l->value, "not readable (perf_event_paranoid %s)", paranoid);
    snprintf(l->advice, sizeof l->advice, "%s", p->perf_why);
}

static void
check_valgrind(Line *l, const RtbCounterProbe *p)
{
    if (p->valgrind) {
        l->verdict = p->perf ? V_INFO : V_OK;
        snprintf(l->value, sizeof l->value, "%s", p->valgrind_version);
        snprintf(l->advice, sizeof l->advice, "%s", p->perf ? "not needed: the hardware counter is used"
                                                            : "--metric instructions counts with callgrind");
        return;
    }
    l->verdict = p->perf ? V_INFO : V_WARNING;
    snprintf(l->value, sizeof l->value, "not installed");
    snprintf(l->advice, sizeof l->advice, "%s", p->perf ? "not needed: the hardware counter is used"
                                                        : "no way to count instructions here: apt-get install valgrind");
}

/* ==== the command ============================================================= */

int
rtb_cmd_system(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help();
            return 0;
        }
        return rtb_usage_error("system", "unexpected argument '%s' (rtbench system takes none; see --help)", argv[i]);
    }
    RtbCounterProbe probe;
    rtb_counter_probe(&probe);
    static const struct {
        const char *name;
        void (*check)(Line *, const RtbCounterProbe *);
    } checks[] = {{"CPU governor", check_governor}, {"CPU boost", check_boost}, {"load average", check_load},
                  {"busy processes", check_busy}, {"ASLR", check_aslr}, {"cores", check_cores},
                  {"isolated CPUs", check_isolated}, {"hypervisor", check_hypervisor},
                  {"instruction counter", check_counter}, {"valgrind", check_valgrind}};
    enum { NCHECKS = sizeof checks / sizeof checks[0] };
    Line lines[NCHECKS];
    for (size_t k = 0; k < NCHECKS; k++) {
        memset(&lines[k], 0, sizeof lines[k]);
        lines[k].name = checks[k].name;
        checks[k].check(&lines[k], &probe);
    }
    printf("What disturbs measurements on this machine:\n\n");
    int warnings = 0;
    for (size_t k = 0; k < NCHECKS; k++) {
        const Line *l = &lines[k];
        warnings += l->verdict == V_WARNING;
        printf("%-8s %-20s %s\n", verdict_names[l->verdict], l->name, l->value);
        if (l->advice[0])
            printf("%-8s %-20s -> %s\n", "", "", l->advice);
    }
    printf("\n%d warning(s).  Instruction counts (--metric instructions) are exact whatever the above; "
           "timings are not.\n", warnings);
    return 0;
}
