/* counter.c -- the parent's half of an instruction count (counter.h): which
 * counter this machine has, a counted child's command line and
 * environment, and its count once it exited.
 *
 * The probe opens the hardware counter on this process and counts a known
 * loop: ENOENT, ENODEV or EOPNOTSUPP mean there is no PMU to read (a VM
 * whose hypervisor hides it), EACCES or EPERM that perf_event_paranoid or
 * a missing CAP_PERFMON forbid it, and a count of 0 that the counter is
 * not real.  Valgrind is found by running 'valgrind --version'.
 */
#define _GNU_SOURCE
#include "counter.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <unistd.h>

const char *
rtb_counter_name(RtbCounterKind k)
{
    return k == RTB_COUNTER_PERF ? "perf" : k == RTB_COUNTER_CALLGRIND ? "callgrind" : NULL;
}

/* ==== the probe =============================================================== */

static void
probe_perf(RtbCounterProbe *p)
{
    int fd = rtb_perf_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS);
    if (fd < 0) {
        int e = p->perf_errno = errno;
        if (e == ENOENT || e == ENODEV || e == EOPNOTSUPP)
            snprintf(p->perf_why, sizeof p->perf_why,
                     "no hardware counter (%s): a VM without a virtual PMU; use valgrind's callgrind", strerror(e));
        else if (e == EACCES || e == EPERM)
            snprintf(p->perf_why, sizeof p->perf_why,
                     "not allowed (%s): lower /proc/sys/kernel/perf_event_paranoid to 2 or run with CAP_PERFMON",
                     strerror(e));
        else
            snprintf(p->perf_why, sizeof p->perf_why, "perf_event_open failed: %s", strerror(e));
        return;
    }
    ioctl(fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    static volatile unsigned sink;          /* volatile: the loop stays */
    for (unsigned i = 0; i < 100000; i++)   /* a known amount of work */
        sink = sink + i;
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    long long count = 0;
    if (read(fd, &count, sizeof count) != (ssize_t)sizeof count)
        count = 0;
    close(fd);
    if (count < 100000) {
        p->perf_errno = 0;
        snprintf(p->perf_why, sizeof p->perf_why, "the counter opens but counted %lld instructions for a loop of "
                                                  "100000: not a real counter", count);
        return;
    }
    p->perf = true;
}

static void
probe_valgrind(RtbCounterProbe *p)
{
    FILE *f = popen("valgrind --version 2>/dev/null", "r");
    char line[64] = "";
    if (f == NULL)
        return;
    if (fgets(line, sizeof line, f) == NULL)
        line[0] = '\0';
    int status = pclose(f);
    line[strcspn(line, "\n")] = '\0';
    if (status == 0 && strncmp(line, "valgrind-", 9) == 0) {
        p->valgrind = true;
        snprintf(p->valgrind_version, sizeof p->valgrind_version, "%s", line);
    }
}

void
rtb_counter_probe(RtbCounterProbe *p)
{
    memset(p, 0, sizeof *p);
    probe_perf(p);
    probe_valgrind(p);
    p->best = p->perf ? RTB_COUNTER_PERF : p->valgrind ? RTB_COUNTER_CALLGRIND : RTB_COUNTER_NONE;
}

/* ==== a counted child ========================================================== */

static size_t
count_strings(char *const v[])
{
    size_t n = 0;
    while (v != NULL && v[n] != NULL)
        n++;
    return n;
}

static void
free_strings(char **v)
{
    for (size_t k = 0; v != NULL && v[k] != NULL; k++)
        free(v[k]);
    free(v);
}

/* The environment env without the variables we set, then ours. */
static char **
counted_env(char *const env[], RtbCounterKind kind, const char *lib)
{
    size_t n = count_strings(env), k = 0;
    char **e = calloc(n + 4, sizeof *e);
    if (e == NULL)
        return NULL;
    static const char *const ours[] = {RTB_COUNT_ENV "=", RTB_COUNT_LIB_ENV "=", "PYTHONHASHSEED="};
    for (size_t i = 0; i < n; i++) {
        bool replaced = false;
        for (size_t j = 0; j < 3; j++)
            replaced = replaced || strncmp(env[i], ours[j], strlen(ours[j])) == 0;
        if (!replaced && (e[k++] = strdup(env[i])) == NULL)
            goto fail;
    }
    if (asprintf(&e[k], "%s=%s", RTB_COUNT_ENV, rtb_counter_name(kind)) < 0) {
        e[k] = NULL;
        goto fail;
    }
    if ((e[++k] = strdup("PYTHONHASHSEED=0")) == NULL)
        goto fail;
    if (lib != NULL && asprintf(&e[++k], "%s=%s", RTB_COUNT_LIB_ENV, lib) < 0) {
        e[k] = NULL;
        goto fail;
    }
    return e;
fail:
    free_strings(e);
    return NULL;
}

/* The full path of an executable on PATH (malloc'd), or NULL. */
static char *
find_in_path(const char *name)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path && *path ? path : "/usr/bin:/bin"), *save = NULL, *found = NULL;
    for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir != NULL && found == NULL;
         dir = strtok_r(NULL, ":", &save)) {
        char *candidate = NULL;
        if (asprintf(&candidate, "%s/%s", dir, name) >= 0 && access(candidate, X_OK) == 0)
            found = candidate;
        else
            free(candidate);
    }
    free(copy);
    return found;
}

/* valgrind's options, then argv. */
static char **
counted_argv(char *const argv[], RtbCounterKind kind, const char *out_path)
{
    size_t n = count_strings(argv), k = 0;
    char **v = calloc(n + 8, sizeof *v);
    if (v == NULL)
        return NULL;
    if (kind == RTB_COUNTER_CALLGRIND) {
        char *valgrind = find_in_path("valgrind");
        if (valgrind == NULL)
            goto fail;
        v[k++] = valgrind;
        const char *opts[] = {"-q", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no"};
        for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
            if ((v[k++] = strdup(opts[i])) == NULL)
                goto fail;
        if (asprintf(&v[k++], "--callgrind-out-file=%s", out_path) < 0) {
            v[k - 1] = NULL;
            goto fail;
        }
    }
    for (size_t i = 0; i < n; i++)
        if ((v[k++] = strdup(argv[i])) == NULL)
            goto fail;
    return v;
fail:
    free_strings(v);
    return NULL;
}

int
rtb_counted_prepare(RtbCounted *c, RtbCounterKind kind, char *const argv[], char *const env[], const char *out_path,
                    const char *lib, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (kind == RTB_COUNTER_NONE) {
        snprintf(err, errlen, "no instruction counter on this machine: no hardware counter and no valgrind "
                              "(apt-get install valgrind; see rtbench system)");
        return -1;
    }
    if (kind == RTB_COUNTER_CALLGRIND &&
        (out_path == NULL || snprintf(c->out_path, sizeof c->out_path, "%s", out_path) >= (int)sizeof c->out_path)) {
        snprintf(err, errlen, "callgrind needs an output file path (shorter than %d bytes)", PATH_MAX);
        return -1;
    }
    char *valgrind = kind == RTB_COUNTER_CALLGRIND ? find_in_path("valgrind") : NULL;
    if (kind == RTB_COUNTER_CALLGRIND && valgrind == NULL) {
        snprintf(err, errlen, "valgrind is not on PATH (apt-get install valgrind)");
        return -1;
    }
    free(valgrind);
    c->kind = kind;
    c->argv = counted_argv(argv, kind, out_path);
    c->envp = counted_env(env, kind, lib);
    if (c->argv == NULL || c->envp == NULL) {
        rtb_counted_free(c);
        snprintf(err, errlen, "out of memory preparing a counted child");
        return -1;
    }
    return 0;
}

int
rtb_aslr_off(void)
{
    int persona = personality(0xffffffff);
    if (persona != -1)
        personality((unsigned long)persona | ADDR_NO_RANDOMIZE);
    return persona;
}

void
rtb_aslr_restore(int persona)
{
    if (persona != -1)
        personality((unsigned long)persona);
}

void
rtb_counted_child_setup(const RtbCounted *c)
{
    (void)c;
    rtb_aslr_off();
}

int
rtb_callgrind_totals(const char *path, int64_t *count, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: no callgrind output (%s): did the child run under valgrind?", path, strerror(errno));
        return -1;
    }
    char line[512];
    long long total = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "totals:", 7) == 0 && sscanf(line + 7, "%lld", &total) != 1)
            total = -1;
    fclose(f);
    if (total < 0) {
        snprintf(err, errlen, "%s: no 'totals:' line in the callgrind output", path);
        return -1;
    }
    *count = total;
    return 0;
}

int
rtb_counted_finish(RtbCounted *c, long long reported, int64_t *count, char *err, size_t errlen)
{
    if (c->kind == RTB_COUNTER_PERF) {
        if (reported < 0) {
            snprintf(err, errlen, "the child reported no instruction count");
            return -1;
        }
        *count = reported;
        return 0;
    }
    int r = rtb_callgrind_totals(c->out_path, count, err, errlen);
    unlink(c->out_path);
    return r;
}

void
rtb_counted_free(RtbCounted *c)
{
    free_strings(c->argv);
    free_strings(c->envp);
    c->argv = c->envp = NULL;
}
