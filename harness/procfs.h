/* procfs.h -- the resident set of a process, from /proc/PID/statm.
 * Header-only: the worker, the runner and the microbenchmarks (a separate
 * binary) all read it. */
#ifndef RTB_PROCFS_H
#define RTB_PROCFS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

/* Bytes resident for pid (0: this process); -1 when unreadable. */
static inline int64_t
rtb_rss_bytes(pid_t pid)
{
    char path[64];
    long pages = 0, resident = 0;
    if (pid == 0)
        snprintf(path, sizeof path, "/proc/self/statm");
    else
        snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident <= 0 ? -1 : (int64_t)resident * sysconf(_SC_PAGESIZE);
}

/* This process's peak resident set since its exec (VmHWM), in bytes; -1
 * when unreadable.  Not getrusage's ru_maxrss: a child forked from a large
 * parent starts with a copy of the parent's page tables, and the kernel
 * counts that size into the child's ru_maxrss when it execs. */
static inline int64_t
rtb_peak_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb < 0 ? -1 : (int64_t)kb * 1024;
}

#endif /* RTB_PROCFS_H */
