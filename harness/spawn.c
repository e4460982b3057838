/* spawn.c -- running the other programs rtbench drives (rtbench-micro, the
 * plotting scripts, hyperfine, an interpreter asked about itself), finding
 * a Python that has matplotlib, and finding a program in PATH. */
#define _GNU_SOURCE
#include "rtbench.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int
rtb_spawn(char *const argv[], bool quiet)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (quiet) {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid;
    int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0) {
        errno = r;
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

int
rtb_capture(char *const argv[], char *out, size_t outlen)
{
    int fds[2];
    out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (r != 0) {
        close(fds[0]);
        errno = r;
        return -1;
    }
    size_t len = 0;
    for (;;) {
        char chunk[4096];
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t keep = (size_t)n < outlen - 1 - len ? (size_t)n : outlen - 1 - len;
        memcpy(out + len, chunk, keep);
        len += keep;
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* The first of $RTBENCH_PYTHON, /usr/bin/python3 (Debian's, where
 * python3-matplotlib installs), python3 on PATH, that imports the module.
 * Never PATH order alone: the python3 first on PATH may lack it. */
const char *
rtb_find_python(const char *module, char *tried, size_t triedlen)
{
    static char *found;
    const char *candidates[] = {getenv("RTBENCH_PYTHON"), "/usr/bin/python3", "python3", "/usr/local/bin/python3"};
    char code[128];
    snprintf(code, sizeof code, "import %s", module);
    tried[0] = '\0';
    for (size_t k = 0; k < sizeof candidates / sizeof candidates[0]; k++) {
        const char *py = candidates[k];
        if (py == NULL || *py == '\0')
            continue;
        snprintf(tried + strlen(tried), triedlen - strlen(tried), "%s%s", tried[0] ? ", " : "", py);
        char *argv[] = {(char *)py, "-c", code, NULL};
        if (rtb_spawn(argv, true) == 0) {
            free(found);
            found = rtb_strdup(py);
            return found;
        }
    }
    return NULL;
}

static bool
executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *
rtb_which(const char *name)
{
    if (name == NULL || *name == '\0')
        return NULL;
    if (strchr(name, '/') != NULL)
        return executable(name) ? rtb_strdup(name) : NULL;
    const char *path = getenv("PATH");
    char *copy = rtb_strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *found = NULL;
    for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char *candidate = rtb_asprintf("%s/%s", *dir ? dir : ".", name);
        if (executable(candidate))
            found = candidate;
        else
            free(candidate);
    }
    free(copy);
    return found;
}
