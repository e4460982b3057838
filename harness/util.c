/* util.c -- what every command needs: checked allocation, formatted
 * strings, and files written atomically.
 *
 * Allocation never fails silently: rtb_xmalloc and friends print
 * "rtbench: out of memory" and exit with status 1, before anything half
 * made can be written (result files are written whole at the end, or not
 * at all).  rtb_alloc_fail_after lets a test fail the Nth allocation.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

long rtb_alloc_fail_after;      /* tests: fail the Nth allocation from now (0: off) */

static void
out_of_memory(void)
{
    static const char msg[] = "rtbench: out of memory\n";
    if (write(2, msg, sizeof msg - 1) < 0) {
        /* nothing more to say */
    }
    exit(1);
}

static bool
injected(void)
{
    return rtb_alloc_fail_after > 0 && --rtb_alloc_fail_after == 0;
}

void *
rtb_xmalloc(size_t n)
{
    void *p = injected() ? NULL : malloc(n ? n : 1);
    if (p == NULL)
        out_of_memory();
    return p;
}

void *
rtb_xcalloc(size_t count, size_t size)
{
    void *p = injected() ? NULL : calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        out_of_memory();
    return p;
}

void *
rtb_xrealloc(void *p, size_t n)
{
    void *q = injected() ? NULL : realloc(p, n ? n : 1);
    if (q == NULL)
        out_of_memory();
    return q;
}

char *
rtb_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    return memcpy(rtb_xmalloc(n), s, n);
}

char *
rtb_vasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (injected() || vasprintf(&s, fmt, ap) < 0)
        out_of_memory();
    return s;
}

char *
rtb_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = rtb_vasprintf(fmt, ap);
    va_end(ap);
    return s;
}

char *
rtb_dirname(const char *path)
{
    char *copy = rtb_strdup(path);
    char *d = rtb_strdup(dirname(copy));
    free(copy);
    return d;
}

/* ==== files ============================================================== */

int
rtb_mkdirs(const char *dir)
{
    char *buf = rtb_strdup(dir);
    int r = 0;
    for (char *p = buf + 1; *p && r == 0; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                r = -1;
            *p = '/';
        }
    }
    if (r == 0 && mkdir(buf, 0777) != 0 && errno != EEXIST)
        r = -1;
    free(buf);
    return r;
}

/* Before any work: the directory exists (made if need be) and a file can be
 * created in it, and the target, if it exists, is not a directory. */
int
rtb_check_writable(const char *path, bool is_dir, char *err, size_t errlen)
{
    char *dir = is_dir ? rtb_strdup(path) : rtb_dirname(path);
    struct stat st;
    int status = -1;
    if (!is_dir && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is a directory; give a file name (e.g. %s/run.json)", path, path);
    } else if (rtb_mkdirs(dir) != 0) {
        snprintf(err, errlen, "cannot write %s: cannot create the directory %s: %s", path, dir, strerror(errno));
    } else {
        char *probe = rtb_asprintf("%s/.rtbench-probe-%d", dir, (int)getpid());
        int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0) {
            snprintf(err, errlen, "cannot write %s: cannot create files in %s: %s", path, dir, strerror(errno));
        } else {
            close(fd);
            unlink(probe);
            status = 0;
        }
        free(probe);
    }
    free(dir);
    return status;
}

int
rtb_write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    char *dir = rtb_dirname(path), *copy = rtb_strdup(path);
    char *tmp = rtb_asprintf("%s/.%s.tmp.%d", dir, basename(copy), (int)getpid());
    free(dir);
    free(copy);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int status = fd < 0 ? -1 : 0;
    for (size_t off = 0; status == 0 && off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            status = -1;
        else
            off += (size_t)w;
    }
    if (status == 0 && fsync(fd) != 0)
        status = -1;
    if (fd >= 0 && close(fd) != 0)
        status = -1;
    if (status == 0 && rename(tmp, path) != 0)
        status = -1;
    if (status != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return status;
}
